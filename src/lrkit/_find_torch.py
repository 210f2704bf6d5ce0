"""The range test for a plain PyTorch loop (also a LightningModule): :func:`find_lr`.

Exposed as ``lrkit.torch.find_lr``. The loop itself, the smoothing, the stop rule and the
result are :mod:`lrkit.find`'s; this module trains one update per step and puts everything
back afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch

from lrkit.find import Batches, RangeTest, restore_global_random, run, save_global_random

__all__ = ["find_lr"]


def find_lr(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    loader: Iterable[Any],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exponential",
    beta: float = 0.98,
    diverge_threshold: float = 4.0,
    accumulation_steps: int = 1,
    val_loader: Iterable[Any] | None = None,
    verbose: bool | str = "auto",
) -> RangeTest:
    """Run a learning-rate range test on ``model`` with ``optimizer``, then restore both.

    Each of the ``num_steps`` steps sets every parameter group's rate to the sweep's (see
    :mod:`lrkit.find`), draws ``accumulation_steps`` batches ``(inputs, targets)`` from
    ``loader`` (re-iterated when it runs out), runs ``loss_fn(model(inputs), targets)`` and
    its backward pass on each (divided by ``accumulation_steps``, as an accumulating loop
    does), and makes one ``optimizer.step()``. The recorded loss is the mean over those
    batches, or, with ``val_loader``, the mean loss over all of ``val_loader`` after the
    update (in eval mode, without gradients).

    Afterwards, whether it returns, stops early, or is interrupted by an exception or
    ``KeyboardInterrupt`` (re-raised), the parameters and their gradients, the buffers
    (BatchNorm statistics), each module's train/eval mode, the optimizer's state (slots,
    step counts) and hyperparameters (its rate included), and the global random states
    (Python, NumPy, torch CPU and CUDA) are exactly as before.

    A LightningModule is a ``torch.nn.Module``: pass it with an optimizer from its
    ``configure_optimizers()`` and a ``loss_fn`` of its outputs and targets.

    Args:
        model: the network; it is called on the inputs of each batch.
        optimizer: a ``torch.optim.Optimizer`` over (some of) ``model``'s parameters.
        loss_fn: ``loss_fn(outputs, targets)``, a scalar tensor (``torch.nn.CrossEntropyLoss()``).
        loader: an iterable of ``(inputs, targets)`` batches (a ``DataLoader``).
        start_lr, end_lr, num_steps, mode, beta, diverge_threshold, accumulation_steps: the
            sweep, the smoothing and the stop rule (:func:`lrkit.find.check_settings`).
        val_loader: optional validation batches; their mean loss is what is recorded.
        verbose: a tqdm bar (rate and smoothed loss) on a terminal (``"auto"``), always
            (``True``) or never (``False``).

    Returns:
        The :class:`lrkit.RangeTest`.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"Argument `model` must be a torch.nn.Module. Received: model={model!r}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            "Argument `optimizer` must be a torch.optim.Optimizer. "
            f"Received: optimizer={optimizer!r:.80}"
        )
    if not callable(loss_fn):
        raise TypeError(f"Argument `loss_fn` must be callable. Received: loss_fn={loss_fn!r}")
    batches = Batches(loader, "loader")
    if val_loader is not None:
        Batches(val_loader, "val_loader")  # checks that it has batches
    n = accumulation_steps

    def step(k: int, rate: float) -> float:
        for group in optimizer.param_groups:
            _set_rate(group, rate)
        model.train()
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for _ in range(n):
            inputs, targets = _pair(next(batches))
            loss = loss_fn(model(inputs), targets)
            (loss / n if n > 1 else loss).backward()  # type: ignore[no-untyped-call]
            total += float(loss.detach())
        optimizer.step()
        if val_loader is None:
            return total / n
        return _validation_loss(model, loss_fn, val_loader)

    saved = _save(model, optimizer)
    try:
        return run(
            step,
            start_lr=start_lr,
            end_lr=end_lr,
            num_steps=num_steps,
            mode=mode,
            beta=beta,
            diverge_threshold=diverge_threshold,
            accumulation_steps=accumulation_steps,
            monitor="train" if val_loader is None else "validation",
            progress=verbose,
        )
    finally:
        _restore(model, optimizer, saved)


def _pair(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, list | tuple) and len(batch) == 2:
        return batch[0], batch[1]
    raise TypeError(
        "Each batch of `loader` must be a pair (inputs, targets). "
        f"Received: a {type(batch).__name__}"
    )


def _validation_loss(
    model: torch.nn.Module, loss_fn: Callable[[Any, Any], Any], loader: Any
) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in loader:
            inputs, targets = _pair(batch)
            total += float(loss_fn(model(inputs), targets))
            count += 1
    return total / count if count else math.nan


def _set_rate(group: dict[str, Any], rate: float) -> None:
    if isinstance(group["lr"], torch.Tensor):
        group["lr"].fill_(rate)  # the same tensor: a compiled step keeps reading it
    else:
        group["lr"] = rate


# -- saving and restoring ------------------------------------------------------------------


def _clone(value: Any) -> Any:
    """A copy of a state value that shares nothing with it."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clone(v) for v in value)
    return value


def _put_back(current: Any, saved: Any) -> Any:
    """``saved``, written into ``current``'s tensors where they still fit (a compiled or
    fused optimizer step holds on to those very tensors), else the saved copy itself."""
    if (
        isinstance(current, torch.Tensor)
        and isinstance(saved, torch.Tensor)
        and current.shape == saved.shape
        and current.dtype == saved.dtype
        and current.device == saved.device
    ):
        with torch.no_grad():
            current.copy_(saved)
        return current
    return _clone(saved)


def _save(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    tensors = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved = {
        "tensors": {name: t.detach().clone() for name, t in tensors.items()},
        "grads": {
            id(p): (None if p.grad is None else p.grad.detach().clone())
            for p in (*model.parameters(), *params)
        },
        "modes": [(m, m.training) for m in model.modules()],
        # `p in`: optimizer.state is a defaultdict, and reading it must not add entries
        "state": {
            p: {k: (v, _clone(v)) for k, v in optimizer.state[p].items()}
            for p in params
            if p in optimizer.state
        },
        "groups": [
            {k: (v, _clone(v)) for k, v in g.items() if k != "params"}
            for g in optimizer.param_groups
        ],
        "opt_called": getattr(optimizer, "_opt_called", None),
        "random": save_global_random(),
        "torch_random": torch.get_rng_state(),
        "cuda_random": (
            torch.cuda.get_rng_state_all()
            if torch.cuda.is_initialized()  # type: ignore[no-untyped-call]
            else None
        ),
    }
    saved["params"] = {id(p): p for p in (*model.parameters(), *params)}
    return saved


def _restore(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, saved: dict[str, Any]
) -> None:
    current = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    with torch.no_grad():
        for name, value in saved["tensors"].items():
            current[name].copy_(value)
    for key, p in saved["params"].items():
        grad = saved["grads"][key]
        p.grad = None if grad is None else _put_back(p.grad, grad)
    for module, training in saved["modes"]:
        module.training = training
    for p, entries in saved["state"].items():
        state = optimizer.state[p]
        now = dict(state)
        state.clear()
        state.update(
            {k: _put_back(now.get(k, original), copy) for k, (original, copy) in entries.items()}
        )
    for p in list(optimizer.state):
        if p not in saved["state"]:
            del optimizer.state[p]  # state the test created: the optimizer had none
    for group, entries in zip(optimizer.param_groups, saved["groups"], strict=True):
        for k in [k for k in group if k != "params" and k not in entries]:
            del group[k]
        for k, (original, copy) in entries.items():
            group[k] = _put_back(original, copy) if isinstance(original, torch.Tensor) else copy
    if saved["opt_called"] is None:
        if hasattr(optimizer, "_opt_called"):
            del optimizer._opt_called
    else:
        optimizer._opt_called = saved["opt_called"]  # type: ignore[attr-defined]
    restore_global_random(saved["random"])
    torch.set_rng_state(saved["torch_random"])
    if saved["cuda_random"] is not None:
        torch.cuda.set_rng_state_all(saved["cuda_random"])
