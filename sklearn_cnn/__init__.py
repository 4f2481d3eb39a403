"""sklearn-cnn: convolutional neural networks as scikit-learn estimators.

PyTorch does the math, skorch runs the training loop, torchvision does the
image operations, scikit-learn defines the contract.
"""

from ._augment import BatchAugment
from ._classifier import CNNClassifier
from ._compat import register_old_module_paths
from ._convnet import ConvNet
from ._lazy import MemoryBudgetWarning
from ._lr_finder import lr_sweep
from ._persistence import load, save
from ._pixel_range import PixelRangeWarning
from ._sizes import ImageSizeWarning

__version__ = "0.1.0"

register_old_module_paths()

__all__ = [
    "BatchAugment",
    "CNNClassifier",
    "ConvNet",
    "ImageSizeWarning",
    "MemoryBudgetWarning",
    "PixelRangeWarning",
    "__version__",
    "load",
    "lr_sweep",
    "save",
]
