"""The learning-rate range test ("LR finder") of a ``CNNClassifier``.

A copy of the estimator trains from scratch, one batch per step, while its
learning rate grows exponentially from ``start_lr`` to ``end_lr``; the loss
of each step, smoothed, tells where training is fastest and where it
diverges (Smith, "Cyclical Learning Rates for Training Neural Networks",
2017; as fastai's ``lr_find`` and torch-lr-finder's ``range_test``).

The copy trains through its own ``fit``, so the sweep sees exactly the
network, optimizer, loss, augmentation and device a real fit uses; skorch's
``LRScheduler`` grows the rate and a callback records the losses and stops
the run the way skorch's ``EarlyStopping`` does. It is written here rather
than taken from torch-lr-finder, which drives a bare model and optimizer
with its own loop (no augmentation, class weights, channels-last or CUDA
graph of the real fit) and is not a dependency.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import Interval, validate_params
from skorch.callbacks import Callback, LRScheduler

from .lengths import fit_batch_size

__all__ = ["LR_RULES", "lr_sweep", "suggest_lr"]

#: Name of the sweep's callbacks in the copy's skorch net.
LR_FINDER = "lr_finder"
LR_FINDER_SCHEDULE = "lr_finder_schedule"
#: Steps left out at the start when looking for the steepest descent: the
#: smoothed loss starts at the first batch's loss and needs a few steps to
#: follow the raw one (torch-lr-finder skips 10 of its 100 by default).
SKIP_START = 5


class LRFinder(Callback):
    """Record the smoothed loss of every training step; stop at divergence.

    Parameters
    ----------
    num_steps : int
        Steps after which the run stops.
    smoothing : float
        Weight of the newest loss in the exponential moving average.
    diverge_threshold : float
        Stop when the smoothed loss exceeds this multiple of its minimum.

    Attributes
    ----------
    lrs_ : list of float
        Learning rate of each step.
    losses_ : list of float
        Smoothed loss after each step.
    """

    def __init__(self, num_steps: int, smoothing: float, diverge_threshold: float):
        self.num_steps = num_steps
        self.smoothing = smoothing
        self.diverge_threshold = diverge_threshold

    def initialize(self):
        self.lrs_, self.losses_ = [], []
        self.lr_ = None
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.lr_ = net.optimizer_.param_groups[0]["lr"]

    def on_batch_end(self, net, training=False, loss=None, **kwargs):
        if not training:
            return
        value = float(loss.item() if torch.is_tensor(loss) else loss)
        if self.losses_:
            value = self.smoothing * value + (1 - self.smoothing) * self.losses_[-1]
        self.lrs_.append(self.lr_)
        self.losses_.append(value)
        diverged = not math.isfinite(value) or value > self.diverge_threshold * min(
            self.losses_)
        if diverged or len(self.losses_) >= self.num_steps:
            raise KeyboardInterrupt  # how skorch's callbacks end a fit early


#: The rules ``suggest_lr`` knows, fastai's names: a tenth of where the loss
#: is lowest ("minimum", the default, measured on the recipe panel), two
#: thirds down its longest valley ("valley"), where it falls fastest ("steep").
LR_RULES = ("minimum", "valley", "steep")


def suggest_lr(lrs, losses, *, rule: str = "minimum",
               skip_start: int = SKIP_START) -> float | None:
    """A learning rate read off a range test's loss curve.

    Parameters
    ----------
    lrs : array-like of shape (n_steps,)
        Increasing learning rates.
    losses : array-like of shape (n_steps,)
        Smoothed loss at each rate.
    rule : {"minimum", "valley", "steep"}, default="minimum"
        "minimum": a tenth of the rate of the lowest loss (fastai's
        ``minimum``). "valley": two thirds down the longest stretch over
        which the loss keeps falling (fastai's ``valley``). "steep": where
        the loss falls fastest against the logarithm of the rate, before
        its minimum (fastai's ``steep``; torch-lr-finder's). Measured on
        the recipe panel against the best of five fixed rates
        (``benchmarks/lr_rules.py``, docs/plotting.md): "minimum" landed
        nearest and lost least accuracy.
    skip_start : int, default=5
        Steps ignored at the start (the smoother's warm-up).

    Returns
    -------
    lr : float or None
        None when the loss never fell (the range started too high, or was
        too short to tell).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn._training.lr_finder import suggest_lr
    >>> lrs = np.logspace(-5, 0, 51)
    >>> losses = 2 - np.tanh(np.log10(lrs) + 3) + np.where(lrs > 0.1, 50 * lrs, 0)
    >>> float(np.log10(suggest_lr(lrs, losses, rule="steep")))
    -3.0
    >>> float(np.log10(suggest_lr(lrs, losses, rule="minimum")))
    -2.0
    """
    if rule not in LR_RULES:
        raise ValueError(f"rule must be one of {LR_RULES}; got {rule!r}.")
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    finite = np.isfinite(losses)
    lrs, losses = lrs[finite][skip_start:], losses[finite][skip_start:]
    if len(losses) < 3:
        return None
    end = int(np.argmin(losses)) + 1
    if end < 3:
        return None
    if rule == "minimum":
        return float(lrs[end - 1] / 10)
    if rule == "valley":
        return _valley(lrs, losses)
    slope = np.gradient(losses[:end], np.log(lrs[:end]))
    if slope.min() >= 0:
        return None
    return float(lrs[int(np.argmin(slope))])


def _valley(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    # fastai's valley (fastai/callback/schedule.py, Apache-2.0), written out
    # because fastai is not a dependency: the longest strictly decreasing
    # subsequence of the losses marks the valley; take two thirds down it.
    n = len(losses)
    longest = np.ones(n, dtype=int)
    start = stop = 0
    for i in range(1, n):
        below = losses[:i] > losses[i]
        if below.any():
            longest[i] = longest[:i][below].max() + 1
        if longest[i] > longest[stop]:
            stop = i
            start = stop - longest[stop]
    if stop == 0:
        return None
    third = (stop - start) / 3
    return float(lrs[max(start + int(third) + int(third / 2), 0)])


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
    batch_size = fit_batch_size(estimator.get_params()["batch_size"], len(X))
    steps_per_epoch = math.ceil(len(X) / batch_size)
    schedule = LRScheduler(
        policy=torch.optim.lr_scheduler.ExponentialLR,
        gamma=(end_lr / start_lr) ** (1 / (num_steps - 1)),
        last_epoch=-1, step_every="batch",
    )
    sweep = clone(estimator).set_params(
        lr=start_lr, lr_schedule="constant", max_epochs=math.ceil(num_steps / steps_per_epoch),
        validation_fraction=0.0, early_stopping=False, warm_start=False, verbose=0,
        callbacks=[*(estimator.get_params()["callbacks"] or []),
                   (LR_FINDER_SCHEDULE, schedule),
                   (LR_FINDER, LRFinder(num_steps, smoothing, diverge_threshold))],
    )
    sweep.fit(X, y)
    test = dict(sweep.net_.callbacks_)[LR_FINDER]
    lrs, losses = np.array(test.lrs_, dtype=float), np.array(test.losses_, dtype=float)
    return lrs, losses, suggest_lr(lrs, losses)
