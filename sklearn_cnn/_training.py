"""The pieces of a training run that skorch takes as arguments.

Each function turns one plain ``CNNClassifier`` parameter into what skorch
expects: an optimizer class and its arguments, a criterion, a learning-rate
scheduler callback, a ``train_split``. The classifier assembles them; skorch
runs the loop.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from skorch.callbacks import LRScheduler
from torch import nn
from torch.nn import functional as F
from torch.utils.data import Subset

__all__ = [
    "OPTIMIZERS",
    "HoldoutSplit",
    "OneHotMSELoss",
    "make_criterion",
    "make_lr_scheduler",
    "resolve_optimizer",
]

OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
}
#: Learning rate used by ``lr="auto"``: each optimizer's usual starting point.
AUTO_LR = {"sgd": 0.05, "adam": 5e-3, "adamw": 5e-3, "rmsprop": 1e-3}
AUTO_LR_OTHER = 1e-3
LOSSES = ("cross_entropy", "mse")
LR_SCHEDULES = ("constant", "onecycle", "cosine")


def resolve_optimizer(optimizer, lr, momentum: float, weight_decay: float,
                      device_type: str = "cpu"):
    """The optimizer class and the keyword arguments to build it with.

    Parameters
    ----------
    optimizer : str or subclass of torch.optim.Optimizer
        A key of ``OPTIMIZERS`` or an optimizer class.
    lr : float or "auto"
        Learning rate; "auto" picks ``AUTO_LR[optimizer]``.
    momentum : float
        Passed to optimizers that take a ``momentum`` argument.
    weight_decay : float
        Passed to every optimizer that takes it.
    device_type : str, default="cpu"
        Where the parameters live: the named optimizers use their fused
        implementation on the CPU and CUDA (one kernel for all parameters,
        same results as the per-parameter loop up to rounding).

    Returns
    -------
    optimizer_cls : type
    kwargs : dict
        ``lr`` and whichever of ``momentum`` / ``weight_decay`` it accepts.
    """
    if isinstance(optimizer, str):
        cls = OPTIMIZERS[optimizer]
        auto_lr = AUTO_LR[optimizer]
    else:
        cls, auto_lr = optimizer, AUTO_LR_OTHER
    kwargs = {"lr": auto_lr if lr == "auto" else float(lr)}
    accepted = inspect.signature(cls).parameters
    if "momentum" in accepted:
        kwargs["momentum"] = momentum
    if "weight_decay" in accepted:
        kwargs["weight_decay"] = weight_decay
    if cls is torch.optim.SGD and momentum > 0:
        kwargs["nesterov"] = True
    if isinstance(optimizer, str) and "fused" in accepted and device_type in ("cpu", "cuda"):
        kwargs["fused"] = True
    return cls, kwargs


class OneHotMSELoss(nn.Module):
    """Mean squared error between softmax probabilities and one-hot targets.

    The Keras ``loss="mse"`` of a softmax classifier, on logits and integer
    targets like ``nn.CrossEntropyLoss``, with the same ``weight`` and
    ``label_smoothing`` arguments.

    Parameters
    ----------
    weight : Tensor of shape (n_classes,), default=None
        Weight of each class; the loss is the weighted mean over samples.
    label_smoothing : float, default=0.0
        Mass moved from the true class to all classes, as in
        ``nn.CrossEntropyLoss``.
    """

    def __init__(self, weight: torch.Tensor | None = None, label_smoothing: float = 0.0):
        super().__init__()
        self.register_buffer("weight", weight)
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        n_classes = logits.shape[1]
        onehot = F.one_hot(target, n_classes).to(logits.dtype)
        onehot = onehot * (1 - self.label_smoothing) + self.label_smoothing / n_classes
        per_sample = (logits.softmax(dim=1) - onehot).pow(2).mean(dim=1)
        if self.weight is None:
            return per_sample.mean()
        w = self.weight[target]
        return (w * per_sample).sum() / w.sum()


def make_criterion(loss: str, class_weight: np.ndarray | None, label_smoothing: float):
    """The criterion class and its keyword arguments for skorch."""
    weight = None if class_weight is None else torch.as_tensor(class_weight, dtype=torch.float32)
    cls = nn.CrossEntropyLoss if loss == "cross_entropy" else OneHotMSELoss
    return cls, {"weight": weight, "label_smoothing": float(label_smoothing)}


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


class HoldoutSplit:
    """A stratified hold-out for skorch's ``train_split``.

    scikit-learn's ``train_test_split`` with two fallbacks that keep tiny
    data sets trainable: no stratification when a class has a single sample
    or the hold-out is smaller than the number of classes, and no hold-out at
    all when fewer than two samples would remain for training.

    Parameters
    ----------
    fraction : float
        Share of the samples held out, in (0, 1).
    random_state : int or None
        Seed of the split.
    """

    def __init__(self, fraction: float, random_state: int | None):
        self.fraction = fraction
        self.random_state = random_state

    def n_valid(self, n: int) -> int:
        """How many of ``n`` samples are held out (0: too few to hold any out)."""
        n_valid = math.ceil(self.fraction * n)
        return 0 if n - n_valid < 2 or n_valid < 1 else n_valid

    def indices(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Train and validation indices into ``y``."""
        idx = np.arange(len(y))
        n_valid = self.n_valid(len(y))
        if n_valid == 0:
            return idx, idx[:0]
        classes, counts = np.unique(y, return_counts=True)
        stratify = (
            y if counts.min() >= 2 and min(n_valid, len(y) - n_valid) >= len(classes) else None
        )
        return train_test_split(
            idx, test_size=n_valid, stratify=stratify, random_state=self.random_state
        )

    def __call__(self, dataset, y=None, groups=None):
        train_idx, valid_idx = self.indices(np.asarray(y))
        if len(valid_idx) == 0:
            return dataset, None
        return Subset(dataset, train_idx), Subset(dataset, valid_idx)
