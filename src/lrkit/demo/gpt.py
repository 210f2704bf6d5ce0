"""A small GPT-style byte-level language model and its training loop in PyTorch (AdamW).

The model of ``lrkit demo --task text`` and ``benchmarks/text.py``: a causal transformer
(pre-LayerNorm blocks, learned positions, input and output embeddings tied), trained on random
windows of :mod:`lrkit.demo.text_data`'s corpus with AdamW, the rate set before every update by
:class:`lrkit.torch.LRScheduler`. Losses are in bits per byte: the cross-entropy in nats over
ln 2, one byte per token. ``optimizer="schedule-free"`` trains with schedule-free AdamW
(Defazio et al. 2024, the ``schedulefree`` package) instead, its rate driven the same way.

A run can keep checkpoints (model, optimizer, scheduler counter and data order) at chosen
updates and be continued from one with another schedule: that is how one stable-phase run
branches into cooldowns ("decay anytime"); a branch equals the run it stands for, update for
update.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812  (the PyTorch convention)
from torch import nn

from lrkit import Schedule
from lrkit.demo.runs import Progress
from lrkit.demo.text_data import Corpus
from lrkit.torch import LRScheduler

__all__ = [
    "CPU",
    "CUDA",
    "GPT",
    "QUICK",
    "Checkpoint",
    "GPTConfig",
    "TextRun",
    "bits_per_byte",
    "train_text",
]

OPTIMIZERS = ("adamw", "schedule-free")


@dataclasses.dataclass(frozen=True)
class GPTConfig:
    """The model's size and the training set-up (all but the schedule)."""

    width: int = 128
    layers: int = 2
    heads: int = 4
    context: int = 64  # bytes per training window
    batch: int = 16  # windows per update
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    clip: float = 1.0  # gradient norm
    eval_windows: int = 256  # validation windows per evaluation of the curve

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: The CPU configuration of ``benchmarks/text.py``: about 1.08M parameters; with two runs
#: side by side on 2 cores, one torch thread each, about 170 ms an update (640 in 107 s).
CPU = GPTConfig(width=168, layers=3, heads=4, batch=12)
#: ``lrkit demo --task text`` on CPU, a few minutes: about 0.44M parameters, about 50 ms an update.
QUICK = GPTConfig()
#: ``--device cuda``: about 3.2M parameters, 16x the bytes per update.
CUDA = GPTConfig(width=256, layers=4, heads=8, context=256, batch=64, eval_windows=512)


class Block(nn.Module):
    """Pre-LayerNorm: causal self-attention, then a 4x MLP (GELU), each added to the stream."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.up = nn.Linear(width, 4 * width)
        self.down = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        out: torch.Tensor = x + self.down(F.gelu(self.up(self.norm2(x))))
        return out


class GPT(nn.Module):
    """A byte-level causal transformer: 256 symbols in, logits over the next byte out."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(256, config.width)
        self.position = nn.Embedding(config.context, config.width)
        self.blocks = nn.ModuleList(Block(config.width, config.heads) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.width)
        for name, p in self.named_parameters():  # GPT-2's initialisation
            if p.dim() >= 2:
                std = (
                    0.02 / math.sqrt(2 * config.layers)
                    if name.endswith(("proj.weight", "down.weight"))
                    else 0.02
                )
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x) + self.position(torch.arange(x.shape[1], device=x.device))
        for block in self.blocks:
            h = block(h)
        logits: torch.Tensor = self.norm(h) @ self.embed.weight.T  # tied output embedding
        return logits


@dataclasses.dataclass
class Checkpoint:
    """Everything a run needs to continue exactly: taken after ``step`` updates."""

    step: int
    model: dict[str, Any]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    data_order: torch.Tensor  # the batch sampler's generator state


@dataclasses.dataclass
class TextRun:
    """One training run: its schedule, the validation curve and the final losses (bits/byte)."""

    name: str
    schedule: Schedule
    optimizer: str
    updates: int
    seed: int
    curve: list[tuple[int, float]]  # (updates done, validation bits per byte)
    test: float  # test bits per byte after the last update
    seconds: float
    checkpoints: dict[int, Checkpoint] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def valid(self) -> float:
        """Validation bits per byte after the last update."""
        return self.curve[-1][1]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "schedule": self.schedule.spec(),
            "optimizer": self.optimizer,
            "updates": self.updates,
            "seed": self.seed,
            "valid_bpb": round(self.valid, 5),
            "test_bpb": round(self.test, 5),
            "curve": [[s, round(v, 5)] for s, v in self.curve],
            "seconds": round(self.seconds, 2),
        }


def windows(data: np.ndarray, context: int, count: int | None) -> torch.Tensor:
    """``count`` evenly spaced windows of ``context + 1`` bytes (every disjoint one if None)."""
    span = context + 1
    last = len(data) - span
    if count is None:
        starts = np.arange(0, last + 1, span)
    else:
        starts = np.linspace(0, last, count).astype(np.int64)
    return torch.from_numpy(np.stack([data[s : s + span] for s in starts]).astype(np.int64))


@torch.no_grad()
def bits_per_byte(model: nn.Module, batches: torch.Tensor, chunk: int = 256) -> float:
    """The mean next-byte cross-entropy over ``batches`` (windows), in bits."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(batches), chunk):
        w = batches[i : i + chunk]
        logits = model(w[:, :-1])
        total += F.cross_entropy(logits.flatten(0, 1), w[:, 1:].flatten(), reduction="sum").item()
        count += w[:, 1:].numel()
    model.train()
    return total / count / math.log(2)


def _optimizer(kind: str, model: nn.Module, config: GPTConfig, lr: float) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    betas = (config.beta1, config.beta2)
    if kind == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=betas)
    import schedulefree

    # Its own warmup off: the lrkit schedule given drives the rate, as for AdamW.
    return schedulefree.AdamWScheduleFree(groups, lr=lr, betas=betas, warmup_steps=0)  # type: ignore[no-any-return]


def train_text(
    corpus: Corpus,
    schedule: Schedule,
    *,
    updates: int,
    seed: int = 0,
    config: GPTConfig = CPU,
    optimizer: str = "adamw",
    device: str = "cpu",
    evals: int = 8,
    keep: Iterable[int] = (),
    start: Checkpoint | None = None,
    name: str = "",
    progress: Progress | None = None,
) -> TextRun:
    """Train a fresh :class:`GPT` (or continue ``start``) up to ``updates`` updates.

    ``schedule`` (time in updates) sets the rate before every update. The validation loss is
    measured ``evals`` times, evenly spaced, the last after the final update; the test loss
    once at the end. ``keep`` names the updates after which to keep a :class:`Checkpoint`.
    The seed fixes the initial weights and the order of the training windows.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            f"Argument `optimizer` must be one of {OPTIMIZERS}. Received: optimizer={optimizer!r}"
        )
    if isinstance(updates, bool) or not isinstance(updates, int) or updates < 1:
        raise ValueError(
            f"Argument `updates` must be an integer >= 1. Received: updates={updates!r}"
        )
    first = 0 if start is None else start.step
    if first >= updates:
        raise ValueError(f"Argument `start` is at update {first}, not before updates={updates}")
    label = name or schedule.spec()
    if progress is not None:
        progress.begin(label)
    began = time.perf_counter()
    torch.manual_seed(seed)
    model = GPT(config).to(device)
    opt = _optimizer(optimizer, model, config, float(schedule(0)))
    generator = torch.Generator().manual_seed(seed)
    if start is not None:
        model.load_state_dict(start.model)
        opt.load_state_dict(start.optimizer)
        generator.set_state(start.data_order)
    scheduler = LRScheduler(opt, schedule)
    if start is not None:
        scheduler.load_state_dict(start.scheduler, strict=False)  # the counter only
    train = torch.from_numpy(corpus.train.astype(np.int64))
    valid = windows(corpus.valid, config.context, config.eval_windows).to(device)
    offsets = torch.arange(config.context + 1)
    every = max(1, updates // max(1, evals))
    keep = set(keep)
    curve: list[tuple[int, float]] = []
    checkpoints: dict[int, Checkpoint] = {}
    swap = getattr(opt, "eval", None) if optimizer == "schedule-free" else None

    def evaluate(batches: torch.Tensor) -> float:
        if swap is not None:
            opt.eval()  # type: ignore[attr-defined]  # schedule-free: evaluate the average
        loss = bits_per_byte(model, batches)
        if swap is not None:
            opt.train()  # type: ignore[attr-defined]
        return loss

    model.train()
    if swap is not None:
        opt.train()  # type: ignore[attr-defined]
    for step in range(first, updates):
        starts = torch.randint(
            0, len(train) - config.context - 1, (config.batch,), generator=generator
        )
        batch = train[starts[:, None] + offsets].to(device)
        loss = F.cross_entropy(model(batch[:, :-1]).flatten(0, 1), batch[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        opt.step()
        scheduler.step()
        done = step + 1
        if done in keep:
            checkpoints[done] = Checkpoint(
                done,
                copy.deepcopy(model.state_dict()),
                copy.deepcopy(opt.state_dict()),
                scheduler.state_dict(),
                generator.get_state(),
            )
        if done % every == 0 or done == updates:
            curve.append((done, evaluate(valid)))
            if progress is not None:
                progress.update(
                    (done - first) / (updates - first),
                    f"update {done}/{updates}  {curve[-1][1]:.3f} bpb",
                )
        if not math.isfinite(loss.item()):
            break  # diverged: the curve so far says so
    if not curve or curve[-1][0] != updates:
        curve.append((updates, math.inf))
    test = (
        evaluate(windows(corpus.test, config.context, None).to(device))
        if math.isfinite(curve[-1][1])
        else math.inf
    )
    run = TextRun(
        label,
        schedule,
        optimizer,
        updates,
        seed,
        curve,
        test,
        time.perf_counter() - began,
        checkpoints,
    )
    if progress is not None:
        progress.end(f"valid {run.valid:.3f}  test {run.test:.3f} bpb")
    return run


def parameters(config: GPTConfig) -> int:
    """The number of parameters of the model ``config`` describes."""
    return sum(p.numel() for p in GPT(config).parameters())
