"""What the user passed, read as images: file paths, PIL images or pixel arrays.

This is the one place that tells image files from pixels. The classifier
(to fit and to predict), ``ImageFileLoader`` and the explanations call
:func:`read_images`, so an input accepted by one is read the same way by all:

- a 1-D array-like of paths is kept as paths, decoded lazily (batch by
  batch, or one file at a time by a ``DataLoader``) at one size and mode,
  chosen by the rule of ``sklearn_cnn._data.sizes`` (``sklearn_cnn._data.files``);
- a ``LazyImages`` (``ImageFileLoader(lazy=True)``) is files too, decoded
  with its transformers applied (``sklearn_cnn._data.lazy``);
- anything else is validated, not converted, as ``sklearn_cnn._data.layout``
  reads it (a list of PIL images is decoded there).

Given the estimator that reads them, it also sets or checks the estimator's
``feature_names_in_``, as scikit-learn's ``validate_data`` does: a DataFrame
of flat ``(N, F)`` images names its ``F`` pixel columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.utils.validation import validate_data

from .files import (
    ImageFileDataset,
    check_paths,
    decode_images,
    file_input_shape,
    is_path_array,
    mode_for_channels,
    read_headers,
)
from .layout import ImageLayout, to_float_nchw, validate_images
from .lazy import LazyImages
from .placement import place_images
from .sample_weights import weighted
from .workers import load_file_batches

__all__ = ["ImageInput", "check_feature_names", "read_images"]


@dataclass(frozen=True)
class ImageInput:
    """Images as read from the user's input, not yet converted to float.

    Attributes
    ----------
    data : list of str, LazyImages or ndarray
        The image files' paths (or a ``LazyImages``: files and the
        transformers to apply to them), or the validated pixels in their
        own layout and dtype.
    layout : ImageLayout or None
        How ``data`` holds its images; None for files.
    image_shape : (int, int, int)
        ``(C, H, W)`` of one image as the network takes it.
    """

    data: list[str] | LazyImages | np.ndarray
    layout: ImageLayout | None
    image_shape: tuple[int, int, int]

    @property
    def is_files(self) -> bool:
        """Whether the images are files, decoded only when asked for."""
        return self.layout is None

    @property
    def mode(self) -> str:
        """The PIL mode files are decoded in (the one of ``image_shape[0]`` channels)."""
        return mode_for_channels(self.image_shape[0])

    def __len__(self) -> int:
        return len(self.data)

    def tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """Pixels as one float32 ``(N, C, H, W)`` tensor, placed for ``device``.

        Arrays go through ``place_images`` (on a GPU with room, moved there
        once); files are decoded, all of them.
        """
        if self.is_files:
            return torch.from_numpy(self.to_array())
        return place_images(self.data, self.layout, torch.device(device))

    def batches(self, batch_size: int, device: torch.device | str = "cpu",
                num_workers: int | str = 0) -> Iterator[torch.Tensor]:
        """Float32 ``(n, C, H, W)`` tensors of consecutive images, ``batch_size`` at a time.

        Files are decoded one batch at a time, on the host, by ``num_workers``
        DataLoader workers (``sklearn_cnn._data.workers``; 0: as the batches are
        asked for); arrays are placed once (see :meth:`tensor`) and sliced.
        """
        if isinstance(self.data, LazyImages):
            return self.data.batches(batch_size)
        if self.is_files:
            return iter(load_file_batches(self.data, self.mode, self.image_shape[1:],
                                          batch_size, num_workers, device))
        return iter(self.tensor(device).split(batch_size))

    def training_data(self, y: np.ndarray, sample_weight: np.ndarray | None,
                      device: torch.device | str = "cpu"):
        """What skorch trains on: the images with their targets' order and weights.

        Files: an ``ImageFileDataset`` that decodes one file per item (in a
        ``DataLoader``), with ``y`` and the weights. Arrays: the float32
        ``(N, C, H, W)`` tensor of :meth:`tensor`, or skorch's weighted dict
        input ``{"X": images, "sample_weight": weights}`` (``_data.sample_weights``).

        Parameters
        ----------
        y : ndarray
            The encoded targets, one per image.
        sample_weight : ndarray of shape (N,) or None
            Validated weights (``_data.sample_weights.check_sample_weight``).
        device : torch.device or str, default="cpu"
            Where training runs.

        Returns
        -------
        data : Dataset, Tensor or dict of Tensor
        """
        if isinstance(self.data, LazyImages):
            return self.data.dataset(y, sample_weight)
        if self.is_files:
            return ImageFileDataset(self.data, y, self.mode, self.image_shape[1:], sample_weight)
        images = self.tensor(device)
        if sample_weight is None:
            return images
        return weighted(images, torch.from_numpy(sample_weight).to(images.device))

    def to_array(self) -> np.ndarray:
        """Pixels as a new float32 ``(N, C, H, W)`` array; files are all decoded."""
        if not self.is_files:
            return to_float_nchw(self.data, self.layout)
        if isinstance(self.data, LazyImages):
            return np.asarray(self.data)
        pixels = decode_images(self.data, self.mode, self.image_shape[1:])
        return to_float_nchw(pixels, ImageLayout("channels_last", self.image_shape))


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
            return ImageInput(paths, None, tuple(expected))
        _, shape = file_input_shape(paths, image_shape, expected, mode=mode,
                                    parameter=size_parameter)
        return ImageInput(paths, None, shape)
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
    return ImageInput(images, None, images.image_shape)


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
        # No names on either side: validate_data would do nothing, here in
        # ~20 us per call, as much as a one-image prediction.
        return
    # skip_check_array: only the names here, the pixels are read as images
    # below; ensure_2d=False: leave n_features_in_ (values per image, of
    # input of any rank) to the estimator.
    validate_data(estimator, X, reset=reset, skip_check_array=True, ensure_2d=False)
