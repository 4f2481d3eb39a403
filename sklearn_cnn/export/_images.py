"""Images to the input of an exported network, without torch: what ``predict`` does first.

The estimator reads images with torch and torchvision; a deployed model
must read them the same way with numpy and Pillow alone, so that the file
gives the estimator's answers. Each function here mirrors one step of
``sklearn_cnn._data`` and says which:

- arrays (:func:`array_images`): the layouts of ``_data.layout`` for a known
  image shape, uint8 pixels times 1/255 as ``_data.placement.to_float_nchw``;
- files and PIL images (:func:`pil_pixels`): opened as displayed
  (``_data.decoding``, which is torch-free and shared), converted to the
  model's Pillow mode and resized with Pillow's bilinear filter, which is
  what torchvision's ``resize`` does to a PIL image (``_data.files._pixels``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np
from PIL import Image

from .._data.decoding import as_displayed, is_image_file, open_image

__all__ = ["BATCH", "array_images", "batches", "folder_images", "pil_pixels"]

#: Images read and run at once from files or PIL images (memory stays flat).
BATCH = 256


def _scaled(X: np.ndarray) -> np.ndarray:
    """float32 pixels: uint8 times 1/255 (torchvision's ``to_dtype(scale=True)``), others as is."""
    if X.dtype == np.uint8:
        return np.multiply(X, np.float32(1 / 255), dtype=np.float32)
    return np.array(X, dtype=np.float32, order="C", copy=True)


def array_images(X: np.ndarray, input_shape: Sequence[int]) -> np.ndarray:
    """An array of images as float32 ``(N, C, H, W)`` of ``input_shape``.

    Accepted, as the estimator accepts them for a fitted shape ``(C, H, W)``:
    ``(N, C, H, W)``, ``(N, H, W, C)``, ``(N, H, W)`` when ``C`` is 1, flat
    rows ``(N, C * H * W)``, and one image ``(C, H, W)``, ``(H, W, C)`` or
    ``(H, W)``.

    Raises
    ------
    ValueError
        For any other shape, naming the shapes the model takes.
    """
    X = np.asarray(X)
    C, H, W = input_shape
    if X.ndim == 2 and X.shape[1] == C * H * W and X.shape != (H, W):
        return _scaled(X.reshape(len(X), C, H, W))
    if X.ndim in (2, 3) and X.shape in ((H, W), (C, H, W), (H, W, C)):
        X = X[None]  # one image
    if X.ndim == 3 and C == 1 and X.shape[1:] == (H, W):
        return _scaled(X[:, None])
    if X.ndim == 4 and X.shape[1:] == (C, H, W):
        return _scaled(X)
    if X.ndim == 4 and X.shape[1:] == (H, W, C):
        return _scaled(X.transpose(0, 3, 1, 2))
    raise ValueError(
        f"Images shaped {X.shape} do not fit the model's input (C, H, W) = {(C, H, W)}: "
        f"pass (N, {C}, {H}, {W}), (N, {H}, {W}, {C})"
        + (f", (N, {H}, {W})" if C == 1 else "") + f" or flat rows (N, {C * H * W}); "
        "files and PIL images of any size are resized.")


def pil_pixels(image: Image.Image, mode: str, size: tuple[int, int]) -> np.ndarray:
    """One PIL image (as displayed) as uint8 ``(C, H, W)`` in ``mode``, at ``size`` ``(H, W)``."""
    image = image.convert(mode)
    if (image.height, image.width) != tuple(size):
        image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.uint8).reshape(image.height, image.width, -1)
    return pixels.transpose(2, 0, 1)


def folder_images(folder) -> list[str]:
    """The image files of ``folder`` (not its subfolders'), sorted by name."""
    paths = sorted(os.path.join(folder, name) for name in os.listdir(folder))
    return [p for p in paths if os.path.isfile(p) and is_image_file(p, folder)]


def _is_path(item) -> bool:
    return isinstance(item, (str, os.PathLike))


def batches(X, input_shape: Sequence[int], mode: str) -> Iterator[np.ndarray]:
    """``X`` as float32 ``(N, C, H, W)`` batches of the model's input.

    ``X``: an array of images (:func:`array_images`), one path, a folder
    (its image files, sorted), or a sequence of paths or PIL images, read
    :data:`BATCH` at a time.
    """
    if _is_path(X) and os.path.isdir(X):
        X = folder_images(X)
    elif _is_path(X) or isinstance(X, Image.Image):
        X = [X]
    if isinstance(X, np.ndarray) and X.dtype.kind not in "OUS":
        yield array_images(X, input_shape)
        return
    items = list(X)
    if items and not all(_is_path(i) or isinstance(i, Image.Image) for i in items):
        yield array_images(np.asarray(items), input_shape)
        return
    for start in range(0, len(items), BATCH):
        pixels = [pil_pixels(as_displayed(item) if isinstance(item, Image.Image)
                             else open_image(item), mode, tuple(input_shape[1:]))
                  for item in items[start:start + BATCH]]
        yield _scaled(np.stack(pixels))
