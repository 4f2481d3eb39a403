"""sklearn-cnn: convolutional neural networks as scikit-learn estimators.

PyTorch does the math, skorch runs the training loop, torchvision does the
image operations, scikit-learn defines the contract.
"""

from ._data.lazy import MemoryBudgetWarning
from ._data.sizes import ImageSizeWarning
from ._estimator.classifier import CNNClassifier
from ._estimator.embedding import CNNEmbedding
from ._estimator.lr_sweep import lr_sweep
from ._estimator.pixel_range import PixelRangeWarning
from ._estimator.regressor import CNNRegressor
from ._model.augment import BatchAugment
from ._model.convnet import ConvNet
from ._names import stable_object
from ._persistence.compat import register_old_module_paths
from ._persistence.format import NewerVersionWarning, load, save
from ._training.interrupts import FitInterruptedWarning
from ._version import __version__

register_old_module_paths()

__all__ = [
    "BatchAugment",
    "CNNClassifier",
    "CNNEmbedding",
    "CNNRegressor",
    "ConvNet",
    "FitInterruptedWarning",
    "ImageSizeWarning",
    "MemoryBudgetWarning",
    "NewerVersionWarning",
    "PixelRangeWarning",
    "__version__",
    "load",
    "lr_sweep",
    "save",
]


def __getattr__(name):
    # The stable names of the internal objects pickles hold (sklearn_cnn._names).
    return stable_object(name, internal_only=True)
