"""What ``verbose=1`` shows: one line per epoch, and a progress bar on a terminal.

Each epoch prints ``epoch`` as ``k/N`` (epoch ``k`` of the ``N`` this fit
trains), ``train_loss``, ``train_acc`` (the accuracy on the training batches
as they were trained, Keras' ``accuracy``), ``valid_loss``/``valid_acc``
where a hold-out exists, ``lr`` and ``dur``. Printed to a file or a pipe
(a log, CI), the lines are plain text; on a terminal they come with
skorch's colours and its progress bar, as skorch prints them (in Jupyter:
plain lines and skorch's notebook bar).

skorch does the work: ``EpochLog`` is its ``PrintLog`` (same ``sink``,
``keys_ignored``, ``tablefmt``...), ``ProgressBar`` is skorch's, and the two
values skorch does not record come from two small callbacks.
"""

from __future__ import annotations

import sys
from numbers import Number

import torch
from skorch.callbacks import Callback, PrintLog, ProgressBar
from skorch.dataset import unpack_data
from tabulate import tabulate

__all__ = ["EpochLR", "EpochLog", "TrainAccuracy", "is_terminal", "verbose_callbacks"]

#: Where skorch's ``LRScheduler`` records the learning rate; ``PrintLog``
#: shows ``event_*`` keys without their prefix, next to ``dur``.
LR_KEY = "event_lr"


def is_terminal(stream) -> bool:
    """Whether ``stream`` is an interactive terminal (False for files, pipes, None).

    Parameters
    ----------
    stream : file-like or None

    Returns
    -------
    terminal : bool

    Examples
    --------
    >>> import io
    >>> is_terminal(io.StringIO()), is_terminal(None)
    (False, False)
    """
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class TrainAccuracy(Callback):
    """Record the accuracy on the training batches as they were trained.

    Keras' ``accuracy``: each training batch's predictions, from the forward
    pass that trained on it (augmented, dropout on), against its labels. The
    hits are counted on the training device and read once per epoch, so the
    host never waits for a step. skorch's ``EpochScoring(on_train=True)``
    would keep every batch's predictions (``N x n_classes``) until the epoch
    ends; counting keeps one integer. For multilabel targets (an indicator
    matrix) a sample counts when all its labels are right: the subset
    accuracy of ``score`` and ``valid_acc``.

    Parameters
    ----------
    name : str, default="train_acc"
        The history key; ``name + "_best"`` marks the best epoch so far, as
        skorch's scorings do.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0, verbose=0,
    ...                     callbacks=[("train_acc", TrainAccuracy())]).fit(X[:200], y[:200])
    >>> 0 <= clf.history_[-1, "train_acc"] <= 1
    True
    """

    def __init__(self, name: str = "train_acc"):
        self.name = name

    def initialize(self):
        self.best_score_ = -float("inf")
        self.hits_, self.seen_ = None, 0
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.hits_, self.seen_ = None, 0

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if not training or not torch.is_tensor(y_pred) or y_pred.dim() != 2:
            return
        _, yi = unpack_data(batch)
        if not torch.is_tensor(yi):
            return
        # Counted right after the step: the next replay of a CUDA graph writes
        # over the graph's outputs (StepGraph hands out copies of them).
        yi = yi.to(y_pred.device, non_blocking=True)
        if yi.dim() == 2:  # multilabel: every label right (a logit above 0 is a yes)
            hits = ((y_pred > 0) == (yi > 0.5)).all(dim=1).sum()
        else:
            hits = (y_pred.argmax(dim=1) == yi).sum()
        self.hits_ = hits if self.hits_ is None else self.hits_.add_(hits)
        self.seen_ += len(yi)

    def on_epoch_end(self, net, **kwargs):
        if not self.seen_:
            return
        score = self.hits_.item() / self.seen_  # the epoch's one read from the device
        self.hits_ = None  # no device tensor outlives the epoch
        net.history.record(self.name, score)
        net.history.record(self.name + "_best", score > self.best_score_)
        self.best_score_ = max(score, self.best_score_)


class EpochLR(Callback):
    """Record each epoch's learning rate as ``event_lr``, where no scheduler did.

    skorch's ``LRScheduler`` records it for schedules stepped every epoch;
    for one stepped every batch (one-cycle) this takes the rate of the
    epoch's last training batch, and with no schedule the optimizer's
    (of its first parameter group, as skorch does).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, lr=0.01, lr_schedule="constant", random_state=0,
    ...                     callbacks=[EpochLR()]).fit(X[:200], y[:200])
    >>> clf.history_[:, "event_lr"]
    [0.01, 0.01]
    """

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if LR_KEY in row:
            return
        stepped = [batch[LR_KEY] for batch in row["batches"] if LR_KEY in batch]
        lr = stepped[-1] if stepped else net.optimizer_.param_groups[0]["lr"]
        net.history.record(LR_KEY, float(lr))


class EpochLog(PrintLog):
    """skorch's ``PrintLog``, with the epoch as ``k/N`` and plain text off a terminal.

    Parameters
    ----------
    keys_ignored, sink, tablefmt, floatfmt, stralign
        Those of ``skorch.callbacks.PrintLog``: by default one table row
        per epoch, printed to stdout while the net's ``verbose`` is on.

    Notes
    -----
    skorch colours the best value of each column with ANSI codes; those
    are kept only where the table goes to a terminal (``sink`` is ``print``
    and stdout is a terminal, or ``sink`` is a terminal's ``write``), so a
    log file gets plain lines. ``k/N`` counts the epochs of the current fit:
    a fit with ``warm_start=True`` counts from 1 again, a fit resumed from
    a checkpoint goes on where it stopped, ``partial_fit`` shows ``1/1``.

    Examples
    --------
    ``CNNClassifier(verbose=1)`` prints with one. Another, with its own
    ``sink`` (a logger's ``info``, say), writes every epoch whatever
    ``verbose`` says:

    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> lines = []
    >>> clf = CNNClassifier(max_epochs=2, random_state=0,
    ...                     callbacks=[EpochLog(sink=lines.append)]).fit(X[:200], y[:200])
    >>> lines[0].split()
    ['epoch', 'train_loss', 'lr', 'dur']
    >>> [line.split()[0] for line in lines[2:]]
    ['1/2', '2/2']
    """

    def initialize(self):
        super().initialize()
        self.colored_, self.epochs_ = False, None
        return self

    def on_train_begin(self, net, **kwargs):
        stream = sys.stdout if self.sink is print else getattr(self.sink, "__self__", None)
        self.colored_ = is_terminal(stream)
        # Where the net does not say which epochs this fit trains (CNNNet's
        # fit_epochs_), up to max_epochs after those already in the history.
        self.default_epochs_ = (len(net.history), len(net.history) + net.max_epochs)

    def on_epoch_end(self, net, **kwargs):
        if self.sink is print and not net.verbose:
            return  # PrintLog would build the table and not print it
        self.epochs_ = getattr(net, "fit_epochs_", None) or self.default_epochs_
        super().on_epoch_end(net, **kwargs)

    def format_row(self, row, key, color):
        value = row[key]
        if key == "epoch" and isinstance(value, int) and self.epochs_:
            start, stop = self.epochs_
            total = str(stop - start)  # k padded to N's width: each row is its own table
            return f"{value - start:>{len(total)}}/{total}"
        if key == LR_KEY and isinstance(value, Number):
            return f"{value:.2e}"  # rates span decades: 5e-03 to 2e-08 in one-cycle
        if key == "dur" and isinstance(value, Number):
            return f"{value:.2f}"  # seconds: hundredths are enough
        if not self.colored_:
            row = {key: value}  # without its "_best" flag, skorch adds no colour
        return super().format_row(row, key, color)

    def table(self, row):
        # PrintLog's table, but each cell as format_row wrote it: tabulate's
        # own number parsing would round every number with one floatfmt (a
        # learning rate of 2e-07 to 0.0000).
        headers, cells = zip(*self._yield_keys_formatted(row), strict=True)
        return tabulate([cells], headers=headers, tablefmt=self.tablefmt,
                        stralign=self.stralign, disable_numparse=True)


def verbose_callbacks(verbose: int) -> list[tuple[str, Callback]]:
    """The callbacks that record what ``EpochLog`` prints, and the progress bar.

    Parameters
    ----------
    verbose : int
        The estimator's ``verbose``; 0 adds nothing.

    Returns
    -------
    callbacks : list of (str, Callback)
        The ``train_acc`` recorder (``lr`` is recorded in every fit), and skorch's ``ProgressBar``
        where stderr (tqdm's stream) is a terminal or in a Jupyter notebook:
        elsewhere its carriage-return redraws would fill a log file.

    Examples
    --------
    >>> verbose_callbacks(0)
    []
    >>> [name for name, _ in verbose_callbacks(1)][:1]
    ['train_acc']
    """
    if not verbose:
        return []
    callbacks = [("train_acc", TrainAccuracy())]
    bar = ProgressBar()
    if is_terminal(sys.stderr) or bar.in_ipynb():
        callbacks.append(("progress_bar", bar))
    return callbacks
