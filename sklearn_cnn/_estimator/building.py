"""How a CNN estimator builds what it trains: overridable methods, one per part.

``NetBuilder`` turns the estimator's own parameters (its attributes)
into the skorch net of one ``fit``, the way skorch's ``initialize_module``
and scikit-learn's ``_init_coef`` do: each part is a small method a subclass
overrides to change that part alone.

- ``_build_module(input_shape, n_classes)``: the network class and its
  keyword arguments.
- ``_build_criterion(classes, y)``: the loss class and its keyword arguments
  (``y=None`` for a fitted model being loaded).
- ``_build_optimizer(device)``: the optimizer class and its keyword arguments.
- ``_build_callbacks(has_holdout, steps_per_epoch)``: skorch callbacks.
- ``_build_net(input_shape, classes, y, device, seed, *, n_samples=None)``:
  the skorch net, an instance of the class attribute ``net_class``, from all
  of the above (``y=None`` for a fitted model being loaded).

Examples
--------
A subclass that trains another network and adds a callback:

>>> from skorch.callbacks import EpochScoring
>>> from torch import nn
>>> from sklearn_cnn import CNNClassifier
>>> class TinyNet(nn.Module):
...     def __init__(self, n_classes):
...         super().__init__()
...         self.layers = nn.Sequential(nn.Flatten(), nn.LazyLinear(n_classes))
...     def forward(self, x):
...         return self.layers(x)
>>> class MyClassifier(CNNClassifier):
...     def _build_module(self, input_shape, n_classes):
...         return TinyNet, {"n_classes": n_classes}
...     def _build_callbacks(self, has_holdout, steps_per_epoch):
...         return [*super()._build_callbacks(has_holdout, steps_per_epoch),
...                 ("train_f1", EpochScoring("f1_macro", on_train=True, name="train_f1"))]
"""

from __future__ import annotations

import inspect

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.class_weight import compute_class_weight

from .._data.workers import loader_kwargs, settle_num_workers
from .._model.augment import settle_augment
from .._model.backbone import Backbone
from .._model.convnet import ConvNet, conv_geometry
from .._process_group import writes_files
from .._training.batches import TensorBatches
from .._training.callbacks import fit_callbacks
from .._training.callbacks.logging import EpochLog
from .._training.cuda_graph import graphs_apply
from .._training.device import channels_last_is_fast
from .._training.epochs_and_batches import settle_batch_size, settle_max_epochs
from .._training.holdout import HoldoutSplit
from .._training.net import CNNNet
from .._training.optimizers import make_optimizer
from .._training.precision import settle_precision
from .params import BASE_PARAMETER_CONSTRAINTS, as_units

__all__ = ["NetBuilder", "class_weights"]


def class_weights(class_weight, classes: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Weight of each class in the loss, as scikit-learn computes it."""
    if class_weight is None:
        return None
    if isinstance(class_weight, dict):
        unknown = [k for k in class_weight if k not in set(classes.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight has labels {unknown} that are not classes of y "
                f"({classes.tolist()}); use the labels of y as its keys."
            )
    return compute_class_weight(class_weight, classes=classes, y=y)


class NetBuilder(BaseEstimator):
    """The parameters every CNN estimator has, and the ``_build_*`` methods.

    The first of the chain of bases of ``BaseCNN`` (``NetBuilder`` →
    ``NetState`` → ``NetFitter`` → ``BaseCNN``): each class uses only
    what its bases define. ``__init__`` stores the parameters (documented
    on the estimators: ``CNNClassifier``); the methods turn them into the
    skorch net of one fit (see the module docstring). What depends on the
    targets, ``_build_criterion`` and ``_net_kwargs``, the estimator of a
    kind of target defines.
    """

    _parameter_constraints: dict = BASE_PARAMETER_CONSTRAINTS

    #: The skorch net class ``_build_net`` instantiates.
    net_class = CNNNet

    def __init__(
        self,
        conv_channels=(32, 64),
        kernel_size=3,
        padding="same",
        activation="relu",
        pooling="max",
        batch_norm=True,
        dense_units=(128,),
        dropout=0.3,
        init="auto",
        module=None,
        module_kwargs=None,
        backbone=None,
        weights=None,
        freeze_backbone=False,
        optimizer="adam",
        lr="auto",
        momentum=0.9,
        weight_decay=0.0,
        lr_schedule="onecycle",
        batch_size="auto",
        max_epochs="auto",
        validation_fraction=0.0,
        early_stopping=False,
        patience=5,
        augment="auto",
        tta=False,
        ema=None,
        callbacks=None,
        warm_start=False,
        checkpoint=None,
        image_shape=None,
        data_format="auto",
        device="auto",
        precision="float32",
        cuda_graphs=True,
        num_workers="auto",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        for name, value in locals().items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def _check_geometry(self, input_shape) -> None:
        """Raise a ValueError if the built-in network cannot take ``input_shape``."""
        if self.module is None and self.backbone is None:
            conv_geometry(input_shape[1:], len(as_units(self.conv_channels)),
                          self.kernel_size, self.padding)

    def _build_module(self, input_shape, n_classes: int) -> tuple[type, dict]:
        """The network class to train and its keyword arguments.

        Parameters
        ----------
        input_shape : (int, int, int)
            ``(C, H, W)`` of the images.
        n_classes : int
            Outputs (one logit per class).

        Returns
        -------
        module_cls : type
            A ``torch.nn.Module`` subclass.
        kwargs : dict
            Its constructor's keyword arguments.
        """
        if self.backbone is not None:
            return Backbone, {
                "name": self.backbone, "input_shape": input_shape, "n_classes": n_classes,
                "weights": self.weights, "freeze": self.freeze_backbone,
            }
        if self.module is not None:
            kwargs = dict(self.module_kwargs or {})
            accepted = inspect.signature(self.module).parameters
            for key, value in (("input_shape", input_shape), ("n_classes", n_classes)):
                if key in accepted:
                    kwargs.setdefault(key, value)
            return self.module, kwargs
        return ConvNet, {
            "input_shape": input_shape, "n_classes": n_classes,
            "conv_channels": as_units(self.conv_channels),
            "dense_units": as_units(self.dense_units),
            "kernel_size": self.kernel_size, "padding": self.padding,
            "activation": self.activation, "pooling": self.pooling,
            "batch_norm": self.batch_norm, "dropout": self.dropout, "init": self.init,
        }

    def _build_criterion(self, classes: np.ndarray, y: np.ndarray | None) -> tuple[type, dict]:
        """The loss class and its keyword arguments: what the estimator's targets need.

        ``classes`` are the outputs' labels (``_check_targets``); ``y=None``
        builds the loss of a fitted model being loaded. A subclass defines it.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no loss (_build_criterion).")

    def _settle_augment(self, input_shape) -> object:
        """The ``augment`` parameter with "auto" settled for images of ``input_shape``."""
        return settle_augment(self.augment, input_shape)

    def _net_kwargs(self, classes: np.ndarray, y: np.ndarray | None) -> dict:
        """Keyword arguments of the net that depend on the targets (none here)."""
        return {}

    def _build_optimizer(self, device: torch.device) -> tuple[type, dict]:
        """The optimizer class and its keyword arguments, ``lr`` included."""
        return make_optimizer(self.optimizer, self.lr, self.momentum, self.weight_decay,
                                 device_type=device.type)

    def _build_callbacks(self, has_holdout: bool, steps_per_epoch: int) -> list:
        """skorch callbacks of one fit: the user's, the schedule, early stopping, logging."""
        return fit_callbacks(
            callbacks=self.callbacks, ema=self.ema, lr_schedule=self.lr_schedule,
            max_epochs=settle_max_epochs(self.max_epochs, steps_per_epoch),
            early_stopping=self.early_stopping, patience=self.patience, verbose=self.verbose,
            has_holdout=has_holdout, steps_per_epoch=steps_per_epoch)

    def _training_choices(self, device: torch.device, module: type, augment) -> dict:
        """How the net trains on ``device``: precision, graphed steps, thread count.

        Keyword arguments of the net (``CNNNet``), set anew on a fitted net
        before every ``partial_fit`` call: ``set_params`` between calls
        changes them, and a model loaded on another device trains as that
        device allows.
        """
        return {"precision": settle_precision(self.precision, device),
                "cuda_graphs": self.cuda_graphs and graphs_apply(device, module, augment),
                "n_jobs": self.n_jobs}

    def _build_net(self, input_shape, classes: np.ndarray, y: np.ndarray | None,
                   device: torch.device, seed: int | None, *, n_samples: int | None = None):
        """The skorch net of one ``fit``, not yet initialised.

        Parameters
        ----------
        input_shape : (int, int, int)
            ``(C, H, W)`` of the training images.
        classes : ndarray
            The sorted class labels; the net sees their indices.
        y : ndarray or None
            The training labels (for class weights and the hold-out), or
            a 0/1 indicator matrix ``(N, n_labels)`` for multilabel targets;
            None for a fitted model being loaded (``NetState``), whose
            saved state then fills the net.
        device : torch.device
            Where to train.
        seed : int or None
            Seed of the hold-out split.
        n_samples : int, default=None
            With ``y=None``: how many images the model trained on, which
            sets the batch size and epochs of "auto" for training it on.

        Returns
        -------
        net : net_class
        """
        module, module_kwargs = self._build_module(input_shape, len(classes))
        criterion, criterion_kwargs = self._build_criterion(classes, y)
        optimizer, optimizer_kwargs = self._build_optimizer(device)
        n_samples = len(y) if y is not None else n_samples or 0
        split, n_valid = None, 0
        if self.validation_fraction > 0:
            split = HoldoutSplit(self.validation_fraction, seed)
            n_valid = split.n_valid(n_samples) if y is not None else 0  # loaded: trained count
        batch_size = settle_batch_size(self.batch_size, n_samples - n_valid)
        steps_per_epoch = -(-(n_samples - n_valid) // batch_size)
        augment = self._settle_augment(input_shape)
        # For the DataLoader of image files; tensors are sliced without one.
        loader = loader_kwargs(settle_num_workers(self.num_workers, n_samples), device)
        return self.net_class(
            module,
            augment=augment,
            channels_last=channels_last_is_fast(device, module, module_kwargs),
            **self._training_choices(device, module, augment),
            criterion=criterion,
            optimizer=optimizer,
            lr=optimizer_kwargs.pop("lr"),
            max_epochs=settle_max_epochs(self.max_epochs, steps_per_epoch),
            batch_size=batch_size,
            train_split=split,
            callbacks=self._build_callbacks(n_valid > 0, steps_per_epoch),
            **self._net_kwargs(classes, y),
            iterator_train=TensorBatches,
            iterator_valid=TensorBatches,
            iterator_train__shuffle=True,
            **{f"iterator_{kind}__{k}": v for kind in ("train", "valid")
               for k, v in loader.items()},
            device=str(device),
            verbose=int(self.verbose) if writes_files() else 0,  # rank 0 of a launch prints
            callbacks__print_log=EpochLog(),
            **{f"module__{k}": v for k, v in module_kwargs.items()},
            **{f"criterion__{k}": v for k, v in criterion_kwargs.items()},
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        )
