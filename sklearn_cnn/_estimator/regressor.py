"""``CNNRegressor``: a CNN that maps images to numbers, ``CNNClassifier``'s sibling.

A thin subclass of ``BaseCNN`` (as ``MLPRegressor`` of scikit-learn's
``BaseMultilayerPerceptron``): its loss, its targets and its predictions.
Targets of any scale and shape work: they are standardised inside (each
output to mean 0, standard deviation 1) and the predictions brought back,
so an unscaled target (a price, 1000 x a label) trains as a scaled one, and
a 1-D ``y`` meets an ``(N, 1)`` output without broadcasting (the pitfall of
a plain skorch ``NeuralNetRegressor`` inside ``TransformedTargetRegressor``).
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_consistent_length, column_or_1d
from skorch.callbacks import EpochScoring

from .._data.sample_weights import check_sample_weight
from .._names import stable_name
from .._training.callbacks import EARLY_STOPPING
from .base import BaseCNN
from .classifier import CNNClassifier
from .params import BASE_PARAMETER_CONSTRAINTS

__all__ = ["CNNRegressor"]

#: The regression losses by name: torch's, evaluated per sample by the net
#: (``_model.losses.weighted_loss``) where samples are weighted.
REGRESSION_LOSSES = {"squared_error": torch.nn.MSELoss, "huber": torch.nn.HuberLoss,
                     "absolute_error": torch.nn.L1Loss}


def valid_r2(net, X, y) -> float:
    """R² of the hold-out (skorch scoring: ``net.forward`` gives the cached outputs)."""
    prediction = net.forward(X).float().cpu().numpy().reshape(len(y), -1)
    return float(r2_score(np.asarray(y).reshape(len(y), -1), prediction))


def _parameters_doc(estimator: type, own: dict[str, str]) -> str:
    """The Parameters section of ``estimator``: its ``own`` entries, the rest ``CNNClassifier``'s.

    In the order of ``estimator.__init__``'s signature; the two estimators
    share most parameters, documented once, on the classifier.
    """
    doc = CNNClassifier.__doc__
    block = doc[doc.index("    Parameters\n    ----------\n") + 30:doc.index("    Attributes\n")]
    entries = {entry.split(" : ")[0].strip(): entry
               for entry in re.split(r"\n(?=    \w+ : )", block.rstrip("\n"))}
    names = [name for name in inspect.signature(estimator.__init__).parameters if name != "self"]
    return "\n".join(own.get(name) or entries[name] for name in names)


@stable_name()
class CNNRegressor(RegressorMixin, BaseCNN):
    _parameter_constraints: dict = {
        **BASE_PARAMETER_CONSTRAINTS, "loss": [StrOptions(set(REGRESSION_LOSSES))]}

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
        loss="squared_error",
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
        for name, value in locals().items():  # stored as given, as scikit-learn requires
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # ------------------------------------------------------ what is about targets

    def _settle_augment(self, input_shape):
        # Any move can change a number: a rotation an angle, a zoom a scale, a
        # shift a position. "auto" adds none; a preset is the user's choice.
        if isinstance(self.augment, str) and self.augment == "auto":
            return None
        return super()._settle_augment(input_shape)

    def _build_criterion(self, outputs, y):
        return REGRESSION_LOSSES[self.loss], {}

    def _build_callbacks(self, has_holdout: bool, steps_per_epoch: int) -> list:
        # The hold-out is scored by R², not by skorch's classifier accuracy;
        # before early stopping, which ends the fit by raising in its epoch end.
        callbacks = [item for item in super()._build_callbacks(has_holdout, steps_per_epoch)
                     if not (isinstance(item, tuple) and item[0] == "train_acc")]  # no classes
        if has_holdout:
            names = [item[0] if isinstance(item, tuple) else None for item in callbacks]
            at = names.index(EARLY_STOPPING) if EARLY_STOPPING in names else len(callbacks)
            callbacks.insert(at, ("valid_r2", EpochScoring(
                valid_r2, name="valid_r2", lower_is_better=False, use_caching=True)))
        return callbacks

    def _net_kwargs(self, outputs, y) -> dict:
        return {"callbacks__valid_acc": None}

    def _check_targets(self, y, images, classes, resume: bool):
        y = np.asarray(y)
        try:
            if y.dtype.kind not in "biufO":
                raise TypeError
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            # scikit-learn's words for targets that are not numbers.
            raise ValueError(f"Unknown label type: {type(self).__name__} needs numeric "
                             f"targets; got y of dtype {y.dtype}. For class labels, use "
                             "CNNClassifier.") from None
        if y.ndim != 2:
            y = column_or_1d(y, warn=True)
        check_consistent_length(images, y)
        if not np.isfinite(y).all():
            raise ValueError(f"y holds NaN or infinite values; {type(self).__name__} needs "
                             "finite targets.")
        columns = y.reshape(len(y), -1)
        if resume:
            if columns.shape[1] != self.n_outputs_:
                raise ValueError(f"y has {columns.shape[1]} output(s); the fitted model "
                                 f"predicts {self.n_outputs_}.")
            self._y_scaling = (self.y_mean_, self.y_scale_)  # the scale it learned in
        else:
            scale = columns.std(axis=0)
            self._y_scaling = (columns.mean(axis=0), np.where(scale > 0, scale, 1.0))
        return y, np.arange(columns.shape[1])

    def _encode_targets(self, y, outputs):
        mean, scale = self._y_scaling
        return ((y.reshape(len(y), -1) - mean) / scale).astype(np.float32)

    def _record_targets(self, y, outputs):
        self.y_mean_, self.y_scale_ = self._y_scaling
        self.n_outputs_ = len(outputs)

    def _check_sample_weight(self, sample_weight, y, incremental: bool):
        return check_sample_weight(sample_weight, y.reshape(len(y), -1)[:, 0],
                                   estimator_name=type(self).__name__, needs_two_classes=False)

    def _output_labels(self):
        return np.arange(self.n_outputs_)

    _outputs_attribute = "outputs (n_outputs_)"

    # ------------------------------------------------------------- prediction

    def predict(self, X) -> np.ndarray:
        """The predicted number(s) of each image.

        Parameters
        ----------
        X : array-like
            Images, in the layout used for ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (N,) or (N, n_outputs)
            In the scale of the training targets; 1-D for one output.
            With ``tta``, the mean over the label-safe views.
        """
        y = self._logits(X) * self.y_scale_ + self.y_mean_
        return y.ravel() if self.n_outputs_ == 1 else y  # as MLPRegressor

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


LOSS_DOC = """\
    loss : {"squared_error", "huber", "absolute_error"}, default="squared_error"
        The loss on the standardised targets: squared error, Huber (squared
        below 1 standard deviation of the target, linear above) or absolute
        error."""
AUGMENT_DOC = """\
    augment : {"auto", "shift", "flip", "sharp", "light", "standard"}, \
BatchAugment, callable or None, default="auto"
        Random augmentation of training batches. "auto" adds none: a
        rotation changes an angle, a zoom a scale, a shift a position, a
        flip a sign. Choose a preset where the target does not change
        under its moves (a count under shifts and flips, say)."""

CNNRegressor.__doc__ = f"""A convolutional neural network regressor for images: images to numbers.

    The sibling of ``CNNClassifier``, sharing its base (``BaseCNN``), its
    inputs (arrays in every layout, image file paths, ``LazyImages``) and
    its parameters, with a regression loss. The targets, 1-D or 2-D
    (several outputs) and of any scale, are standardised inside and the
    predictions brought back to their scale, as ``MLPRegressor`` users
    expect ``fit(X, y)`` to just work. ``score`` is R².

    Parameters
    ----------
{_parameters_doc(CNNRegressor, {"loss": LOSS_DOC, "augment": AUGMENT_DOC})}

    Attributes
    ----------
    n_outputs_ : int
        Outputs of the network: the columns of ``y`` (1 for a 1-D ``y``).
    y_mean_ : ndarray of shape (n_outputs,)
        Mean of each target column in training; predictions add it back.
    y_scale_ : ndarray of shape (n_outputs,)
        Standard deviation of each target column (1 where constant).
    input_shape_ : tuple of int
        ``(C, H, W)`` of the images the network takes.
    n_features_in_ : int
        Pixel values per image, for array input (absent for files).
    net_ : skorch.NeuralNet
        The skorch net that trained the network.
    n_iter_ : int
        Epochs trained.
    best_epoch_ : int or None
        The epoch whose weights early stopping restored; None without it.

    See Also
    --------
    CNNClassifier : Its sibling, for class labels.
    sklearn.neural_network.MLPRegressor : The dense network regressor of scikit-learn.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNRegressor
    >>> X, y = load_digits(return_X_y=True)
    >>> reg = CNNRegressor(max_epochs=2, random_state=0).fit(X[:200], 1000.0 * y[:200])
    >>> reg.predict(X[:3]).shape
    (3,)
    """
