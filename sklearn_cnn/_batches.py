"""Mini-batches of in-memory tensors for skorch: shuffle by index, slice.

skorch's default iterator is a ``DataLoader``, which fetches every sample on
its own and collates them into a batch: right for files decoded one by one,
wasted work for a tensor already in memory (or on the GPU). ``TensorBatches``
takes skorch's place as ``iterator_train``/``iterator_valid`` and slices the
tensors directly; any other dataset still goes through a ``DataLoader``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, Subset

__all__ = ["TensorBatches"]


def _tensors(dataset) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None] | None:
    """``(X, y, indices)`` behind a skorch Dataset of tensors (or a Subset of one)."""
    indices = None
    if isinstance(dataset, Subset):
        indices = torch.as_tensor(np.asarray(dataset.indices), dtype=torch.long)
        dataset = dataset.dataset
    if not (isinstance(dataset, Dataset) and isinstance(dataset.X, torch.Tensor)):
        return None
    X = dataset.X
    y = torch.as_tensor(dataset.y, device=X.device) if dataset.y is not None else None
    if indices is not None:
        indices = indices.to(X.device)
    return X, y, indices


class TensorBatches:
    """Iterate over ``(X, y)`` batches of a skorch dataset held in tensors.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset, torch Subset of one, or any Dataset
        Tensor-backed datasets are sliced; others go to a ``DataLoader``.
    batch_size : int
        Samples per batch (the last may be smaller).
    shuffle : bool, default=False
        Draw a new order every iteration, from torch's generator of the
        data's device (no copy of the order to the GPU).
    **kwargs
        Passed to the ``DataLoader`` of the fallback.
    """

    def __init__(self, dataset, batch_size: int, shuffle: bool = False, **kwargs) -> None:
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.tensors = _tensors(dataset)
        self.fallback = (
            DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, **kwargs)
            if self.tensors is None else None
        )
        self.n = len(dataset)

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        if self.fallback is not None:
            yield from self.fallback
            return
        X, y, indices = self.tensors
        if self.shuffle:
            order = torch.randperm(self.n, device=X.device)
            indices = order if indices is None else indices[order]
        for start in range(0, self.n, self.batch_size):
            if indices is None:
                batch = slice(start, start + self.batch_size)
            else:
                batch = indices[start:start + self.batch_size]
            yield X[batch], (y[batch] if y is not None else None)
