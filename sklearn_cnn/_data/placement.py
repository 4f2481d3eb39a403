"""The images read, handed to the network: ``ImageInput``, pixels to float32 tensors.

``read_images`` (``_data.images``) reads what the user passed without
decoding files or converting pixels; the :class:`ImageInput` it returns
turns them into what training and prediction take:

- pixels become float32 ``(N, C, H, W)`` (:func:`to_float_nchw`: uint8
  scaled to [0, 1], every other dtype kept); for training on a GPU with room
  for them they are moved there once, as they came, and laid out and scaled
  there (:func:`place_images`);
- image files are decoded batch by batch (``_data.workers``: by DataLoader
  workers), or for training one batch of items at a time by an
  ``ImageFileDataset``;
- a ``LazyImages`` decodes and transforms its own batches.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from .files import MODES, decode_images, decode_tensor
from .layout import ImageLayout
from .lazy import LazyImages
from .sample_weights import weighted
from .workers import ImageFileDataset, load_file_batches

__all__ = ["ImageInput", "place_images", "to_float_nchw", "to_float_nchw_tensor"]


#: Share of the free memory of a GPU that training data may take there.
DEVICE_DATA_SHARE = 0.25


@dataclass(frozen=True)
class ImageInput:
    """Images as read from the user's input, not yet converted to float.

    Attributes
    ----------
    data : list of str, LazyImages or ndarray
        The image files' paths (or a ``LazyImages``: files and the
        transformers to apply to them), or the validated pixels in their
        own layout and dtype.
    layout : ImageLayout or None
        How ``data`` holds its images; None for files.
    image_shape : (int, int, int)
        ``(C, H, W)`` of one image as the network takes it.
    is_files : bool, default=False
        Whether the images are files (paths or a ``LazyImages``), decoded
        only when asked for.
    """

    data: list[str] | LazyImages | np.ndarray
    layout: ImageLayout | None
    image_shape: tuple[int, int, int]
    is_files: bool = False

    @property
    def mode(self) -> str:
        """The PIL mode files are decoded in (the one of ``image_shape[0]`` channels)."""
        return MODES[self.image_shape[0]]

    def __len__(self) -> int:
        # A LazyImages is counted by its paths: nothing asked of it until it decodes.
        return len(self.data.paths if isinstance(self.data, LazyImages) else self.data)

    def tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """Pixels as one float32 ``(N, C, H, W)`` tensor, placed for ``device``.

        Arrays go through ``place_images`` (on a GPU with room, moved there
        once); files are decoded, all of them.
        """
        if self.is_files:
            return torch.from_numpy(self.to_array())
        return place_images(self.data, self.layout, torch.device(device))

    def batches(self, batch_size: int, device: torch.device | str = "cpu",
                num_workers: int | str = 0) -> Iterator[torch.Tensor]:
        """Float32 ``(n, C, H, W)`` tensors of consecutive images, ``batch_size`` at a time.

        Files are decoded one batch at a time, on the host, by ``num_workers``
        DataLoader workers (``sklearn_cnn._data.workers``; 0: as the batches are
        asked for); arrays are placed once (see :meth:`tensor`) and sliced.
        """
        if isinstance(self.data, LazyImages):
            return self.data.batches(batch_size)
        if self.is_files:
            return iter(load_file_batches(self.data, self.mode, self.image_shape[1:],
                                          batch_size, num_workers, device))
        return iter(self.tensor(device).split(batch_size))

    def training_data(self, y: np.ndarray, sample_weight: np.ndarray | None,
                      device: torch.device | str = "cpu"):
        """What skorch trains on: the images with their targets' order and weights.

        Files: an ``ImageFileDataset`` that decodes one file per item (in a
        ``DataLoader``), with ``y`` and the weights. Arrays: the float32
        ``(N, C, H, W)`` tensor of :meth:`tensor`, or skorch's weighted dict
        input ``{"X": images, "sample_weight": weights}`` (``_data.sample_weights``).
        A ``LazyImages``: the same dataset, decoding with its steps.

        Parameters
        ----------
        y : ndarray
            The encoded targets, one per image.
        sample_weight : ndarray of shape (N,) or None
            Validated weights (``_data.sample_weights.check_sample_weight``).
        device : torch.device or str, default="cpu"
            Where training runs.

        Returns
        -------
        data : Dataset, Tensor or dict of Tensor
        """
        if isinstance(self.data, LazyImages):
            return ImageFileDataset(list(self.data.paths), y, self.data.decode, sample_weight)
        if self.is_files:
            decode = functools.partial(decode_tensor, mode=self.mode, size=self.image_shape[1:])
            return ImageFileDataset(self.data, y, decode, sample_weight)
        images = self.tensor(device)
        if sample_weight is None:
            return images
        return weighted(images, torch.from_numpy(sample_weight).to(images.device))

    def to_array(self) -> np.ndarray:
        """Pixels as a new float32 ``(N, C, H, W)`` array; files are all decoded."""
        if not self.is_files:
            return to_float_nchw(self.data, self.layout)
        if isinstance(self.data, LazyImages):
            return np.asarray(self.data)
        pixels = decode_images(self.data, self.mode, self.image_shape[1:])
        return to_float_nchw(pixels, ImageLayout("channels_last", self.image_shape))


def to_float_nchw(X: np.ndarray, layout: ImageLayout) -> np.ndarray:
    """Validated images (any slice of them) as a new float32 ``(N, C, H, W)`` array.

    uint8 pixels become [0, 1], as torchvision's ``to_dtype(scale=True)``
    reads them; every other dtype keeps its values. The result is always a
    fresh, writable, C-contiguous array, so ``torch.from_numpy`` may share it
    even when ``X`` is a read-only memmap.
    """
    n = X.shape[0]
    if layout.source == "channels_last":
        X = X.transpose(0, 3, 1, 2)
    X = X.reshape(n, *layout.image_shape)
    if X.dtype == np.uint8:
        return np.multiply(X, np.float32(1 / 255), dtype=np.float32)
    return np.array(X, dtype=np.float32, order="C", copy=True)


def to_float_nchw_tensor(X: torch.Tensor, layout: ImageLayout) -> torch.Tensor:
    """:func:`to_float_nchw` for a tensor of validated images, on its own device.

    On a GPU this converts after the copy, so uint8 pixels cross the bus at a
    quarter of the bytes of float32.
    """
    from torchvision.transforms.v2.functional import to_dtype  # on first use: _data.files

    if layout.source == "channels_last":
        X = X.permute(0, 3, 1, 2)
    X = X.reshape(len(X), *layout.image_shape)
    return to_dtype(X, torch.float32, scale=X.dtype == torch.uint8).contiguous()


def place_images(X: np.ndarray, layout: ImageLayout, device: torch.device) -> torch.Tensor:
    """Validated images as a float32 ``(N, C, H, W)`` tensor for training on ``device``.

    On a GPU with room for them (``DEVICE_DATA_SHARE`` of its free memory) the
    images are moved there once and sliced there batch by batch: no
    host-to-device copy per step. They travel as they came when uint8 or
    float32 (uint8: a quarter of the bytes) and are laid out and scaled on the
    GPU. Anywhere else they stay on the host, converted there.

    Parameters
    ----------
    X : ndarray
        Images as :func:`~sklearn_cnn._data.layout.validate_images` returns them.
    layout : ImageLayout
        How ``X`` holds them.
    device : torch.device
        Where training runs.

    Returns
    -------
    images : Tensor of shape (N, C, H, W), dtype float32
    """
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if 4 * X.size <= DEVICE_DATA_SHARE * free:
            if X.dtype not in (np.uint8, np.float32):
                X = X.astype(np.float32)  # e.g. float64: halve the bytes before the copy
            elif not (X.flags.writeable and X.flags.c_contiguous):
                X = np.array(X, order="C")  # torch.from_numpy wants writable memory
            return to_float_nchw_tensor(torch.from_numpy(X).to(device), layout)
    return torch.from_numpy(to_float_nchw(X, layout))
