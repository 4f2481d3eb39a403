"""``load_image_folder``: one subfolder per class, as arrays or as paths."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params
from torchvision.datasets.folder import make_dataset

from .._data.files import (
    IMAGE_EXTENSIONS,
    common_mode,
    decode_images,
    is_image_file,
    read_headers,
)
from .._data.sizes import choose_size

__all__ = ["load_image_folder"]

#: Folders of at least this many images show a progress bar while decoding
#: (on a terminal, unless ``progress`` says otherwise).
PROGRESS_MIN_IMAGES = 1000


def _class_folders(root: Path) -> list[str]:
    """The names of the visible subfolders of ``root``, sorted."""
    if not root.exists():
        raise FileNotFoundError(f"No such folder: '{root}'.")
    if not root.is_dir():
        raise NotADirectoryError(
            f"'{root}' is a file, not a folder with one subfolder of images per class."
        )
    classes = sorted(entry.name for entry in os.scandir(root)
                     if entry.is_dir() and not entry.name.startswith("."))
    if not classes:
        raise ValueError(
            f"'{root}' has no class subfolders; it needs one subfolder of images "
            f"per class, such as '{root / 'cat' / '1.jpg'}' and "
            f"'{root / 'dog' / '2.jpg'}'."
        )
    return classes


def _image_files(root: Path, classes: list[str]) -> list[tuple[str, int]]:
    """``(path, class index)`` of every visible image file, class by class, sorted."""
    # torchvision's ImageFolder walk (recursive, sorted, symlinks followed);
    # the empty classes are reported below, all at once.
    samples = make_dataset(os.fspath(root), {name: i for i, name in enumerate(classes)},
                           is_valid_file=lambda path: is_image_file(path, root),
                           allow_empty=True)
    found = {index for _, index in samples}
    empty = [root / name for i, name in enumerate(classes) if i not in found]
    if empty:
        listed = "\n".join(f"  {path}" for path in empty)
        raise ValueError(
            f"{len(empty)} class folder(s) hold no image files "
            f"({', '.join(IMAGE_EXTENSIONS)}; hidden files are skipped):\n{listed}"
        )
    return samples


@validate_params(
    {
        "path": [str, os.PathLike],
        "as_paths": ["boolean"],
        "size": [None, tuple, list],
        "mode": [None, StrOptions({"L", "RGB"})],
        "progress": ["boolean", None],
    },
    prefer_skip_nested_validation=True,
)
def load_image_folder(path, *, as_paths=False, size=None, mode=None, progress=None):
    """Load a folder of images with one subfolder per class.

    The layout torchvision's ``ImageFolder`` and Keras'
    ``image_dataset_from_directory`` read::

        path/cat/001.jpg
        path/cat/nested/002.png
        path/dog/003.jpg

    Every image file under a class folder (at any depth, symbolic links
    followed) is a sample of that class. Hidden files and folders (their
    name starts with ".") and files that are not images (by extension:
    torchvision's ``IMG_EXTENSIONS`` and .gif) are skipped.

    Images are read as a viewer shows them: EXIF orientation applied,
    16-bit and 32-bit integer samples scaled to 8 bits (16-bit: value //
    256), float samples taken as [0, 1], the first frame of an animated
    GIF; ``verify_images`` lists the files this concerns.

    Parameters
    ----------
    path : str or os.PathLike
        The folder.
    as_paths : bool, default=False
        Return the image files' paths instead of their pixels, for
        ``CNNClassifier`` to decode them lazily, batch by batch (a folder
        larger than memory trains in flat memory). The files' headers are
        still read, so that a file that is not an image is reported now.
    size : (int, int), default=None
        ``(height, width)`` every image is resized to (bilinear,
        antialiased). None: the images' size; when they differ, the most
        common one, with an ``ImageSizeWarning`` naming it. Not with
        ``as_paths=True``, which decodes nothing: set
        ``CNNClassifier(image_shape=...)`` or ``ImageFileLoader(size=...)``.
    mode : {"L", "RGB"}, default=None
        Read the images as gray ("L") or RGB. None: gray when every image
        is gray, else RGB (gray images get three equal channels). Not
        with ``as_paths=True``, as ``size``.
    progress : bool, default=None
        Show a progress bar (tqdm) while decoding. None: on a terminal, for
        folders of at least 1,000 images.

    Returns
    -------
    X : ndarray of shape (n_images, height, width, channels), dtype uint8
        The pixels, as displayed; with ``as_paths=True``, a 1-D array
        of the files' paths (str) instead.
    y : ndarray of shape (n_images,), dtype str
        The name of each image's class folder.

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        If ``path`` is missing or is a file.
    ValueError
        If ``path`` has no class subfolders, if class folders hold no image
        files (all of them named), if image files cannot be read (all of
        them named, with the reason), or if ``size`` or ``mode`` come with
        ``as_paths=True``.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from sklearn_cnn.datasets import load_image_folder
    >>> root = Path(tempfile.mkdtemp())
    >>> for label in ["cat", "dog"]:
    ...     (root / label).mkdir()
    ...     for i in range(3):
    ...         Image.new("RGB", (20, 16)).save(root / label / f"{i}.png")
    >>> X, y = load_image_folder(root)
    >>> X.shape, X.dtype, y.tolist()
    ((6, 16, 20, 3), dtype('uint8'), ['cat', 'cat', 'cat', 'dog', 'dog', 'dog'])
    >>> paths, y = load_image_folder(root, as_paths=True)
    >>> Path(paths[0]).relative_to(root).as_posix()
    'cat/0.png'
    """
    if as_paths and (size is not None or mode is not None):
        raise ValueError(
            "load_image_folder(as_paths=True) returns paths and decodes nothing, so it "
            f"takes no size or mode (got size={size!r}, mode={mode!r}). Set the size where "
            "the files are decoded: CNNClassifier(image_shape=(H, W)) or (C, H, W), or "
            "ImageFileLoader(size=(H, W), mode=...) in a Pipeline."
        )
    root = Path(path)
    classes = _class_folders(root)
    samples = _image_files(root, classes)
    paths = [file for file, _ in samples]
    y = np.array([classes[index] for _, index in samples])
    sizes, modes = read_headers(paths)
    if as_paths:
        return np.array(paths), y
    mode = mode or common_mode(modes)
    size = choose_size(sizes, size, parameter="size")
    show = progress if progress is not None else (None if len(paths) >= PROGRESS_MIN_IMAGES
                                                  else False)
    return decode_images(paths, mode, size, progress=show), y
