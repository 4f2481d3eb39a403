"""The learning-rate schedule of one ``fit``: skorch's ``LRScheduler``, resumable."""

from __future__ import annotations

import math

import torch
from skorch.callbacks import LoadInitState, LRScheduler

__all__ = ["LR_SCHEDULES", "FitLRScheduler", "OneCycleLR", "fit_batch_size", "fit_epochs",
           "make_lr_scheduler"]

LR_SCHEDULES = ("constant", "onecycle", "cosine")

#: ``batch_size="auto"``: a power of two near a sixteenth of the training set,
#: within these bounds, so that small sets still take enough optimizer steps
#: per epoch and large ones use the throughput of larger batches.
AUTO_BATCH_SIZES = (16, 128)
#: ``max_epochs="auto"``: epochs enough for about this many optimizer steps,
#: within these bounds (measured on the recipe panel, benchmarks/recipe.py).
AUTO_STEPS = 480
AUTO_EPOCHS = (5, 30)


def fit_batch_size(batch_size, n_train: int) -> int:
    """The ``batch_size`` parameter, with "auto" settled for ``n_train`` images.

    Examples
    --------
    >>> [fit_batch_size("auto", n) for n in (50, 600, 1347, 4000, 60000)]
    [16, 32, 64, 128, 128]
    >>> fit_batch_size(100, 4000)
    100
    """
    if batch_size != "auto":
        return batch_size
    low, high = AUTO_BATCH_SIZES
    return min(high, max(low, 2 ** math.floor(math.log2(max(n_train, 1) / 16))))


def fit_epochs(max_epochs, steps_per_epoch: int) -> int:
    """The ``max_epochs`` parameter, with "auto" settled for ``steps_per_epoch``.

    Examples
    --------
    >>> [fit_epochs("auto", steps) for steps in (4, 22, 32, 469)]
    [30, 22, 15, 5]
    """
    if max_epochs != "auto":
        return max_epochs
    low, high = AUTO_EPOCHS
    return min(high, max(low, math.ceil(AUTO_STEPS / max(steps_per_epoch, 1))))


class FitLRScheduler(LRScheduler):
    """skorch's ``LRScheduler`` for one whole ``fit``, that resumes from a checkpoint.

    ``last_epoch=-1`` makes every ``fit`` start its schedule afresh: skorch
    would otherwise resume from the epoch count in the history, which runs a
    one-cycle schedule past its end on a warm start. A fit that skorch's
    ``LoadInitState`` restored from a checkpoint (it comes first among the
    callbacks, so the history is back when this one starts) continues the
    schedule where the restored history left it instead. The restored
    optimizer carries the schedule's ``initial_lr``/``max_lr``, as torch's
    schedulers require when given ``last_epoch``.
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        restored = any(isinstance(cb, LoadInitState) for _, cb in net.callbacks_)
        if restored and len(net.history):
            if self.step_every == "batch":
                done = sum(net.history[:, "train_batch_count"])
            else:
                done = len(net.history)
            self.lr_scheduler_ = self.policy_(
                self.lr_scheduler_.optimizer, **{**self.kwargs, "last_epoch": done - 1})


def make_lr_scheduler(schedule: str, epochs: int, steps_per_epoch: int) -> LRScheduler | None:
    """The ``FitLRScheduler`` of a ``lr_schedule`` parameter, or None for "constant"."""
    if schedule == "constant":
        return None
    if schedule == "cosine":
        return FitLRScheduler(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR,
            T_max=epochs, last_epoch=-1, step_every="epoch",
        )
    return FitLRScheduler(
        policy=OneCycleLR,
        total_steps=epochs * steps_per_epoch, last_epoch=-1, step_every="batch",
    )


class OneCycleLR(torch.optim.lr_scheduler.OneCycleLR):
    """``OneCycleLR`` whose peak is the optimizer's own learning rate.

    torch's class needs ``max_lr`` up front; reading it from the optimizer
    keeps ``lr`` the one place the learning rate is set. Momentum is cycled
    only for optimizers that use it. Stepping past the
    end holds the final rate instead of raising, so a model whose loop runs a
    batch more than planned (a last partial batch) still trains.
    """

    def __init__(self, optimizer, total_steps: int, last_epoch: int = -1):
        groups = optimizer.param_groups
        max_lr = [group.get("max_lr", group["lr"]) for group in groups]
        # Cycle momentum (beta1 for Adam) where the optimizer has some to cycle.
        cycle_momentum = all(g.get("momentum", 0) > 0 or "betas" in g for g in groups)
        super().__init__(optimizer, max_lr=max_lr, total_steps=max(total_steps, 2),
                         cycle_momentum=cycle_momentum, last_epoch=last_epoch)

    def step(self, epoch=None):
        if self.last_epoch + 1 >= self.total_steps:
            return
        super().step(epoch)
