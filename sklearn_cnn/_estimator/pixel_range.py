"""The range of the pixels a model was fitted on, and a check of new input against it.

A network learns the scale of its input. uint8 images are scaled to
[0, 1]; float images are taken as they are. So a model fitted on uint8
images and asked to predict float images in 0-255 (or the reverse) sees
pixels 255 times larger (or smaller) than any it trained on, and labels
them all as one class, silently. ``fit`` records the range of its training
pixels after that scaling (``pixel_range_``); prediction warns with a
``PixelRangeWarning`` when its input is far outside it, or squeezed into a
sliver of it.
"""

from __future__ import annotations

import numpy as np

from .._data.lazy import LazyImages
from .._data.placement import ImageInput
from .._warnings import warn_user

__all__ = ["PixelRangeWarning", "check_pixel_range", "pixel_range", "union_range"]

#: Input whose pixels span less than this share of the training range (and
#: more than nothing: a blank image spans nothing) looks rescaled: 1/255 is
#: uint8 against float pixels in 0-255.
SQUEEZED = 1 / 50
#: Pixels read to estimate a range (evenly strided over the array).
SAMPLE = 1_000_000


class PixelRangeWarning(UserWarning):
    """Images given to a fitted model are on another pixel scale than its training images.

    uint8 images are scaled to [0, 1]; float images are taken as they are.
    A model fitted on one and asked to predict the other sees pixels 255
    times larger (or smaller) than any it trained on, and its predictions
    are wrong, often all one class. ``fit`` records the range of its
    training pixels (``pixel_range_``); prediction warns when its images
    are far outside it or squeezed into a sliver of it.

    See Also
    --------
    sklearn_cnn.CNNClassifier : Its ``pixel_range_`` is what is checked.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn_cnn import CNNClassifier, PixelRangeWarning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, (40, 8, 8), dtype=np.uint8)
    >>> clf = CNNClassifier(max_epochs=1, random_state=0).fit(X, np.arange(40) % 2)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = clf.predict(X.astype(np.float32))   # 0-255 floats: 255 times too large
    >>> [w.category.__name__ for w in caught]
    ['PixelRangeWarning']
    """


def pixel_range(images: ImageInput) -> tuple[float, float] | None:
    """1st and 99th percentiles of the pixels as the network gets them; None where unknown.

    Percentiles, not the extremes: a rescaled input moves the bulk of the
    pixels, while a few outliers are normal (a StandardScaler before the
    network turns a pixel that is almost always 0 into large values on new
    images). Arrays: uint8 scaled to [0, 1], read at most ``SAMPLE`` values
    (evenly strided). Image files are decoded to [0, 1]. ``LazyImages``
    apply transformers whose output is not read here: None.
    """
    if isinstance(images.data, LazyImages):
        return None
    if images.is_files:
        return (0.0, 1.0)
    data = images.data
    if data.size == 0:
        return None
    flat = data.reshape(-1)
    low, high = (float(q) for q in np.percentile(flat[::max(1, flat.size // SAMPLE)], [1, 99]))
    if data.dtype == np.uint8:
        low, high = low / 255, high / 255
    return (low, high)


def union_range(first, second):
    """The range covering two ranges (either may be None: unknown)."""
    if first is None or second is None:
        return first if second is None else second
    return (min(first[0], second[0]), max(first[1], second[1]))


def check_pixel_range(fitted: tuple[float, float] | None, images: ImageInput,
                      estimator_name: str) -> None:
    """Warn when ``images`` are on another scale than the training pixels ``fitted``.

    Parameters
    ----------
    fitted : (float, float) or None
        The model's ``pixel_range_``; None (unknown, as for models saved
        before it was recorded) checks nothing.
    images : ImageInput
        The prediction input.
    estimator_name : str
        Named in the message.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn_cnn._data.images import read_images
    >>> images = read_images(np.full((2, 8, 8), 255.0, dtype=np.float32))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_pixel_range((0.0, 1.0), images, "CNNClassifier")
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    Most of the images' pixels lie in [255, 255], far outside [0, 1], where...
    """
    given = pixel_range(images)
    if fitted is None or given is None:
        return
    low, high = fitted
    span = max(high - low, 1e-12)
    given_span = given[1] - given[0]
    outside = given[0] < low - span or given[1] > high + span
    squeezed = 0 < given_span < SQUEEZED * span
    if not (outside or squeezed):
        return
    where = "far outside" if outside else "in a sliver of"
    warn_user(
        f"Most of the images' pixels lie in [{given[0]:.4g}, {given[1]:.4g}], {where} "
        f"[{low:.4g}, {high:.4g}], where most of the pixels this {estimator_name} was "
        "fitted on lie (1st to 99th percentile): its predictions will be wrong. The "
        "pixel scale must be the one of the training images: uint8 images are scaled "
        "to [0, 1], float images are taken as they are. Pass the images in the dtype "
        "and scale used for fit (for example X.astype(np.uint8) for float images in "
        "0-255, or X / 255.0).",
        PixelRangeWarning,
    )
