"""Image files: telling paths from pixels, reading headers, decoding.

Pillow opens and decodes the files; torchvision's ``resize`` (on the PIL
image) brings them to one size. Every failure of one call is collected and
reported at once, naming the files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F

__all__ = [
    "ImageFileDataset",
    "check_paths",
    "decode_images",
    "file_input_shape",
    "is_path_array",
    "iter_file_batches",
    "mode_for_channels",
    "read_headers",
]

#: PIL modes read as one gray channel; every other mode is read as RGB.
GRAY_MODES = {"1", "L", "LA", "P;L", "I", "I;16", "I;16B", "I;16L", "F"}
CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
MAX_LISTED = 10


def is_path_array(X) -> bool:
    """Whether ``X`` is a 1-D sequence of file paths (str or os.PathLike)."""
    if isinstance(X, (str, bytes, os.PathLike)):
        return False
    if isinstance(X, np.ndarray):
        if X.ndim != 1 or X.dtype.kind not in "UO":
            return False
    elif not isinstance(X, Sequence) or hasattr(X, "shape"):
        return False
    return len(X) > 0 and all(isinstance(p, (str, os.PathLike)) for p in X)


def check_paths(X) -> list[str]:
    """The paths of ``X`` as strings."""
    return [os.fspath(p) for p in X]


def _failure_message(failures: list[tuple[str, str]], action: str) -> str:
    listed = "\n".join(f"  {path}: {why}" for path, why in failures[:MAX_LISTED])
    more = f"\n  ... and {len(failures) - MAX_LISTED} more" if len(failures) > MAX_LISTED else ""
    return f"Could not {action} {len(failures)} image file(s):\n{listed}{more}"


def _reason(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, UnidentifiedImageError):
        return "not an image Pillow can read"
    return f"{type(exc).__name__}: {exc}"


def read_headers(paths: list[str]) -> tuple[list[tuple[int, int]], list[str]]:
    """``(height, width)`` and PIL mode of each file, without decoding pixels.

    Raises
    ------
    ValueError
        Listing every file that is missing or not an image.
    """
    sizes, modes, failures = [], [], []
    for path in paths:
        try:
            with Image.open(path) as image:
                sizes.append((image.height, image.width))
                modes.append(image.mode)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            failures.append((path, _reason(exc)))
    if failures:
        raise ValueError(_failure_message(failures, "open"))
    return sizes, modes


def common_mode(modes: list[str]) -> str:
    """"L" when every image is gray, else "RGB"."""
    return "L" if all(m in GRAY_MODES for m in modes) else "RGB"


def mode_for_channels(n_channels: int) -> str:
    """The PIL mode that decodes to ``n_channels`` channels."""
    return {v: k for k, v in CHANNELS.items()}[n_channels]


def decode_images(
    paths: list[str], mode: str, size: tuple[int, int] | None, resize: bool = True
) -> np.ndarray:
    """Decode files to a uint8 ``(N, H, W, C)`` array.

    Parameters
    ----------
    paths : list of str
        Image files.
    mode : {"L", "LA", "RGB", "RGBA"}
        PIL mode every image is converted to.
    size : (int, int) or None
        ``(height, width)`` of the output; None is the first image's size.
    resize : bool, default=True
        Resize images of another size (bilinear, antialiased); when False,
        such images are an error.

    Raises
    ------
    ValueError
        Listing every file that could not be decoded, or that has another
        size than expected when not resized.
    """
    out = None
    failures = []
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                image = image.convert(mode)
                if resize and size is not None and (image.height, image.width) != tuple(size):
                    image = F.resize(image, list(size), InterpolationMode.BILINEAR,
                                     antialias=True)
                pixels = np.asarray(image, dtype=np.uint8).reshape(
                    image.height, image.width, CHANNELS[mode])
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            failures.append((path, _reason(exc)))
            continue
        if out is None:
            shape = pixels.shape if size is None else (*size, pixels.shape[2])
            out = np.empty((len(paths), *shape), dtype=np.uint8)
        if pixels.shape != out.shape[1:]:
            failures.append((path, f"{pixels.shape[0]}x{pixels.shape[1]} pixels where "
                                   f"{out.shape[1]}x{out.shape[2]} are expected; pass "
                                   "a size to resize them all"))
            continue
        out[i] = pixels
    if failures:
        raise ValueError(_failure_message(failures, "decode"))
    return out


def file_input_shape(
    paths: list[str], image_shape=None, expected: Sequence[int] | None = None
) -> tuple[str, tuple[int, int, int]]:
    """The PIL mode and ``(C, H, W)`` that image files are read in.

    Parameters
    ----------
    paths : list of str
        Image files; their headers are read (missing or unreadable files
        raise a ValueError naming them).
    image_shape : (H, W) or (C, H, W), default=None
        Size to resize to (and channels: 1 gray, 3 RGB); None is the first
        image's size and "L" if every image is gray, else "RGB".
    expected : (C, H, W), default=None
        The shape of a fitted model, which wins over everything else.

    Returns
    -------
    mode : str
    input_shape : (int, int, int)
    """
    sizes, modes = read_headers(paths)
    if expected is not None:
        return mode_for_channels(expected[0]), tuple(expected)
    shape = tuple(image_shape) if image_shape is not None else ()
    if len(shape) == 3:
        if shape[0] not in (1, 3):
            raise ValueError(
                f"image_shape={image_shape!r} asks image files for {shape[0]} channels; "
                "files are read as 1 (gray) or 3 (RGB) channels."
            )
        mode = mode_for_channels(shape[0])
    else:
        mode = common_mode(modes)
    size = shape[-2:] if shape else sizes[0]
    return mode, (CHANNELS[mode], *size)


class ImageFileDataset(torch.utils.data.Dataset):
    """Image files decoded one at a time, for a DataLoader.

    Parameters
    ----------
    paths : list of str
        Image files.
    y : ndarray
        Encoded labels, one per file.
    mode : str
        PIL mode to read in.
    size : (int, int)
        ``(height, width)`` every image is resized to.
    """

    def __init__(self, paths: list[str], y: np.ndarray, mode: str, size: tuple[int, int]):
        self.paths = paths
        self.y = y
        self.mode = mode
        self.size = size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        pixels = decode_images([self.paths[i]], self.mode, self.size)[0]
        image = torch.from_numpy(pixels).permute(2, 0, 1).float().div_(255)
        return image, self.y[i]


def iter_file_batches(paths: list[str], mode: str, size, batch_size: int):
    """Float32 ``(n, C, H, W)`` tensors of consecutive files, ``batch_size`` at a time."""
    for start in range(0, len(paths), batch_size):
        pixels = decode_images(paths[start:start + batch_size], mode, size)
        yield torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255)
