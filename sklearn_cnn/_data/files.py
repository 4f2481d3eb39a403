"""Image files and PIL images: reading headers, decoding to pixels at one size.

Pillow opens and decodes the files, as an image viewer shows them (EXIF
orientation applied, high bit depths scaled: ``_data.decoding``);
torchvision's ``resize`` (on the PIL image) brings them to one size, chosen
by the rule of ``_data.sizes``. Every failure of one call is collected and
reported at once, naming every file.

Pillow rather than ``torchvision.io.decode_image``: torchvision reads only
JPEG, PNG, GIF and WebP (not the BMP, TIFF, PPM/PGM of ``IMG_EXTENSIONS``),
returns 16-bit PNGs as uint16, and its gray decoding is not Pillow's: RGB
PNGs read as gray differ by up to 1 level, RGB JPEGs by up to 14 (libjpeg's
luma against Pillow's ``convert``), so pixels would depend on the reader.
Nor is it much faster: a little on small files, and on large ones only on
one thread, as its EXIF rotation contends for torch's threads
(``benchmarks/decoding.py``; docs/benchmarks.md, section "Decoding image
files").

torchvision is imported where it is used, not with this module: importing
it is slow, most of it ``torch._dynamo``, which torch itself imports only
when a first optimizer is built (docs/benchmarks.md, section "Speed on a
shared CPU"): a process that imports sklearn_cnn and does not train (builds
a pipeline, reads parameters, builds the docs) need not pay it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from .decoding import IMAGE_EXTENSIONS, as_displayed, displayed_size, is_image_file, open_image
from .sizes import choose_size

__all__ = [
    "CHANNELS",
    "IMAGE_EXTENSIONS",
    "MODES",
    "decode_images",
    "decode_tensor",
    "file_input_shape",
    "is_image_file",
    "iter_file_batches",
    "mode_for_channels",
    "pil_images_to_array",
    "read_headers",
]

#: PIL modes read as one gray channel; every other mode is read as RGB.
GRAY_MODES = {"1", "L", "LA", "P;L", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
#: The channels of each PIL mode images are decoded in, and the mode of each count.
CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
MODES = {channels: mode for mode, channels in CHANNELS.items()}


def _failure_message(failures: list[tuple[str, str]], action: str) -> str:
    listed = "\n".join(f"  {path}: {why}" for path, why in failures)
    return f"Could not {action} {len(failures)} image file(s):\n{listed}"


def _reason(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, UnidentifiedImageError):
        return "not an image Pillow can read"
    return f"{type(exc).__name__}: {exc}"


def read_headers(paths: list[str]) -> tuple[list[tuple[int, int]], list[str]]:
    """``(height, width)`` and PIL mode of each file, without decoding pixels.

    Sizes are the displayed ones: an EXIF orientation of 5 to 8 swaps them
    (``sklearn_cnn._data.decoding``).

    Raises
    ------
    ValueError
        Listing every file that is missing or not an image.
    """
    sizes, modes, failures = [], [], []
    for path in paths:
        try:
            with Image.open(path) as image:
                sizes.append(displayed_size(image))
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
    return MODES[n_channels]


def _pixels(image: Image.Image, mode: str, size: tuple[int, int] | None) -> np.ndarray:
    """One PIL image as uint8 ``(H, W, C)`` in ``mode``, resized to ``size`` if given.

    ``image`` is as displayed already (``decoding.as_displayed``).
    """
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.v2.functional import resize

    image = image.convert(mode)
    if size is not None and (image.height, image.width) != tuple(size):
        image = resize(image, list(size), InterpolationMode.BILINEAR, antialias=True)
    return np.asarray(image, dtype=np.uint8).reshape(image.height, image.width,
                                                     CHANNELS[mode])


def decode_images(
    paths: list[str],
    mode: str,
    size: tuple[int, int] | None,
    resize: bool = True,
    progress: bool | None = False,
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
    progress : bool or None, default=False
        Show a tqdm progress bar; None shows it only on a terminal.

    Raises
    ------
    ValueError
        Listing every file that could not be decoded, or that has another
        size than expected when not resized.
    """
    out = None
    failures = []
    # tqdm's disable=None: a bar only when stderr is a terminal.
    disable = {True: False, None: None, False: True}[progress]
    bar = tqdm(paths, desc="Decoding images", unit="image", disable=disable, leave=False)
    for i, path in enumerate(bar):
        try:
            pixels = _pixels(open_image(path), mode, size if resize else None)
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


def pil_images_to_array(
    images: Sequence[Image.Image],
    expected: Sequence[int] | None = None,
    image_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """PIL images as one uint8 ``(N, H, W, C)`` array, following the size rule.

    Parameters
    ----------
    images : sequence of PIL.Image.Image
        The images, in any PIL mode and size, read as files are: EXIF
        orientation applied (if the image still carries one), high bit
        depths scaled (``sklearn_cnn._data.decoding``).
    expected : (C, H, W), default=None
        The shape of a fitted model, which wins over everything else.
    image_shape : (H, W) or (C, H, W), default=None
        Size (and channels: 1 gray, 3 RGB) to read them in; None: the most
        common size (see ``sklearn_cnn._data.sizes``), gray if all are gray.
    """
    shape = tuple(expected) if expected is not None else image_shape
    mode = _read_mode([image.mode for image in images], shape)
    displayed = [as_displayed(image) for image in images]
    size = choose_size([(image.height, image.width) for image in displayed], shape)
    return np.stack([_pixels(image, mode, size) for image in displayed])


def _read_mode(modes: list[str], image_shape) -> str:
    """The PIL mode to read images in: from a (C, H, W) shape, else from their modes."""
    if image_shape is None or len(image_shape) != 3:
        return common_mode(modes)
    if image_shape[0] not in (1, 3):
        raise ValueError(
            f"image_shape={tuple(image_shape)!r} asks image files for {image_shape[0]} "
            "channels; files are read as 1 (gray) or 3 (RGB) channels."
        )
    return mode_for_channels(image_shape[0])


def file_input_shape(
    paths: list[str],
    image_shape=None,
    expected: Sequence[int] | None = None,
    *,
    mode: str | None = None,
    parameter: str = "image_shape",
) -> tuple[str, tuple[int, int, int]]:
    """The PIL mode and ``(C, H, W)`` that image files are read in.

    Parameters
    ----------
    paths : list of str
        Image files; their headers are read (missing or unreadable files
        raise a ValueError naming them).
    image_shape : (H, W) or (C, H, W), default=None
        Size to resize to (and channels: 1 gray, 3 RGB); None is the
        files' size (the most common one, with a warning, if they differ:
        ``sklearn_cnn._data.sizes``) and "L" if every image is gray, else "RGB".
    expected : (C, H, W), default=None
        The shape of a fitted model, which wins over everything else.
    mode : {"L", "LA", "RGB", "RGBA"}, default=None
        PIL mode to read in, rather than one of ``image_shape`` or the files'.
    parameter : str, default="image_shape"
        The caller's parameter that sets the size, named in the warning.

    Returns
    -------
    mode : str
    input_shape : (int, int, int)
    """
    sizes, modes = read_headers(paths)
    if expected is not None:
        return mode_for_channels(expected[0]), tuple(expected)
    mode = mode or _read_mode(modes, image_shape)
    return mode, (CHANNELS[mode], *choose_size(sizes, image_shape, parameter=parameter))


def decode_tensor(paths: list[str], mode: str, size) -> torch.Tensor:
    """Image files as one float32 ``(n, C, H, W)`` tensor in [0, 1]."""
    from torchvision.transforms.v2.functional import to_dtype

    pixels = decode_images(list(paths), mode, size)
    return to_dtype(torch.from_numpy(pixels).permute(0, 3, 1, 2), torch.float32, scale=True)


def iter_file_batches(paths: list[str], mode: str, size, batch_size: int):
    """Float32 ``(n, C, H, W)`` tensors of consecutive files, ``batch_size`` at a time."""
    for start in range(0, len(paths), batch_size):
        yield decode_tensor(paths[start:start + batch_size], mode, size)
