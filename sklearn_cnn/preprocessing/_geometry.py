"""Geometric transformers: ``Resize``, ``CenterCrop``, ``Pad``, ``Rotate``.

Each is a thin layer over the ``torchvision.transforms.v2.functional`` op of
the same name, applied to whole chunks of images at once.
"""

from __future__ import annotations

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F

from .._data.sizes import size_pair
from .._names import stable_name
from ._base import COMMON_CONSTRAINTS, ImageTransformer, shared_docs

__all__ = ["CenterCrop", "Pad", "Resize", "Rotate"]

INTERPOLATIONS = {mode.value for mode in InterpolationMode}
PADDING_MODES = {"constant", "edge", "reflect", "symmetric"}


@shared_docs
@stable_name("sklearn_cnn.preprocessing")
class Resize(ImageTransformer):
    """Resize images to ``size`` with torchvision's ``resize``.

    Images of any size become ``size``; the aspect ratio is not kept (crop
    first, with ``CenterCrop``, to keep it).

    Parameters
    ----------
    size : int or (int, int), default=(32, 32)
        Output ``(height, width)``; an int gives a square.
    interpolation : str, default="bilinear"
        A ``torchvision.transforms.InterpolationMode`` value: "nearest",
        "bilinear", "bicubic", ...
    antialias : bool, default=True
        Low-pass filter when shrinking.
    $layout_parameters

    Attributes
    ----------
    $layout_attributes

    See Also
    --------
    CenterCrop : Crop the centre of the images to a size.
    Pad : Pad the borders of the images.
    sklearn_cnn.CNNClassifier : Takes ``image_shape`` to resize image files as it reads them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn.preprocessing import Resize
    >>> Resize((16, 16)).fit_transform(np.zeros((2, 8, 8))).shape
    (2, 1, 16, 16)
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "interpolation": [StrOptions(INTERPOLATIONS)],
        "antialias": ["boolean"],
    }

    def __init__(self, size=(32, 32), interpolation="bilinear", antialias=True, *,
                 image_shape=None, data_format="auto"):
        self.size = size
        self.interpolation = interpolation
        self.antialias = antialias
        self.image_shape = image_shape
        self.data_format = data_format

    def _check_input_shape(self, input_shape) -> None:
        size_pair(self.size, "size")

    def _transform_tensor(self, images: torch.Tensor) -> torch.Tensor:
        return F.resize(images, size_pair(self.size, "size"),
                        interpolation=InterpolationMode(self.interpolation),
                        antialias=self.antialias)


@shared_docs
@stable_name("sklearn_cnn.preprocessing")
class CenterCrop(ImageTransformer):
    """Crop the centre of the images with torchvision's ``center_crop``.

    A crop larger than the image pads it with zeros.

    Parameters
    ----------
    size : int or (int, int), default=(28, 28)
        Output ``(height, width)``; an int gives a square.
    $layout_parameters

    Attributes
    ----------
    $layout_attributes

    See Also
    --------
    Resize : Resize images to a size.
    Pad : Pad the borders of the images.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn.preprocessing import CenterCrop
    >>> CenterCrop(4).fit_transform(np.zeros((2, 8, 8))).shape
    (2, 1, 4, 4)
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "size": [Interval(Integral, 1, None, closed="left"), tuple, list],
    }

    def __init__(self, size=(28, 28), *, image_shape=None, data_format="auto"):
        self.size = size
        self.image_shape = image_shape
        self.data_format = data_format

    def _check_input_shape(self, input_shape) -> None:
        size_pair(self.size, "size")

    def _transform_tensor(self, images: torch.Tensor) -> torch.Tensor:
        return F.center_crop(images, size_pair(self.size, "size"))


@shared_docs
@stable_name("sklearn_cnn.preprocessing")
class Pad(ImageTransformer):
    """Pad the borders of the images with torchvision's ``pad``.

    The new pixels hold ``fill``, or repeat or mirror the border
    (``padding_mode``); the images grow by the padding.

    Parameters
    ----------
    padding : int or tuple of int, default=2
        Pixels added: one int for every side, ``(left/right, top/bottom)``,
        or ``(left, top, right, bottom)``.
    fill : float, default=0.0
        Value of the new pixels when ``padding_mode="constant"``.
    padding_mode : {"constant", "edge", "reflect", "symmetric"}, default="constant"
        How the border is filled.
    $layout_parameters

    Attributes
    ----------
    $layout_attributes

    See Also
    --------
    CenterCrop : Crop the centre of the images to a size.
    Resize : Resize images to a size.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn.preprocessing import Pad
    >>> Pad(2).fit_transform(np.zeros((1, 28, 28))).shape
    (1, 1, 32, 32)
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "padding": [Interval(Integral, 0, None, closed="left"), tuple, list],
        "fill": [Real],
        "padding_mode": [StrOptions(PADDING_MODES)],
    }

    def __init__(self, padding=2, fill=0.0, padding_mode="constant", *, image_shape=None,
                 data_format="auto"):
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode
        self.image_shape = image_shape
        self.data_format = data_format

    def _padding(self) -> list[int]:
        padding = [self.padding] if isinstance(self.padding, Integral) else list(self.padding)
        if len(padding) not in (1, 2, 4) or not all(
            isinstance(p, Integral) and p >= 0 for p in padding
        ):
            raise ValueError("padding must be an int or a tuple of 2 or 4 non-negative ints; "
                             f"got {self.padding!r}.")
        return [int(p) for p in padding]

    def _check_input_shape(self, input_shape) -> None:
        padding = self._padding()
        if self.padding_mode == "reflect" and max(padding) >= min(input_shape[1:]):
            raise ValueError(
                f"padding_mode='reflect' needs padding smaller than the image side; got "
                f"padding={self.padding!r} for {input_shape[1]}x{input_shape[2]} images."
            )

    def _transform_tensor(self, images: torch.Tensor) -> torch.Tensor:
        return F.pad(images, self._padding(), fill=self.fill, padding_mode=self.padding_mode)


@shared_docs
@stable_name("sklearn_cnn.preprocessing")
class Rotate(ImageTransformer):
    """Rotate the images by a fixed angle with torchvision's ``rotate``.

    (Random rotations belong to training-time augmentation:
    ``CNNClassifier(augment=...)``.)

    Parameters
    ----------
    angle : float, default=90.0
        Counter-clockwise angle in degrees.
    interpolation : str, default="nearest"
        A ``torchvision.transforms.InterpolationMode`` value.
    expand : bool, default=False
        Grow the output to hold the whole rotated image.
    fill : float, default=0.0
        Value of the pixels that come from outside the image.
    $layout_parameters

    Attributes
    ----------
    $layout_attributes

    See Also
    --------
    sklearn_cnn.BatchAugment : Random rotations (and more), while training only.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn.preprocessing import Rotate
    >>> Rotate(90, expand=True).fit_transform(np.zeros((1, 4, 6))).shape
    (1, 1, 6, 4)
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "angle": [Real],
        "interpolation": [StrOptions({"nearest", "bilinear"})],
        "expand": ["boolean"],
        "fill": [Real],
    }

    def __init__(self, angle=90.0, interpolation="nearest", expand=False, fill=0.0, *,
                 image_shape=None, data_format="auto"):
        self.angle = angle
        self.interpolation = interpolation
        self.expand = expand
        self.fill = fill
        self.image_shape = image_shape
        self.data_format = data_format

    def _transform_tensor(self, images: torch.Tensor) -> torch.Tensor:
        return F.rotate(images, float(self.angle),
                        interpolation=InterpolationMode(self.interpolation),
                        expand=self.expand, fill=self.fill)
