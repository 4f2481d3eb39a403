"""Mini-batches of in-memory tensors for skorch: shuffle by index, slice.

skorch's default iterator is a ``DataLoader``, which fetches every sample on
its own and collates them into a batch: right for files decoded one by one,
wasted work for a tensor already in memory (or on the GPU). ``TensorBatches``
takes skorch's place as ``iterator_train``/``iterator_valid`` and slices the
tensors directly; any other dataset still goes through a ``DataLoader``.
Weighted training data is skorch's dict input, ``{"X": images,
"sample_weight": weights}``, sliced key by key.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, Sampler, Subset

from .._names import stable_name

__all__ = ["TensorBatches"]


def _first_tensor(X) -> torch.Tensor | None:
    """``X`` itself, or the first value of a dict of tensors; None for anything else."""
    if isinstance(X, dict) and X and all(isinstance(v, torch.Tensor) for v in X.values()):
        return next(iter(X.values()))
    return X if isinstance(X, torch.Tensor) else None


def _take(X, batch):
    """Rows ``batch`` of a tensor, or of every tensor of a dict."""
    if isinstance(X, dict):
        return {key: value[batch] for key, value in X.items()}
    return X[batch]


def _tensors(dataset) -> tuple | None:
    """``(X, y, indices, device)`` behind a skorch Dataset of tensors (or a Subset of one).

    ``X`` is a tensor or a dict of tensors (skorch's dict input).
    """
    indices = None
    if isinstance(dataset, Subset):
        indices = torch.as_tensor(np.asarray(dataset.indices), dtype=torch.long)
        dataset = dataset.dataset
    first = _first_tensor(dataset.X) if isinstance(dataset, Dataset) else None
    if first is None:
        return None
    y = torch.as_tensor(dataset.y, device=first.device) if dataset.y is not None else None
    if indices is not None:
        indices = indices.to(first.device)
    return dataset.X, y, indices, first.device


@stable_name()
class TensorBatches:
    """Iterate over ``(X, y)`` batches of a skorch dataset held in tensors.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset, torch Subset of one, or any Dataset
        Tensor-backed datasets are sliced; others go to a ``DataLoader``.
    batch_size : int
        Samples per batch (the last may be smaller).
    shuffle : bool, default=False
        Draw a new order every iteration, on the data's device (no copy of
        the order to the GPU).
    generator : torch.Generator, default=None
        The generator of the shuffles, on the data's device (the fit's own:
        ``sklearn_cnn._training.randomness``); None: torch's global generator there.
    **kwargs
        Passed to the ``DataLoader`` of the fallback (``num_workers``,
        ``pin_memory``: ``sklearn_cnn._data.workers``).
    """

    def __init__(self, dataset, batch_size: int, shuffle: bool = False,
                 generator: torch.Generator | None = None, **kwargs) -> None:
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.tensors = _tensors(dataset)
        self.dataset = dataset
        self.loader_kwargs = kwargs
        self.loader = None
        self.n = len(dataset)

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        if self.tensors is None:
            yield from self._loader()
            return
        X, y, indices, device = self.tensors
        if self.shuffle:
            order = torch.randperm(self.n, device=device, generator=self.generator)
            indices = order if indices is None else indices[order]
        for start in range(0, self.n, self.batch_size):
            if indices is None:
                batch = slice(start, start + self.batch_size)
            else:
                batch = indices[start:start + self.batch_size]
            yield _take(X, batch), (y[batch] if y is not None else None)

    def _loader(self) -> DataLoader:
        """The ``DataLoader`` of the dataset, in an order drawn here, once per epoch.

        Built on the first epoch and kept, with its workers if any
        (``persistent_workers``), for the iterator's life: skorch's
        ``fit_loop`` builds one iterator per fit and dataset. Not the ``DataLoader``'s own
        shuffling, which would make the model depend on the number of
        workers: its sampler draws a second, empty permutation when it runs
        out, which workers reach batches ahead of the training, between other
        draws (augmentation) from ``generator``; and it draws its workers'
        seed once per epoch without persistent workers, once in all with.
        Here ``generator`` gives one seed, for the ``DataLoader``'s own
        generator, and one order per epoch, at any number of workers.
        """
        if self.loader is None:
            seed = int(torch.randint(2**62, (), generator=self.generator))
            workers = self.loader_kwargs.get("num_workers", 0) > 0
            self.loader = DataLoader(
                self.dataset, batch_size=self.batch_size, sampler=_Order(self.n),
                generator=torch.Generator().manual_seed(seed),
                persistent_workers=workers, **self.loader_kwargs)
        if self.shuffle:
            self.loader.sampler.order = torch.randperm(self.n, generator=self.generator).tolist()
        return self.loader


class _Order(Sampler):
    """The indices of ``order``, which the iterator sets for each epoch (default: in turn)."""

    def __init__(self, n: int) -> None:
        self.order = range(n)

    def __len__(self) -> int:
        return len(self.order)

    def __iter__(self):
        return iter(self.order)
