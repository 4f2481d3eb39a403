"""One rule for images of different sizes, wherever they come from.

Image files, a list of PIL images and a folder of photos may hold images of
several sizes; a network takes one. Everywhere in sklearn-cnn:

- the size the caller asks for (``image_shape=``, ``size=``) wins, and every
  image is resized to it (bilinear, antialiased) without a word;
- else, when all images have one size, that size;
- else the most common size (the first seen, on a tie), with an
  :class:`ImageSizeWarning` that names it and the parameter that sets it.

A fitted model always reads new files and PIL images at the size it was
fitted on. Numeric arrays hold one size by construction and are never
resized implicitly (``sklearn_cnn.preprocessing.Resize`` does that).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from numbers import Integral

from .._warnings import warn_user

__all__ = ["ImageSizeWarning", "choose_size", "size_pair"]

#: Sizes listed in the warning before "...".
SIZES_SHOWN = 5


class ImageSizeWarning(UserWarning):
    """Images of different sizes were resized to one size nobody asked for.

    Image files, lists of PIL images and folders of photos may hold images of
    several sizes; a network takes one. Where the caller gives no size
    (``image_shape=`` or ``size=``), all are resized to the most common size,
    with this warning naming it and the parameter that sets it. Passing that
    parameter silences it.

    See Also
    --------
    sklearn_cnn.preprocessing.Resize : Resize images of one size to another.
    sklearn_cnn.datasets.load_image_folder : Read a folder of photos at one size.

    Examples
    --------
    >>> import warnings
    >>> from PIL import Image
    >>> from sklearn_cnn import ImageSizeWarning
    >>> from sklearn_cnn.preprocessing import ToImage
    >>> images = [Image.new("L", (28, 28)), Image.new("L", (32, 32)),
    ...           Image.new("L", (32, 32))]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     X = ToImage().fit_transform(images)
    >>> X.shape, any(w.category is ImageSizeWarning for w in caught)
    ((3, 1, 32, 32), True)

    Asking for a size resizes every image to it, without a warning:

    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", ImageSizeWarning)
    ...     ToImage(image_shape=(28, 28)).fit_transform(images).shape
    (3, 1, 28, 28)
    """


def size_pair(size, name: str) -> list[int]:
    """``size`` as ``[height, width]`` (an int is a square).

    Parameters
    ----------
    size : int or (int, int)
        A size as a transformer's ``size`` parameter takes it.
    name : str
        The parameter's name, for the error message.

    Returns
    -------
    size : list of int

    Raises
    ------
    ValueError
        If ``size`` is not a positive int or a pair of them.

    Examples
    --------
    >>> from sklearn_cnn._data.sizes import size_pair
    >>> size_pair(28, "size"), size_pair((32, 48), "size")
    ([28, 28], [32, 48])
    """
    pair = [size, size] if isinstance(size, Integral) else list(size)
    if len(pair) != 2 or not all(isinstance(v, Integral) and v >= 1 for v in pair):
        raise ValueError(f"{name} must be an int or (height, width) of positive ints; "
                         f"got {size!r}.")
    return [int(v) for v in pair]


def choose_size(
    sizes: Sequence[tuple[int, int]],
    requested: Sequence[int] | None = None,
    *,
    parameter: str = "image_shape",
) -> tuple[int, int]:
    """The ``(height, width)`` images of the given sizes are brought to.

    Parameters
    ----------
    sizes : sequence of (int, int)
        ``(height, width)`` of each image, in order.
    requested : (int, int) or (C, int, int), default=None
        The size the caller asked for; its last two values win.
    parameter : str, default="image_shape"
        The caller's parameter that sets the size, named in the warning.

    Returns
    -------
    size : (int, int)

    Warns
    -----
    ImageSizeWarning
        When ``requested`` is None and the sizes differ.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_cnn._data.sizes import choose_size
    >>> choose_size([(28, 28), (32, 32)], requested=(16, 16))
    (16, 16)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     choose_size([(28, 28), (32, 32), (32, 32)])
    (32, 32)
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    The images have 2 different sizes (28x28, 32x32); all are resized to 32x32
    (height x width), the most common. Pass image_shape=(height, width) to
    choose the size.
    """
    if requested is not None:
        height, width = tuple(requested)[-2:]
        return int(height), int(width)
    counts = Counter(tuple(size) for size in sizes)
    # most_common keeps first-seen order among equal counts.
    (height, width), _ = counts.most_common(1)[0]
    if len(counts) > 1:
        first, second = counts.most_common(2)
        which = ("the first found of the most common" if first[1] == second[1]
                 else "the most common")
        shown = sorted(counts)[:SIZES_SHOWN]
        listed = ", ".join(f"{h}x{w}" for h, w in shown)
        more = ", ..." if len(counts) > SIZES_SHOWN else ""
        warn_user(
            f"The images have {len(counts)} different sizes ({listed}{more}); all are "
            f"resized to {height}x{width} (height x width), {which}. Pass "
            f"{parameter}=(height, width) to choose the size.",
            ImageSizeWarning,
        )
    return int(height), int(width)
