"""The seed's five schedules equal the seed's own code, epoch by epoch.

The reference functions below are the seed's code (``shared/seed/learning-rate-scheduling.txt``)
copied verbatim, only wrapped in factories so the parameters can vary.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit

EPOCHS = range(501)


# --- the seed's code, verbatim inside each factory ------------------------------------
def seed_constant(start_lr):
    def schedule(epoch):
        return start_lr

    return schedule


def seed_time_based(start_lr, decay):
    def schedule(epoch):
        previous_lr = 1

        def lr(epoch, start_lr, decay):
            nonlocal previous_lr
            previous_lr *= start_lr / (1.0 + decay * epoch)
            return previous_lr

        return lr(epoch, start_lr, decay)

    return schedule


def seed_exponential(start_lr, exp_decay):
    def schedule(epoch):
        def lr(epoch, start_lr, exp_decay):
            return start_lr * math.exp(-exp_decay * epoch)

        return lr(epoch, start_lr, exp_decay)

    return schedule


def seed_constant_then_exponential(start_lr, rampup_epochs, exp_decay):
    def schedule(epoch):
        def lr(epoch, start_lr, rampup_epochs, exp_decay):
            if epoch < rampup_epochs:
                return start_lr
            else:
                return start_lr * math.exp(-exp_decay * epoch)

        return lr(epoch, start_lr, rampup_epochs, exp_decay)

    return schedule


def seed_one_cycle(start_lr, min_lr, max_lr, rampup_epochs, sustain_epochs, exp_decay):
    def schedule(epoch):
        def lr(epoch, start_lr, min_lr, max_lr, rampup_epochs, sustain_epochs, exp_decay):
            if epoch < rampup_epochs:
                lr = (max_lr - start_lr) / rampup_epochs * epoch + start_lr
            elif epoch < rampup_epochs + sustain_epochs:
                lr = max_lr
            else:
                lr = (max_lr - min_lr) * exp_decay ** (
                    epoch - rampup_epochs - sustain_epochs
                ) + min_lr
            return lr

        return lr(epoch, start_lr, min_lr, max_lr, rampup_epochs, sustain_epochs, exp_decay)

    return schedule


# --- the seed's own parameters ---------------------------------------------------------
SEED_CASES = [
    (lrkit.constant(start_lr=0.001), seed_constant(0.001)),
    (lrkit.time_based_decay(start_lr=0.001, decay=0.1), seed_time_based(0.001, 0.1)),
    (lrkit.exponential_decay(start_lr=0.001, exp_decay=0.1), seed_exponential(0.001, 0.1)),
    (
        lrkit.constant_then_exponential_decay(start_lr=0.001, rampup_epochs=10, exp_decay=0.1),
        seed_constant_then_exponential(0.001, 10, 0.1),
    ),
    (
        lrkit.one_cycle(
            start_lr=0.0001,
            min_lr=0.00001,
            max_lr=0.001,
            rampup_epochs=10,
            sustain_epochs=0,
            exp_decay=0.8,
        ),
        seed_one_cycle(0.0001, 0.00001, 0.001, 10, 0, 0.8),
    ),
]


def assert_matches_seed(schedule: lrkit.Schedule, reference: object) -> None:
    expected = np.array([reference(e) for e in EPOCHS])
    scalars = np.array([schedule(e) for e in EPOCHS])
    vectorized = schedule(np.arange(501))
    for got in (scalars, vectorized):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    assert all(type(schedule(e)) is float for e in (0, 10, 500))


@pytest.mark.parametrize(("schedule", "reference"), SEED_CASES, ids=lambda x: str(x)[:30])
def test_seed_parameters(schedule: lrkit.Schedule, reference: object) -> None:
    assert_matches_seed(schedule, reference)


lr = st.floats(1e-6, 1.0)
k = st.floats(0.0, 2.0)


@settings(max_examples=40, deadline=None)
@given(lr, k)
def test_time_based_random(start_lr: float, decay: float) -> None:
    assert_matches_seed(lrkit.time_based_decay(start_lr, decay), seed_time_based(start_lr, decay))


@settings(max_examples=40, deadline=None)
@given(lr, k)
def test_exponential_random(start_lr: float, exp_decay: float) -> None:
    assert_matches_seed(
        lrkit.exponential_decay(start_lr, exp_decay), seed_exponential(start_lr, exp_decay)
    )


@settings(max_examples=40, deadline=None)
@given(lr, st.integers(0, 200), st.floats(0.0, 0.1))
def test_constant_then_exponential_random(start_lr: float, rampup: int, exp_decay: float) -> None:
    assert_matches_seed(
        lrkit.constant_then_exponential_decay(start_lr, rampup, exp_decay),
        seed_constant_then_exponential(start_lr, rampup, exp_decay),
    )


@settings(max_examples=60, deadline=None)
@given(lr, lr, lr, st.integers(1, 100), st.integers(0, 100), st.floats(0.5, 1.0))
def test_one_cycle_random(
    start: float, a: float, b: float, rampup: int, sustain: int, exp_decay: float
) -> None:
    lo, hi = sorted((a, b))
    assert_matches_seed(
        lrkit.one_cycle(start, lo, hi, rampup, sustain, exp_decay),
        seed_one_cycle(start, lo, hi, rampup, sustain, exp_decay),
    )


def test_constant_then_exponential_jumps_and_continuous_variant_does_not() -> None:
    seed = lrkit.constant_then_exponential_decay(0.001, 10, 0.1)
    smooth = lrkit.constant_then_exponential_decay(0.001, 10, 0.1, continuous=True)
    assert seed(10) == pytest.approx(0.001 * math.exp(-1.0), rel=1e-15)  # the seed's jump
    assert smooth(10) == 0.001
    assert smooth(15) == pytest.approx(0.001 * math.exp(-0.5), rel=1e-15)


def test_plain_function_in_the_seed_style_is_accepted_wherever_a_schedule_is() -> None:
    fn = seed_one_cycle(0.0001, 0.00001, 0.001, 10, 0, 0.8)
    wrapped = lrkit.as_schedule(fn)
    assert isinstance(wrapped, lrkit.FunctionSchedule)
    np.testing.assert_allclose(wrapped(np.arange(50)), [fn(e) for e in range(50)], rtol=0)
    warmed = lrkit.warmup(wrapped, steps=5)  # composes like any schedule
    assert warmed(5) == fn(0)
    assert warmed(0) == 0.0
    assert lrkit.warmup(fn, steps=5) == warmed  # a bare function is wrapped the same way
    assert (lrkit.linear(0.0, 5, end_lr=0.1) >> fn)(7) == fn(2)
    with pytest.raises(TypeError, match="no config"):
        wrapped.to_config()


def test_one_cycle_decay_starts_at_its_own_time_zero() -> None:
    # Found by test_continuous_at_boundaries: rampup + sustain rounds (1 + 511.7179251037264),
    # and `t - rampup - sustain` was 5.7e-14 at that boundary, so exp_decay=0 gave 0 ** 5.7e-14
    # = 0 where the seed's `0 ** (epoch - rampup - sustain)` is 0 ** 0 = 1 (max_lr).
    s = lrkit.one_cycle(
        0.0, 0.0, 1.0, rampup_epochs=1, sustain_epochs=511.7179251037264, exp_decay=0
    )
    b = 1 + 511.7179251037264
    assert s(b) == 1.0 == s(np.array([b]))[0]
    assert s(math.nextafter(b, math.inf)) == 0.0
