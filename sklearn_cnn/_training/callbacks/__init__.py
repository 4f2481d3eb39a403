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


def fit_callbacks(*, callbacks, ema: float | None, lr_schedule: str, max_epochs: int,
                  early_stopping: bool, patience: int, verbose: int, has_holdout: bool,
                  steps_per_epoch: int) -> list[tuple[str, Callback]]:
    """The callbacks to give skorch's ``callbacks=`` for one ``fit``.

    Parameters
    ----------
    callbacks : list or None
        The user's skorch callbacks (or ``(name, callback)`` pairs); copied.
    ema : float or None
        Decay of the weight average; None: none.
    lr_schedule : {"constant", "onecycle", "cosine"}
        The learning-rate schedule over the fit.
    max_epochs : int
        Epochs of the fit (settled: no "auto").
    early_stopping : bool
        Stop after ``patience`` epochs without improvement.
    patience : int
        Epochs without improvement before stopping.
    verbose : int
        0 silent, 1 the epoch table (``callbacks.logging``).
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
    >>> callbacks = fit_callbacks(
    ...     callbacks=None, ema=None, lr_schedule="onecycle", max_epochs=10,
    ...     early_stopping=True, patience=5, verbose=0, has_holdout=True, steps_per_epoch=10)
    >>> [name for name, _ in callbacks]
    ['lr_schedule', 'early_stopping', 'lr']
    """
    # The user's callbacks first: a LoadInitState restores the history before
    # the learning-rate schedule reads from it where to resume.
    # A copy: fitting must not change the callbacks the user passed.
    chosen = copy.deepcopy(list(callbacks or []))
    if ema is not None:
        # First: the network shows the averaged weights at the end of each
        # epoch before any checkpoint or early stopping of the user's reads them.
        chosen.insert(0, (WEIGHT_AVERAGING, WeightAveraging(ema)))
    scheduler = make_lr_scheduler(lr_schedule, max_epochs, steps_per_epoch)
    if scheduler is not None:
        chosen.append((LR_SCHEDULE, scheduler))
    if early_stopping:
        monitor = "valid_loss" if has_holdout else "train_loss"
        chosen.append((EARLY_STOPPING, EarlyStopping(
            monitor=monitor, patience=patience, load_best=True)))
    # Every epoch's learning rate in the history (a float the host already
    # has: no device read), for TrainingHistoryDisplay and the epoch table.
    chosen.append((EPOCH_LR, EpochLR()))
    return chosen + verbose_callbacks(verbose)
