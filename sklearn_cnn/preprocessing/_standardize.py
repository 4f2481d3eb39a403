"""Per-channel standardisation: ``ChannelStandardizer``."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler
from torchvision.transforms.v2 import functional as F

from .._data.layout import ImageLayout
from .._names import stable_name
from .._persistence.state import check_fitted_array
from ._base import COMMON_CONSTRAINTS, ImageTransformer, shared_docs

__all__ = ["ChannelStandardizer"]


@shared_docs
@stable_name("sklearn_cnn.preprocessing")
class ChannelStandardizer(ImageTransformer):
    """Standardise each channel to zero mean and unit variance.

    ``fit`` learns one mean and one standard deviation per channel, over all
    images and pixels (streamed in chunks through ``StandardScaler.partial_fit``);
    ``transform`` applies torchvision's ``normalize``. A constant channel
    keeps a scale of 1, as in scikit-learn's ``StandardScaler``.

    Parameters
    ----------
    $layout_parameters

    Attributes
    ----------
    mean_ : ndarray of shape (C,)
        Mean of each channel.
    scale_ : ndarray of shape (C,)
        Standard deviation of each channel (1 where it is 0).
    $layout_attributes

    See Also
    --------
    Rescale : Scale pixel values by a fixed factor.
    sklearn.preprocessing.StandardScaler : The same per feature, on tabular data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn.preprocessing import ChannelStandardizer
    >>> X = np.random.default_rng(0).integers(0, 255, (10, 8, 8, 3), dtype=np.uint8)
    >>> Z = ChannelStandardizer().fit_transform(X)
    >>> np.allclose(Z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    True
    """

    _parameter_constraints = {**COMMON_CONSTRAINTS}

    def __init__(self, *, image_shape=None, data_format="auto"):
        self.image_shape = image_shape
        self.data_format = data_format

    def _fit_images(self, X: np.ndarray, layout: ImageLayout) -> None:
        n_channels = layout.image_shape[0]
        # StandardScaler streams the mean and variance (in float64), one
        # feature per channel, every pixel of every image a sample.
        scaler = StandardScaler()
        for _, chunk in self._chunks(X, layout):
            scaler.partial_fit(chunk.transpose(0, 1).reshape(n_channels, -1).T.numpy())
        self.mean_ = scaler.mean_
        std = np.sqrt(scaler.var_)
        # Constant channels keep a unit scale. StandardScaler's own test is
        # float64's; these are float32 pixels, so a spread under float32's
        # resolution (float noise) counts as constant too.
        self.scale_ = np.where(std < 10 * np.finfo(np.float32).eps * np.maximum(
            1.0, np.abs(self.mean_)), 1.0, std)

    def _check_fitted_state(self) -> None:
        super()._check_fitted_state()
        if not hasattr(self, "input_shape_"):  # not fitted
            return
        channels = (self.input_shape_[0],)
        why = f", one value per channel of input_shape_={tuple(self.input_shape_)}"
        check_fitted_array(self, "mean_", shape=channels, why=why)
        # transform divides by it: a standard deviation, 1 for constant channels.
        check_fitted_array(self, "scale_", shape=channels, why=why, positive=True)

    def _transform_tensor(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(images, mean=self.mean_.tolist(), std=self.scale_.tolist())
