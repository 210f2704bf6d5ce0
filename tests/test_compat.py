"""lrkit.compat without any framework: imports, configs, validation; and the parity helper.

The parity tests themselves (one file per peer, ``test_compat_<peer>.py``) run the peer
library and compare with :func:`assert_matches_peer`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest

import lrkit
from lrkit.compat import keras as ck
from lrkit.compat import optax as co
from lrkit.compat import torch as ct
from lrkit.compat import transformers as ch

#: float64 peers (PyTorch, transformers) and float32 peers (Keras, optax).
RTOL64, RTOL32 = 1e-12, 1e-6
EPS64, EPS32 = float(np.finfo(np.float64).eps), float(np.finfo(np.float32).eps)
REPORT = os.environ.get("LRKIT_PARITY_REPORT") == "1"


def assert_matches_peer(
    ours: np.ndarray, peer: np.ndarray, *, rtol: float, eps: float, what: str, ulps: float = 4
) -> None:
    """Assert ``|ours - peer| <= rtol * |peer| + ulps * eps * peak`` at every step.

    ``peak`` is the largest value of the peer's schedule. The absolute term is a few units in
    the last place of the peak: it matters only where the rate is near zero relative to its
    peak, e.g. at the bottom of a cosine, where ``1 + cos(x)`` near ``x = pi`` loses relative
    precision in the peer's own formula too (PyTorch's closed form is ~1e-12 relative off the
    exact value there for T ~ 1000; float32 peers ~1e-2). Everywhere else the relative
    tolerance decides. With ``LRKIT_PARITY_REPORT=1`` (and ``pytest -s``) each call prints
    its figures.
    """
    ours = np.asarray(ours, dtype=np.float64)
    peer = np.asarray(peer, dtype=np.float64)
    assert ours.shape == peer.shape, (ours.shape, peer.shape)
    assert np.all(np.isfinite(ours)), what
    peak = float(np.max(np.abs(peer)))
    diff = np.abs(ours - peer)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(diff == 0, 0.0, diff / np.abs(peer))
    big = np.abs(peer) >= 0.1 * peak
    if REPORT:
        print(
            f"\nPARITY {what}: steps={len(peer)} max_rel={rel.max():.2e} "
            f"max_rel(v>=peak/10)={rel[big].max() if big.any() else 0:.2e} "
            f"max_abs={diff.max() / (eps * peak) if peak else 0:.2f} ulp(peak)"
        )
    bad = diff > rtol * np.abs(peer) + ulps * eps * peak
    if bad.any():
        k = int(np.argmax(bad))
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {len(peer)} steps differ; first at step {k}: "
            f"lrkit={ours[k]!r}, peer={peer[k]!r}, rel={rel[k]:.3g}, abs/peak={diff[k] / peak:.3g}"
        )


# -- no framework ----------------------------------------------------------------------


def test_compat_imports_no_framework() -> None:
    code = (
        "import sys, lrkit.compat, lrkit.compat.torch, lrkit.compat.keras, "
        "lrkit.compat.optax, lrkit.compat.transformers\n"
        "peers = {'torch', 'tensorflow', 'keras', 'jax', 'optax', 'transformers'}\n"
        "assert not peers & set(sys.modules), peers & set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


EXAMPLES = [
    ct.StepLR(30, base_lr=0.1),
    ct.MultiStepLR([5, 5, 9]),
    ct.MultiStepLR([9, 5]),
    ct.ConstantLR(),
    ct.LinearLR(),
    ct.ExponentialLR(0.9),
    ct.PolynomialLR(10, 2.0),
    ct.CosineAnnealingLR(10, 0.01),
    ct.CosineAnnealingLR(10, hold_after_T_max=True),
    ct.CosineAnnealingWarmRestarts(5, 2, 0.01),
    ct.CyclicLR(0.001, 0.01, 5, mode="triangular2"),
    ct.OneCycleLR(0.1, 100),
    ct.OneCycleLR(0.1, epochs=4, steps_per_epoch=25, three_phase=True, anneal_strategy="linear"),
    ct.OneCycleMomentum(0.1, 100),
    ct.SequentialLR([ct.LinearLR(), ct.CosineAnnealingLR(10)], [5]),
    ck.ExponentialDecay(0.1, 10, 0.5, staircase=True),
    ck.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
    ck.PolynomialDecay(0.1, 10, cycle=True),
    ck.InverseTimeDecay(0.1, 10, 0.5),
    ck.CosineDecay(0.1, 100, 0.1),
    ck.CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10),
    ck.CosineDecayRestarts(0.1, 10, 2.0, 0.5, 0.1),
    co.constant_schedule(0.1),
    co.linear_schedule(0.0, 0.1, 10, 5),
    co.polynomial_schedule(0.1, 0.0, 2.0, 10),
    co.piecewise_constant_schedule(0.1, {10: 0.5, 20: 0.1}),
    co.exponential_decay(0.1, 10, 0.5, 5, True, 0.01),
    co.cosine_decay_schedule(0.1, 100, 0.1, 2.0),
    co.warmup_cosine_decay_schedule(0.0, 0.1, 10, 100, 0.001),
    co.warmup_exponential_decay_schedule(0.0, 0.1, 10, 10, 0.5),
    co.warmup_constant_schedule(0.0, 0.1, 10),
    co.linear_onecycle_schedule(100, 0.1),
    co.cosine_onecycle_schedule(100, 0.1),
    co.piecewise_interpolate_schedule("cosine", 0.1, {10: 0.5, 20: 0.1}),
    co.sgdr_schedule([dict(init_value=0.0, peak_value=0.1, warmup_steps=5, decay_steps=50)] * 2),
    co.join_schedules([co.constant_schedule(0.1), co.constant_schedule(0.01)], [10]),
    ch.get_scheduler("linear", num_warmup_steps=10, num_training_steps=100),
    ch.get_scheduler("cosine", num_warmup_steps=10, num_training_steps=100),
    ch.get_scheduler("cosine_with_restarts", 10, 100, {"num_cycles": 3}),
    ch.get_scheduler("polynomial", 10, 100, {"lr_end": 1e-4, "power": 2.0}, base_lr=0.1),
    ch.get_scheduler("constant"),
    ch.get_scheduler("constant_with_warmup", 10),
    ch.get_scheduler("inverse_sqrt", 10),
    ch.get_scheduler("cosine_with_min_lr", 10, 100, {"min_lr_rate": 0.1}),
    ch.get_scheduler("cosine_warmup_with_min_lr", 10, 100, {"min_lr_rate": 0.1}),
    ch.get_scheduler("warmup_stable_decay", 10, 100, {"num_decay_steps": 20}),
]


@pytest.mark.parametrize("schedule", EXAMPLES, ids=repr)
def test_compat_schedules_are_plain_lrkit_values(schedule: lrkit.Schedule) -> None:
    assert isinstance(schedule, lrkit.Schedule)
    config = json.loads(json.dumps(schedule.to_config()))
    again = lrkit.from_config(config)
    assert again == schedule
    t = np.arange(0, 300, 0.5)
    np.testing.assert_array_equal(again(t), schedule(t))
    scalars = [schedule(float(x)) for x in t[::37]]
    np.testing.assert_allclose(scalars, schedule(t[::37]), rtol=1e-14, atol=1e-300)
    assert np.all(np.isfinite(schedule(np.array([0, 1e6, 1e12]))))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ct.StepLR(0), "Argument `step_size` must be > 0. Received: step_size=0"),
        (lambda: ct.StepLR(3, gamma=2.0), "Argument `gamma` must be <= 1"),
        (lambda: ct.MultiStepLR([]), "Argument `milestones` must not be empty"),
        (lambda: ct.MultiStepLR([3, -1]), "Argument `milestones[1]` must be >= 0"),
        (lambda: ct.ConstantLR(factor=1.5), "Argument `factor` must be in [0.0, 1.0]"),
        (lambda: ct.ConstantLR(total_iters=0), "Argument `total_iters` must be an integer >= 1"),
        (lambda: ct.LinearLR(start_factor=0), "Argument `start_factor` must be in (0.0, 1.0]"),
        (lambda: ct.ExponentialLR(1.5), "Argument `gamma` must be <= 1"),
        (lambda: ct.CosineAnnealingLR(0), "Argument `T_max` must be > 0"),
        (lambda: ct.CosineAnnealingWarmRestarts(2.5), "Argument `T_0` must be an integer"),
        (lambda: ct.CosineAnnealingWarmRestarts(5, 0), "Argument `T_mult` must be an integer >= 1"),
        (lambda: ct.CyclicLR(0.1, 0.01), "Argument `base_lr` must be <= `max_lr`"),
        (lambda: ct.CyclicLR(0.01, 0.1, scale_fn=abs), "Argument `scale_fn` is not supported"),
        (lambda: ct.OneCycleLR(0.1), "Arguments `total_steps`, or both `epochs`"),
        (lambda: ct.OneCycleLR(0.1, 10, pct_start=0.05), "Argument `pct_start` must be in"),
        (lambda: ct.OneCycleLR(0.1, 10, three_phase=True, pct_start=0.6), "`pct_start`"),
        (lambda: ct.OneCycleLR(0.1, 10, pct_start=1.0), "`pct_start`"),
        (lambda: ct.OneCycleLR(0.1, 10, anneal_strategy="exp"), "Argument `anneal_strategy`"),
        (lambda: ct.OneCycleMomentum(0.1, 10, cycle_momentum=False), "`cycle_momentum` is"),
        (lambda: ct.SequentialLR([ct.LinearLR()], [3]), "Argument `milestones` must have one"),
        (lambda: ct.SequentialLR([ct.LinearLR(), 0.1], [3]), "Argument `schedulers[1]`"),
        (lambda: ck.ExponentialDecay(0.1, 0, 0.5), "Argument `decay_steps` must be > 0"),
        (lambda: ck.ExponentialDecay(0.1, 10, 1.5), "Argument `decay_rate` > 1"),
        (lambda: ck.PiecewiseConstantDecay([10], [0.1]), "Argument `values` must have one"),
        (lambda: ck.CosineDecay(-0.1, 10), "Argument `initial_learning_rate` must be >= 0"),
        (lambda: ck.CosineDecay(0.1, 10, alpha=2), "Argument `alpha` must be in [0.0, 1.0]"),
        (lambda: ck.CosineDecayRestarts(0.1, 10, t_mul=0.5), "Argument `t_mul` must be >= 1"),
        (lambda: co.cosine_decay_schedule(0.1, 0), "Argument `decay_steps` must be > 0"),
        (lambda: co.exponential_decay(0.1, 10, 1.5), "Argument `decay_rate` > 1"),
        (lambda: co.piecewise_constant_schedule(0.1, {5: -1.0}), "must be >= 0"),
        (lambda: co.piecewise_constant_schedule(0.1, {5.5: 0.1}), "must be an integer"),
        (lambda: co.piecewise_interpolate_schedule("cubic", 0.1), "`interpolate_type`"),
        (lambda: co.warmup_cosine_decay_schedule(0, 0.1, 10, 10), "Argument `decay_steps`"),
        (lambda: co.join_schedules([co.constant_schedule(0.1)], [3]), "`boundaries`"),
        (lambda: ch.get_scheduler("nope"), "Argument `name` must be one of"),
        (lambda: ch.get_scheduler("reduce_lr_on_plateau"), "not a function of the step"),
        (lambda: ch.get_scheduler("linear", 10), "requires `num_training_steps`"),
        (lambda: ch.get_scheduler("cosine"), "requires `num_warmup_steps`"),
        (lambda: ch.get_scheduler("linear", 1.5, 10), "Argument `num_warmup_steps` must be an"),
        (
            lambda: ch.get_polynomial_decay_schedule_with_warmup(0, 10, lr_end=0.1, base_lr=0.01),
            "Argument `lr_end` must be < `base_lr`",
        ),
        (
            lambda: ch.get_cosine_with_min_lr_schedule_with_warmup(0, 10),
            "exactly one of `min_lr` and `min_lr_rate`",
        ),
        (lambda: ch.get_wsd_schedule(0, 10), "`num_training_steps` or `num_stable_steps`"),
        (lambda: ch.get_wsd_schedule(0, 10, 20, decay_type="exp"), "Argument `decay_type`"),
    ],
)
def test_compat_validates_with_the_peers_argument_names(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        build()
    assert message in str(info.value)


def test_torch_cosine_rises_after_t_max_unless_held() -> None:
    s = ct.CosineAnnealingLR(T_max=10, eta_min=0.0, base_lr=1.0)
    # The closed form eta_min + (base - eta_min)(1 + cos(pi t / T)) / 2, period 2T.
    t = np.arange(0, 60)
    np.testing.assert_allclose(s(t), (1 + np.cos(np.pi * t / 10)) / 2, rtol=0, atol=4e-15)
    held = ct.CosineAnnealingLR(T_max=10, hold_after_T_max=True)
    assert held(15) == held(10) == 0.0


def test_torch_onecycle_holds_past_the_end() -> None:
    s = ct.OneCycleLR(max_lr=0.1, total_steps=100)
    end = 0.1 / 25 / 1e4
    assert s(99) == s(100) == s(10**9) == pytest.approx(end, rel=1e-12)


def test_base_lr_scales_the_multiplier() -> None:
    t = np.arange(200)
    for build in (ct.StepLR, ct.ExponentialLR, ct.PolynomialLR):
        arg = 0.9 if build is ct.ExponentialLR else 30
        np.testing.assert_allclose(build(arg, base_lr=0.1)(t), 0.1 * build(arg)(t), rtol=1e-15)
    np.testing.assert_allclose(
        ch.get_scheduler("cosine", 10, 100, base_lr=0.1)(t),
        0.1 * ch.get_scheduler("cosine", 10, 100)(t),
        rtol=1e-15,
    )
