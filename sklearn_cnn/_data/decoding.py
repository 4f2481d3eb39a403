"""Image files read as an image viewer shows them: EXIF orientation, bit depth.

Pillow opens a file as it is stored; ``Image.convert`` then reads a 16-bit
gray PNG as two levels (every value above 255 clipped to 255) and keeps a
phone photo turned 90° from the way every viewer shows it. Every reader of
the package (``read_headers``, ``decode_images``, ``pil_images_to_array``,
the CLI) goes through this module instead, so that the pixels and sizes are
the displayed ones:

- EXIF orientation (tag 0x0112, 2 to 8) is applied, as
  ``PIL.ImageOps.exif_transpose`` applies it (same transposition per value),
  and sizes are the displayed ones: orientations 5 to 8 swap height and
  width. A PNG's orientation is read from the chunks before its pixels,
  where Pillow and libpng write the eXIf chunk: Pillow's ``getexif`` would
  decode the whole image to look for one after them, and headers are read
  without decoding. A TIFF's is read from its tags; Pillow's TIFF reader
  (Pillow 13) applies it itself when it loads the pixels, and drops the tag,
  so that it is applied once (and files are opened from a file object, as
  Pillow garbles an uncompressed gray TIFF of orientation 5 to 8 that it
  memory-maps by name).
- Integer samples of more than 8 bits ("I;16", "I;16B", "I;16L", "I;16N",
  and "I") are scaled to 8 bits as torchvision's ``to_dtype(..., torch.uint8,
  scale=True)`` scales them: the value shifted right by its bits beyond 8,
  that is ``value // 256`` for 16 bits (within one level of
  ``round(value / 257)``; Pillow reads 16-bit RGB PNGs by their high byte,
  the same rule). The bits are the file's where Pillow tells them (a TIFF's
  BitsPerSample and SampleFormat: 12-bit TIFFs are ``value // 16``, signed
  ones keep 15 or 31 value bits, negatives read as 0); else 16 for the "I;16"
  modes and for the "I" images of PNG and PPM/PGM files (Pillow stores 16-bit
  samples there: PGM maxvals below 65535 are scaled up to it), and a signed
  32-bit integer otherwise (a TIFF's without tags, or a PIL image made from
  an int32 array): ``value >> 23``, negatives read as 0.
- Float samples ("F": float TIFF, PFM) are taken as [0, 1], torchvision's
  convention for float images, values outside clipped (NaN as 0), and scaled
  as ``to_dtype(float32 -> uint8, scale=True)`` does: ``value * 255.999``,
  rounded down.

Animated GIF, PNG and WebP files and multi-page TIFFs read their first
frame. Palette, alpha, CMYK and the other modes are left to
``Image.convert``, as before (alpha dropped: the colour under it is read).
``describe`` says, for ``verify_images``, which of these rules change a
file's pixels. Which files of a folder are images (``is_image_file``) is
here too. The module needs numpy and Pillow alone, no torch: the ONNX
predictor (``sklearn_cnn.export``) reads files through it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["IMAGE_EXTENSIONS", "as_displayed", "describe", "displayed_size", "is_image_file",
           "open_image", "orientation"]

#: The transposition of each EXIF orientation: PIL.ImageOps.exif_transpose's.
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: What each orientation does to the stored pixels, in ``verify_images``' words.
TURNS = {
    2: "mirrored left to right",
    3: "rotated 180°",
    4: "mirrored top to bottom",
    5: "mirrored along the main diagonal",
    6: "rotated 90° clockwise",
    7: "mirrored along the other diagonal",
    8: "rotated 90° counter-clockwise",
}
#: Integer modes of more than 8 bits, and the float mode: scaled to "L".
INTEGER_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
FLOAT_MODE = "F"
#: torchvision's float -> uint8 factor (``to_dtype``: 255 + 1 - 1e-3).
FLOAT_SCALE = np.float32(255.999)

_ORIENTATION = 0x0112
_WIDTH, _HEIGHT = 256, 257
_BITS_PER_SAMPLE = 258
_SAMPLE_FORMAT = 339


def orientation(image: Image.Image) -> int:
    """The EXIF orientation of ``image``, 1 to 8; 1 when absent, invalid or unreadable.

    Read from the header, without decoding the pixels (see the module docstring).
    """
    tags = getattr(image, "tag_v2", None)  # a TIFF: its own tags, no EXIF block needed
    try:
        if tags is not None:
            value = tags.get(_ORIENTATION, 1)
        elif image.format == "PNG":
            value = Image.Image.getexif(image).get(_ORIENTATION, 1)
        else:
            value = image.getexif().get(_ORIENTATION, 1)
    except Exception:  # a damaged EXIF block (Pillow raises several kinds): as stored
        return 1
    return value if isinstance(value, int) and value in TRANSPOSE else 1


def displayed_size(image: Image.Image) -> tuple[int, int]:
    """``(height, width)`` of ``image`` as displayed (its EXIF orientation applied)."""
    turn = orientation(image)
    tags = getattr(image, "tag_v2", None)
    if turn != 1 and tags is not None and _WIDTH in tags and _HEIGHT in tags:
        # A TIFF not turned yet: the stored size from its tags, as Pillow
        # reports the displayed size at open in some versions, the stored one
        # in others. Once loaded (and turned), it has no orientation left.
        height, width = tags[_HEIGHT], tags[_WIDTH]
    else:
        height, width = image.height, image.width
    return (width, height) if turn >= 5 else (height, width)  # 5 to 8 turn it a quarter


def _first(value):
    """A TIFF tag's first value (tags of one value per sample are tuples)."""
    return value[0] if isinstance(value, tuple) else value


def _sample_depth(image: Image.Image) -> tuple[int, bool]:
    """Bits per sample of an integer-mode image, and whether they are signed."""
    tags = getattr(image, "tag_v2", None)
    if tags is not None and _BITS_PER_SAMPLE in tags:
        bits = tags[_BITS_PER_SAMPLE]
        sample_format = tags.get(_SAMPLE_FORMAT, 1)  # 1 unsigned (TIFF's default), 2 signed
        return int(_first(bits)), _first(sample_format) == 2
    if image.mode != "I" or image.format in ("PNG", "PPM"):
        return 16, False
    return 32, True


def _scale(image: Image.Image) -> Image.Image:
    """An "I*" or "F" image as "L" (module docstring); any other image as it is."""
    if image.mode == FLOAT_MODE:
        values = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0)
        return Image.fromarray((np.clip(values, 0, 1) * FLOAT_SCALE).astype(np.uint8))
    if image.mode not in INTEGER_MODES:
        return image
    bits, signed = _sample_depth(image)
    values = np.asarray(image)
    if bits == 32 and not signed and values.dtype == np.int32:
        values = values.view(np.uint32)  # Pillow stores unsigned 32-bit samples as int32
    shift = max(bits - signed - 8, 0)  # torchvision's value bits: 16 unsigned, 15 signed...
    return Image.fromarray(np.clip(values.astype(np.int64) >> shift, 0, 255).astype(np.uint8))


def describe(image: Image.Image) -> list[str]:
    """How reading ``image`` changes its stored pixels, as ``verify_images`` reports it.

    "scaled: ..." for high bit depths and floats, "rotated: ..." for an
    EXIF orientation; empty when the pixels are read as stored.
    """
    notes = []
    if image.mode == FLOAT_MODE:
        notes.append("scaled: float gray read as 8 bits (0 to 1 as 0 to 255, values "
                     "outside clipped)")
    elif image.mode in INTEGER_MODES:
        bits, signed = _sample_depth(image)
        shift = max(bits - signed - 8, 0)
        sign = "signed " if signed else ""
        rule = f"value / {2 ** shift}, rounded down" if shift else "values clipped to 0-255"
        negatives = ", negatives as 0" if signed else ""
        notes.append(f"scaled: {bits}-bit {sign}gray read as 8 bits ({rule}{negatives})")
    turn = orientation(image)
    if turn != 1:
        notes.append(f"rotated: EXIF orientation {turn}, read {TURNS[turn]}, as displayed")
    return notes


def as_displayed(image: Image.Image) -> Image.Image:
    """``image`` decoded as a viewer shows it: EXIF orientation applied, 8-bit samples.

    Parameters
    ----------
    image : PIL.Image.Image
        An image just opened from a file, or one given by the user (whose
        EXIF orientation, if it still carries one, is applied too: the same
        photo reads the same as a path and as ``Image.open(path)``; an image
        already passed through ``ImageOps.exif_transpose`` carries none).

    Returns
    -------
    image : PIL.Image.Image
        Loaded; ``image`` itself when nothing changes, else a new image (in
        mode "L" when its samples were scaled).
    """
    turn = orientation(image)  # from the header, as read_headers reads it
    image.load()
    tags = getattr(image, "tag_v2", None)
    if tags is not None and _ORIENTATION not in tags:
        turn = 1  # Pillow's TIFF reader applies the orientation when it loads, and drops it
    image = _scale(image)
    return image if turn == 1 else image.transpose(TRANSPOSE[turn])


def open_image(path: str | os.PathLike) -> Image.Image:
    """Open and decode an image file as displayed (``as_displayed``); the file is closed.

    Raises what ``PIL.Image.open`` and decoding raise: ``FileNotFoundError``,
    ``PIL.UnidentifiedImageError``, ``OSError`` for a damaged file.
    """
    # From a file object: Pillow memory-maps an uncompressed file opened by
    # name, and its TIFF reader then turns gray ones of orientation 5 to 8
    # into garbage (Pillow 13: it maps the stored pixels at the displayed size).
    with open(path, "rb") as file, Image.open(file) as image:
        return as_displayed(image)


#: The extensions of the image files a folder is searched for: torchvision's
#: ``IMG_EXTENSIONS`` (ImageFolder's), and GIF, which Pillow reads too (its
#: first frame when animated), as Keras' ``image_dataset_from_directory`` does.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp",
                    ".gif")


def is_image_file(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """Whether ``path`` under ``root`` is an image file one would mean to read.

    By extension (``IMAGE_EXTENSIONS``), and not hidden: no part of the path
    below ``root`` starts with "." (".DS_Store", "._photo.jpg" of macOS,
    ".ipynb_checkpoints").
    """
    parts = Path(path).relative_to(root).parts
    return (os.fspath(path).lower().endswith(IMAGE_EXTENSIONS)
            and not any(part.startswith(".") for part in parts))
