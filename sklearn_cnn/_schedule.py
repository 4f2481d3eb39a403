"""The learning-rate schedule of one ``fit``: skorch's ``LRScheduler``, resumable."""

from __future__ import annotations

import torch
from skorch.callbacks import LRScheduler

__all__ = ["LR_SCHEDULES", "OneCycleLR", "make_lr_scheduler", "resume_lr_schedule"]

LR_SCHEDULES = ("constant", "onecycle", "cosine")


def make_lr_scheduler(schedule: str, epochs: int, steps_per_epoch: int) -> LRScheduler | None:
    """skorch's ``LRScheduler`` for one whole ``fit`` call, or None.

    ``last_epoch=-1`` makes every ``fit`` start its schedule afresh: skorch
    would otherwise resume from the epoch count in the history, which runs a
    one-cycle schedule past its end on a warm start. A fit resumed from a
    checkpoint continues its schedule through ``resume_lr_schedule``.
    """
    if schedule == "constant":
        return None
    if schedule == "cosine":
        return LRScheduler(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR,
            T_max=epochs, last_epoch=-1, step_every="epoch",
        )
    return LRScheduler(
        policy=OneCycleLR,
        total_steps=epochs * steps_per_epoch, last_epoch=-1, step_every="batch",
    )


def resume_lr_schedule(callback: LRScheduler, history) -> None:
    """Move the scheduler of ``callback`` to where the restored ``history`` left it.

    For a fit resumed from a checkpoint (skorch's ``LoadInitState``), after
    ``on_train_begin`` built the scheduler at its start. The restored
    optimizer carries the schedule's ``initial_lr``/``max_lr``, as torch's
    schedulers require when given ``last_epoch``.
    """
    if callback.step_every == "batch":
        done = sum(history[:, "train_batch_count"])
    else:
        done = len(history)
    callback.lr_scheduler_ = callback.policy_(
        callback.lr_scheduler_.optimizer, **{**callback.kwargs, "last_epoch": done - 1})


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
