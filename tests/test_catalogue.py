"""Every catalogue entry and combinator against an independent reference.

Each reference is written here, separately from lrkit, as plain Python with ``if`` branches
and ``math`` (lrkit's formulas are branch-free array code); published values are used where
a paper gives them. Peer libraries are compared in ``test_compat_*``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

import numpy as np
import pytest

import lrkit

TIMES = [*range(0, 301), 0.5, 2.25, 7.75, 99.9, 150.5, 1e4, 1e6 + 0.5, 1e9]


def lerp(a: float, b: float, p: float) -> float:
    return a + (b - a) * p


def ref_step(t: float) -> float:
    return 0.1 * 0.5 ** (t // 30)


def ref_multistep(t: float) -> float:
    return 0.1 * 0.1 ** bisect.bisect_right([30, 80, 81], t)


def ref_piecewise_left(t: float) -> float:
    return 0.3 if t < 10 else 0.2 if t < 50 else 0.1


def ref_piecewise_right(t: float) -> float:
    return 0.3 if t <= 10 else 0.2 if t <= 50 else 0.1


def ref_linear(t: float) -> float:
    return 0.02 + (0.1 - 0.02) * min(t, 40) / 40


def ref_polynomial(t: float) -> float:
    return (0.1 - 0.001) * (1 - min(t, 100) / 100) ** 2 + 0.001


def ref_polynomial_cycle(t: float) -> float:
    horizon = 30 * max(math.ceil(t / 30), 1)
    return (0.1 - 0.001) * ((horizon - t) / horizon) ** 0.5 + 0.001  # 1 - t/h, without cancelling


def ref_inverse_time(t: float) -> float:
    return 0.1 / (1 + 0.5 * math.floor(t / 7))


def ref_exponential(t: float) -> float:
    return max(0.1 * 0.9 ** (t / 3), 0.02)


def ref_exponential_up(t: float) -> float:
    return min(0.001 * 1.1 ** min(t, 1000), 0.05)  # min(): Python floats overflow


def ref_cosine(t: float) -> float:
    if t >= 120:
        return 0.001
    return 0.001 + (0.1 - 0.001) * 0.5 * (1 + math.cos(math.pi * t / 120))


def ref_cosine_exponent(t: float) -> float:
    c = 0.5 * (1 + math.cos(math.pi * min(t, 50) / 50))
    return 0.1 * c**2


def ref_one_minus_sqrt(t: float) -> float:
    return 0.01 + (0.1 - 0.01) * (1 - math.sqrt(min(t, 64) / 64))


def ref_tanh(t: float) -> float:  # Hsueh et al. 2019, eq. (2), plus a floor
    return 0.001 + (0.1 - 0.001) / 2 * (1 - math.tanh(-6 + 9 * min(t, 90) / 90))


def ref_inverse_sqrt(t: float) -> float:
    return 0.1 * math.sqrt(25 / (t + 25))


def ref_noam(t: float) -> float:  # Vaswani et al. 2017, eq. (3), step = t + 1
    s = t + 1
    return 512**-0.5 * min(s**-0.5, s * 40**-1.5)


def ref_sgdr(t: float) -> float:  # Loshchilov & Hutter, with T_mult=2, amplitude x0.5
    T, start, i = 10.0, 0.0, 0
    while t >= start + T:
        start, T, i = start + T, 2 * T, i + 1
    return 0.001 + 0.5**i * (0.1 - 0.001) * 0.5 * (1 + math.cos(math.pi * (t - start) / T))


def ref_cyclic(mode: str) -> Callable[[float], float]:  # Smith 2017, section 3.1
    def f(t: float) -> float:
        cycle = math.floor(1 + t / 40)
        x = abs((t - 40 * (cycle - 1)) / 20 - 1)  # Smith's |t/20 - 2 cycle + 1|, exactly
        amp = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": 0.99**t}
        return 0.001 + (0.006 - 0.001) * max(0.0, 1 - x) * amp[mode]

    return f


def ref_onecycle_cos(t: float) -> float:
    lo, peak, end, up = 0.1 / 25, 0.1, 0.1 / 25 / 1e4, 30
    if t < up:
        return end_to(lo, peak, t / up)
    return end_to(peak, end, min((t - up) / 70, 1))


def end_to(a: float, b: float, p: float) -> float:  # half-cosine from a to b
    return b + (a - b) * (1 + math.cos(math.pi * p)) / 2


def ref_onecycle_linear_three(t: float) -> float:
    lo, peak, end = 0.1 / 10, 0.1, 0.1 / 10 / 100
    if t < 25:
        return lerp(lo, peak, t / 25)
    if t < 50:
        return lerp(peak, lo, (t - 25) / 25)
    return lerp(lo, end, min((t - 50) / 50, 1))


def ref_wsd(t: float) -> float:
    if t < 10:
        return 0.1 * t / 10
    if t < 70:
        return 0.1
    return 0.1 * (1 - math.sqrt(min((t - 70) / 30, 1)))


def ref_warmup_exponential(t: float) -> float:
    if t < 8:
        return 1e-4 * (0.05 / 1e-4) ** (t / 8)
    return 0.05 * 0.5 ** (t - 8)


def ref_warmup_cosine_shape(t: float) -> float:
    if t < 8:
        return end_to(0.0, 0.05, t / 8)
    return 0.05


def ref_join(t: float) -> float:
    if t < 5:
        return 0.1
    if t < 25:
        return 0.05 * 0.5 ** (t - 5)
    return 0.2 / (1 + (t - 25))


def ref_restarts(t: float) -> float:  # a linear ramp repeated with longer, lower cycles
    T, start, i = 12.0, 0.0, 0
    while t >= start + T:
        start, T, i = start + T, 1.5 * T, i + 1
    return 0.8**i * lerp(0.1, 0.0, (t - start) / T)


def ref_cooldown(t: float) -> float:  # decay anytime: a warmed-up constant, 1-sqrt from 60
    if t < 10:
        return 0.1 * t / 10
    if t < 60:
        return 0.1
    return 0.001 + (0.1 - 0.001) * (1 - math.sqrt(min(t - 60, 40) / 40))


def ref_cooldown_cosine(t: float) -> float:  # from a step decay's value at 45 (0.1 * 0.5)
    if t < 45:
        return 0.1 * 0.5 ** (t // 30)
    return end_to(0.05, 0.0, min(t - 45, 30) / 30)


CASES: list[tuple[lrkit.Schedule, Callable[[float], float]]] = [
    (lrkit.step(0.1, 30, gamma=0.5), ref_step),
    (lrkit.multistep(0.1, [30, 80, 81]), ref_multistep),
    (lrkit.piecewise_constant([10, 50], [0.3, 0.2, 0.1]), ref_piecewise_left),
    (lrkit.piecewise_constant([10, 50], [0.3, 0.2, 0.1], closed="right"), ref_piecewise_right),
    (lrkit.linear(0.02, 40, end_lr=0.1), ref_linear),
    (lrkit.linear_to_zero(0.1, 40), lambda t: 0.1 * (1 - min(t, 40) / 40)),
    (lrkit.polynomial(0.1, 100, power=2, end_lr=0.001), ref_polynomial),
    (lrkit.polynomial(0.1, 30, power=0.5, cycle=True, end_lr=0.001), ref_polynomial_cycle),
    (lrkit.inverse_time(0.1, 0.5, 7, staircase=True), ref_inverse_time),
    (lrkit.exponential(0.1, 0.9, 3, end_lr=0.02), ref_exponential),
    (lrkit.exponential(0.001, 1.1, end_lr=0.05), ref_exponential_up),
    (lrkit.cosine(0.1, 120, end_lr=0.001), ref_cosine),
    (lrkit.cosine(0.1, 50, exponent=2), ref_cosine_exponent),
    (lrkit.one_minus_sqrt(0.1, 64, end_lr=0.01), ref_one_minus_sqrt),
    (lrkit.tanh_decay(0.1, 90, end_lr=0.001), ref_tanh),
    (lrkit.inverse_sqrt(0.1, timescale=25), ref_inverse_sqrt),
    (lrkit.noam(512, 40), ref_noam),
    (lrkit.cosine_restarts(0.1, 10, t_mul=2, m_mul=0.5, end_lr=0.001), ref_sgdr),
    (lrkit.cyclic(0.001, 0.006, 20), ref_cyclic("triangular")),
    (lrkit.cyclic(0.001, 0.006, 20, mode="triangular2"), ref_cyclic("triangular2")),
    (lrkit.cyclic(0.001, 0.006, 20, mode="exp_range", gamma=0.99), ref_cyclic("exp_range")),
    (lrkit.one_cycle_policy(0.1, 100), ref_onecycle_cos),
    (
        lrkit.one_cycle_policy(0.1, 100, 0.25, 10, 100, anneal="linear", three_phase=True),
        ref_onecycle_linear_three,
    ),
    (lrkit.warmup_stable_decay(0.1, 10, 60, 30, decay_shape="1-sqrt"), ref_wsd),
    (
        lrkit.warmup(lrkit.exponential(0.05, 0.5), 8, "exponential", start_lr=1e-4),
        ref_warmup_exponential,
    ),
    (lrkit.warmup(lrkit.constant(0.05), 8, "cosine"), ref_warmup_cosine_shape),
    (
        lrkit.cooldown(lrkit.warmup(lrkit.constant(0.1), 10), 60, 40, end_lr=0.001),
        ref_cooldown,
    ),
    (lrkit.cooldown(lrkit.step(0.1, 30, gamma=0.5), 45, 30, "cosine"), ref_cooldown_cosine),
    (
        lrkit.Join(
            [lrkit.constant(0.1), lrkit.exponential(0.05, 0.5), lrkit.time_based_decay(0.2, 1)],
            [5, 25],
        ),
        ref_join,
    ),
    (
        lrkit.restarts(lrkit.linear(0.1, 12, end_lr=0.0), 12, period_mul=1.5, amplitude_mul=0.8),
        ref_restarts,
    ),
    (lrkit.linear(0.1, 10, end_lr=0.0) * 0.5, lambda t: 0.5 * lerp(0.1, 0.0, min(t, 10) / 10)),
    (
        lrkit.linear(0.1, 10, end_lr=0.0) + lrkit.constant(0.01),
        lambda t: lerp(0.1, 0.0, min(t, 10) / 10) + 0.01,
    ),
    (
        lrkit.linear(0.1, 10, end_lr=0.0) * lrkit.exponential(1.0, 0.5),
        lambda t: lerp(0.1, 0.0, min(t, 10) / 10) * 0.5**t,
    ),
    (
        lrkit.clip(lrkit.linear(0.1, 10, end_lr=0.0), 0.02, 0.08),
        lambda t: min(max(lerp(0.1, 0.0, min(t, 10) / 10), 0.02), 0.08),
    ),
    (
        lrkit.shift(lrkit.linear(0.1, 10, end_lr=0.0), 5),
        lambda t: lerp(0.1, 0.0, min(max(t - 5, 0), 10) / 10),
    ),
    (
        lrkit.staircase(lrkit.linear(0.1, 10, end_lr=0.0), 4),
        lambda t: lerp(0.1, 0.0, min(4 * (t // 4), 10) / 10),
    ),
    (
        lrkit.stretch(lrkit.linear(0.1, 10, end_lr=0.0), 3),
        lambda t: lerp(0.1, 0.0, min(t / 3, 10) / 10),
    ),
]


@pytest.mark.parametrize(("schedule", "reference"), CASES, ids=[str(s)[:60] for s, _ in CASES])
def test_against_independent_reference(
    schedule: lrkit.Schedule, reference: Callable[[float], float]
) -> None:
    expected = np.array([reference(t) for t in TIMES])
    np.testing.assert_allclose(schedule(np.array(TIMES)), expected, rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose([schedule(t) for t in TIMES], expected, rtol=1e-12, atol=1e-18)


def test_every_registered_entry_has_a_reference() -> None:
    def names(s: lrkit.Schedule) -> set[str]:
        out = {s.name}
        for value in s.params().values():
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if isinstance(item, lrkit.Schedule):
                    out |= names(item)
        return out

    covered = set().union(*(names(s) for s, _ in CASES))
    # The seed's five are covered against the seed's own code in test_seed.py.
    seed = {
        "constant",
        "time_based_decay",
        "exponential_decay",
        "constant_then_exponential_decay",
        "one_cycle",
    }
    assert set(lrkit.REGISTRY) - covered - seed == set()


def test_published_values() -> None:
    # Noam with d_model=512, warmup 4000: peak (512 * 4000) ** -0.5 = 6.9877e-4 at step 4000.
    assert lrkit.noam(512, 4000)(3999) == pytest.approx((512 * 4000) ** -0.5, rel=1e-12)
    # SGDR restarts at 10, 30, 70 with T_0=10, T_mult=2 (Loshchilov & Hutter, fig. 1).
    sgdr = lrkit.cosine_restarts(0.05, 10, t_mul=2.0)
    assert [sgdr(t) for t in (10, 30, 70)] == [0.05, 0.05, 0.05]
    assert sgdr.breakpoints(100) == (10, 30, 70)


def test_holds_final_value_past_the_end() -> None:
    for s in (
        lrkit.one_cycle_policy(0.1, 100),
        lrkit.cosine(0.1, 10),
        lrkit.linear(0.0, 5, end_lr=0.1),
    ):
        assert s(10**12) == s(s.duration)  # type: ignore[arg-type]


def test_huge_and_negative_times() -> None:
    s = lrkit.warmup(lrkit.cosine_restarts(0.1, 10, 2.0), 5)
    assert np.isfinite(s(10**12)) and np.isfinite(s(np.array([1e15, 1e300]))).all()
    assert s(-3) == s(0)


def test_untaken_branch_overflow_does_not_leak() -> None:
    # Before t = 1000 the continuous variant's exp(-10 (t - 1000)) overflows in Python floats;
    # that branch is not taken, so the scalar call must still return start_lr.
    s = lrkit.constant_then_exponential_decay(0.1, 1000, 10.0, continuous=True)
    assert s(5) == 0.1 and s(np.array([5.0]))[0] == 0.1
    assert s(1001) == pytest.approx(0.1 * math.exp(-10.0), rel=1e-14)


def test_breakpoints_are_inside_and_distinct() -> None:
    seed = lrkit.one_cycle(0.0001, 0.00001, 0.001, 10, 0, 0.8)
    assert seed.breakpoints(50) == (10,)
    assert lrkit.multistep(0.1, [30, 80]).breakpoints(50) == (30,)
    assert lrkit.warmup_stable_decay(0.1, 10, 80, 10).breakpoints() == (10, 90)
