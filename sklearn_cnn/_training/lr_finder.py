"""The callbacks of the learning-rate range test ("LR finder"), and its rule.

``sklearn_cnn._estimator.lr_sweep`` runs the test on a copy of an estimator
with :func:`sweep_callbacks`, and reads it with :func:`sweep_result`.

``LRFinder`` records the smoothed loss of each step and stops the run at
divergence, the way skorch's ``EarlyStopping`` stops a fit; skorch's
``LRScheduler`` grows the rate. The test itself, and why it is written here
rather than taken from torch-lr-finder, is ``lr_sweep``'s docstring.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skorch.callbacks import Callback, LRScheduler

__all__ = ["LR_RULES", "LRFinder", "suggest_lr", "sweep_callbacks", "sweep_result"]

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


def sweep_callbacks(start_lr: float, end_lr: float, num_steps: int, smoothing: float,
                    diverge_threshold: float) -> list[tuple[str, Callback]]:
    """The two callbacks of a range test: the growing rate and the recorder.

    Parameters
    ----------
    start_lr, end_lr : float
        Learning rates of the first and the last step.
    num_steps : int
        Steps from ``start_lr`` to ``end_lr``.
    smoothing : float
        Weight of the newest loss in the moving average.
    diverge_threshold : float
        Stop once the smoothed loss exceeds this multiple of its minimum.

    Returns
    -------
    callbacks : list of (str, Callback)
        skorch's ``LRScheduler`` (exponential, stepped every batch) and an
        ``LRFinder``; :func:`sweep_result` reads what the latter recorded.
    """
    schedule = LRScheduler(
        policy=torch.optim.lr_scheduler.ExponentialLR,
        gamma=(end_lr / start_lr) ** (1 / (num_steps - 1)),
        last_epoch=-1, step_every="batch",
    )
    return [(LR_FINDER_SCHEDULE, schedule),
            (LR_FINDER, LRFinder(num_steps, smoothing, diverge_threshold))]


def sweep_result(net) -> tuple[np.ndarray, np.ndarray, float | None]:
    """``(lrs, losses, suggested_lr)`` of the range test ``net`` ran."""
    test = dict(net.callbacks_)[LR_FINDER]
    lrs, losses = np.array(test.lrs_, dtype=float), np.array(test.losses_, dtype=float)
    return lrs, losses, suggest_lr(lrs, losses)
