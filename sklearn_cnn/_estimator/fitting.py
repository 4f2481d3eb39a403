"""How an estimator that owns a skorch net trains it: ``fit`` and ``partial_fit``'s path.

``NetFitter._fit`` validates the parameters, reads the images and targets,
builds the net (``NetBuilder``) or continues the fitted one, opens the
fit's checkpoint (``_training.checkpoint``), trains in the fit's own random
numbers (``_training.randomness``) and records the fitted attributes.
Under ``torchrun`` it first joins the launch's processes
(``_process_group``): the fit is then one fit over all of them, each on its
own GPU where there are GPUs, from one seed (``_training.data_parallel``).
``_training_images`` and ``_check_targets`` are the points a subclass
overrides to read other inputs or targets.
"""

from __future__ import annotations

import math
import secrets

import numpy as np

from .._data.images import read_images
from .._data.sample_weights import check_sample_weight
from .._model.convnet import ConvNet
from .._process_group import agree, join, process_device
from .._training.callbacks import EARLY_STOPPING
from .._training.checkpoint import open_checkpoint
from .._training.device import settle_device
from .._training.net import carry_over, single_pass
from .._training.optimizers import settle_lr
from .._training.precision import check_precision
from .._training.randomness import SEED_BOUND, FitRandomness, draw_seed
from .net_state import NetState
from .params import check_param_rules
from .pixel_range import pixel_range, union_range

__all__ = ["NetFitter"]

#: Parameters that do not change what a fit computes, only where, how fast or
#: how visibly: left out of its checkpoint's key, so that a fit checkpointed
#: on a GPU resumes on the CPU.
NOT_IN_CHECKPOINT_KEY = frozenset({"checkpoint", "device", "cuda_graphs", "num_workers",
                                   "n_jobs", "verbose"})


class NetFitter(NetState):
    """The training path of a CNN estimator: ``_fit`` and the points it calls.

    What depends on the kind of target, the estimator of that kind defines:
    ``_check_targets`` (validated targets and the labels of the outputs),
    ``_encode_targets`` (what the net trains on), ``_record_targets`` (the
    fitted attributes they leave) and ``_check_sample_weight``.
    """

    def fit(self, X, y, sample_weight=None):
        """Train the network on images ``X`` with targets ``y``.

        Parameters
        ----------
        X : array-like
            Images in any accepted layout, or image file paths.
        y : array-like
            Targets, as the estimator takes them.
        sample_weight : array-like of shape (N,), default=None
            Weight of each image in the loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, classes=None, incremental=False, sample_weight=sample_weight)

    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on ``X``, ``y``, continuing from the current weights.

        Parameters
        ----------
        X : array-like
            Images, as for ``fit``.
        y : array-like
            Targets, as for ``fit``.
        sample_weight : array-like of shape (N,), default=None
            Weight of each image in the loss.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._fit(X, y, classes=None, incremental=True, sample_weight=sample_weight)

    def _fit(self, X, y, classes, incremental: bool, sample_weight=None):
        self._validate_params()
        check_param_rules(self.get_params(deep=False))
        device = settle_device(self.device)
        # Under torchrun: one fit over all the processes (_training.data_parallel).
        world = join(device)
        device = process_device(device, world)  # one GPU per process
        check_precision(self.precision, device)
        fitted = hasattr(self, "net_")
        resume = fitted and (incremental or self.warm_start)
        images = self._training_images(X, self.input_shape_ if resume else None)
        input_shape = images.image_shape
        pixels = pixel_range(images)
        y, classes_ = self._check_targets(y, images.data, classes, resume)
        if not resume:
            self._check_geometry(input_shape)
        sample_weight = self._check_sample_weight(sample_weight, y, incremental)
        y_encoded = self._encode_targets(y, classes_)
        data = images.training_data(y_encoded, sample_weight, device)

        seed, checkpoint = draw_seed(self.random_state), None
        if world is not None and seed is None:  # the processes split and shuffle alike
            seed = secrets.randbelow(SEED_BOUND)
        if self.checkpoint is not None and not resume and not incremental:
            description = self._checkpoint_key_params()
            if world is not None:  # a fit over N processes resumes over N
                description["processes"] = world.size
            checkpoint = open_checkpoint(self.checkpoint, description, seed,
                                         images.data, y_encoded, sample_weight)
            seed = checkpoint.seed_
        seed = agree(seed)  # rank 0's (itself outside a launch)
        randomness = FitRandomness(seed, device, None if world is None else world.rank)
        if incremental and fitted:
            net = self.net_
            # The lr as set_params left it, as SGDClassifier.partial_fit takes eta0.
            net.lr = settle_lr(self.optimizer, self.lr)
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
        self._record_targets(y, classes_)
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
        """The training images as read (an ``ImageInput``), checked for a resumed fit."""
        return read_images(
            X, image_shape=self.image_shape, data_format=self.data_format,
            expected=expected, estimator=self, check_files=True,
        )

    def _check_targets(self, y, images, classes, resume: bool) -> tuple[np.ndarray, np.ndarray]:
        """Validated targets, and the labels of the network's outputs.

        ``images`` are the training images as read; ``classes`` what
        ``partial_fit`` was given; ``resume``: the fit continues a fitted model.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no targets (_check_targets).")

    def _encode_targets(self, y: np.ndarray, outputs: np.ndarray) -> np.ndarray:
        """What the net trains on for targets ``y`` (by default ``y`` itself)."""
        return y

    def _record_targets(self, y: np.ndarray, outputs: np.ndarray) -> None:
        """Set the fitted attributes the targets leave (none by default)."""

    def _check_sample_weight(self, sample_weight, y: np.ndarray, incremental: bool):
        """Validated sample weights (``_data.sample_weights.check_sample_weight``)."""
        return check_sample_weight(sample_weight, y, estimator_name=type(self).__name__,
                                   needs_two_classes=False)

    def _checkpoint_key_params(self) -> dict:
        """The parameters that make a fit what it is: its checkpoint's key."""
        return {k: v for k, v in self.get_params(deep=False).items()
                if k not in NOT_IN_CHECKPOINT_KEY}
