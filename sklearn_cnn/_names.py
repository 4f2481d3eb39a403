"""The names model files and pickles give sklearn-cnn's objects: public and stable.

A pickle stores each class and function it holds by module path and name,
and a model file written by ``sklearn_cnn.save`` names classes the same way.
Both name sklearn-cnn's objects by paths that no refactor changes:

- a public class by where users import it (``sklearn_cnn.CNNClassifier``,
  ``sklearn_cnn.preprocessing.Resize``);
- an internal object a fitted model holds (the skorch net, its callbacks,
  its batches, a loss) by ``sklearn_cnn.<name>``, which the package serves
  from :data:`INTERNAL`, a table from that name to the object's current
  module, as torchvision's ``get_model`` serves models from a registry.

Moving an object changes its row of :data:`INTERNAL` and nothing in any
file. This is numpy's ``set_module``: each of these objects says its stable
module with :func:`stable_name`. What earlier versions wrote, before these
names, is read through ``_persistence.compat``.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["INTERNAL", "PUBLIC", "stable_name", "stable_object"]

#: Public objects whose module moved since files named it (``_persistence.compat``),
#: and their module now.
PUBLIC = {
    "CNNClassifier": "sklearn_cnn._estimator.classifier",
    "ConvNet": "sklearn_cnn._model.convnet",
    "BatchAugment": "sklearn_cnn._model.augment",
    "LazyImages": "sklearn_cnn._data.lazy",
}

#: The stable name of each internal object a pickle may hold, and its module.
INTERNAL = {
    "PerSample": "sklearn_cnn._model.augment",
    "Dropout": "sklearn_cnn._model.convnet",
    "Backbone": "sklearn_cnn._model.backbone",
    "OneHotMSELoss": "sklearn_cnn._model.losses",
    "IndicatorBCELoss": "sklearn_cnn._model.losses",
    "IndicatorMSELoss": "sklearn_cnn._model.losses",
    "CNNNet": "sklearn_cnn._training.net",
    "softmax": "sklearn_cnn._training.net",
    "sigmoid": "sklearn_cnn._training.net",
    "TensorBatches": "sklearn_cnn._training.batches",
    "HoldoutSplit": "sklearn_cnn._training.holdout",
    "EpochLog": "sklearn_cnn._training.callbacks.logging",
    "TrainAccuracy": "sklearn_cnn._training.callbacks.scoring",
    "EpochLR": "sklearn_cnn._training.callbacks.lr_scheduler",
    "FitLRScheduler": "sklearn_cnn._training.callbacks.lr_scheduler",
    "OneCycleLR": "sklearn_cnn._training.callbacks.lr_scheduler",
    "WeightAveraging": "sklearn_cnn._training.callbacks.averaging",
}


def stable_name(module: str = "sklearn_cnn"):
    """Class or function decorator: pickles and model files name ``obj`` ``module.<name>``.

    ``module`` is a public module that has ``obj`` as an attribute, or
    ``"sklearn_cnn"`` for an object of :data:`INTERNAL`. The object's
    docstring examples still run with the tests of the module that defines
    it (through that module's ``__test__``).

    Parameters
    ----------
    module : str, default="sklearn_cnn"
        The stable module.

    Returns
    -------
    decorator : callable
    """
    def decorate(obj):
        home = sys.modules[obj.__module__]
        listed = {**PUBLIC, **INTERNAL}.get(obj.__name__, obj.__module__)
        if listed != obj.__module__:
            raise RuntimeError(f"sklearn_cnn._names puts {obj.__name__} in {listed}, "
                               f"not in {obj.__module__}.")
        vars(home).setdefault("__test__", {})[obj.__name__] = obj
        obj.__module__ = module
        return obj

    return decorate


def stable_object(name: str, internal_only: bool = False):
    """The object whose stable name is ``name`` (of :data:`INTERNAL` or :data:`PUBLIC`).

    Parameters
    ----------
    name : str
    internal_only : bool, default=False
        Look in :data:`INTERNAL` only (``sklearn_cnn.__getattr__``).

    Returns
    -------
    obj : class or function

    Raises
    ------
    AttributeError
        For a name the tables do not hold.
    """
    homes = INTERNAL if internal_only else {**PUBLIC, **INTERNAL}
    if name not in homes:
        raise AttributeError(f"module 'sklearn_cnn' has no attribute {name!r}")
    # Imported by name, as pickle imports what it reads: the tables are data.
    return getattr(importlib.import_module(homes[name]), name)
