"""Images that stay image files until they are needed: ``LazyImages``.

``ImageFileLoader(lazy=True)`` returns a :class:`LazyImages` rather than an
array: the paths, the mode and size they are decoded at, and the fitted
image transformers to apply to them, in order. Each transformer's
``transform`` appends itself; ``fit`` streams the images through in batches.
``CNNClassifier`` trains on them one image at a time (a ``DataLoader`` over
:meth:`LazyImages.dataset`) and predicts batch by batch, so a pipeline
``ImageFileLoader(lazy=True) → transformers → CNNClassifier`` never holds
more than a batch of decoded images, however large the folder.

The eager loader (``lazy=False``) decodes every file into one float32 array;
:func:`check_memory_budget` warns with a :class:`MemoryBudgetWarning`
before it builds one larger than the loader's ``max_bytes``.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterator
from numbers import Integral

import numpy as np
import torch

from .._names import stable_name
from .._warnings import warn_user
from .files import CHANNELS, decode_tensor
from .workers import ImageFileDataset

__all__ = [
    "CHUNK_BYTES",
    "LazyImages",
    "MemoryBudgetWarning",
    "check_memory_budget",
    "memory_budget",
]

#: Float32 bytes decoded, converted or transformed at a time: a transformer
#: needs the caller's array, its output, and about this much more.
CHUNK_BYTES = 64 * 2**20

#: The budget of ``max_bytes="auto"`` where the OS does not tell its memory size.
FALLBACK_BUDGET = 2 * 2**30


class MemoryBudgetWarning(UserWarning):
    """Images about to be decoded into an array larger than the memory budget.

    Raised by ``ImageFileLoader(lazy=False)`` (its ``max_bytes``); the fix
    it names is ``ImageFileLoader(lazy=True)``, which streams the files.

    See Also
    --------
    sklearn_cnn.preprocessing.ImageFileLoader : Load image files, eagerly or lazily.
    sklearn_cnn.preprocessing.LazyImages : Image files decoded only when needed.

    Examples
    --------
    >>> import os, tempfile, warnings
    >>> import numpy as np
    >>> from PIL import Image
    >>> from sklearn_cnn import MemoryBudgetWarning
    >>> from sklearn_cnn.preprocessing import ImageFileLoader
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.png") for i in range(4)]
    >>> for path in paths:
    ...     Image.fromarray(np.zeros((16, 16), dtype=np.uint8)).save(path)

    Four 16x16 gray images take 4 KiB as float32, over a 1 KiB budget:

    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     X = ImageFileLoader(max_bytes=1024).fit_transform(paths)
    >>> X.shape, any(w.category is MemoryBudgetWarning for w in caught)
    ((4, 1, 16, 16), True)
    >>> ImageFileLoader(lazy=True, max_bytes=1024).fit_transform(paths)
    LazyImages(4 files, mode='L', size=(16, 16), steps=[])
    """


def memory_budget(max_bytes) -> int | None:
    """The budget in bytes that ``max_bytes`` stands for; None: no budget.

    Parameters
    ----------
    max_bytes : int, "auto" or None
        Bytes; "auto" is half of the machine's physical memory (2 GiB
        where the OS does not tell it); None is no budget.

    Returns
    -------
    budget : int or None

    Examples
    --------
    >>> from sklearn_cnn._data.lazy import memory_budget
    >>> memory_budget(2**20), memory_budget(None), memory_budget("auto") > 0
    (1048576, None, True)
    """
    if max_bytes != "auto":
        return max_bytes
    try:  # no maintained cross-platform call in our dependencies (psutil is not one)
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, OSError, ValueError):
        return FALLBACK_BUDGET


def _gib(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.2f} GiB"


def check_memory_budget(n_images: int, image_shape, max_bytes, *, owner: str) -> None:
    """Warn if ``n_images`` float32 images of ``image_shape`` exceed ``max_bytes``.

    Parameters
    ----------
    n_images : int
        Images about to be decoded.
    image_shape : (C, H, W)
        Shape of one decoded image.
    max_bytes : int, "auto" or None
        The budget, as :func:`memory_budget` reads it.
    owner : str
        The estimator that decodes them, named in the warning.

    Warns
    -----
    MemoryBudgetWarning
        Naming the array's size, the budget and ``lazy=True``.
    """
    budget = memory_budget(max_bytes)
    needed = 4 * n_images * math.prod(image_shape)
    if budget is not None and needed > budget:
        shape = " x ".join(map(str, (n_images, *image_shape)))
        warn_user(
            f"{owner} is about to decode {n_images} image files into a float32 array "
            f"of {_gib(needed)} ({shape}), over its max_bytes budget of {_gib(budget)}. "
            f"Pass lazy=True ({owner}(lazy=True)) to stream the files through the "
            "pipeline batch by batch instead, or raise max_bytes (None turns this "
            "check off).",
            MemoryBudgetWarning,
        )


@stable_name("sklearn_cnn.preprocessing")
class LazyImages:
    """Image files to decode, and the fitted image transformers to apply, on demand.

    What ``ImageFileLoader(lazy=True).transform`` returns, and what the
    image transformers and ``CNNClassifier`` take in place of an array. It
    behaves as the float32 ``(N, C, H, W)`` array it stands for where that
    costs no memory (``len``, ``shape``, ``dtype``, indexing rows, pickling),
    and decodes only when asked: :meth:`batches`, :meth:`dataset`, or
    ``np.asarray`` (all of it, explicitly).

    Parameters
    ----------
    paths : sequence of str
        Image files.
    mode : {"L", "LA", "RGB", "RGBA"}
        PIL mode they are decoded in.
    size : (int, int)
        ``(height, width)`` they are decoded at (resized, bilinear,
        antialiased, when the file has another size).
    steps : tuple of ImageTransformer, default=()
        Fitted transformers applied, in order, to the decoded float32
        ``(n, C, H, W)`` batches (their ``_transform_tensor``).

    Attributes
    ----------
    paths : ndarray of str
    mode : str
    size : (int, int)
    steps : tuple of ImageTransformer
    image_shape : (int, int, int)
        ``(C, H, W)`` of one image after the steps.

    See Also
    --------
    sklearn_cnn.preprocessing.ImageFileLoader : Return a ``LazyImages`` with ``lazy=True``.
    sklearn_cnn.MemoryBudgetWarning : Warn that eager loading needs too much memory.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> from sklearn_cnn.preprocessing import ImageFileLoader, Resize
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.png") for i in range(5)]
    >>> for p in paths:
    ...     Image.fromarray(np.zeros((20, 30), dtype=np.uint8)).save(p)
    >>> images = ImageFileLoader(lazy=True).fit_transform(paths)
    >>> images = Resize((8, 8)).fit_transform(images)
    >>> images
    LazyImages(5 files, mode='L', size=(20, 30), steps=[Resize])
    >>> images.shape, images[:2].shape, np.asarray(images).shape
    ((5, 1, 8, 8), (2, 1, 8, 8), (5, 1, 8, 8))
    """

    dtype = np.dtype(np.float32)
    ndim = 4

    def __init__(self, paths, mode: str, size, steps=()):
        self.paths = np.asarray([os.fspath(p) for p in paths], dtype=object)
        self.mode = mode
        self.size = tuple(int(s) for s in size)
        self.steps = tuple(steps)
        self.image_shape = self._output_shape()

    def _output_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` after the steps, from one blank image through them."""
        images = torch.zeros(1, CHANNELS[self.mode], *self.size)
        return tuple(self._apply_steps(images).shape[1:])

    def _apply_steps(self, images: torch.Tensor) -> torch.Tensor:
        for step in self.steps:
            images = step._transform_tensor(images)
        return images

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(N, C, H, W)`` of the images after the steps."""
        return (len(self), *self.image_shape)

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        steps = ", ".join(type(step).__name__ for step in self.steps)
        return (f"LazyImages({len(self)} files, mode={self.mode!r}, size={self.size}, "
                f"steps=[{steps}])")

    def then(self, transformer) -> LazyImages:
        """These images followed by ``transformer`` (a copy, fixed as fitted now).

        Parameters
        ----------
        transformer : ImageTransformer
            A fitted image transformer.

        Returns
        -------
        images : LazyImages
            The same files, with ``transformer`` as their last step.
        """
        return LazyImages(self.paths, self.mode, self.size,
                          (*self.steps, copy.deepcopy(transformer)))

    def __getitem__(self, key):
        """Rows of the images: an int decodes one ``(C, H, W)`` image; a slice, an
        index array or a boolean mask gives a LazyImages of those files."""
        if isinstance(key, tuple) and key[1:] in ((), (Ellipsis,)):
            key = key[0]  # images[rows, ...], as scikit-learn's _safe_indexing asks
        if isinstance(key, Integral):
            return self.decode(self.paths[[key]])[0].numpy()
        if not isinstance(key, slice):
            key = np.asarray(key)
            if key.dtype.kind not in "biu" or key.ndim != 1:
                raise IndexError(
                    "LazyImages takes an int, a slice, a 1-D integer array or a boolean "
                    f"mask of its rows; got {key.dtype} of shape {key.shape}."
                )
        return LazyImages(self.paths[key], self.mode, self.size, self.steps)

    def decode(self, paths) -> torch.Tensor:
        """Decode and transform some of the files.

        Parameters
        ----------
        paths : sequence of str
            Files to decode, in this images' mode and size.

        Returns
        -------
        images : Tensor of shape (n, C, H, W)
            The files' float32 pixels, after the steps.
        """
        if len(paths) == 0:
            return torch.empty((0, *self.image_shape))
        return self._apply_steps(decode_tensor(paths, self.mode, self.size))

    def batch_size(self, n_bytes: int | None = None) -> int:
        """Count the images that fit in ``n_bytes`` as float32, decoded or transformed.

        Parameters
        ----------
        n_bytes : int, default=None
            The memory a batch may take; None: ``CHUNK_BYTES``.

        Returns
        -------
        batch_size : int
            Images per batch (at least one).
        """
        decoded = CHANNELS[self.mode] * math.prod(self.size)
        n_bytes = CHUNK_BYTES if n_bytes is None else n_bytes
        return max(1, n_bytes // (4 * max(decoded, math.prod(self.image_shape))))

    def batches(self, batch_size: int | None = None) -> Iterator[torch.Tensor]:
        """Float32 ``(n, C, H, W)`` tensors of consecutive images, decoded a batch at a time.

        A batch larger than ``CHUNK_BYTES`` holds is decoded and transformed
        a chunk at a time, and its chunks joined: large files (photos resized
        by a step) never take more than a chunk at their own size.

        Parameters
        ----------
        batch_size : int, default=None
            Images per batch; None: as many as ``CHUNK_BYTES`` hold.

        Yields
        ------
        images : Tensor of shape (n, C, H, W)
        """
        chunk = self.batch_size()
        batch_size = batch_size or chunk
        for start in range(0, len(self), batch_size):
            paths = self.paths[start:start + batch_size]
            parts = [self.decode(paths[i:i + chunk]) for i in range(0, len(paths), chunk)]
            yield parts[0] if len(parts) == 1 else torch.cat(parts)

    def __array__(self, dtype=None, copy=None):
        """Every image, decoded: float32 ``(N, C, H, W)`` (``np.asarray(images)``)."""
        if copy is False:
            raise ValueError("LazyImages cannot be converted to an array without a copy: "
                             "its images are decoded from files.")
        out = np.empty(self.shape, dtype=np.float32)
        start = 0
        for batch in self.batches():
            out[start:start + len(batch)] = batch.numpy()
            start += len(batch)
        return out if dtype is None else out.astype(dtype, copy=False)

    def dataset(self, y, sample_weight=None) -> ImageFileDataset:
        """A torch Dataset of one decoded, transformed image per item, with its target.

        Parameters
        ----------
        y : ndarray
            Encoded targets, one per image.
        sample_weight : ndarray of shape (N,), default=None
            Weight of each image's loss.

        Returns
        -------
        dataset : ImageFileDataset
            Items ``(image, target)``, a DataLoader batch's files decoded and
            transformed together; with ``sample_weight``, the image is
            skorch's weighted input ``{"X": image, "sample_weight": weight}``.
        """
        return ImageFileDataset(list(self.paths), y, self.decode, sample_weight)
