"""sklearn-cnn: convolutional neural networks as scikit-learn estimators.

PyTorch does the math, skorch runs the training loop, torchvision does the
image operations, scikit-learn defines the contract.

The public names are imported on first use (PEP 562's module ``__getattr__``,
as scikit-image and SciPy load theirs): ``import sklearn_cnn`` itself imports
no torch, so that ``sklearn_cnn.export.OnnxPredictor`` runs where only ONNX
Runtime, numpy and Pillow are installed.
"""

import importlib

from ._names import stable_object
from ._persistence.compat import register_old_module_paths
from ._version import __version__

register_old_module_paths()

#: Each public name, and the module that defines it.
_PUBLIC = {
    "BatchAugment": "._model.augment",
    "CNNClassifier": "._estimator.classifier",
    "CNNEmbedding": "._estimator.embedding",
    "CNNRegressor": "._estimator.regressor",
    "ConvNet": "._model.convnet",
    "FitInterruptedWarning": "._training.interrupts",
    "ImageSizeWarning": "._data.sizes",
    "MemoryBudgetWarning": "._data.lazy",
    "NewerVersionWarning": "._persistence.format",
    "PixelRangeWarning": "._estimator.pixel_range",
    "load": "._persistence.format",
    "lr_sweep": "._estimator.lr_sweep",
    "save": "._persistence.format",
}

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
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value  # imported once
        return value
    # The stable names of the internal objects pickles hold (sklearn_cnn._names).
    return stable_object(name, internal_only=True)


def __dir__():
    return sorted({*globals(), *__all__})
