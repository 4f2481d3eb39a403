"""``TrainingHistoryDisplay``: loss, accuracy and learning rate per epoch."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._matplotlib import check_matplotlib_support, panel_axes

__all__ = ["TrainingHistoryDisplay"]

#: Per-epoch history columns drawn, on the loss and the accuracy panel.
LOSS_KEYS = ("train_loss", "valid_loss")
ACCURACY_KEYS = ("train_acc", "valid_acc")
#: Where skorch's ``LRScheduler`` records the learning rate it applied: per
#: batch (``step_every="batch"``, the one-cycle schedule) or per epoch (the
#: cosine schedule; with ``verbose``, every epoch has it).
LR_EVENT = "event_lr"


def _column(history, key: str) -> np.ndarray | None:
    """``key`` of every epoch as floats, NaN where an epoch lacks it; None if none has it."""
    values = [row.get(key) for row in history]
    if all(value is None for value in values):
        return None
    return np.array([np.nan if value is None else value for value in values], dtype=float)


def _learning_rates(history, epochs: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Learning rates and where in the epochs they applied, from what the history recorded.

    A rate recorded per batch is placed at the fraction of its epoch that
    batch ends (the last batch of epoch 3 at 3.0); a rate per epoch at its
    epoch. Epochs that recorded none are left out.
    """
    positions, rates = [], []
    for epoch, row in zip(epochs, history, strict=True):
        batches = [b for b in row.get("batches", ()) if LR_EVENT in b]
        if batches:
            n = len(batches)
            positions.extend(epoch - 1 + (i + 1) / n for i in range(n))
            rates.extend(b[LR_EVENT] for b in batches)
        elif LR_EVENT in row:
            positions.append(epoch)
            rates.append(row[LR_EVENT])
    if not rates:
        return None
    return np.array(rates, dtype=float), np.array(positions, dtype=float)


class TrainingHistoryDisplay:
    """Training curves of a CNN: loss and accuracy per epoch, with the learning rate.

    Use :meth:`from_estimator` (a fitted ``CNNClassifier``) or
    :meth:`from_history` (a skorch ``History`` or a list of per-epoch dicts)
    to create one. All parameters are stored as attributes.

    Parameters
    ----------
    epochs : ndarray of shape (n_epochs,)
        Epoch numbers (1-based, as skorch counts them).
    train_loss : ndarray of shape (n_epochs,)
        Mean training loss of each epoch.
    valid_loss : ndarray of shape (n_epochs,), default=None
        Loss on the hold-out; None without one. NaN marks epochs without it.
    train_acc : ndarray of shape (n_epochs,), default=None
        Training accuracy, where the history records it: a fit with
        ``verbose=1`` does (reading every batch's predictions back costs a
        little, so a quiet fit does not); ``validation_fraction`` gives the
        hold-out's accuracy in any case.
    valid_acc : ndarray of shape (n_epochs,), default=None
        Hold-out accuracy; None without a hold-out.
    lr : ndarray of shape (n_rates,), default=None
        Learning rates applied, per batch or per epoch as recorded.
    lr_epochs : ndarray of shape (n_rates,), default=None
        Where each rate applied, in epochs (fractional for per-batch rates:
        the last batch of epoch 3 is at 3.0).

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes, shape (1, n_panels)
        The loss panel and, when the history has accuracies, the accuracy
        panel.
    lr_ax_ : matplotlib Axes or None
        The loss panel's second y axis, holding the learning rate.
    lines_ : dict of str to matplotlib Line2D
        One line per drawn curve, keyed by history column (``"train_loss"``,
        ``"valid_acc"``, ..., ``"lr"``).
    bounding_ax_ : matplotlib Axes or None
        The axes split into the panels; None when ``ax`` was an array of axes.
    figure_ : matplotlib Figure
        The figure holding the panels.

    See Also
    --------
    sklearn.metrics.ConfusionMatrixDisplay : Errors per class.
    LRFinderDisplay : Loss against learning rate, to choose ``lr``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.plotting import TrainingHistoryDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, validation_fraction=0.2, random_state=0)
    >>> clf = clf.fit(X[:200], y[:200])
    >>> display = TrainingHistoryDisplay.from_estimator(clf)
    >>> sorted(display.lines_)
    ['lr', 'train_loss', 'valid_acc', 'valid_loss']
    """

    def __init__(self, *, epochs, train_loss, valid_loss=None, train_acc=None, valid_acc=None,
                 lr=None, lr_epochs=None):
        self.epochs = epochs
        self.train_loss = train_loss
        self.valid_loss = valid_loss
        self.train_acc = train_acc
        self.valid_acc = valid_acc
        self.lr = lr
        self.lr_epochs = lr_epochs

    def plot(self, *, ax=None, show_lr=True):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            None: a new figure. One Axes: split into the panels (loss, and
            accuracy when there is any). An array-like: one Axes per panel.
        show_lr : bool, default=True
            Draw the learning rate on a second y axis of the loss panel,
            where the history recorded it.

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        from matplotlib.ticker import MaxNLocator

        curves = {"train_loss": self.train_loss, "valid_loss": self.valid_loss,
                  "train_acc": self.train_acc, "valid_acc": self.valid_acc}
        has_accuracy = any(curves[key] is not None for key in ACCURACY_KEYS)
        self.figure_, axes, self.bounding_ax_ = panel_axes(
            ax, 2 if has_accuracy else 1, 2, panel_size=(4.2, 3.2),
            caller=type(self).__name__)
        self.axes_ = axes
        self.lines_ = {}
        panels = [(axes.flat[0], LOSS_KEYS, "Loss")]
        if has_accuracy:
            panels.append((axes.flat[1], ACCURACY_KEYS, "Accuracy"))
        for panel, keys, title in panels:
            for key, color in zip(keys, ("tab:blue", "tab:orange"), strict=True):
                if curves[key] is not None:
                    (self.lines_[key],) = panel.plot(
                        self.epochs, curves[key], marker="o", markersize=3, color=color,
                        label=key.replace("_", " ").replace("acc", "accuracy"))
            panel.set(title=title, xlabel="epoch", ylabel=title.lower())
            panel.xaxis.set_major_locator(MaxNLocator(integer=True))
            panel.grid(alpha=0.3)
        if has_accuracy:
            axes.flat[1].set_ylim(top=1.02)

        loss_panel = axes.flat[0]
        self.lr_ax_ = None
        if show_lr and self.lr is not None and len(self.lr):
            self.lr_ax_ = loss_panel.twinx()
            (self.lines_["lr"],) = self.lr_ax_.plot(
                self.lr_epochs, self.lr, color="tab:gray", linestyle="--", linewidth=1,
                label="learning rate")
            self.lr_ax_.set_ylabel("learning rate", color="tab:gray")
            self.lr_ax_.tick_params(axis="y", colors="tab:gray")
            self.lr_ax_.set_ylim(bottom=0)
            self.lr_ax_.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
        for panel, _, _ in panels:
            handles = [line for line in self.lines_.values() if line.axes in (
                panel, self.lr_ax_ if panel is loss_panel else None)]
            if handles:
                # Below the panel: inside, it would cover the curves of one
                # of the two y axes (loss and learning rate share the panel).
                panel.legend(handles=handles, fontsize="small", loc="upper center",
                             bbox_to_anchor=(0.5, -0.14), ncol=min(len(handles), 3),
                             frameon=False)
        return self

    @classmethod
    def from_history(cls, history, *, ax=None, show_lr=True):
        """Plot the curves of a training history.

        Parameters
        ----------
        history : skorch.History or list of dict
            One dict per epoch with some of ``train_loss``, ``valid_loss``,
            ``train_acc``, ``valid_acc``, and the learning rate as skorch's
            ``LRScheduler`` records it (``event_lr``, per batch in
            ``"batches"`` or per epoch).
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw; see :meth:`plot`.
        show_lr : bool, default=True
            Draw the learning rate where it was recorded.

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{cls.__name__}.from_history")
        history = list(history)
        if not history or not all(isinstance(row, dict) for row in history):
            raise ValueError(
                "history must be a skorch History or a non-empty list of per-epoch "
                f"dicts; got {type(history).__name__} of {len(history)} entries."
            )
        train_loss = _column(history, "train_loss")
        if train_loss is None:
            raise ValueError(
                "history has no 'train_loss' in any epoch; expected the history of "
                "a training run (CNNClassifier.history_)."
            )
        epochs = np.array([row.get("epoch", i + 1) for i, row in enumerate(history)])
        rates = _learning_rates(history, epochs)
        lr, lr_epochs = rates if rates is not None else (None, None)
        display = cls(
            epochs=epochs, train_loss=train_loss, valid_loss=_column(history, "valid_loss"),
            train_acc=_column(history, "train_acc"), valid_acc=_column(history, "valid_acc"),
            lr=lr, lr_epochs=lr_epochs,
        )
        return display.plot(ax=ax, show_lr=show_lr)

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, show_lr=True):
        """Plot the training curves of a fitted classifier.

        Parameters
        ----------
        estimator : CNNClassifier or Pipeline
            A fitted classifier with a ``history_``, or a fitted Pipeline
            ending in one.
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw; see :meth:`plot`.
        show_lr : bool, default=True
            Draw the learning rate where it was recorded.

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        final = estimator[-1] if hasattr(estimator, "steps") else estimator
        check_is_fitted(final)
        if not hasattr(final, "history_"):
            raise TypeError(
                f"{cls.__name__}.from_estimator needs a fitted estimator with a "
                f"training history (history_), such as CNNClassifier; got "
                f"{type(final).__name__}."
            )
        return cls.from_history(final.history_, ax=ax, show_lr=show_lr)
