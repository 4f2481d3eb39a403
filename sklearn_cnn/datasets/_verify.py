"""``verify_images``: every problem of a folder's image files, in one pass."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .._data.files import is_image_file

__all__ = ["verify_images"]

#: PIL modes images are read in without surprise: gray, RGB and their alpha
#: and palette forms. Others (CMYK, 16-bit, float, YCbCr...) are converted
#: when read, which may not be what the photos meant.
PLAIN_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA"})


def _problem(path: str) -> str | None:
    try:
        with Image.open(path) as image:
            mode = image.mode
            image.load()  # decodes: a truncated file fails here, not at open
    except FileNotFoundError:
        return "missing: no such file"
    except UnidentifiedImageError:
        return "unreadable: not an image Pillow can read"
    except OSError as exc:
        text = str(exc)
        kind = "truncated" if "truncated" in text or "broken data stream" in text \
            else "unreadable"
        return f"{kind}: {text}"
    except Exception as exc:  # Pillow raises others on damaged files (SyntaxError, ...)
        return f"unreadable: {type(exc).__name__}: {exc}"
    if mode not in PLAIN_MODES:
        return f"odd mode: {mode} (converted to RGB or gray when read)"
    return None


def verify_images(folder) -> list[tuple[str, str]]:
    """Check every image file under ``folder``: all the problems, in one pass.

    Each file is opened and fully decoded, as training will; none stops the
    check. fastai's ``verify_images`` does the same for its data blocks.

    Parameters
    ----------
    folder : str or path-like, or iterable of them
        A folder, searched recursively for image files by extension
        (hidden files skipped, as ``load_image_folder`` does), or the files
        themselves.

    Returns
    -------
    problems : list of (str, str)
        ``(path, problem)`` for each file with one, in path order; empty
        when every file is fine. A problem starts with its kind:
        "unreadable" (not an image, or damaged), "truncated" (cut short),
        "missing", or "odd mode" (CMYK, 16-bit, float...: read, but
        converted).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from sklearn_cnn.datasets import verify_images
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (8, 8)).save(folder / "fine.png")
    >>> Image.new("CMYK", (8, 8)).save(folder / "print.jpg")
    >>> _ = (folder / "notes.png").write_bytes(b"not an image")
    >>> [(Path(path).name, problem.split(":")[0]) for path, problem in verify_images(folder)]
    [('notes.png', 'unreadable'), ('print.jpg', 'odd mode')]
    """
    if isinstance(folder, (str, os.PathLike)) and Path(folder).is_dir():
        root = Path(folder)
        paths = sorted(os.fspath(p) for p in root.rglob("*")
                       if p.is_file() and is_image_file(p, root))
    elif isinstance(folder, (str, os.PathLike)):
        paths = [os.fspath(folder)]
    else:
        paths = sorted(os.fspath(p) for p in folder)
    problems = [(path, _problem(path)) for path in paths]
    return [(path, problem) for path, problem in problems if problem is not None]
