"""Conversion and value scaling: ``ToImage`` and ``Rescale``."""

from __future__ import annotations

from numbers import Real

import torch

from .._names import stable_name
from ._base import COMMON_CONSTRAINTS, ImageTransformer, shared_docs

__all__ = ["Rescale", "ToImage"]


@shared_docs
@stable_name("sklearn_cnn.preprocessing")
class ToImage(ImageTransformer):
    """Convert images in any accepted layout to float32 ``(N, C, H, W)``.

    ``(N, H, W)``, ``(N, H, W, C)``, ``(N, C, H, W)`` and flat ``(N, F)``
    (with ``image_shape``) become channels-first float32, uint8 read as
    [0, 1]: the layout the network takes, for a pipeline to start from.

    Parameters
    ----------
    $layout_parameters

    Attributes
    ----------
    $layout_attributes

    See Also
    --------
    Rescale : Scale pixel values.
    ImageFileLoader : Read image files into arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn.preprocessing import ToImage
    >>> ToImage().fit_transform(np.zeros((2, 28, 28, 3), dtype=np.uint8)).shape
    (2, 3, 28, 28)
    """

    def __init__(self, *, image_shape=None, data_format="auto"):
        self.image_shape = image_shape
        self.data_format = data_format

    def _transform_tensor(self, images: torch.Tensor) -> torch.Tensor:
        return images


@shared_docs
@stable_name("sklearn_cnn.preprocessing")
class Rescale(ImageTransformer):
    """Scale pixel values: ``x * scale + offset``.

    uint8 input is already read as [0, 1] by every estimator here (as
    torchvision's ``to_dtype(scale=True)`` does); ``Rescale`` is for float
    pixels in another range, such as 0-255 floats (the default maps them to
    [0, 1]) or the 0-16 of scikit-learn's digits (``scale=1/16``).

    Parameters
    ----------
    scale : float, default=1/255
        Factor applied to every value.
    offset : float, default=0.0
        Added after scaling (``scale=2/255, offset=-1`` maps 0-255 to [-1, 1]).
    $layout_parameters

    Attributes
    ----------
    $layout_attributes

    See Also
    --------
    ChannelStandardizer : Standardise each channel to zero mean and unit variance.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn.preprocessing import Rescale
    >>> Rescale().fit_transform(np.full((1, 2, 2), 255.0)).max()
    np.float32(1.0)
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "scale": [Real],
        "offset": [Real],
    }

    def __init__(self, scale=1 / 255, offset=0.0, *, image_shape=None, data_format="auto"):
        self.scale = scale
        self.offset = offset
        self.image_shape = image_shape
        self.data_format = data_format

    def _transform_tensor(self, images: torch.Tensor) -> torch.Tensor:
        # An affine map of the values; torchvision's normalize would need
        # 1/scale as a std and could not express scale=0.
        return images * self.scale + self.offset

