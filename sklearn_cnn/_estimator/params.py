"""Validation of the parameters of the CNN estimators, run at the start of ``fit``.

Single-parameter rules are scikit-learn's declarative constraints (the
machinery behind every scikit-learn estimator's ``InvalidParameterError``,
which is both a ``ValueError`` and a ``TypeError``); the few rules a
declaration cannot state (sequences of positive ints, classes of a given
base, rules between parameters) follow in :func:`check_param_rules`.
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import (  # the API scikit-learn's own estimators use
    Interval,
    StrOptions,
)
from torch import nn

from .._data.layout import DATA_FORMATS, normalize_image_shape
from .._model.augment import AUGMENT_PRESETS
from .._model.backbone import check_backbone
from .._model.convnet import ACTIVATIONS, INITS, PADDINGS, POOLINGS
from .._model.losses import LOSSES
from .._training.callbacks.lr_scheduler import LR_SCHEDULES
from .._training.optimizers import OPTIMIZERS
from .._training.precision import PRECISIONS

__all__ = ["BASE_PARAMETER_CONSTRAINTS", "CLASSIFIER_PARAMETER_CONSTRAINTS",
           "PARAMETER_CONSTRAINTS", "as_units", "check_param_rules"]


PARAMETER_CONSTRAINTS = {
    "conv_channels": [tuple, list, Interval(Integral, 1, None, closed="left")],
    "kernel_size": [Interval(Integral, 1, None, closed="left")],
    "padding": [StrOptions(set(PADDINGS))],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "pooling": [StrOptions(set(POOLINGS))],
    "batch_norm": ["boolean"],
    "dense_units": [tuple, list, Interval(Integral, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "init": [StrOptions(set(INITS))],
    "module": [None, type],
    "module_kwargs": [None, dict],
    "backbone": [None, str],
    "weights": [None, str, os.PathLike],
    "freeze_backbone": ["boolean"],
    "optimizer": [StrOptions(set(OPTIMIZERS)), type],
    "lr": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "loss": [StrOptions(set(LOSSES))],
    "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
    "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "early_stopping": ["boolean"],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "augment": [None, StrOptions({"auto", *AUGMENT_PRESETS}), callable],
    "tta": ["boolean"],
    "ema": [None, Interval(Real, 0, 1, closed="neither")],
    "class_weight": [None, StrOptions({"balanced"}), dict],
    "callbacks": [None, list, tuple],
    "warm_start": ["boolean"],
    "checkpoint": [None, str, os.PathLike],
    "image_shape": [None, tuple, list],
    "data_format": [StrOptions(set(DATA_FORMATS))],
    "device": [str, torch.device],
    "precision": [StrOptions(set(PRECISIONS))],
    "cuda_graphs": ["boolean"],
    "num_workers": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
    "n_jobs": [None, Interval(Integral, 1, None, closed="left"),
               Interval(Integral, None, -1, closed="right")],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}

#: What is about classes: the classifier's own parameters.
CLASSIFIER_PARAMETER_CONSTRAINTS = {
    name: PARAMETER_CONSTRAINTS[name] for name in ("loss", "label_smoothing", "class_weight")}
#: The parameters every CNN estimator has (``BaseCNN``'s).
BASE_PARAMETER_CONSTRAINTS = {name: constraint for name, constraint
                              in PARAMETER_CONSTRAINTS.items()
                              if name not in CLASSIFIER_PARAMETER_CONSTRAINTS}


def as_units(value) -> tuple[int, ...]:
    """``conv_channels`` / ``dense_units`` as a tuple (an int is one layer)."""
    return (int(value),) if isinstance(value, Integral) else tuple(value)


def _check_units(name: str, value) -> None:
    if isinstance(value, Integral):
        return
    if not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in value):
        raise ValueError(
            f"{name} must be a tuple of positive ints (units per layer); got {value!r}."
        )


def _check_subclass(name: str, value, base: type, example: str) -> None:
    if isinstance(value, type) and not issubclass(value, base):
        raise TypeError(
            f"{name} must be a subclass of {base.__module__}.{base.__qualname__} "
            f"(e.g. {example}); got {value!r}."
        )


def check_param_rules(params: dict) -> None:
    """Raise a ValueError or TypeError for what one constraint per parameter cannot state.

    Sequences of positive ints, classes of a given base, a valid
    ``image_shape`` and backbone name, and the rules between parameters. The
    estimator checks each parameter alone first (``_parameter_constraints``).
    """
    _check_units("conv_channels", params["conv_channels"])
    _check_units("dense_units", params["dense_units"])
    _check_subclass("module", params["module"], nn.Module, "a class defining forward")
    _check_subclass("optimizer", params["optimizer"], torch.optim.Optimizer, "torch.optim.SGD")
    normalize_image_shape(params["image_shape"])
    if params["backbone"] is not None:
        check_backbone(params["backbone"])
        if params["module"] is not None:
            raise ValueError(
                "module and backbone each replace the built-in network; set one "
                f"of them, not both (got module={params['module']!r}, "
                f"backbone={params['backbone']!r})."
            )
    elif params["weights"] is not None or params["freeze_backbone"]:
        raise ValueError(
            "weights and freeze_backbone apply to a torchvision backbone; set "
            "backbone (e.g. backbone='resnet18') or leave them at their defaults."
        )
    if params["module_kwargs"] is not None and params["module"] is None:
        raise ValueError(
            "module_kwargs are passed to a custom module; set module to an "
            "nn.Module class, or leave module_kwargs=None."
        )
