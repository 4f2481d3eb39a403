"""The learning-rate schedule of one ``fit`` (skorch's ``LRScheduler``, resumable),
and the rate each epoch records.
"""

from __future__ import annotations

import torch
from skorch.callbacks import Callback, LoadInitState, LRScheduler

from ..._names import stable_name

__all__ = ['LR_SCHEDULES', 'EpochLR', 'FitLRScheduler', 'OneCycleLR', 'make_lr_scheduler']


#: Where skorch's ``LRScheduler`` records the learning rate; ``PrintLog``
#: shows ``event_*`` keys without their prefix, next to ``dur``.
LR_KEY = "event_lr"


@stable_name()
class EpochLR(Callback):
    """Record each epoch's learning rate as ``event_lr``, where no scheduler did.

    skorch's ``LRScheduler`` records it for schedules stepped every epoch;
    for one stepped every batch (one-cycle) this takes the rate of the
    epoch's last training batch, and with no schedule the optimizer's
    (of its first parameter group, as skorch does).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, lr=0.01, lr_schedule="constant", random_state=0,
    ...                     callbacks=[EpochLR()]).fit(X[:200], y[:200])
    >>> clf.history_[:, "event_lr"]
    [0.01, 0.01]
    """

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if LR_KEY in row:
            return
        stepped = [batch[LR_KEY] for batch in row["batches"] if LR_KEY in batch]
        lr = stepped[-1] if stepped else net.optimizer_.param_groups[0]["lr"]
        net.history.record(LR_KEY, float(lr))


LR_SCHEDULES = ("constant", "onecycle", "cosine")


@stable_name()
class FitLRScheduler(LRScheduler):
    """skorch's ``LRScheduler`` for one whole ``fit``, that resumes from a checkpoint.

    ``last_epoch=-1`` makes every ``fit`` start its schedule afresh: skorch
    would otherwise resume from the epoch count in the history, which runs a
    one-cycle schedule past its end on a warm start. A fit restored from a
    checkpoint (the net's own, ``restored_``, or skorch's ``LoadInitState``,
    which comes first among the callbacks: either way the history is back
    when this one starts) continues the schedule where the restored history
    left it instead. The restored
    optimizer carries the schedule's ``initial_lr``/``max_lr``, as torch's
    schedulers require when given ``last_epoch``.
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        restored = getattr(net, "restored_", False) or any(
            isinstance(cb, LoadInitState) for _, cb in net.callbacks_)
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


@stable_name()
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
