"""The seed's five schedules twice: as the seed wrote them, and with lrkit (one line each).

Shared by the examples (``keras_seed.py`` trains with them, ``seed_chart.py`` draws them).
``SCHEDULES`` maps the seed's section titles to ``(lrkit schedule, the seed's function)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import lrkit

# -- the seed's functions, as the seed wrote them (with its parameters) -----------------------


def seed_constant(epoch):
    start_lr = 0.001
    return start_lr


def seed_time_based_decay(epoch):
    start_lr = 0.001
    decay = 0.1
    previous_lr = 1

    def lr(epoch, start_lr, decay):
        nonlocal previous_lr
        previous_lr *= start_lr / (1.0 + decay * epoch)
        return previous_lr

    return lr(epoch, start_lr, decay)


def seed_exponential_decay(epoch):
    start_lr = 0.001
    exp_decay = 0.1

    def lr(epoch, start_lr, exp_decay):
        return start_lr * math.exp(-exp_decay * epoch)

    return lr(epoch, start_lr, exp_decay)


def seed_constant_then_exponential_decay(epoch):
    start_lr = 0.001
    rampup_epochs = 10
    exp_decay = 0.1

    def lr(epoch, start_lr, rampup_epochs, exp_decay):
        if epoch < rampup_epochs:
            return start_lr
        else:
            return start_lr * math.exp(-exp_decay * epoch)

    return lr(epoch, start_lr, rampup_epochs, exp_decay)


def seed_one_cycle(epoch):
    start_lr = 0.0001
    min_lr = 0.00001
    max_lr = 0.001
    rampup_epochs = 10
    sustain_epochs = 0
    exp_decay = 0.8

    def lr(epoch, start_lr, min_lr, max_lr, rampup_epochs, sustain_epochs, exp_decay):
        if epoch < rampup_epochs:
            lr = (max_lr - start_lr) / rampup_epochs * epoch + start_lr
        elif epoch < rampup_epochs + sustain_epochs:
            lr = max_lr
        else:
            lr = (max_lr - min_lr) * exp_decay ** (epoch - rampup_epochs - sustain_epochs) + min_lr
        return lr

    return lr(epoch, start_lr, min_lr, max_lr, rampup_epochs, sustain_epochs, exp_decay)


# -- the same five with lrkit: one line each ----------------------------------------------------

SCHEDULES: dict[str, tuple[lrkit.Schedule, Callable[[int], float]]] = {
    "Constant": (lrkit.constant(start_lr=0.001), seed_constant),
    "Time-based decay": (
        lrkit.time_based_decay(start_lr=0.001, decay=0.1),
        seed_time_based_decay,
    ),
    "Exponential decay": (
        lrkit.exponential_decay(start_lr=0.001, exp_decay=0.1),
        seed_exponential_decay,
    ),
    "Constant then exponential decay": (
        lrkit.constant_then_exponential_decay(start_lr=0.001, rampup_epochs=10, exp_decay=0.1),
        seed_constant_then_exponential_decay,
    ),
    "One cycle": (
        lrkit.one_cycle(
            start_lr=0.0001,
            min_lr=0.00001,
            max_lr=0.001,
            rampup_epochs=10,
            sustain_epochs=0,
            exp_decay=0.8,
        ),
        seed_one_cycle,
    ),
}
