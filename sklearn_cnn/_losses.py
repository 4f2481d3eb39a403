"""Losses by name: the criterion class and the keyword arguments skorch builds it with."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["LOSSES", "OneHotMSELoss", "make_criterion"]

LOSSES = ("cross_entropy", "mse")


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
