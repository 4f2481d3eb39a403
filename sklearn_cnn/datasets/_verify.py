"""``verify_images``: every problem of a folder's image files, in one pass."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .._data.decoding import describe
from .._data.files import is_image_file

__all__ = ["verify_images"]

#: PIL modes images are read in without surprise: gray, RGB and their alpha
#: and palette forms. High bit depths and floats are "scaled" (described by
#: ``_data.decoding``); the others (CMYK, YCbCr, LAB...) are converted by
#: Pillow when read, which may not be what the photos meant.
PLAIN_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA"})


def _problems(path: str) -> list[str]:
    """Every problem of one file, each starting with its kind; empty if none."""
    try:
        with Image.open(path) as image:
            notes = describe(image)  # from the header: Pillow drops a TIFF's orientation at load
            image.load()  # decodes: a truncated file fails here, not at open
            frames = getattr(image, "n_frames", 1)
    except FileNotFoundError:
        return ["missing: no such file"]
    except UnidentifiedImageError:
        return ["unreadable: not an image Pillow can read"]
    except OSError as exc:
        text = str(exc)
        kind = "truncated" if "truncated" in text or "broken data stream" in text \
            else "unreadable"
        return [f"{kind}: {text}"]
    except Exception as exc:  # Pillow raises others on damaged files (SyntaxError, ...)
        return [f"unreadable: {type(exc).__name__}: {exc}"]
    if image.mode not in PLAIN_MODES and not any(n.startswith("scaled") for n in notes):
        notes.insert(0, f"odd mode: {image.mode} (converted to RGB or gray when read)")
    if frames > 1:
        notes.append(f"animated: {frames} frames, the first is read")
    return notes


def verify_images(folder) -> list[tuple[str, str]]:
    """Check every image file under ``folder``: all the problems, in one pass.

    Each file is opened and fully decoded, as training will; none stops the
    check. fastai's ``verify_images`` does the same for its data blocks.
    Besides the files that cannot be read, it lists those whose pixels are
    read otherwise than stored, as an image viewer shows them (see
    ``load_image_folder``): a 16-bit file scaled to 8 bits, a photo turned
    by its EXIF orientation, the first frame of an animated GIF.

    Parameters
    ----------
    folder : str or path-like, or iterable of them
        A folder, searched recursively for image files by extension
        (torchvision's ``IMG_EXTENSIONS`` and .gif; hidden files skipped,
        as ``load_image_folder`` does), or the files themselves.

    Returns
    -------
    problems : list of (str, str)
        ``(path, problem)`` for each problem, in path order (a file may
        have several: a rotated 16-bit TIFF); empty when every file is read
        as stored. A problem starts with its kind, then ": " and the
        details, so that ``problem.split(":")[0]`` filters on it:

        - "missing": no such file;
        - "unreadable": not an image, or damaged;
        - "truncated": cut short;
        - "odd mode": CMYK, YCbCr, LAB...: read, converted by Pillow to RGB
          or gray;
        - "scaled": more than 8 bits per sample, or floats, read as 8 bits
          (e.g. "16-bit gray read as 8 bits (value / 256, rounded down)";
          floats: 0 to 1 as 0 to 255, values outside clipped);
        - "rotated": an EXIF orientation, applied (e.g. "EXIF orientation
          6, read rotated 90° clockwise, as displayed");
        - "animated": several frames (an animated GIF, PNG or WebP, a
          multi-page TIFF), of which the first is read.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from PIL import Image
    >>> from sklearn_cnn.datasets import verify_images
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (8, 8)).save(folder / "fine.png")
    >>> Image.new("CMYK", (8, 8)).save(folder / "print.jpg")
    >>> _ = (folder / "notes.png").write_bytes(b"not an image")
    >>> Image.fromarray(np.full((8, 8), 65535, np.uint16)).save(folder / "depth.png")
    >>> exif = Image.Exif()
    >>> exif[0x0112] = 6  # EXIF orientation: turn 90° clockwise to display
    >>> Image.new("RGB", (8, 6)).save(folder / "phone.jpg", exif=exif)
    >>> for path, problem in verify_images(folder):
    ...     print(Path(path).name, problem)
    depth.png scaled: 16-bit gray read as 8 bits (value / 256, rounded down)
    notes.png unreadable: not an image Pillow can read
    phone.jpg rotated: EXIF orientation 6, read rotated 90° clockwise, as displayed
    print.jpg odd mode: CMYK (converted to RGB or gray when read)
    """
    if isinstance(folder, (str, os.PathLike)) and Path(folder).is_dir():
        root = Path(folder)
        paths = sorted(os.fspath(p) for p in root.rglob("*")
                       if p.is_file() and is_image_file(p, root))
    elif isinstance(folder, (str, os.PathLike)):
        paths = [os.fspath(folder)]
    else:
        paths = sorted(os.fspath(p) for p in folder)
    return [(path, problem) for path in paths for problem in _problems(path)]
