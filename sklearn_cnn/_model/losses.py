"""Losses by name: the criterion class and the keyword arguments skorch builds it with."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._names import stable_name

__all__ = ["LOSSES", "IndicatorBCELoss", "IndicatorMSELoss", "OneHotMSELoss", "make_criterion",
           "weighted_loss"]

LOSSES = ("cross_entropy", "mse")


@stable_name()
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
    reduction : {"mean", "none"}, default="mean"
        The (class-weighted) mean over samples, or each sample's loss times
        its class weight, as in ``nn.CrossEntropyLoss``.
    """

    def __init__(self, weight: torch.Tensor | None = None, label_smoothing: float = 0.0,
                 reduction: str = "mean"):
        super().__init__()
        self.register_buffer("weight", weight)
        self.label_smoothing = label_smoothing
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        n_classes = logits.shape[1]
        onehot = F.one_hot(target, n_classes).to(logits.dtype)
        onehot = onehot * (1 - self.label_smoothing) + self.label_smoothing / n_classes
        per_sample = (logits.softmax(dim=1) - onehot).pow(2).mean(dim=1)
        if self.weight is None:
            return per_sample if self.reduction == "none" else per_sample.mean()
        w = self.weight[target]
        if self.reduction == "none":
            return w * per_sample
        return (w * per_sample).sum() / w.sum()


def smooth_indicators(target: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    """0/1 targets moved towards 0.5: each label's two outcomes get ``label_smoothing / 2``.

    Label smoothing of a two-class cross-entropy, label by label, as Keras'
    ``BinaryCrossentropy(label_smoothing=...)`` does it.
    """
    return target * (1 - label_smoothing) + label_smoothing / 2


class SmoothedIndicators:
    """The part the multilabel losses share: ``label_smoothing`` of 0/1 targets.

    Mixed into a torch loss that takes ``reduction``.

    Parameters
    ----------
    label_smoothing : float, default=0.0
        Each 0/1 target becomes ``label_smoothing / 2`` or
        ``1 - label_smoothing / 2`` (``smooth_indicators``).
    reduction : {"mean", "sum", "none"}, default="mean"
        As in the torch loss ("none": one loss per sample and label).
    """

    def __init__(self, label_smoothing: float = 0.0, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.label_smoothing = label_smoothing

    def smoothed(self, target: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """``target`` in ``dtype``, smoothed."""
        return smooth_indicators(target.to(dtype), self.label_smoothing)


@stable_name()
class IndicatorBCELoss(SmoothedIndicators, nn.BCEWithLogitsLoss):
    """Binary cross-entropy on logits of a 0/1 indicator matrix (multilabel targets).

    ``nn.BCEWithLogitsLoss`` with ``label_smoothing`` and targets of any
    dtype: the loss of scikit-learn's ``MLPClassifier`` on multilabel
    targets. Parameters: those of ``SmoothedIndicators``.
    """

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return super().forward(logits, self.smoothed(target, logits.dtype))


@stable_name()
class IndicatorMSELoss(SmoothedIndicators, nn.MSELoss):
    """Mean squared error between sigmoid probabilities and a 0/1 indicator matrix.

    ``loss="mse"`` for multilabel targets, as ``OneHotMSELoss`` is for
    classes. Parameters: those of ``SmoothedIndicators``.
    """

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return super().forward(logits.sigmoid(), self.smoothed(target, logits.dtype))


#: The criterion of each loss name for multilabel (0/1 indicator) targets.
INDICATOR_LOSSES = {"cross_entropy": IndicatorBCELoss, "mse": IndicatorMSELoss}


def make_criterion(loss: str, class_weight: np.ndarray | None, label_smoothing: float,
                   multilabel: bool = False):
    """The criterion class and its keyword arguments for skorch.

    ``multilabel``: the targets are a 0/1 indicator matrix, which takes no
    class weights (as in ``MLPClassifier``).
    """
    if multilabel:
        return INDICATOR_LOSSES[loss], {"label_smoothing": float(label_smoothing)}
    weight = None if class_weight is None else torch.as_tensor(class_weight, dtype=torch.float32)
    cls = nn.CrossEntropyLoss if loss == "cross_entropy" else OneHotMSELoss
    return cls, {"weight": weight, "label_smoothing": float(label_smoothing)}


def weighted_loss(criterion: nn.Module, y_pred: torch.Tensor, y_true: torch.Tensor,
                  sample_weight: torch.Tensor) -> torch.Tensor:
    """The loss of a batch with each sample's loss weighted, as scikit-learn weighs it.

    The weighted mean ``sum(w_i * l_i) / sum(w_i * c_i)``, with ``c_i`` the
    class weight of sample ``i`` (1 without class weights), as
    ``MLPClassifier`` and ``SGDClassifier`` average their losses: with
    all-equal ``sample_weight`` it is the criterion's own mean, and scaling
    the weights changes nothing. A batch whose weights are all zero has loss
    zero (and no gradient).

    Parameters
    ----------
    criterion : nn.Module
        A loss with a ``reduction`` attribute ("mean" or "none"), such as
        ``nn.CrossEntropyLoss``, ``nn.BCEWithLogitsLoss`` or ``OneHotMSELoss``;
        it is evaluated per sample (``reduction="none"``).
    y_pred : Tensor of shape (n, ...)
        The network's outputs.
    y_true : Tensor of shape (n, ...)
        The targets.
    sample_weight : Tensor of shape (n,)
        Non-negative weight of each sample.

    Returns
    -------
    loss : Tensor
        A scalar.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_cnn._model.losses import weighted_loss
    >>> logits, target = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    >>> same = weighted_loss(nn.CrossEntropyLoss(), logits, target, torch.full((4,), 2.0))
    >>> bool(torch.isclose(same, nn.CrossEntropyLoss()(logits, target)))
    True
    """
    if getattr(criterion, "reduction", None) not in ("mean", "none"):
        raise TypeError(
            f"sample_weight needs a criterion that computes each sample's loss "
            f"(a `reduction` attribute that can be 'none'); {type(criterion).__name__} "
            "has none. Use one of torch.nn's losses, or fit without sample_weight."
        )
    reduction, criterion.reduction = criterion.reduction, "none"
    try:
        per_sample = criterion(y_pred, y_true)
    finally:
        criterion.reduction = reduction
    if per_sample.dim() > 1:  # e.g. one loss per label: the sample's mean
        per_sample = per_sample.flatten(1).mean(dim=1)
    sample_weight = sample_weight.to(per_sample.dtype)
    denominator = sample_weight
    class_weight = getattr(criterion, "weight", None)
    if class_weight is not None and y_true.dim() == 1 and not y_true.is_floating_point():
        denominator = sample_weight * class_weight[y_true]  # per_sample already has it
    total = denominator.sum()
    return (sample_weight * per_sample).sum() / torch.where(total > 0, total, 1.0)
