"""How an estimator that owns a skorch net trains it: ``fit`` and ``partial_fit``'s path.

``FitMixin._fit`` validates the parameters, reads the images and targets,
builds the net (``NetBuilderMixin``) or continues the fitted one, opens the
fit's checkpoint (``_training.checkpoint``), trains in the fit's own random
numbers (``_training.randomness``) and records the fitted attributes.
``_training_images`` and ``_check_targets`` are the points a subclass
overrides to read other inputs or targets.
"""

from __future__ import annotations

import math

import numpy as np

from .._data.images import read_images
from .._data.sample_weights import check_sample_weight
from .._data.targets import check_targets
from .._model.convnet import ConvNet
from .._training.callbacks import EARLY_STOPPING
from .._training.checkpoint import open_checkpoint
from .._training.device import resolve_device
from .._training.net import carry_over, single_pass
from .._training.optimizers import resolve_lr
from .._training.precision import check_precision
from .._training.randomness import FitRandomness, draw_seed
from .params import check_param_rules
from .pixel_range import pixel_range, union_range

__all__ = ["FitMixin"]


class FitMixin:
    """The training path of ``CNNClassifier``: ``_fit`` and the points it calls.

    Needs ``NetBuilderMixin`` (``_build_net``, ``_check_geometry``,
    ``_training_choices``) and scikit-learn's ``BaseEstimator``.
    """

    def _fit(self, X, y, classes, incremental: bool, sample_weight=None) :
        self._validate_params()
        check_param_rules(self.get_params(deep=False))
        device = resolve_device(self.device)
        check_precision(self.precision, device)
        fitted = hasattr(self, "net_")
        resume = fitted and (incremental or self.warm_start)
        images = self._training_images(X, self.input_shape_ if resume else None)
        input_shape = images.image_shape
        pixels = pixel_range(images)
        y, classes_ = self._check_targets(y, images.data, classes, resume)
        if not resume:
            self._check_geometry(input_shape)
        sample_weight = check_sample_weight(
            sample_weight, y, estimator_name=type(self).__name__,
            needs_two_classes=not incremental)
        y_encoded = y if y.ndim == 2 else np.searchsorted(classes_, y).astype(np.int64)
        data = images.training_data(y_encoded, sample_weight, device)

        seed, checkpoint = draw_seed(self.random_state), None
        if self.checkpoint is not None and not resume and not incremental:
            checkpoint = open_checkpoint(self.checkpoint, self.get_params(deep=False), seed,
                                         images.data, y_encoded, sample_weight)
            seed = checkpoint.seed_
        randomness = FitRandomness(seed, device)
        if incremental and fitted:
            net = self.net_
            # The lr as set_params left it, as SGDClassifier.partial_fit takes eta0.
            net.lr = resolve_lr(self.optimizer, self.lr)
            for name, value in self._training_choices(device, net.module, net.augment).items():
                setattr(net, name, value)
        else:
            net = self._build_net(input_shape, classes_, y, device, randomness.seed)
            if resume and isinstance(self.net_.module_, ConvNet):
                # Continue a network of the block order it was built with.
                net.set_params(module__pool_first=self.net_.module_.pool_first)
            with randomness.initialising():
                net.initialize()
            if resume:
                carry_over(self.net_, net)
        net.checkpoint_ = checkpoint  # read and written by the net (_training.checkpoint)
        with randomness.training(net):
            if incremental:
                with single_pass(net):
                    net.partial_fit(data, y_encoded, epochs=1)
            else:
                net.partial_fit(data, y_encoded)
        net.checkpoint_ = None

        self.net_ = net
        self.classes_ = classes_
        self.multilabel_ = y.ndim == 2
        self.input_shape_ = input_shape
        self.pixel_range_ = union_range(self.pixel_range_, pixels) if resume else pixels
        if images.is_files:
            vars(self).pop("n_features_in_", None)
        else:
            self.n_features_in_ = math.prod(input_shape)
        self.device_ = str(device)
        self.precision_ = net.precision
        self.cuda_graphs_ = net.graph_replays_ > 0
        self.n_threads_ = getattr(net, "n_threads_", None)
        self.n_iter_ = len(net.history)
        stopper = dict(net.callbacks_).get(EARLY_STOPPING)
        self.best_epoch_ = None if stopper is None or incremental else stopper.best_epoch_
        return self

    def _training_images(self, X, expected):
        """The training images as read (``_data.images.ImageInput``), checked for a resumed fit."""
        return read_images(
            X, image_shape=self.image_shape, data_format=self.data_format,
            expected=expected, estimator=self, check_files=True,
        )

    def _check_targets(self, y, images, classes, resume: bool) -> tuple[np.ndarray, np.ndarray]:
        """Validated targets and the sorted classes the model knows (``_data.targets``)."""
        return check_targets(
            y, images, classes=classes,
            fitted_classes=self.classes_ if resume else None,
            fitted_multilabel=resume and self.multilabel_,
            class_weight=self.class_weight, estimator_name=type(self).__name__)
