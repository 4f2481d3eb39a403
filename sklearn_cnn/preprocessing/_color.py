"""Colour conversion: ``Grayscale``."""

from __future__ import annotations

from numbers import Integral

import torch
from sklearn.utils._param_validation import Options
from torchvision.transforms.v2 import functional as F

from .._names import stable_name
from ._base import COMMON_CONSTRAINTS, ImageTransformer, shared_docs

__all__ = ["Grayscale"]


@shared_docs
@stable_name("sklearn_cnn.preprocessing")
class Grayscale(ImageTransformer):
    """Convert images to gray with torchvision's ``rgb_to_grayscale``.

    RGB images are weighted as ITU-R 601 luma (torchvision's weights); an
    alpha channel (RGBA, or gray + alpha) is dropped; gray images pass
    through.

    Parameters
    ----------
    num_output_channels : {1, 3}, default=1
        1 for one gray channel; 3 repeats it, for networks that want RGB.
    $layout_parameters

    Attributes
    ----------
    $layout_attributes

    See Also
    --------
    ChannelStandardizer : Standardise each channel.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn.preprocessing import Grayscale
    >>> Grayscale().fit_transform(np.zeros((2, 8, 8, 3), dtype=np.uint8)).shape
    (2, 1, 8, 8)
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "num_output_channels": [Options(Integral, {1, 3})],
    }

    def __init__(self, num_output_channels=1, *, image_shape=None, data_format="auto"):
        self.num_output_channels = num_output_channels
        self.image_shape = image_shape
        self.data_format = data_format

    def _check_input_shape(self, input_shape) -> None:
        if input_shape[0] not in (1, 2, 3, 4):
            raise ValueError(
                f"Grayscale takes gray (1), gray + alpha (2), RGB (3) or RGBA (4) "
                f"images; got {input_shape[0]} channels."
            )

    def _transform_tensor(self, images: torch.Tensor) -> torch.Tensor:
        color = images[:, :3] if images.shape[1] >= 3 else images[:, :1]
        return F.rgb_to_grayscale(color, num_output_channels=self.num_output_channels)
