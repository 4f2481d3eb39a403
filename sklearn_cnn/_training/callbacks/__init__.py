"""The skorch callbacks of one fit, from the estimator's parameters.

Weight averaging, the user's callbacks, then the learning-rate schedule, early stopping, the
recorder of each epoch's learning rate and what ``verbose`` shows
(``sklearn_cnn._training.callbacks.logging``). skorch adds its own defaults (timer, losses,
``valid_acc``) and puts the epoch table last.
"""

from __future__ import annotations

import copy

from skorch.callbacks import Callback, EarlyStopping

from .averaging import WeightAveraging
from .logging import verbose_callbacks
from .lr_scheduler import EpochLR, make_lr_scheduler

__all__ = ["EARLY_STOPPING", "EPOCH_LR", "LR_SCHEDULE", "WEIGHT_AVERAGING", "fit_callbacks"]

#: Names of the callbacks this module adds, as skorch's ``callbacks_`` holds them.
LR_SCHEDULE = "lr_schedule"
EARLY_STOPPING = "early_stopping"
EPOCH_LR = "lr"
WEIGHT_AVERAGING = "weight_averaging"


def fit_callbacks(params: dict, has_holdout: bool,
                  steps_per_epoch: int) -> list[tuple[str, Callback]]:
    """The callbacks to give skorch's ``callbacks=`` for one ``fit``.

    Parameters
    ----------
    params : dict
        The estimator's validated ``get_params(deep=False)``.
    has_holdout : bool
        Whether a hold-out is scored (early stopping then watches
        ``valid_loss``, else ``train_loss``).
    steps_per_epoch : int
        Training batches per epoch, for schedules stepped every batch.

    Returns
    -------
    callbacks : list
        ``(name, callback)`` pairs and the user's callbacks, copied.

    Examples
    --------
    >>> from sklearn_cnn import CNNClassifier
    >>> params = CNNClassifier(early_stopping=True).get_params(deep=False)
    >>> [name for name, _ in fit_callbacks(params, has_holdout=True, steps_per_epoch=10)]
    ['lr_schedule', 'early_stopping', 'lr']
    """
    # The user's callbacks first: a LoadInitState restores the history before
    # the learning-rate schedule reads from it where to resume.
    # A copy: fitting must not change the callbacks the user passed.
    callbacks = copy.deepcopy(list(params["callbacks"] or []))
    if params["ema"] is not None:
        # First: the network shows the averaged weights at the end of each
        # epoch before any checkpoint or early stopping of the user's reads them.
        callbacks.insert(0, (WEIGHT_AVERAGING, WeightAveraging(params["ema"])))
    scheduler = make_lr_scheduler(params["lr_schedule"], params["max_epochs"], steps_per_epoch)
    if scheduler is not None:
        callbacks.append((LR_SCHEDULE, scheduler))
    if params["early_stopping"]:
        monitor = "valid_loss" if has_holdout else "train_loss"
        callbacks.append((EARLY_STOPPING, EarlyStopping(
            monitor=monitor, patience=params["patience"], load_best=True)))
    # Every epoch's learning rate in the history (a float the host already
    # has: no device read), for TrainingHistoryDisplay and the epoch table.
    callbacks.append((EPOCH_LR, EpochLR()))
    return callbacks + verbose_callbacks(params["verbose"])
