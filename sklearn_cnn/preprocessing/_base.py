"""What every image transformer shares: validation, chunking, the fitted shape, set_output."""

from __future__ import annotations

import math
from string import Template

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import StrOptions  # as scikit-learn's own estimators
from sklearn.utils.validation import check_is_fitted

from .._data.images import is_path_array, read_images
from .._data.layout import DATA_FORMATS, ImageLayout, normalize_image_shape
from .._data.lazy import CHUNK_BYTES, LazyImages
from .._data.placement import to_float_nchw
from .._names import stable_name
from .._persistence.state import check_input_attributes, fitted_attributes

__all__ = ["CHUNK_BYTES", "ImageTransformer", "shared_docs"]

COMMON_CONSTRAINTS = {
    "image_shape": [None, tuple, list],
    "data_format": [StrOptions(set(DATA_FORMATS))],
}


_FEATURE_NAMES_ATTRIBUTE = """feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the pixel columns of the DataFrame (of flat images) seen in
        ``fit``; defined only when those are all strings."""

_SHARED_DOCS = {
    "layout_parameters": """image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of flat ``(N, F)`` input.
    data_format : {"auto", "channels_first", "channels_last"}, default="auto"
        Where the channel axis of 4-D input is.""",
    "layout_attributes": """input_shape_ : tuple of int
        ``(C, H, W)`` of the images seen in ``fit``.
    n_features_in_ : int
        Values per image.
    """ + _FEATURE_NAMES_ATTRIBUTE,
    "feature_names_attribute": _FEATURE_NAMES_ATTRIBUTE,
}

#: What ``set_output(transform=...)`` takes, as scikit-learn's ``set_output``.
OUTPUT_CONTAINERS = ("default", "pandas", "polars")


def shared_docs(cls: type) -> type:
    """Fill ``$layout_parameters``, ``$layout_attributes`` and ``$feature_names_attribute``.

    Every transformer has the same two layout parameters and three fitted
    attributes; their text is written once, here, and put in the class docstring.
    """
    cls.__doc__ = Template(cls.__doc__).safe_substitute(_SHARED_DOCS)
    return cls


@stable_name("sklearn_cnn.preprocessing")
class ImageTransformer(TransformerMixin, BaseEstimator):
    """Base class of the image transformers.

    A subclass declares its parameters in ``__init__`` (``image_shape`` and
    ``data_format`` among them), adds their constraints to
    ``_parameter_constraints``, and implements ``_transform_tensor``, a
    batched op on a float32 ``(N, C, H, W)`` tensor. It may override
    ``_fit_images`` to learn from the images.

    Every transformer takes any layout the classifier takes and returns
    float32 ``(N, C, H, W)``, converting and transforming in chunks of about
    ``CHUNK_BYTES``. Fitted on a DataFrame of flat images, it keeps the
    column names in ``feature_names_in_`` and checks them in ``transform``,
    as scikit-learn's transformers do.

    On a ``LazyImages`` (``ImageFileLoader(lazy=True)``), ``fit`` streams
    the images in batches and ``transform`` decodes nothing: it returns the
    ``LazyImages`` with a copy of the fitted transformer appended.

    See Also
    --------
    sklearn_cnn.preprocessing.Rescale : A subclass with parameters.
    sklearn_cnn.preprocessing.ChannelStandardizer : A subclass that learns from the images.

    Examples
    --------
    A transformer that inverts pixels in [0, 1] (uint8 input is read as
    [0, 1]), with its ``maximum`` validated as scikit-learn validates
    parameters:

    >>> from numbers import Real
    >>> import numpy as np
    >>> from sklearn.base import clone
    >>> from sklearn_cnn.preprocessing import ImageTransformer
    >>> class Invert(ImageTransformer):
    ...     _parameter_constraints = {**ImageTransformer._parameter_constraints,
    ...                               "maximum": [Real]}
    ...
    ...     def __init__(self, maximum=1.0, *, image_shape=None, data_format="auto"):
    ...         self.maximum = maximum
    ...         self.image_shape = image_shape
    ...         self.data_format = data_format
    ...
    ...     def _transform_tensor(self, images):
    ...         return self.maximum - images
    >>> X = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    >>> inverted = clone(Invert()).fit_transform(X)
    >>> inverted.shape, inverted.dtype, float(inverted.min())
    ((2, 3, 8, 8), dtype('float32'), 1.0)
    """

    _parameter_constraints: dict = COMMON_CONSTRAINTS

    def fit(self, X, y=None):
        """Check the images and learn their shape (and any statistics).

        Parameters
        ----------
        X : array-like or LazyImages
            Images as ``(N, H, W)``, ``(N, H, W, C)``, ``(N, C, H, W)`` or
            flat ``(N, F)`` (see ``image_shape``); or image files to stream.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        normalize_image_shape(self.image_shape)
        X, layout = self._validate(X, expected=None)
        self._check_input_shape(layout.image_shape)
        self._fit_images(X, layout)
        self.input_shape_ = layout.image_shape
        self.n_features_in_ = layout.n_features
        return self

    def transform(self, X) -> np.ndarray:
        """Transform the images.

        Parameters
        ----------
        X : array-like or LazyImages
            Images of the shape seen in ``fit``, in any accepted layout.

        Returns
        -------
        images : ndarray of shape (N, C, H, W), dtype float32, or LazyImages
            A LazyImages input gives a LazyImages, with this transformer appended.
        """
        check_is_fitted(self)
        X, layout = self._validate(X, expected=self.input_shape_)
        if isinstance(X, LazyImages):
            return X.then(self)
        return self._transform_in_chunks(X, layout)

    def set_output(self, *, transform=None):
        """Set the output container of ``transform`` and ``fit_transform``.

        The output is always a float32 ``(N, C, H, W)`` image array, which no
        DataFrame can hold: only ``"default"`` (and None) are accepted, so
        that ``Pipeline(...).set_output(transform="default")`` works, and
        ``"pandas"`` or ``"polars"`` raise a ``ValueError``. (The global
        ``sklearn.set_config(transform_output=...)`` does not apply to these
        transformers, as it does not to scikit-learn's transformers without
        ``get_feature_names_out``.)

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            ``"default"``: the transformer's own output, an ndarray;
            ``"pandas"``, ``"polars"``: not supported, a ``ValueError``;
            None: the configuration is unchanged.

        Returns
        -------
        self : estimator instance
            The transformer itself.

        Examples
        --------
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn_cnn.preprocessing import Rescale, Resize
        >>> make_pipeline(Rescale(), Resize(16)).set_output(transform="default")[-1]
        Resize(size=16)
        """
        if transform is None:
            return self
        if transform not in OUTPUT_CONTAINERS:
            raise ValueError(
                f"transform must be one of {', '.join(map(repr, OUTPUT_CONTAINERS))} or "
                f"None; got {transform!r}."
            )
        if transform != "default":
            raise ValueError(
                f"{type(self).__name__} cannot output a {transform} DataFrame: its output "
                "is an (N, C, H, W) image array, which has no columns. Use "
                "set_output(transform='default') (or None)."
            )
        # Kept where scikit-learn's set_output keeps it (clone copies it).
        if not hasattr(self, "_sklearn_output_config"):
            self._sklearn_output_config = {}
        self._sklearn_output_config["transform"] = transform
        return self

    # ------------------------------------------------------------ for subclasses

    def _validate(self, X, expected):
        """Validated pixels and their layout; on a fresh fit (no ``expected``)
        sets ``feature_names_in_``, else checks it."""
        if is_path_array(X):
            raise TypeError(
                f"{type(self).__name__} takes images as pixel arrays, not image file "
                "paths; read the files first with ImageFileLoader, e.g. "
                f"make_pipeline(ImageFileLoader(), {type(self).__name__}(...))."
            )
        images = read_images(
            X, image_shape=self.image_shape, data_format=self.data_format,
            expected=expected, estimator=self,
        )
        if isinstance(images.data, LazyImages):  # decoded as channels-first batches
            return images.data, ImageLayout("channels_first", images.image_shape)
        return images.data, images.layout

    def _check_input_shape(self, input_shape: tuple[int, int, int]) -> None:
        """Raise a ValueError if the transformer cannot take these images."""

    def _fit_images(self, X: np.ndarray, layout: ImageLayout) -> None:
        """Learn from the validated images (stateless transformers learn nothing)."""

    def _check_fitted_state(self) -> None:
        """Raise a ValueError if the fitted attributes do not fit the parameters or each other.

        ``sklearn_cnn.load`` calls it on the attributes it read from a file
        (``_persistence.state.set_state``), so that a damaged file is refused
        there rather than blamed on the images at ``transform``. This checks
        the parameters, ``input_shape_`` (three positive ints, images the
        transformer takes), ``n_features_in_`` and ``feature_names_in_``; a
        subclass with fitted arrays extends it to check them against these.
        An unfitted transformer passes.
        """
        if not fitted_attributes(self):
            return
        self._validate_params()
        check_input_attributes(self)
        self._check_input_shape(tuple(self.input_shape_))

    def _transform_tensor(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers

    def _chunks(self, X: np.ndarray | LazyImages, layout: ImageLayout):
        """Float32 ``(n, C, H, W)`` tensors of consecutive images of ``X``."""
        if isinstance(X, LazyImages):  # decoded one chunk at a time
            step = X.batch_size(CHUNK_BYTES)
            for start, batch in zip(range(0, len(X), step), X.batches(step), strict=True):
                yield start, batch
            return
        step = max(1, CHUNK_BYTES // (4 * math.prod(layout.image_shape)))
        for start in range(0, len(X), step):
            yield start, torch.from_numpy(to_float_nchw(X[start:start + step], layout))

    def _transform_in_chunks(self, X: np.ndarray, layout: ImageLayout) -> np.ndarray:
        out = None
        for start, chunk in self._chunks(X, layout):
            result = self._transform_tensor(chunk).numpy()
            if out is None:
                out = np.empty((len(X), *result.shape[1:]), dtype=np.float32)
            out[start:start + len(result)] = result
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
