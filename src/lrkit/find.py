"""The learning-rate range test: its result, the published rules that read it, and its loop.

Leslie Smith's recipe for 1cycle starts with a *range test*: train for a few hundred batches
while the rate grows from tiny to huge, watch the loss, and take the peak from the curve. The
framework adapters run it (:func:`lrkit.keras.find_lr`, :func:`lrkit.torch.find_lr`,
:func:`lrkit.jax.find_lr`) and restore the model, the optimizer and the random states
afterwards; this module holds what they share and imports NumPy only:

- :class:`RangeTest`, the result: the rates, the raw and smoothed losses, where and why it
  stopped, and the settings; saved and loaded as JSON.
- :meth:`RangeTest.suggest` with the peers' rules (``"steepest"``, ``"valley"``,
  ``"minimum"``, ``"slide"``) and lrkit's ``"consensus"`` of them.
- :meth:`RangeTest.onecycle` (and :meth:`~RangeTest.warmup_cosine`,
  :meth:`~RangeTest.warmup_stable_decay`): the schedule whose peak is the suggestion.
- :func:`sweep_rates` (the closed form of the sweep) and :func:`run` (the loop every adapter
  drives: smoothing, early stop, progress).

The sweep. Step $k = 0, \\dots, N-1$ (one optimizer update each) uses the rate

$$\\eta_k = \\eta_0 \\left(\\frac{\\eta_1}{\\eta_0}\\right)^{k/(N-1)} \\text{ (exponential)},
\\qquad \\eta_k = \\eta_0 + (\\eta_1 - \\eta_0)\\frac{k}{N-1} \\text{ (linear)},$$

from ``start_lr`` $\\eta_0$ to ``end_lr`` $\\eta_1$ (both reached). The loss $\\ell_k$ is
smoothed by a bias-corrected exponential moving average (fastai's and Lightning's, $\\beta =
0.98$): $a_k = \\beta a_{k-1} + (1-\\beta)\\ell_k$, $s_k = a_k / (1 - \\beta^{k+1})$. The test
stops after step $k$ when $s_k$ is not finite or $s_k > d \\cdot \\min_{j \\le k} s_j$
(``diverge_threshold`` $d$, 4 as in fastai and Lightning); step $k$ is recorded.

A loss that falls around rate 0.001 and blows up past 0.3, swept from 1e-6 to 10:

>>> from lrkit.find import run
>>> def loss(k, rate):                        # train one update at `rate`, return its loss
...     return 1 + 1.3 / (1 + (rate / 1e-3) ** 2) + (rate / 0.3) ** 2
>>> result = run(loss, start_lr=1e-6, end_lr=10.0, num_steps=100, progress=False)
>>> result
RangeTest(91 of 100 steps, exponential 1e-06 to 10, diverged at step 90)
>>> {rule: float(f"{rate:.3g}") for rule, rate in result.suggestions().items()}
{'steepest': 0.00292, 'valley': 0.000933, 'minimum': 0.0201, 'slide': 0.00152,
 'extremum': 0.0021, 'consensus': 0.00421}
>>> print(result.onecycle(total_steps=1000))
one_cycle_policy(max_lr=0.00421, total_steps=1000)
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from lrkit import _display
from lrkit.compose import Warmup
from lrkit.recipes import OneCyclePolicy, WarmupStableDecay
from lrkit.schedules import Cosine

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MODES",
    "RULES",
    "Batches",
    "Progress",
    "RangeTest",
    "check_settings",
    "restore_global_random",
    "run",
    "save_global_random",
    "sweep_rates",
]

MODES = ("exponential", "linear")
#: The rules :meth:`RangeTest.suggest` knows, in the order the plot and the CLI show them.
RULES = ("steepest", "valley", "minimum", "slide", "extremum", "consensus")
#: The peers' rules (torch-lr-finder's and fastai's); the consensus is clamped to their range.
PEER_RULES = RULES[:4]
#: The consensus (a 1cycle's peak) over Smith's extremum: the development study
#: (``benchmarks/find_dev.py``) found the best 1cycle peak above the extremum in 17 of 18
#: held-out cases, and twice it lost less accuracy on three new problems (0.20 points, 0.37).
PEAK_OVER_EXTREMUM = 2.0
#: torch-lr-finder's ``plot(skip_start=10, skip_end=5)``: the steepest-descent window.
STEEPEST_SKIP = (10, 5)
#: fastai's ``lr_find`` drops the last 5 points (and the first ``num_it // 10``).
FASTAI_SKIP_END = 5


# -- settings and the sweep ----------------------------------------------------------------


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"Argument `{name}` must be a number. Received: {name}={value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"Argument `{name}` must be finite. Received: {name}={value!r}")
    return x


def _integer(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"Argument `{name}` must be an integer. Received: {name}={value!r}")
    if value < minimum:
        raise ValueError(f"Argument `{name}` must be >= {minimum}. Received: {name}={value!r}")
    return int(value)


def check_settings(
    start_lr: Any,
    end_lr: Any,
    num_steps: Any,
    mode: Any = "exponential",
    beta: Any = 0.98,
    diverge_threshold: Any = 4.0,
    accumulation_steps: Any = 1,
) -> dict[str, Any]:
    """The range test's settings, checked, as plain values (what :class:`RangeTest` stores).

    >>> check_settings(1e-3, 1e-4, 100)
    Traceback (most recent call last):
    ...
    ValueError: Argument `end_lr` must be > start_lr (1e-03). Received: end_lr=0.0001
    """
    start = _number("start_lr", start_lr)
    end = _number("end_lr", end_lr)
    if start <= 0:
        raise ValueError(f"Argument `start_lr` must be > 0. Received: start_lr={start_lr!r}")
    if end <= start:
        raise ValueError(
            f"Argument `end_lr` must be > start_lr ({start:.0e}). Received: end_lr={end_lr!r}"
        )
    steps = _integer("num_steps", num_steps, 10)
    if mode not in MODES:
        raise ValueError(f"Argument `mode` must be one of {MODES}. Received: mode={mode!r}")
    b = _number("beta", beta)
    if not 0 <= b < 1:
        raise ValueError(f"Argument `beta` must be in [0, 1). Received: beta={beta!r}")
    d = _number("diverge_threshold", diverge_threshold)
    if d <= 1:
        raise ValueError(
            "Argument `diverge_threshold` must be > 1 (a multiple of the best smoothed loss). "
            f"Received: diverge_threshold={diverge_threshold!r}"
        )
    accumulation = _integer("accumulation_steps", accumulation_steps, 1)
    return {
        "start_lr": start,
        "end_lr": end,
        "num_steps": steps,
        "mode": str(mode),
        "beta": b,
        "diverge_threshold": d,
        "accumulation_steps": accumulation,
    }


def sweep_rates(
    start_lr: float, end_lr: float, num_steps: int, mode: str = "exponential"
) -> list[float]:
    """The rate of each step of the sweep (see the module documentation), as Python floats.

    >>> sweep_rates(1e-3, 1.0, 4)
    [0.001, 0.01, 0.1, 1.0]
    >>> sweep_rates(0.1, 0.4, 4, mode="linear")
    [0.1, 0.2, 0.30000000000000004, 0.4]
    """
    s = check_settings(start_lr, end_lr, 10, mode)  # the rates and the mode
    start, end, n = s["start_lr"], s["end_lr"], _integer("num_steps", num_steps, 2)
    if mode == "exponential":
        return [start * (end / start) ** (k / (n - 1)) for k in range(n)]
    return [start + (end - start) * k / (n - 1) for k in range(n)]


# -- the result ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RangeTest:
    """The result of a learning-rate range test.

    Attributes:
        rates: the rate of each recorded step (:func:`sweep_rates`, cut where it stopped).
        losses: the loss of each step: the training loss of the batch (the mean over the
            batches of one update with gradient accumulation), or the validation loss after
            the update when the test was given validation data (``monitor="validation"``).
        smoothed: the bias-corrected moving average of ``losses`` that the rules read.
        reason: ``"completed"`` (all ``num_steps`` steps ran), ``"diverged"`` (the smoothed
            loss passed ``diverge_threshold`` times its best) or ``"non-finite"`` (a loss
            was NaN or infinite).
        stopped_at: the index of the step that stopped the test early (it is recorded), or
            ``None`` when it completed.
        start_lr, end_lr, num_steps, mode, beta, diverge_threshold, accumulation_steps:
            the settings it ran with (:func:`check_settings`); ``monitor``: which loss.
    """

    rates: tuple[float, ...]
    losses: tuple[float, ...]
    smoothed: tuple[float, ...]
    reason: str
    stopped_at: int | None
    start_lr: float
    end_lr: float
    num_steps: int
    mode: str = "exponential"
    beta: float = 0.98
    diverge_threshold: float = 4.0
    accumulation_steps: int = 1
    monitor: str = "train"

    def __post_init__(self) -> None:
        if not len(self.rates) == len(self.losses) == len(self.smoothed):
            raise ValueError(
                "Arguments `rates`, `losses` and `smoothed` must have the same length. "
                f"Received: {len(self.rates)}, {len(self.losses)}, {len(self.smoothed)}"
            )
        if self.reason not in ("completed", "diverged", "non-finite"):
            raise ValueError(
                "Argument `reason` must be 'completed', 'diverged' or 'non-finite'. "
                f"Received: reason={self.reason!r}"
            )
        if self.monitor not in ("train", "validation"):
            raise ValueError(
                "Argument `monitor` must be 'train' or 'validation'. "
                f"Received: monitor={self.monitor!r}"
            )

    def __repr__(self) -> str:
        stop = "" if self.stopped_at is None else f" at step {self.stopped_at}"
        return (
            f"RangeTest({len(self.rates)} of {self.num_steps} steps, {self.mode} "
            f"{self.start_lr:.3g} to {self.end_lr:.3g}, {self.reason}{stop})"
        )

    # -- the rules

    def suggest(self, rule: str = "consensus") -> float:
        """The suggested rate by ``rule``; see :data:`RULES` and ``docs/find.md``.

        - ``"steepest"``: torch-lr-finder's ``plot(suggest_lr=True)``: skip the first 10 and
          last 5 points, take the rate where ``np.gradient`` of the smoothed loss is most
          negative. The gradient is over the step index, which is log-rate in an exponential
          sweep (over log-rate in a linear one).
        - ``"valley"``, ``"minimum"``, ``"slide"``: fastai's functions of those names (its
          default is ``valley``), on the points fastai's ``lr_find`` gives them: the smoothed
          curve without its first ``num_steps // 10`` and last 5 points, cut at the first
          non-finite value. ``valley`` is a point about half way down the longest decreasing
          subsequence; ``minimum`` is a tenth of the rate at the lowest loss; ``slide`` walks
          left from the end until the gradient changes by at most 0.005 over 15 points.
        - ``"extremum"``: Smith's bound for cyclical schedules, "the learning rate at this
          extremum [of the loss] is the largest value that can be used as the learning rate
          for the maximum bound with cyclical learning rates" (Smith 2018, section 4.1): the
          rate at the lowest smoothed loss, moved back by the moving average's mean delay
          there (about ``beta / (1 - beta)`` steps: the average at step $k$ weighs the losses
          of earlier steps, so its minimum comes late).
        - ``"consensus"``: the peak for a 1cycle: twice the extremum (:data:`PEAK_OVER_EXTREMUM`,
          from lrkit's development study, ``docs/find.md``) but not past the rate at the
          lowest smoothed loss, then clamped to the range of the four peer rules, which keeps
          it among published answers when a curve is degenerate (no fall, or no minimum before
          the end).

        Raises:
            ValueError: an unknown rule, or too few finite points for it.
        """
        if rule == "consensus":
            return self._consensus()
        if rule == "steepest":
            return self._steepest()
        if rule == "extremum":
            return self._extremum()
        if rule not in RULES:
            raise ValueError(f"Argument `rule` must be one of {RULES}. Received: rule={rule!r}")
        rates, smoothed = self._fastai_points(rule)
        if rule == "valley":
            return float(rates[_valley(smoothed)])
        if rule == "minimum":
            return float(rates[int(np.argmin(smoothed))]) / 10
        return _slide(rates, smoothed)

    def suggestions(self) -> dict[str, float | None]:
        """Every rule's suggestion (``None`` where a rule has too few points)."""
        out: dict[str, float | None] = {}
        for rule in RULES[:-1]:
            try:
                out[rule] = self.suggest(rule)
            except ValueError:
                out[rule] = None
        peers = [r for r in (out[rule] for rule in PEER_RULES) if r is not None]
        extremum = out["extremum"]
        if extremum is None or not peers:
            out["consensus"] = None
        else:
            # never past the smoothed loss's lowest point: the test saw the loss rise there
            # (this bounds a degenerate curve's extremum, pinned to the first rate)
            rates, k = self._lowest()
            peak = min(PEAK_OVER_EXTREMUM * extremum, float(rates[k]))
            out["consensus"] = min(max(peak, min(peers)), max(peers))
        return out

    def _finite(self) -> tuple[np.ndarray, np.ndarray]:
        rates, smoothed = np.asarray(self.rates, float), np.asarray(self.smoothed, float)
        bad = np.flatnonzero(~np.isfinite(smoothed))
        cut = int(bad[0]) if bad.size else len(smoothed)
        return rates[:cut], smoothed[:cut]

    def _steepest(self) -> float:
        rates, smoothed = self._finite()
        first, last = STEEPEST_SKIP
        if len(rates) < first + last + 2:
            raise ValueError(
                f"rule 'steepest' needs at least {first + last + 2} finite points; "
                f"this range test has {len(rates)}"
            )
        rates, smoothed = rates[first:-last], smoothed[first:-last]
        if self.mode == "exponential":  # equal steps in log-rate: the index is the log-rate
            slope = np.gradient(smoothed)
        else:
            slope = np.gradient(smoothed, np.log(rates))
        return float(rates[int(np.argmin(slope))])

    def _lowest(self) -> tuple[np.ndarray, int]:
        """The finite rates and the index of the lowest smoothed loss among them."""
        rates, smoothed = self._finite()
        if len(rates) < 2:
            raise ValueError(
                f"rule 'extremum' needs at least 2 finite points; this range test has {len(rates)}"
            )
        return rates, int(np.argmin(smoothed))

    def _extremum(self) -> float:
        rates, k = self._lowest()
        return float(rates[max(k - round(_mean_delay(self.beta, k)), 0)])

    def _fastai_points(self, rule: str) -> tuple[np.ndarray, np.ndarray]:
        rates = np.asarray(self.rates, float)[self.num_steps // 10 : -FASTAI_SKIP_END]
        smoothed = np.asarray(self.smoothed, float)[self.num_steps // 10 : -FASTAI_SKIP_END]
        bad = np.flatnonzero(~np.isfinite(smoothed))
        if bad.size:
            rates, smoothed = rates[: bad[0]], smoothed[: bad[0]]
        needed = SLIDE_DIFF + 1 if rule == "slide" else 2
        if len(rates) < needed:
            raise ValueError(
                f"rule {rule!r} needs at least {needed} finite points after the first "
                f"{self.num_steps // 10} and before the last {FASTAI_SKIP_END}; "
                f"this range test has {len(rates)}"
            )
        return rates, smoothed

    def _consensus(self) -> float:
        found = self.suggestions()["consensus"]
        if found is None:
            raise ValueError(
                f"no rule has enough finite points: the range test recorded {len(self.rates)} "
                f"steps ({self.reason}); run more steps or lower `start_lr`"
            )
        return found

    # -- schedules from it

    def onecycle(self, total_steps: float, *, rule: str = "consensus", **kwargs: Any) -> Any:
        """Smith's 1cycle peaking at the suggestion:
        ``lrkit.one_cycle_policy(max_lr=..., total_steps)``.

        ``total_steps`` is in the unit the schedule will be driven in (optimizer updates, or
        epochs for a per-epoch schedule); ``kwargs`` go to :class:`lrkit.OneCyclePolicy`.
        """
        return OneCyclePolicy(
            max_lr=_rounded(self.suggest(rule)), total_steps=total_steps, **kwargs
        )

    def warmup_cosine(
        self,
        total_steps: float,
        *,
        warmup_steps: float | None = None,
        rule: str = "consensus",
        end_lr: float = 0.0,
    ) -> Any:
        """A linear warm-up (5% of ``total_steps`` by default) to the suggestion, then a cosine
        decay to ``end_lr``; ``total_steps`` includes the warm-up."""
        warm = 0.05 * total_steps if warmup_steps is None else warmup_steps
        peak = _rounded(self.suggest(rule))
        decay = Cosine(start_lr=peak, decay_steps=total_steps - warm, end_lr=end_lr)
        return Warmup(decay, steps=warm)

    def warmup_stable_decay(
        self,
        total_steps: float,
        *,
        warmup_fraction: float = 0.05,
        decay_fraction: float = 0.2,
        rule: str = "extremum",
        **kwargs: Any,
    ) -> Any:
        """Warm-up, a plateau at the suggestion and a decay (:class:`lrkit.WarmupStableDecay`),
        by fractions of ``total_steps``.

        The plateau holds the rate for most of the run, so the default is the extremum, not
        the consensus (a 1cycle's peak, twice it): Smith asks for less than the extremum for
        a constant rate, and the training benchmark's validation sweeps picked 0.05 for
        warmup-stable-decay at every budget, where they picked 0.1 for 1cycle at all but the
        longest."""
        warm, decay = warmup_fraction * total_steps, decay_fraction * total_steps
        return WarmupStableDecay(
            peak_lr=_rounded(self.suggest(rule)),
            warmup_steps=warm,
            stable_steps=total_steps - warm - decay,
            decay_steps=decay,
            **kwargs,
        )

    # -- saving

    def to_json(self) -> str:
        """The result as JSON text (non-finite losses as the strings ``"nan"``, ``"inf"``)."""
        fields = dataclasses.asdict(self)
        for key in ("rates", "losses", "smoothed"):
            fields[key] = [_encode(x) for x in fields[key]]
        return json.dumps({"range_test": 1, **fields})

    @classmethod
    def from_json(cls, text: str) -> RangeTest:
        """The result that :meth:`to_json` wrote."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.pop("range_test", None) != 1:
            raise ValueError("Argument `text` is not a range test written by RangeTest.to_json()")
        for key in ("rates", "losses", "smoothed"):
            data[key] = tuple(float(x) for x in data[key])
        return cls(**data)

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_json` to ``path``."""
        p = Path(path)
        p.write_text(self.to_json() + "\n", encoding="utf-8")
        return p

    @classmethod
    def load(cls, path: str | Path) -> RangeTest:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    # -- the plot

    def plot(self, ax: Axes | None = None, *, rules: Sequence[str] = RULES) -> Figure:
        """The raw and smoothed loss against the rate (log axis), each rule's suggestion
        marked; matplotlib is imported here. Returns the figure (``fig.savefig(path)``)."""
        from matplotlib.figure import Figure

        if ax is None:
            fig = Figure(figsize=(7, 4.2), layout="constrained")
            ax = fig.add_subplot()
        else:
            fig = ax.figure  # type: ignore[assignment]
        rates, losses, smoothed = (np.asarray(a, float) for a in self.split())
        ax.plot(rates, losses, color="0.75", linewidth=0.8, label=f"{self.monitor} loss")
        ax.plot(rates, smoothed, color="C0", linewidth=1.8, label="smoothed")
        found = self.suggestions()
        for i, rule in enumerate(rules):
            rate = found.get(rule)
            if rate is None:
                continue
            y = float(np.interp(math.log(rate), np.log(rates), smoothed))
            ax.axvline(rate, color=f"C{i + 1}", linestyle=":", linewidth=1)
            ax.plot([rate], [y], "o", color=f"C{i + 1}", label=f"{rule}: {rate:.3g}")
        ax.set_xscale("log" if self.mode == "exponential" else "linear")
        both = np.concatenate([losses, smoothed])
        finite = both[np.isfinite(both)]
        if finite.size:  # from the lowest loss to the first ones: a diverged tail would squash it
            start = np.concatenate([losses[:10], smoothed[:1]])
            low = float(finite.min())
            high = max(float(np.max(start[np.isfinite(start)], initial=low)), low + 1e-12)
            ax.set_ylim(low - 0.05 * (high - low), high + 0.25 * (high - low))
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.set_title(f"Range test: {len(self.rates)} steps, {self.reason}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
        return fig

    def split(self) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        """``(rates, losses, smoothed)``."""
        return self.rates, self.losses, self.smoothed

    # -- notebooks: an inline SVG drawn without matplotlib (lrkit._display) --

    def chart(self) -> _display.Chart:
        """The raw and smoothed loss against the rate (log axis), the consensus marked."""
        rates, losses, smoothed = (np.asarray(a, float) for a in self.split())
        finite = np.isfinite(smoothed)
        markers: tuple[_display.Marker, ...] = ()
        try:
            best = self.suggest()
        except ValueError:  # too few points for any rule: draw the curve alone
            best = None
        if best is not None and finite.any():
            y = float(np.interp(np.log(best), np.log(rates[finite]), smoothed[finite]))
            markers = (_display.Marker(best, y, f"suggested {best:.3g}"),)
        return _display.Chart(
            (
                _display.Series(rates[finite], losses[finite], f"{self.monitor} loss"),
                _display.Series(rates[finite], smoothed[finite], "smoothed"),
            ),
            title=f"learning-rate range test ({self.reason})",
            xlabel="learning rate",
            ylabel="loss",
            markers=markers,
            log_x=True,
        )

    def _repr_svg_(self) -> str:
        return _display.svg(self.chart())

    def _repr_html_(self) -> str:
        return _display.html_of(self.chart())


def _mean_delay(beta: float, k: int) -> float:
    """How many steps back, on average, the bias-corrected moving average at step ``k``
    looks: its weights are $(1-\\beta)\\beta^i$ on the loss of step $k - i$, $i \\le k$,
    normalised; $\\beta / (1-\\beta)$ once $k$ is large."""
    if beta == 0:
        return 0.0
    n = k + 1
    return beta * (1 - n * beta ** (n - 1) + (n - 1) * beta**n) / ((1 - beta) * (1 - beta**n))


def _rounded(rate: float) -> float:
    """Four significant digits keep the schedule's text form readable."""
    return float(f"{rate:.3g}")


def _encode(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


# fastai's slide(lr_diff=15, thresh=.005, adjust_value=1.)
SLIDE_DIFF = 15
SLIDE_THRESH = 0.005


def _valley(losses: np.ndarray) -> int:
    """fastai's ``valley``, statement for statement (``fastai/callback/schedule.py``): the
    longest decreasing subsequence, and the point at about half of it. Its bookkeeping quirks
    (the start is one before the subsequence, the start can lag the end) are kept: they are
    what fastai users get."""
    n = len(losses)
    values = [float(x) for x in losses]
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if values[i] < values[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)


def _slide(rates: np.ndarray, losses: np.ndarray) -> float:
    """fastai's ``slide`` with its defaults, statement for statement."""
    loss_grad = np.gradient(losses)
    r_idx = -1
    l_idx = r_idx - SLIDE_DIFF
    local_min_lr = rates[l_idx]
    while l_idx >= -len(losses) and abs(loss_grad[r_idx] - loss_grad[l_idx]) > SLIDE_THRESH:
        local_min_lr = rates[l_idx]
        r_idx -= 1
        l_idx -= 1
    return float(local_min_lr)


# -- the loop ------------------------------------------------------------------------------


class Progress(Protocol):
    """What :func:`run` reports to: a bar of ``num_steps``."""

    def update(self, step: int, rate: float, smoothed: float) -> None: ...

    def close(self) -> None: ...


class _Tqdm:
    """A tqdm bar on standard error: the rate and the smoothed loss as its postfix."""

    def __init__(self, total: int) -> None:
        from tqdm.auto import tqdm  # type: ignore[import-untyped]

        self.bar = tqdm(total=total, desc="range test", unit="step", leave=False, file=sys.stderr)

    def update(self, step: int, rate: float, smoothed: float) -> None:
        self.bar.set_postfix_str(f"lr={rate:.2e} loss={smoothed:.4f}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def _silent() -> bool:
    return not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


def progress_bar(total: int, verbose: bool | str = "auto") -> Progress | None:
    """tqdm's bar when ``verbose`` is True, or ``"auto"`` and standard error is a terminal;
    otherwise none."""
    if verbose is False or (verbose == "auto" and _silent()):
        return None
    return _Tqdm(total)


def run(
    step: Callable[[int, float], float],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exponential",
    beta: float = 0.98,
    diverge_threshold: float = 4.0,
    accumulation_steps: int = 1,
    monitor: str = "train",
    progress: Progress | bool | str = "auto",
) -> RangeTest:
    """Drive a range test: call ``step(k, rate)`` for each step of the sweep, which trains one
    update at ``rate`` and returns its loss; smooth, stop, report progress, return the result.

    The adapters restore their framework's state around this call. A non-finite loss at the
    first step is a ``ValueError`` (nothing can be read from the curve): the model, the data
    or the loss is broken, or ``start_lr`` is too high.
    """
    settings = check_settings(
        start_lr, end_lr, num_steps, mode, beta, diverge_threshold, accumulation_steps
    )
    rates = sweep_rates(settings["start_lr"], settings["end_lr"], settings["num_steps"], mode)
    bar = progress_bar(len(rates), progress) if isinstance(progress, bool | str) else progress
    b = settings["beta"]
    losses: list[float] = []
    smoothed: list[float] = []
    average, best = 0.0, math.inf
    reason, stopped_at = "completed", None
    try:
        for k, rate in enumerate(rates):
            loss = float(step(k, rate))
            if k == 0 and not math.isfinite(loss):
                raise ValueError(
                    f"The loss of the first step is not finite (loss={loss}) at "
                    f"start_lr={settings['start_lr']:g}: check the model, the data and the "
                    "loss function, or lower `start_lr`"
                )
            average = b * average + (1 - b) * loss
            s = average / (1 - b ** (k + 1))
            losses.append(loss)
            smoothed.append(s)
            if bar is not None:
                bar.update(k + 1, rate, s)
            if not math.isfinite(s):
                reason, stopped_at = "non-finite", k
                break
            best = min(best, s)
            if s > settings["diverge_threshold"] * best:
                reason, stopped_at = "diverged", k
                break
    finally:
        if bar is not None:
            bar.close()
    return RangeTest(
        rates=tuple(rates[: len(losses)]),
        losses=tuple(losses),
        smoothed=tuple(smoothed),
        reason=reason,
        stopped_at=stopped_at,
        monitor=monitor,
        **settings,
    )


class Batches:
    """The batches of a loader without end: re-iterated when it ends; a ValueError naming the
    argument when it has none."""

    def __init__(self, loader: Iterable[Any], name: str) -> None:
        self.loader, self.name = loader, name
        self.it: Iterator[Any] | None = None
        self.drawn = 0
        try:
            empty = len(loader) == 0  # type: ignore[arg-type]
        except TypeError:  # no len(): an iterable; it is checked when first drawn from
            empty = False
        if empty:
            raise ValueError(f"Argument `{name}` has no batches. Received: {name}={loader!r:.80}")

    def __next__(self) -> Any:
        if self.it is not None:
            try:
                batch = next(self.it)
                self.drawn += 1
                return batch
            except StopIteration:
                pass
        self.it = iter(self.loader)
        try:
            batch = next(self.it)
        except StopIteration:
            if self.drawn:  # a one-shot iterator (a generator) cannot start again
                raise ValueError(
                    f"Argument `{self.name}` ran out after {self.drawn} batches and cannot be "
                    "iterated again: give a re-iterable loader, more batches, or fewer steps"
                ) from None
            raise ValueError(
                f"Argument `{self.name}` has no batches. Received: {self.name}={self.loader!r:.80}"
            ) from None
        self.drawn += 1
        return batch


# -- global random states (the adapters add their framework's) -------------------------------


def save_global_random() -> dict[str, Any]:
    """Python's and NumPy's global random states."""
    return {"python": random.getstate(), "numpy": np.random.get_state()}


def restore_global_random(saved: Mapping[str, Any]) -> None:
    random.setstate(saved["python"])
    np.random.set_state(saved["numpy"])
