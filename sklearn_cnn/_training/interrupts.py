"""Telling a user's Ctrl-C from the ``KeyboardInterrupt`` a callback raises to stop a fit.

skorch ends a fit on ``KeyboardInterrupt``, whoever raised it: its own
``EarlyStopping`` raises one to stop, as may any callback (the LR finder
does), and so does Python when the user presses Ctrl-C (SIGINT). The
first is the fit's normal end; the second leaves a model trained part of the
way, which the user must be told. :class:`SigintWatch` records whether a
SIGINT arrived while the fit ran, and then lets Python's (or the caller's)
handler raise as before.
"""

from __future__ import annotations

import os
import signal
import threading

from .._warnings import warn_user

__all__ = ["FitInterruptedWarning", "SigintWatch", "warn_interrupted"]


class FitInterruptedWarning(UserWarning):
    """Ctrl-C (SIGINT) ended a fit before its last epoch; the model is usable.

    ``fit`` returns the model with the weights training reached; ``n_iter_``
    and ``history_`` count the complete epochs. With ``checkpoint=``, the
    same fit run again resumes after the last complete epoch. A callback
    that raises ``KeyboardInterrupt`` to end a fit (skorch's early stopping)
    is not an interrupt and gives no warning.

    See Also
    --------
    sklearn_cnn.CNNClassifier : Its ``checkpoint`` parameter resumes a fit.

    Examples
    --------
    Make Ctrl-C during ``fit`` an error rather than a warning:

    >>> import warnings
    >>> from sklearn_cnn import FitInterruptedWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", FitInterruptedWarning)
    """


class SigintWatch:
    """A context manager that records whether SIGINT arrived in its block.

    It installs a handler only in the main thread (the only one Python
    delivers signals to) and only over a handler that raises or calls code
    (Python's ``default_int_handler`` or a caller's function, which it
    calls in turn): where SIGINT is ignored or kills the process, it does
    nothing. The previous handler is back when the block ends.

    Attributes
    ----------
    received : bool
        Whether SIGINT arrived during the block.

    Examples
    --------
    >>> import os, signal
    >>> from sklearn_cnn._training.interrupts import SigintWatch
    >>> with SigintWatch() as watch:
    ...     try:
    ...         os.kill(os.getpid(), signal.SIGINT)
    ...     except KeyboardInterrupt:
    ...         pass
    >>> watch.received
    True
    """

    def __init__(self) -> None:
        self.received = False
        self._previous = None

    def _handle(self, signum, frame):
        self.received = True
        return self._previous(signum, frame)

    def __enter__(self) -> SigintWatch:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def warn_interrupted(history, complete: int, end: int, checkpoint=None) -> None:
    """Warn that Ctrl-C interrupted a fit, and drop the partial epoch from ``history``.

    Parameters
    ----------
    history : skorch.history.History
        The fit's history; rows after the first ``complete`` are removed.
    complete : int
        Epochs complete when the interrupt came (their callbacks included).
    end : int
        The number of epochs the fit was to reach.
    checkpoint : path-like, default=None
        The fit's checkpoint file, if it keeps one: the warning says how to resume.
    """
    partial = len(history) > complete
    del history[complete:]
    resume = "" if checkpoint is None else (
        f" Run the same fit again to resume from epoch {complete + 1} (checkpoint "
        f"{os.fspath(checkpoint)!r}).")
    warn_user(
        f"Training was interrupted (KeyboardInterrupt) during epoch {complete + 1} of {end}. "
        "The model is usable, with the weights it reached"
        f"{' part of the way through that epoch' if partial else ''}; n_iter_ and "
        f"history_ count the {complete} complete epoch{'s' * (complete != 1)}.{resume}",
        FitInterruptedWarning)
