"""The stratified hold-out of ``validation_fraction``, as skorch's ``train_split``."""

from __future__ import annotations

import math

import numpy as np
from skorch.dataset import ValidSplit

from .._data.sample_weights import split_weighted
from .._names import stable_name

__all__ = ["HoldoutSplit"]


@stable_name()
class HoldoutSplit:
    """A stratified hold-out for skorch's ``train_split``.

    skorch's ``ValidSplit(fraction, stratified=True)`` (not stratified for
    multilabel targets, a 2-D indicator ``y``) with two fallbacks that keep
    tiny data sets trainable: no stratification when a class has a
    single sample or the hold-out is smaller than the number of classes, and
    no hold-out at all when fewer than two samples would remain for training.

    Parameters
    ----------
    fraction : float
        Share of the samples held out, in (0, 1).
    random_state : int or None
        Seed of the split.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn._training.holdout import HoldoutSplit
    >>> train, valid = HoldoutSplit(0.25, random_state=0).indices(np.repeat([0, 1], 4))
    >>> len(train), len(valid)
    (6, 2)
    """

    def __init__(self, fraction: float, random_state: int | None):
        self.fraction = fraction
        self.random_state = random_state

    def n_valid(self, n: int) -> int:
        """How many of ``n`` samples are held out (0: too few to hold any out)."""
        # ValidSplit's ShuffleSplit holds out ceil(fraction * n) samples too.
        n_valid = math.ceil(self.fraction * n)
        return 0 if n - n_valid < 2 or n_valid < 1 else n_valid

    def _split(self, y: np.ndarray) -> ValidSplit | None:
        """skorch's split for ``y``, stratified where it can be; None: no hold-out."""
        n_valid = self.n_valid(len(y))
        if n_valid == 0:
            return None
        if y.ndim > 1:  # an indicator matrix (multilabel): not stratified, as in MLPClassifier
            return ValidSplit(self.fraction, stratified=False, random_state=self.random_state)
        classes, counts = np.unique(y, return_counts=True)
        stratified = counts.min() >= 2 and min(n_valid, len(y) - n_valid) >= len(classes)
        return ValidSplit(self.fraction, stratified=bool(stratified),
                          random_state=self.random_state)

    def indices(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Train and validation indices into ``y``."""
        idx = np.arange(len(y))
        split = self._split(y)
        if split is None:
            return idx, idx[:0]
        train, valid = split(idx, y)
        return train.indices, valid.indices

    def __call__(self, dataset, y=None, groups=None):
        split = self._split(np.asarray(y))
        if split is None:
            return dataset, None
        train, valid = split(dataset, y, groups=groups)
        weights = _sample_weight(dataset)
        if weights is not None and not weights[valid.indices].any():
            # The weighted validation loss would be 0/0 (SGDClassifier says so too).
            raise ValueError(
                "The sample weights of the validation hold-out are all zero; use "
                "another random_state or a larger validation_fraction, or set "
                "validation_fraction=0."
            )
        return train, valid


def _sample_weight(dataset):
    """The sample weights a skorch dataset carries (``_data.sample_weights``), or None."""
    X = getattr(dataset, "X", None)
    weights = split_weighted(X)[1] if isinstance(X, dict) else getattr(
        dataset, "sample_weight", None)
    if weights is None:
        return None
    return weights.cpu().numpy() if hasattr(weights, "cpu") else np.asarray(weights)
