"""Compatibility constructors: the lrkit schedule equal to a peer library's schedule.

One module per peer, with the peer's own names, arguments and defaults, so migrating is a
one-line change. Each constructor returns a plain lrkit schedule (a config, a text form, every
framework), except PyTorch's, which return a plan that ``lrkit.torch.LRScheduler`` binds to
each parameter group's initial rate (``plan.bind(rate)`` is the schedule). None of these
modules imports the peer:

- :mod:`lrkit.compat.torch`: every ``torch.optim.lr_scheduler`` class (``LambdaLR``, ...,
  ``OneCycleLR``, ``ChainedScheduler``) and ``SWALR``, with their momentum;
- :mod:`lrkit.compat.keras`: ``keras.optimizers.schedules`` classes;
- :mod:`lrkit.compat.optax`: ``optax.schedules`` functions;
- :mod:`lrkit.compat.transformers`: Hugging Face ``get_scheduler`` types.

Where a peer's behaviour is surprising (PyTorch's cosine rising after ``T_max``), it is
reproduced by default and the docstring says so. Past the end of a schedule lrkit holds the
final value where a peer would raise (``OneCycleLR``).

>>> from lrkit.compat import keras as ck
>>> s = ck.CosineDecay(initial_learning_rate=0.1, decay_steps=100, alpha=0.1)
>>> s(0), round(s(100), 12)
(0.1, 0.01)
"""

from lrkit.compat import keras, optax, torch, transformers

__all__ = ["keras", "optax", "torch", "transformers"]
