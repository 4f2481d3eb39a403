"""The stratified hold-out of ``validation_fraction``, as skorch's ``train_split``."""

from __future__ import annotations

import math

import numpy as np
from sklearn.model_selection import train_test_split
from torch.utils.data import Subset

__all__ = ["HoldoutSplit"]


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
