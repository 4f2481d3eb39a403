"""What the user passed as images: told apart, and read without decoding or converting.

This is the one place that tells what ``X`` is, and :func:`read_images` the
one entry point that reads it. The classifier (to fit and to predict), the
image transformers, the embeddings, the plots and the explanations call it,
so an input accepted by one is read the same way by all. Each kind of input
takes one way through ``_data``, entering each module once:

- a ``LazyImages`` (``ImageFileLoader(lazy=True)``) is image files and the
  transformers to apply to them (``_data.lazy``); ``check_files`` reads
  their headers (``_data.files``);
- a 1-D array-like of paths (a list, an array, a pandas or polars Series or
  one-column DataFrame of them) stays paths, decoded later at one size and
  mode: their headers (``_data.files``, sizes as displayed:
  ``_data.decoding``) give the size (the rule of ``_data.sizes``), unless
  a fitted shape gives it;
- a list of PIL images is decoded now to uint8 ``(N, H, W, C)``
  (``_data.files``, ``_data.decoding``, ``_data.sizes``) and checked as the
  pixels it has become (``_data.layout``);
- anything else is pixels, validated in their own layout and dtype
  (``_data.layout``).

The :class:`~sklearn_cnn._data.placement.ImageInput` it returns hands the
images on to the network (``_data.placement``).

Given the estimator that reads them, it also sets or checks the estimator's
``feature_names_in_``, as scikit-learn's ``validate_data`` does: a DataFrame
of flat ``(N, F)`` images names its ``F`` pixel columns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from PIL import Image
from sklearn.utils.validation import validate_data

from .files import file_input_shape, pil_images_to_array, read_headers
from .layout import validate_images
from .lazy import LazyImages
from .placement import ImageInput

__all__ = [
    "ImageInput",
    "check_feature_names",
    "check_paths",
    "is_path_array",
    "is_pil_list",
    "read_images",
]


def one_column(X):
    """A pandas or polars Series, or one-column DataFrame, as a 1-D array; else ``X``.

    "A CSV of path,label" gives paths as ``df["path"]`` or ``df[["path"]]``.
    """
    if isinstance(X, np.ndarray) or not (hasattr(X, "to_numpy") and hasattr(X, "shape")):
        return X
    if len(X.shape) == 2 and X.shape[1] == 1:
        return np.asarray(X.to_numpy())[:, 0]
    return np.asarray(X.to_numpy()) if len(X.shape) == 1 else X


def is_path_array(X) -> bool:
    """Whether ``X`` is a 1-D sequence of file paths (str or os.PathLike).

    Also a pandas or polars Series, or one-column DataFrame, of them.
    """
    if isinstance(X, (str, bytes, os.PathLike)):
        return False
    X = one_column(X)
    if isinstance(X, np.ndarray):
        if X.ndim != 1 or X.dtype.kind not in "UO":
            return False
    elif not isinstance(X, Sequence) or hasattr(X, "shape"):
        return False
    return len(X) > 0 and all(isinstance(p, (str, os.PathLike)) for p in X)


def is_pil_list(X) -> bool:
    """Whether ``X`` is a non-empty list or tuple of PIL images."""
    return (isinstance(X, (list, tuple)) and len(X) > 0
            and all(isinstance(image, Image.Image) for image in X))


def check_paths(X) -> list[str]:
    """The paths of ``X`` (a path array, see :func:`is_path_array`) as strings."""
    return [os.fspath(p) for p in one_column(X)]


def read_images(
    X,
    *,
    image_shape=None,
    data_format: str = "auto",
    expected: Sequence[int] | None = None,
    estimator=None,
    mode: str | None = None,
    size_parameter: str = "image_shape",
    check_files: bool = False,
) -> ImageInput:
    """Read what the user passed as images, without decoding files or converting pixels.

    Told apart in this order: a ``LazyImages``, paths, PIL images (decoded
    now: they are no files), pixels (see the module docstring).

    Parameters
    ----------
    X : 1-D array-like of str or os.PathLike, LazyImages, list of PIL images, or array-like
        Image files, or images in any layout of ``sklearn_cnn._data.layout``.
        A ``LazyImages`` has its own shape (``image_shape`` does not apply).
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)``: for flat ``(N, F)`` arrays, their shape;
        for files and PIL images, the size (and channels: 1 gray, 3 RGB) to
        read them at.
    data_format : {"auto", "channels_first", "channels_last"}, default="auto"
        Where the channel axis of 4-D input is.
    expected : (C, H, W), default=None
        The shape of a fitted model: arrays of another shape raise a
        ``ValueError``; files are read at it.
    estimator : estimator instance, default=None
        Named in error messages. Its ``feature_names_in_`` is set (or
        removed, for input without column names) when ``expected`` is None,
        a fresh fit, and checked against the input's columns otherwise; see
        :func:`check_feature_names`.
    mode : {"L", "RGB", "RGBA"}, default=None
        PIL mode to read files in when not ``expected``; None: "L" if every
        file is gray, else "RGB" (or the channels of ``image_shape``).
    size_parameter : str, default="image_shape"
        The caller's parameter that sets the files' size, named in the
        ``ImageSizeWarning``.
    check_files : bool, default=False
        With ``expected``, still open every file now, so that a missing or
        unreadable one fails before any work starts rather than when it is
        decoded. Without ``expected`` the files are always opened (their
        headers give the size).

    Returns
    -------
    images : ImageInput

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn._data.images import read_images
    >>> images = read_images(np.zeros((5, 28, 28, 3), dtype=np.uint8))
    >>> images.is_files, images.image_shape, images.to_array().shape
    (False, (3, 28, 28), (5, 3, 28, 28))
    """
    if estimator is not None:
        check_feature_names(estimator, X, reset=expected is None)
    if isinstance(X, LazyImages):
        return _read_lazy(X, expected, check_files)
    if is_path_array(X):
        paths = check_paths(X)
        if expected is not None and not check_files:
            return ImageInput(paths, None, tuple(expected), is_files=True)
        _, shape = file_input_shape(paths, image_shape, expected, mode=mode,
                                    parameter=size_parameter)
        return ImageInput(paths, None, shape, is_files=True)
    if is_pil_list(X):
        X = pil_images_to_array(X, expected=expected, image_shape=image_shape)
        data_format = "channels_last"
    array, layout = validate_images(
        X, image_shape=image_shape, data_format=data_format, expected=expected,
        estimator=estimator,
    )
    return ImageInput(array, layout, layout.image_shape)


def _read_lazy(images: LazyImages, expected, check_files: bool) -> ImageInput:
    """``images`` as an ``ImageInput``, checked against a fitted shape."""
    if expected is not None and images.image_shape != tuple(expected):
        raise ValueError(
            f"The images are {images.image_shape} (C, H, W) after their steps; "
            f"{tuple(expected)} are expected, as in fit."
        )
    if check_files:
        read_headers(list(images.paths))
    return ImageInput(images, None, images.image_shape, is_files=True)


def check_feature_names(estimator, X, *, reset: bool) -> None:
    """Set or check ``estimator.feature_names_in_`` from the column names of ``X``.

    scikit-learn's own rule (``validate_data``): with ``reset``, a DataFrame's
    string column names become ``feature_names_in_`` and input without them
    removes it; otherwise columns in another order or with other names raise
    a ``ValueError``, and input with names where the fit had none (or
    without names where the fit had them) warns.

    Parameters
    ----------
    estimator : estimator instance
        The estimator reading ``X``.
    X : object
        Its input: a pandas or polars DataFrame of flat images, an array,
        paths, PIL images.
    reset : bool
        Whether ``X`` is what the estimator is (freshly) fitted on.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_cnn.preprocessing import ToImage
    >>> from sklearn_cnn._data.images import check_feature_names
    >>> transformer = ToImage()
    >>> check_feature_names(transformer, pd.DataFrame(np.zeros((2, 3)), columns=list("abc")),
    ...                     reset=True)
    >>> transformer.feature_names_in_
    array(['a', 'b', 'c'], dtype=object)
    """
    if type(X) is np.ndarray and not hasattr(estimator, "feature_names_in_"):
        # No names on either side: validate_data would do nothing, at the cost
        # of a one-image prediction (docs/benchmarks.md, section "Prediction").
        return
    # skip_check_array: only the names here, the pixels are read as images
    # below; ensure_2d=False: leave n_features_in_ (values per image, of
    # input of any rank) to the estimator.
    validate_data(estimator, X, reset=reset, skip_check_array=True, ensure_2d=False)
