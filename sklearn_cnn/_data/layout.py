"""Image layouts: how an array holds its images, and the checks of the arrays.

This is the one place that decides how an array of images is laid out, and
checks it. The classifier and every image transformer read their input
through ``_data.images.read_images``, which calls :func:`validate_images`
(for a list of PIL images, on the array it is decoded to), so a layout
accepted by one is accepted by all; ``_data.placement.to_float_nchw``
converts them to ``(N, C, H, W)``.

Accepted layouts
----------------
- ``(N, H, W)``: one channel.
- ``(N, H, W, C)``: channels last, as PIL, imageio and Keras give them.
- ``(N, C, H, W)``: channels first, as PyTorch gives them.
- ``(N, F)``: flat rows, reshaped to ``image_shape`` when given, else to a
  square one-channel image when ``F`` is a perfect square, else to a
  one-row image ``(1, 1, F)`` so that any tabular array still works.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import check_array

__all__ = [
    "ImageLayout",
    "normalize_image_shape",
    "settle_layout",
    "validate_images",
]

#: Number of channels an image may have for its channel axis to be found
#: automatically (gray, gray + alpha, RGB, RGBA).
MAX_AUTO_CHANNELS = 4

DATA_FORMATS = ("auto", "channels_first", "channels_last")


@dataclass(frozen=True)
class ImageLayout:
    """How a batch of images is laid out.

    Attributes
    ----------
    source : {"flat", "nhw", "channels_first", "channels_last"}
        The layout the array came in.
    image_shape : tuple of int
        ``(C, H, W)`` of one image after conversion.
    """

    source: str
    image_shape: tuple[int, int, int]

    @property
    def n_features(self) -> int:
        """Number of values in one image."""
        return math.prod(self.image_shape)


def normalize_image_shape(image_shape) -> tuple[int, int, int] | None:
    """``image_shape`` as ``(C, H, W)`` (``(H, W)`` is one channel), or None.

    Raises
    ------
    ValueError
        If it is not None, ``(H, W)`` or ``(C, H, W)`` of positive integers.
    """
    if image_shape is None:
        return None
    try:
        dims = tuple(int(d) for d in image_shape)
        valid = all(float(d) == float(o) for d, o in zip(dims, image_shape, strict=True))
    except (TypeError, ValueError):
        valid = False
    if not valid or len(dims) not in (2, 3) or min(dims) < 1:
        raise ValueError(
            "image_shape must be None, (H, W) or (C, H, W) with positive "
            f"integers; got {image_shape!r}."
        )
    return dims if len(dims) == 3 else (1, *dims)


def _flat_layout(n_features: int, image_shape, expected) -> ImageLayout:
    shape = normalize_image_shape(image_shape)
    if shape is None and expected is not None and math.prod(expected) == n_features:
        shape = tuple(expected)
    if shape is None:
        side = math.isqrt(n_features)
        shape = (1, side, side) if side * side == n_features else (1, 1, n_features)
    if math.prod(shape) != n_features:
        raise ValueError(
            f"X has {n_features} features per row but image_shape={image_shape!r} "
            f"holds {math.prod(shape)} values; pass an image_shape whose "
            "product is the number of columns of X."
        )
    return ImageLayout("flat", shape)


def _four_d_layout(shape: Sequence[int], data_format: str, expected) -> ImageLayout:
    first = ImageLayout("channels_first", (shape[1], shape[2], shape[3]))
    last = ImageLayout("channels_last", (shape[3], shape[1], shape[2]))
    if data_format == "channels_first":
        return first
    if data_format == "channels_last":
        return last
    if expected is not None:
        # A fitted estimator knows its image shape: let it settle the layout.
        matching = [r for r in (first, last) if r.image_shape == tuple(expected)]
        if matching:
            return matching[0]
    candidates = [r for r in (first, last) if r.image_shape[0] <= MAX_AUTO_CHANNELS]
    if len(candidates) == 2 and first.image_shape == last.image_shape:
        return first  # e.g. (N, 3, 3, 3): both readings give the same image
    if len(candidates) != 1:
        raise ValueError(
            f"Cannot tell the channel axis of images shaped {tuple(shape)}: "
            "axis 1 and axis 3 are both "
            + ("small enough" if candidates else "too large")
            + f" to hold channels (at most {MAX_AUTO_CHANNELS} are detected). "
            "Pass data_format='channels_first' for (N, C, H, W) or "
            "data_format='channels_last' for (N, H, W, C)."
        )
    return candidates[0]


def settle_layout(
    shape: Sequence[int],
    *,
    image_shape=None,
    data_format: str = "auto",
    expected: Sequence[int] | None = None,
) -> ImageLayout:
    """Decide how an array of the given shape holds images.

    Parameters
    ----------
    shape : tuple of int
        Shape of the input array, batch axis first.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` for flat ``(N, F)`` input.
    data_format : {"auto", "channels_first", "channels_last"}, default="auto"
        Where the channel axis of 4-D input is.
    expected : tuple of int, default=None
        ``(C, H, W)`` seen at fit; settles flat and ambiguous 4-D input.

    Returns
    -------
    layout : ImageLayout
    """
    if data_format not in DATA_FORMATS:
        raise ValueError(
            f"data_format must be one of {DATA_FORMATS}; got {data_format!r}."
        )
    ndim = len(shape)
    if ndim == 2:
        return _flat_layout(shape[1], image_shape, expected)
    if ndim == 3:
        return ImageLayout("nhw", (1, shape[1], shape[2]))
    if ndim == 4:
        return _four_d_layout(shape, data_format, expected)
    raise ValueError(
        f"Expected images as a 2-D (N, F), 3-D (N, H, W) or 4-D (N, H, W, C) / "
        f"(N, C, H, W) array; got an array with {ndim} dimension(s) and shape "
        f"{tuple(shape)}."
        + (
            " Reshape your data with X.reshape(1, -1) if it is one sample, or "
            "X.reshape(-1, 1) if it is one feature per sample."
            if ndim == 1
            else ""
        )
    )


def _plainly_valid(X) -> bool:
    """A finite, non-empty numeric numpy array of 2-4 dimensions, needing no checks.

    ``check_array`` costs as much as a one-image forward pass (docs/benchmarks.md,
    section "Prediction"); the common case is decided here at a fraction of
    that, and everything else (and every error) goes through ``check_array``.
    """
    return (
        type(X) is np.ndarray
        and X.dtype.kind in "fiub"
        and 2 <= X.ndim <= 4
        and X.size > 0
        and (X.dtype.kind != "f" or bool(np.isfinite(X).all()))
    )


def validate_images(
    X,
    *,
    image_shape=None,
    data_format: str = "auto",
    expected: Sequence[int] | None = None,
    estimator=None,
) -> tuple[np.ndarray, ImageLayout]:
    """Validate images without converting them (``_data.placement.to_float_nchw`` does).

    Parameters
    ----------
    X : array-like
        Images in any accepted layout (see the module docstring).
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` for flat ``(N, F)`` input.
    data_format : {"auto", "channels_first", "channels_last"}, default="auto"
        Where the channel axis of 4-D input is.
    expected : tuple of int, default=None
        ``(C, H, W)`` seen at fit. When given, images of another shape raise
        a ``ValueError``.
    estimator : estimator instance, default=None
        Used to name the caller in error messages.

    Returns
    -------
    X : ndarray
        The input as a numeric numpy array, in its own layout and dtype.
    layout : ImageLayout
        How ``X`` holds its images; ``_data.placement.to_float_nchw`` converts them.
    """
    name = type(estimator).__name__ if estimator is not None else "the estimator"
    if not _plainly_valid(X):
        # check_array gives scikit-learn's own errors (and wording) for
        # sparse, complex, object, empty and non-finite input.
        X = check_array(
            X,
            accept_sparse=False,
            dtype="numeric",
            allow_nd=True,
            ensure_2d=False,
            ensure_all_finite=True,
            estimator=estimator,
            input_name="X",
        )
    if X.ndim < 2:
        settle_layout(X.shape)  # raises the rank error
    layout = settle_layout(
        X.shape, image_shape=image_shape, data_format=data_format, expected=expected
    )
    if min(layout.image_shape) == 0:
        raise ValueError(
            f"Images of shape (C, H, W) = {layout.image_shape} hold no pixels; "
            "every dimension must be at least 1."
        )
    if expected is not None:
        _check_expected(layout, tuple(expected), X.shape, name)
    return X, layout


def _check_expected(layout: ImageLayout, expected, shape, name: str) -> None:
    if layout.image_shape == expected:
        return
    if layout.source == "flat" and shape[1] != math.prod(expected):
        # scikit-learn's wording, which its estimator checks look for.
        raise ValueError(
            f"X has {shape[1]} features, but {name} is expecting "
            f"{math.prod(expected)} features as input."
        )
    if layout.image_shape[0] != expected[0]:
        raise ValueError(
            f"X has {layout.image_shape[0]} channel(s) per image, but {name} "
            f"was fitted on images with {expected[0]} channel(s); convert the "
            "images (e.g. with sklearn_cnn.preprocessing.Grayscale) first."
        )
    raise ValueError(
        f"X holds images of height x width {layout.image_shape[1:]} but {name} "
        f"was fitted on {tuple(expected[1:])}; resize them (e.g. with "
        "sklearn_cnn.preprocessing.Resize) first."
    )
