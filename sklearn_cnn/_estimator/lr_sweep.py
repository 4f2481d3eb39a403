"""``lr_sweep``: the learning-rate range test ("LR finder") of an estimator.

A copy of the estimator trains from scratch, one batch per step, while its
learning rate grows exponentially from ``start_lr`` to ``end_lr``; the loss
of each step, smoothed, tells where training is fastest and where it
diverges (Smith, "Cyclical Learning Rates for Training Neural Networks",
2017; as fastai's ``lr_find`` and torch-lr-finder's ``range_test``).

The copy trains through its own ``fit``, so the sweep sees exactly the
network, optimizer, loss, augmentation and device a real fit uses; skorch's
``LRScheduler`` grows the rate and a callback records the losses and stops
the run the way skorch's ``EarlyStopping`` does
(``sklearn_cnn._training.lr_finder``). It is written here rather than taken
from torch-lr-finder, which drives a bare model and optimizer with its own
loop (no augmentation, class weights, channels-last or CUDA graph of the
real fit) and is not a dependency.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from sklearn.base import clone
from sklearn.utils._param_validation import Interval, validate_params

from .._training.epochs_and_batches import settle_batch_size
from .._training.lr_finder import SKIP_START, sweep_callbacks, sweep_result

__all__ = ["lr_sweep"]


@validate_params(
    {
        "estimator": [object],
        "X": ["array-like"],
        "y": ["array-like"],
        "start_lr": [Interval(Real, 0, None, closed="neither")],
        "end_lr": [Interval(Real, 0, None, closed="neither")],
        "num_steps": [Interval(Integral, SKIP_START + 3, None, closed="left")],
        "smoothing": [Interval(Real, 0, 1, closed="right")],
        "diverge_threshold": [Interval(Real, 1, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def lr_sweep(estimator, X, y, *, start_lr=1e-6, end_lr=10.0, num_steps=100, smoothing=0.05,
             diverge_threshold=4.0):
    """Run a learning-rate range test: the loss as the learning rate grows.

    A clone of ``estimator`` (its fitted state, if any, is untouched)
    trains from scratch on ``X``, ``y`` as ``fit`` would (network,
    optimizer, loss, augmentation, device, ``batch_size``), one batch per
    step, with the learning rate growing exponentially from ``start_lr`` to
    ``end_lr`` and no schedule, hold-out or early stopping. The run stops
    after ``num_steps`` steps or when the smoothed loss exceeds
    ``diverge_threshold`` times its minimum.

    Parameters
    ----------
    estimator : CNNClassifier or Pipeline
        The classifier to test, fitted or not; a Pipeline's earlier steps
        are fitted (on clones) and transform ``X`` first.
    X : array-like
        Training images, as for ``fit``.
    y : array-like of shape (N,)
        Class labels.
    start_lr : float, default=1e-6
        Learning rate of the first step.
    end_lr : float, default=10.0
        Learning rate of the last step.
    num_steps : int, default=100
        Steps (batches) from ``start_lr`` to ``end_lr``; the data is passed
        over as many times as needed.
    smoothing : float, default=0.05
        Weight of each new loss in the exponential moving average of the
        losses (1: no smoothing).
    diverge_threshold : float, default=4.0
        Stop once the smoothed loss exceeds this multiple of its minimum.

    Returns
    -------
    lrs : ndarray of shape (n_steps,)
        Learning rate of each step run (``n_steps <= num_steps``).
    losses : ndarray of shape (n_steps,)
        Smoothed training loss after each step.
    suggested_lr : float or None
        A tenth of the rate where the smoothed loss is lowest (see
        ``suggest_lr``, whose rules were measured on the recipe panel): a
        starting point for ``lr``. None when the loss never fell.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn import lr_sweep
    >>> X, y = load_digits(return_X_y=True)
    >>> lrs, losses, suggested_lr = lr_sweep(
    ...     CNNClassifier(random_state=0), X[:200], y[:200], start_lr=1e-4, num_steps=10)
    >>> len(lrs) == len(losses) <= 10
    True
    """
    if start_lr >= end_lr:
        raise ValueError(
            f"start_lr={start_lr!r} must be below end_lr={end_lr!r}: the sweep "
            "increases the learning rate."
        )
    if hasattr(estimator, "steps"):
        X = clone(estimator[:-1]).fit_transform(X, y)
        estimator = estimator[-1]
    batch_size = settle_batch_size(estimator.get_params()["batch_size"], len(X))
    steps_per_epoch = math.ceil(len(X) / batch_size)
    sweep = clone(estimator).set_params(
        lr=start_lr, lr_schedule="constant", max_epochs=math.ceil(num_steps / steps_per_epoch),
        validation_fraction=0.0, early_stopping=False, warm_start=False, verbose=0,
        callbacks=[*(estimator.get_params()["callbacks"] or []),
                   *sweep_callbacks(start_lr, end_lr, num_steps, smoothing, diverge_threshold)],
    )
    sweep.fit(X, y)
    return sweep_result(sweep.net_)
