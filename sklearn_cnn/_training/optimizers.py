"""Optimizers by name: the class and the keyword arguments skorch builds it with."""

from __future__ import annotations

import inspect

import torch

__all__ = ["AUTO_LR", "OPTIMIZERS", "make_optimizer", "settle_lr"]

OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
}
#: Learning rate used by ``lr="auto"``: each optimizer's usual starting point.
AUTO_LR = {"sgd": 0.05, "adam": 5e-3, "adamw": 5e-3, "rmsprop": 1e-3}
AUTO_LR_OTHER = 1e-3


def settle_lr(optimizer, lr) -> float:
    """The learning rate of the ``lr`` parameter: "auto" is ``optimizer``'s own."""
    if lr != "auto":
        return float(lr)
    return AUTO_LR[optimizer] if isinstance(optimizer, str) else AUTO_LR_OTHER


def make_optimizer(optimizer, lr, momentum: float, weight_decay: float,
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
    cls = OPTIMIZERS[optimizer] if isinstance(optimizer, str) else optimizer
    kwargs = {"lr": settle_lr(optimizer, lr)}
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
