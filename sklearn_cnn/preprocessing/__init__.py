"""Image transformers: scikit-learn transformers over torchvision ops.

Each takes images in any layout ``CNNClassifier`` takes and returns float32
``(N, C, H, W)``, so any chain of them feeds the classifier directly::

    make_pipeline(Resize((32, 32)), ChannelStandardizer(), CNNClassifier())

Their output is an image array, never a DataFrame: ``set_output`` takes
``transform="default"`` (so ``Pipeline.set_output`` works) and refuses
``"pandas"`` and ``"polars"``. Fitted on a DataFrame of flat images, they
keep and check its column names (``feature_names_in_``), as scikit-learn's
transformers do.

On image files, ``ImageFileLoader(lazy=True)`` returns a ``LazyImages``
that every transformer here extends with itself and ``CNNClassifier``
decodes batch by batch: a pipeline on a folder larger than memory.

Random augmentation is not a pipeline step (a pipeline transforms the same way
at fit and predict): it is ``CNNClassifier(augment=...)``.
"""

from .._data.lazy import LazyImages, MemoryBudgetWarning
from ._base import ImageTransformer
from ._color import Grayscale
from ._convert import Rescale, ToImage
from ._geometry import CenterCrop, Pad, Resize, Rotate
from ._loader import ImageFileLoader
from ._standardize import ChannelStandardizer

__all__ = [
    "CenterCrop",
    "ChannelStandardizer",
    "Grayscale",
    "ImageFileLoader",
    "ImageTransformer",
    "LazyImages",
    "MemoryBudgetWarning",
    "Pad",
    "Rescale",
    "Resize",
    "Rotate",
    "ToImage",
]
