"""Mini-batches of in-memory tensors for skorch: shuffle by index, slice.

skorch's default iterator is a ``DataLoader``, which fetches every sample on
its own and collates them into a batch: right for files decoded one by one,
wasted work for a tensor already in memory (or on the GPU). ``TensorBatches``
takes skorch's place as ``iterator_train``/``iterator_valid`` and slices the
tensors directly; any other dataset still goes through a ``DataLoader``.
Weighted training data is skorch's dict input, ``{"X": images,
"sample_weight": weights}``, sliced key by key.

In a fit over several processes (``_training.data_parallel``), each
process iterates over its share only (:meth:`TensorBatches.shard`), and
reads only its share of image files.
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
        self.world, self.training = None, False
        self.global_size = None

    def shard(self, rank: int, size: int, *, training: bool) -> TensorBatches:
        """Iterate over the share of process ``rank`` of ``size`` only.

        Training (``training=True``): the ``batch_size`` images of each
        batch of the order all processes draw alike (the same ``generator``
        seed) are dealt out in turn, process ``r`` taking images ``r, r +
        size, ...`` of it; an epoch's last batch too small to give each
        process one image is completed with the first images of the order.
        Every process thus takes the same number of steps, and the images of
        a step are ``batch_size`` in all, as on one process:
        ``global_size`` is that count for the batch last yielded.
        Evaluation: images ``r, r + size, ...`` of the data, in batches
        of ``batch_size``.

        Returns
        -------
        self : TensorBatches
        """
        self.world, self.training = (rank, size), training
        return self

    def __len__(self) -> int:
        if self.world is not None and not self.training:
            rank, size = self.world
            return math.ceil(len(range(rank, self.n, size)) / self.batch_size)
        return math.ceil(self.n / self.batch_size)

    def _plan(self, device) -> list:
        """This process's batches of one epoch (index tensors), and ``global_size`` of each.

        The order drawn once per epoch (shuffled or not), cut into batches,
        then this process's share of each (:meth:`shard`).
        """
        if not self.shuffle:
            order = torch.arange(self.n, device=device)
        elif self.generator is not None and self.generator.device != torch.device(device):
            # A fit over several processes shuffles alike everywhere from a CPU generator.
            order = torch.randperm(self.n, generator=self.generator).to(device)
        else:
            order = torch.randperm(self.n, generator=self.generator, device=device)
        if self.world is None:
            return [(order[s:s + self.batch_size], None) for s in range(0, self.n, self.batch_size)]
        rank, size = self.world
        if not self.training:
            mine = order[rank::size]
            return [(mine[s:s + self.batch_size], None)
                    for s in range(0, len(mine), self.batch_size)]
        short = self.n % self.batch_size
        if 0 < short < size:  # too few images in the last batch for every process
            order = torch.cat([order, order[:size - short]])
        return [(order[s:s + self.batch_size][rank::size], len(order[s:s + self.batch_size]))
                for s in range(0, len(order), self.batch_size)]

    def __iter__(self):
        if self.tensors is None:
            loader, plan = self._loader(), self._plan("cpu")
            loader.batch_sampler.batches = [batch.tolist() for batch, _ in plan]
            for batch, (_, size) in zip(loader, plan, strict=True):
                self.global_size = size
                yield batch
            return
        X, y, indices, device = self.tensors
        if not self.shuffle and self.world is None and indices is None:
            plan = [(slice(s, s + self.batch_size), None)  # views, not copies
                    for s in range(0, self.n, self.batch_size)]
        else:
            plan = self._plan(device)
            if indices is not None:
                plan = [(indices[batch], size) for batch, size in plan]
        for batch, size in plan:
            self.global_size = size
            yield _take(X, batch), (y[batch] if y is not None else None)

    def _loader(self) -> DataLoader:
        """The ``DataLoader`` of the dataset, in an order drawn here, once per epoch.

        Built on the first epoch and kept, with its workers if any
        (``persistent_workers``), for the iterator's life: skorch's
        ``fit_loop`` builds one iterator per fit and dataset. Its batch
        sampler gives the batches of :meth:`_plan`: in a fit over several
        processes, only this process's share of the files is read. Not the ``DataLoader``'s own
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
                self.dataset, batch_sampler=_Batches(),
                generator=torch.Generator().manual_seed(seed),
                persistent_workers=workers, **self.loader_kwargs)
        return self.loader


class _Batches(Sampler):
    """The batches of indices the iterator sets for each epoch (its :meth:`_plan`)."""

    def __init__(self) -> None:
        self.batches = []

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        return iter(self.batches)
