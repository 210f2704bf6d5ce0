"""JAX/optax-facing helpers: the learning-rate range test, :func:`find_lr`.

lrkit's schedules already run under ``jax.jit`` as they are (``optax.sgd(learning_rate=s)``
with any :class:`lrkit.Schedule` ``s``); this module adds what needs JAX itself. It imports
``jax`` and ``optax``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from lrkit.find import Batches, RangeTest, restore_global_random, run, save_global_random

__all__ = ["find_lr"]


def find_lr(
    loss_fn: Callable[[Any, Any], Any],
    params: Any,
    optimizer: optax.GradientTransformation,
    batches: Iterable[Any],
    *,
    opt_state: Any = None,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exponential",
    beta: float = 0.98,
    diverge_threshold: float = 4.0,
    accumulation_steps: int = 1,
    val_batches: Iterable[Any] | None = None,
    verbose: bool | str = "auto",
) -> RangeTest:
    """Run a learning-rate range test with an optax optimizer, under ``jax.jit``.

    Each of the ``num_steps`` steps sets the optimizer's ``learning_rate`` hyperparameter to
    the sweep's rate (see :mod:`lrkit.find`), takes the gradient of ``loss_fn(params, batch)``
    on ``accumulation_steps`` batches (their mean), and applies one update; the recorded loss
    is the mean loss over those batches, or, with ``val_batches``, the mean of
    ``loss_fn(params, batch)`` over them after the update. ``batches`` is re-iterated when it
    runs out.

    ``optimizer`` must be built with ``optax.inject_hyperparams`` and a numeric rate, e.g.
    ``optax.inject_hyperparams(optax.sgd)(learning_rate=0.1, momentum=0.9)``: the rate is
    then part of the optimizer's state, and the test sets it there. The test starts from
    ``opt_state`` (default ``optimizer.init(params)``).

    Nothing the caller holds is changed: JAX arrays are immutable and no buffer is donated,
    so ``params`` and ``opt_state`` are as before, whatever happens (an early stop, an
    exception or ``KeyboardInterrupt``, re-raised); Python's and NumPy's global random
    states, which ``batches`` may draw from, are put back too.

    Returns:
        The :class:`lrkit.RangeTest`.
    """
    if not callable(loss_fn):
        raise TypeError(f"Argument `loss_fn` must be callable. Received: loss_fn={loss_fn!r}")
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            "Argument `optimizer` must be an optax GradientTransformation. "
            f"Received: optimizer={optimizer!r:.80}"
        )
    state = optimizer.init(params) if opt_state is None else opt_state
    _check_injected(state)
    source = Batches(batches, "batches")
    if val_batches is not None:
        Batches(val_batches, "val_batches")
    n = accumulation_steps
    dtype = jnp.asarray(state.hyperparams["learning_rate"]).dtype
    value_and_grad = jax.jit(jax.value_and_grad(loss_fn))
    evaluate = jax.jit(loss_fn)

    @jax.jit
    def apply(params: Any, state: Any, grads: Any, rate: Any) -> tuple[Any, Any]:
        state = state._replace(hyperparams={**state.hyperparams, "learning_rate": rate})
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    current = {"params": params, "state": state}

    def step(k: int, rate: float) -> float:
        losses, grads = [], None
        for _ in range(n):
            loss, g = value_and_grad(current["params"], next(source))
            losses.append(loss)
            grads = g if grads is None else jax.tree.map(jnp.add, grads, g)
        if n > 1:
            grads = jax.tree.map(lambda g: g / n, grads)
        current["params"], current["state"] = apply(
            current["params"], current["state"], grads, jnp.asarray(rate, dtype)
        )
        if val_batches is None:
            return float(sum(float(x) for x in losses) / n)
        values = [float(evaluate(current["params"], b)) for b in val_batches]
        return sum(values) / len(values)

    saved = save_global_random()
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
            monitor="train" if val_batches is None else "validation",
            progress=verbose,
        )
    finally:
        restore_global_random(saved)


def _check_injected(state: Any) -> None:
    hyperparams = getattr(state, "hyperparams", None)
    if not isinstance(hyperparams, dict) or "learning_rate" not in hyperparams:
        raise TypeError(
            "Argument `optimizer` must be built with optax.inject_hyperparams, so that its "
            "rate can be set, e.g. optax.inject_hyperparams(optax.sgd)(learning_rate=0.1). "
            f"Received: an optimizer whose state is {type(state).__name__}"
        )
    if "learning_rate" in getattr(state, "hyperparams_states", {}):
        raise ValueError(
            "Argument `optimizer` has a schedule as its learning_rate, which would override "
            "the sweep: build it with a number, e.g. "
            "optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)"
        )
