"""Reading image files: ``ImageFileLoader``."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torchvision.transforms.v2 import functional as F

from .._data.files import CHANNELS, mode_for_channels
from .._data.images import is_path_array, read_images
from .._data.lazy import LazyImages, check_memory_budget
from .._data.sizes import size_pair
from .._names import stable_name
from ._base import COMMON_CONSTRAINTS, ImageTransformer, shared_docs

__all__ = ["ImageFileLoader"]


@shared_docs
@stable_name("sklearn_cnn.preprocessing")
class ImageFileLoader(ImageTransformer):
    """Load image files (paths) into float32 ``(N, C, H, W)`` arrays with Pillow.

    Pixels are read as [0, 1]. Arrays of pixels, in any layout the other
    transformers take, pass through converted (and resized to ``size``), so
    one pipeline serves both files and arrays.

    With ``lazy=True``, ``transform`` decodes nothing: it returns a
    ``LazyImages`` (the paths, their mode and size), which the other image
    transformers extend with themselves and ``CNNClassifier`` decodes batch
    by batch, so a pipeline on a folder larger than memory runs in flat
    memory. Eager loading (the default) warns with a ``MemoryBudgetWarning``
    before decoding more than ``max_bytes``.

    Parameters
    ----------
    size : int or (int, int), default=None
        ``(height, width)`` every image is resized to (bilinear,
        antialiased). None keeps the files' own size; files of different
        sizes are resized to the most common one, with an
        ``ImageSizeWarning`` naming it. After ``fit``, files are always read
        at the fitted size.
    mode : {"L", "RGB", "RGBA"}, default=None
        Colour mode the files are converted to; None reads them as gray
        ("L") when all are gray, else as "RGB".
    lazy : bool, default=False
        Return image files as a ``LazyImages`` that is decoded only when
        needed (batch by batch), rather than as an array. Arrays of pixels
        are returned as arrays either way.
    max_bytes : int, "auto" or None, default="auto"
        Budget of the float32 array eager loading builds: above it,
        ``transform`` warns with a ``MemoryBudgetWarning`` naming
        ``lazy=True``. "auto" is half of the machine's physical memory;
        None never warns.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of flat ``(N, F)`` array input.
    data_format : {"auto", "channels_first", "channels_last"}, default="auto"
        Where the channel axis of 4-D array input is.

    Attributes
    ----------
    input_shape_ : tuple of int
        ``(C, H, W)`` of the images read in ``fit`` (after ``size``, for files).
    mode_ : str
        The PIL mode files are decoded in.
    n_features_in_ : int
        Values per image; set when ``fit`` got an array rather than paths.
    $feature_names_attribute

    See Also
    --------
    LazyImages : What ``transform`` returns with ``lazy=True``.
    sklearn_cnn.datasets.load_image_folder : Read a folder of labelled images.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> from sklearn_cnn.preprocessing import ImageFileLoader
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.png") for i in range(3)]
    >>> for p in paths:
    ...     Image.fromarray(np.zeros((20, 30), dtype=np.uint8)).save(p)
    >>> ImageFileLoader(size=(28, 28)).fit_transform(paths).shape
    (3, 1, 28, 28)
    >>> ImageFileLoader(lazy=True).fit_transform(paths)
    LazyImages(3 files, mode='L', size=(20, 30), steps=[])
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "size": [None, Interval(Integral, 1, None, closed="left"), tuple, list],
        "mode": [None, StrOptions({"L", "RGB", "RGBA"})],
        "lazy": ["boolean"],
        "max_bytes": [None, Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    }

    def __init__(self, size=None, mode=None, lazy=False, max_bytes="auto", *, image_shape=None,
                 data_format="auto"):
        self.size = size
        self.mode = mode
        self.lazy = lazy
        self.max_bytes = max_bytes
        self.image_shape = image_shape
        self.data_format = data_format

    def _size(self) -> tuple[int, int] | None:
        return None if self.size is None else tuple(size_pair(self.size, "size"))

    def fit(self, X, y=None):
        """Read the files' headers (or check the array) to fix mode and size.

        Parameters
        ----------
        X : 1-D array-like of str or os.PathLike, or array-like of images
            Image files, or pixels in any accepted layout.
        y : None
            Ignored.

        Returns
        -------
        self : ImageFileLoader
            The fitted loader.
        """
        if not is_path_array(X):
            super().fit(X, y)
            channels = self.input_shape_[0]
            self.mode_ = mode_for_channels(channels) if channels in CHANNELS.values() else None
            return self
        self._validate_params()
        images = read_images(X, image_shape=self._size(), mode=self.mode,
                             size_parameter="size", estimator=self)
        self.mode_ = images.mode
        self.input_shape_ = images.image_shape
        if hasattr(self, "n_features_in_"):
            del self.n_features_in_
        return self

    def transform(self, X) -> np.ndarray:
        """Decode the files (or convert the array) to float32 ``(N, C, H, W)``.

        Parameters
        ----------
        X : 1-D array-like of str or os.PathLike, or array-like of images
            Image files, or pixels in the shape seen in ``fit``.

        Returns
        -------
        images : ndarray of shape (N, C, H, W), dtype float32, or LazyImages
            A LazyImages of the files when ``lazy=True``.

        Warns
        -----
        MemoryBudgetWarning
            When ``lazy=False`` and the array would exceed ``max_bytes``.
        """
        check_is_fitted(self, "input_shape_")
        if not is_path_array(X):
            return super().transform(X)
        if self.mode_ is None:
            raise ValueError(
                f"This ImageFileLoader was fitted on {self.input_shape_[0]}-channel "
                "arrays, which no image file mode has; fit it on files instead."
            )
        images = read_images(X, expected=self.input_shape_, estimator=self)
        if self.lazy:
            return LazyImages(images.data, self.mode_, images.image_shape[1:])
        check_memory_budget(len(images), images.image_shape, self.max_bytes,
                            owner=type(self).__name__)
        return images.to_array()

    def _check_fitted_state(self) -> None:
        super()._check_fitted_state()
        if not hasattr(self, "input_shape_"):  # not fitted
            return
        shape = tuple(self.input_shape_)
        expected = mode_for_channels(shape[0]) if shape[0] in CHANNELS.values() else None
        if getattr(self, "mode_", None) != expected:
            raise ValueError(
                f"ImageFileLoader.mode_ is {getattr(self, 'mode_', None)!r}; expected "
                f"{expected!r}, the mode of the images of input_shape_={shape}.")
        size = self._size()
        # Fitted on files (no n_features_in_), it read them at ``size``.
        if size is not None and not hasattr(self, "n_features_in_") and shape[1:] != size:
            raise ValueError(
                f"ImageFileLoader.input_shape_ is {shape}; expected {(shape[0], *size)}: "
                f"files are read at size={self.size!r}.")

    def _transform_tensor(self, images: torch.Tensor) -> torch.Tensor:
        size = self._size()
        if size is None or tuple(images.shape[-2:]) == size:
            return images
        return F.resize(images, list(size), antialias=True)
