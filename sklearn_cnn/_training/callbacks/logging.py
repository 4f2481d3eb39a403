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
values skorch does not record come from two small callbacks."""

from __future__ import annotations

import sys
from numbers import Number

from skorch.callbacks import Callback, PrintLog, ProgressBar
from tabulate import tabulate

from ..._names import stable_name
from ..._process_group import writes_files
from ..threads import THREADS_KEY
from .lr_scheduler import LR_KEY
from .scoring import TrainAccuracy

__all__ = ['EpochLog', 'is_terminal', 'verbose_callbacks']


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


@stable_name()
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
    log file gets plain lines. Each epoch's thread count (``"threads"``)
    stays in the history, out of the table. ``k/N`` counts the epochs of the current fit:
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
        # Each epoch's torch thread count stays in the history, out of the table.
        self.keys_ignored_.add(THREADS_KEY)
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
        # learning rate of 2e-07 to 0.0000). PrintLog.table builds its cells
        # with the private _yield_keys_formatted (key order, colours, "event_"
        # cut); no public method gives them: tests/_training/test_skorch_points.py
        # fails if it changes.
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
        elsewhere its carriage-return redraws would fill a log file. Of the
        processes of a launch (``torchrun``), rank 0's alone.

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
    if (is_terminal(sys.stderr) or bar.in_ipynb()) and writes_files():  # rank 0 of a launch
        callbacks.append(("progress_bar", bar))
    return callbacks
