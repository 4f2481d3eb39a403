"""Image files decoded for DataLoaders and their workers, for training and prediction.

Image files are decoded (Pillow) and resized (torchvision) on the host. With
``num_workers`` > 0 a ``torch.utils.data.DataLoader`` does that in worker
processes while the main process trains or predicts on the batches already
decoded; on CUDA the batches come in pinned memory, so that their copy to
the GPU (``non_blocking=True``) overlaps the host's work. Training iterates
an :class:`ImageFileDataset` (one file per item, a DataLoader batch's files
decoded together), prediction :class:`FileBatches` (one batch per item).

``num_workers="auto"`` follows ``benchmarks/files.py`` (its measurements are
in docs/benchmarks.md, "Image files"): no workers for few files, where
starting the processes costs more than decoding in the main process, nor on
fewer than ``MIN_CORES_FOR_WORKERS`` cores, where a worker takes a core from
torch's training threads. With more cores, half of them decode, at most four.
Each worker runs torch on one thread: decoding needs none.

Decoding draws no random numbers, so the workers need no seeds of their own:
the same ``random_state`` gives the same model at any ``num_workers``. For
training, ``_training.batches.TensorBatches`` draws each epoch's order from the fit's
generator and keeps one ``DataLoader``, with its workers
(``persistent_workers``), for the whole fit; prediction starts its workers
for the one pass it makes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .._cpu import usable_cores
from .files import iter_file_batches
from .sample_weights import weighted

__all__ = [
    "FileBatches",
    "ImageFileDataset",
    "load_file_batches",
    "loader_kwargs",
    "settle_num_workers",
]

#: Below this many files, ``num_workers="auto"`` decodes in the main process.
MIN_FILES_FOR_WORKERS = 512

#: Below this many cores, ``num_workers="auto"`` decodes in the main process.
MIN_CORES_FOR_WORKERS = 4

#: The most worker processes ``num_workers="auto"`` starts.
MAX_AUTO_WORKERS = 4


def available_cores() -> int:
    """CPUs this process may run on: its affinity mask and CPU quota (``_cpu``)."""
    return usable_cores(physical=False)


def settle_num_workers(num_workers: int | str, n_files: int, cores: int | None = None) -> int:
    """The number of DataLoader worker processes for ``n_files`` image files.

    Parameters
    ----------
    num_workers : int or "auto"
        ``CNNClassifier``'s parameter; an int is returned as given.
    n_files : int
        Files to decode.
    cores : int, default=None
        CPU cores to count on; None: those this process may run on.

    Returns
    -------
    num_workers : int
        "auto": 0 for fewer than ``MIN_FILES_FOR_WORKERS`` files or
        ``MIN_CORES_FOR_WORKERS`` cores, else
        ``min(cores // 2, MAX_AUTO_WORKERS)``.

    Examples
    --------
    >>> from sklearn_cnn._data.workers import settle_num_workers
    >>> settle_num_workers("auto", 100, cores=8), settle_num_workers("auto", 10_000, cores=8)
    (0, 4)
    >>> settle_num_workers("auto", 10_000, cores=2), settle_num_workers(3, 10, cores=1)
    (0, 3)
    """
    if num_workers != "auto":
        return int(num_workers)
    cores = available_cores() if cores is None else cores
    if n_files < MIN_FILES_FOR_WORKERS or cores < MIN_CORES_FOR_WORKERS:
        return 0
    return min(cores // 2, MAX_AUTO_WORKERS)


def init_worker(worker_id: int) -> None:
    """Run torch on one thread in a worker: the cores' other threads are the training's."""
    torch.set_num_threads(1)


def loader_kwargs(num_workers: int, device: torch.device | str) -> dict:
    """``DataLoader`` keyword arguments for ``num_workers`` workers feeding ``device``.

    Pinned memory on CUDA (the copies to the GPU are non-blocking); the
    worker arguments only with workers (a ``DataLoader`` refuses them
    without).
    """
    kwargs = {"num_workers": num_workers, "pin_memory": torch.device(device).type == "cuda"}
    if num_workers > 0:
        kwargs["worker_init_fn"] = init_worker
    return kwargs


class ImageFileDataset(Dataset):
    """Image files with their targets, one file per item, for a DataLoader.

    Parameters
    ----------
    paths : list of str
        Image files.
    y : ndarray
        Encoded labels, one per file.
    decode : callable
        ``decode(paths)``: some of the files as a float32 ``(n, C, H, W)``
        tensor (``_data.files.decode_tensor`` at a mode and size, or a
        ``LazyImages``' ``decode``, which applies its steps).
    sample_weight : ndarray of shape (n_files,), default=None
        Weight of each file's loss: items are then skorch's weighted dict
        input, ``{"X": image, "sample_weight": weight}`` (``_data.sample_weights``).
    """

    def __init__(self, paths: list[str], y: np.ndarray, decode, sample_weight=None):
        self.paths = paths
        self.y = y
        self.decode = decode
        self.sample_weight = sample_weight

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        return self.__getitems__([i])[0]

    def __getitems__(self, indices: list[int]) -> list:
        # A DataLoader fetches a batch's items with one call: the files are
        # decoded together, then collated (docs/benchmarks.md, section
        # "Image files": faster than one at a time).
        images = self.decode([self.paths[i] for i in indices])
        return [(image if self.sample_weight is None else weighted(image, self.sample_weight[i]),
                 self.y[i]) for image, i in zip(images, indices, strict=True)]


class FileBatches(Dataset):
    """Consecutive image files, ``batch_size`` at a time: item ``i`` is batch ``i``.

    One item is one decoded batch, so a worker decodes whole batches and a
    ``DataLoader(batch_size=None)`` keeps their order.

    Parameters
    ----------
    paths : list of str
        Image files.
    mode : str
        PIL mode to read in.
    size : (int, int)
        ``(height, width)`` every image is resized to.
    batch_size : int
        Files per batch (the last may have fewer).
    """

    def __init__(self, paths: list[str], mode: str, size, batch_size: int) -> None:
        self.paths = paths
        self.mode = mode
        self.size = tuple(size)
        self.batch_size = batch_size

    def __len__(self) -> int:
        return -(-len(self.paths) // self.batch_size)

    def __getitem__(self, i: int) -> torch.Tensor:
        start = i * self.batch_size
        return next(iter_file_batches(self.paths[start:start + self.batch_size], self.mode,
                                      self.size, self.batch_size))


def load_file_batches(paths: list[str], mode: str, size, batch_size: int,
                      num_workers: int | str = 0, device: torch.device | str = "cpu"):
    """Float32 ``(n, C, H, W)`` tensors of consecutive files, decoded by ``num_workers``.

    Parameters
    ----------
    paths, mode, size, batch_size
        As for :class:`FileBatches`: the files, in order, ``batch_size`` at
        a time, decoded in ``mode`` at ``size``.
    num_workers : int or "auto", default=0
        Worker processes decoding (see :func:`settle_num_workers`); 0
        decodes in the calling process, batch by batch, as it iterates.
    device : torch.device or str, default="cpu"
        Where the batches go next: on CUDA they come in pinned memory.

    Returns
    -------
    batches : iterable of Tensor
    """
    workers = settle_num_workers(num_workers, len(paths))
    if workers == 0:
        return iter_file_batches(paths, mode, size, batch_size)
    dataset = FileBatches(paths, mode, size, batch_size)
    return DataLoader(dataset, batch_size=None,
                      **loader_kwargs(min(workers, len(dataset)), device))
