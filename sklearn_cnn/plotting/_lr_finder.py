"""``LRFinderDisplay``: the loss of a learning-rate range test."""

from __future__ import annotations

import numpy as np

from .._estimator.lr_sweep import lr_sweep
from ._matplotlib import check_matplotlib_support

__all__ = ["LRFinderDisplay"]


class LRFinderDisplay:
    """Loss against learning rate from a range test, with the suggested rate.

    Use :meth:`from_estimator` to run the test (``lr_sweep``) and plot it.
    All parameters are stored as attributes: the test's results are plain
    attributes, as ``RocCurveDisplay``'s ``fpr`` and ``tpr`` are; what
    :meth:`plot` draws ends in an underscore.

    Parameters
    ----------
    lrs : ndarray of shape (n_steps,)
        Learning rate of each step.
    losses : ndarray of shape (n_steps,)
        Smoothed training loss after each step.
    suggested_lr : float, default=None
        The rate to mark; None marks none.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The loss curve.
    suggestion_ : matplotlib Line2D or None
        The marker at the suggested rate.
    ax_ : matplotlib Axes
        Axes with the curve.
    figure_ : matplotlib Figure
        Figure containing the curve.

    See Also
    --------
    TrainingHistoryDisplay : The curves of a real fit, learning rate included.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.plotting import LRFinderDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> display = LRFinderDisplay.from_estimator(
    ...     CNNClassifier(random_state=0), X[:200], y[:200], start_lr=1e-4, num_steps=10)
    >>> display.ax_.get_xscale()
    'log'
    """

    def __init__(self, *, lrs, losses, suggested_lr=None):
        self.lrs = lrs
        self.losses = losses
        self.suggested_lr = suggested_lr

    def plot(self, *, ax=None, show_suggestion=True):
        """Draw the loss against the learning rate, on a log scale.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None: a new figure.
        show_suggestion : bool, default=True
            Mark ``suggested_lr`` on the curve.

        Returns
        -------
        display : LRFinderDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        lrs, losses = np.asarray(self.lrs, dtype=float), np.asarray(self.losses, dtype=float)
        (self.line_,) = ax.plot(lrs, losses, color="tab:blue", label="smoothed loss")
        self.suggestion_ = None
        if show_suggestion and self.suggested_lr is not None:
            at = np.interp(np.log(self.suggested_lr), np.log(lrs), losses)
            (self.suggestion_,) = ax.plot(
                [self.suggested_lr], [at], marker="o", markersize=8, linestyle="none",
                color="tab:red", label=f"suggested lr = {self.suggested_lr:.2g}")
        ax.set(xscale="log", xlabel="learning rate", ylabel="training loss (smoothed)",
               title="Learning-rate range test")
        finite = losses[np.isfinite(losses)]
        if len(finite):
            # The blow-up at the end of a run would squash the curve: show it
            # up to a little above the highest loss before the minimum.
            low, high = finite.min(), finite.max()
            before_min = finite[: int(np.argmin(finite)) + 1].max()
            if before_min > low:
                high = min(high, before_min + 0.2 * (before_min - low))
            pad = 0.05 * (high - low) or 0.05
            ax.set_ylim(low - pad, high + pad)
        ax.grid(alpha=0.3)
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, *, start_lr=1e-6, end_lr=10.0, num_steps=100,
                       smoothing=0.05, diverge_threshold=4.0, ax=None, show_suggestion=True):
        """Run a learning-rate range test on a clone of ``estimator`` and plot it.

        Parameters
        ----------
        estimator : CNNClassifier or Pipeline
            The classifier to test, fitted or not (it is not changed).
        X : array-like
            Training images, as for ``fit``.
        y : array-like of shape (N,)
            Class labels.
        start_lr : float, default=1e-6
            Learning rate of the first step, as in ``lr_sweep``.
        end_lr : float, default=10.0
            Learning rate of the last step, as in ``lr_sweep``.
        num_steps : int, default=100
            Steps (batches) from ``start_lr`` to ``end_lr``, as in ``lr_sweep``.
        smoothing : float, default=0.05
            Weight of each new loss in the moving average, as in ``lr_sweep``.
        diverge_threshold : float, default=4.0
            Stop once the smoothed loss exceeds this multiple of its minimum,
            as in ``lr_sweep``.
        ax : matplotlib Axes, default=None
            Axes to draw on; None: a new figure.
        show_suggestion : bool, default=True
            Mark the suggested rate on the curve.

        Returns
        -------
        display : LRFinderDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        lrs, losses, suggested_lr = lr_sweep(
            estimator, X, y, start_lr=start_lr, end_lr=end_lr, num_steps=num_steps,
            smoothing=smoothing, diverge_threshold=diverge_threshold)
        display = cls(lrs=lrs, losses=losses, suggested_lr=suggested_lr)
        return display.plot(ax=ax, show_suggestion=show_suggestion)
