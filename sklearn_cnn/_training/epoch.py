"""The epochs of ``CNNNet``'s training run, and the batch loop of each.

skorch's ``partial_fit`` calls ``CNNNet.fit_loop`` (:func:`fit_loop`),
which wraps skorch's own loop over the epochs in a fit's bookkeeping:

- the epochs to train: after a restored checkpoint, only those that remain;
- the fit counted as training on its device (``cuda_graph.training_on``),
  torch's thread count (``threads.ThreadPolicy``), and Ctrl-C told from a
  callback's ``KeyboardInterrupt`` (``interrupts.SigintWatch``);
- the checkpoint: written when an epoch has done everything it does
  (:func:`on_epoch_begin` of the next one) and when the fit ends;
- the run's CUDA graph released when the loop ends (``step.release_graph``).

Each epoch runs the training batches, then the validation batches, through
:func:`run_single_epoch`: skorch's batch loop, with the batch losses kept
on the device until the epoch ends. What one training batch does is
``_training.step``'s.

Each function takes the net first and implements the ``CNNNet`` method of
its name, which is a thin call of it; where skorch's own method runs in it
or instead of it, the net passes it (``skorch_*``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from skorch.callbacks import Callback, EpochScoring, LoadInitState, LRScheduler
from skorch.dataset import get_len, unpack_data
from torch.optim.lr_scheduler import ReduceLROnPlateau

from .._data.sample_weights import split_weighted
from .callbacks.scoring import TrainAccuracy
from .cuda_graph import training_on
from .data_parallel import run_sharded_epoch
from .interrupts import SigintWatch, warn_interrupted
from .step import release_graph
from .threads import THREADS_KEY, ThreadPolicy, step_work

__all__ = [
    "BATCH_HOOKS",
    "epochs_left",
    "fit_loop",
    "on_batch_begin",
    "on_epoch_begin",
    "on_epoch_end",
    "reads_batch_losses",
    "run_single_epoch",
    "write_checkpoint",
]

#: The callback methods skorch calls during a batch.
BATCH_HOOKS = ("on_batch_begin", "on_grad_computed", "on_batch_end")


# ----------------------------------------------------------- the training run


def epochs_left(net, epochs: int | None) -> tuple[int | None, int]:
    """The epochs a fit trains, and the first of the history's epochs it counts.

    After a checkpoint was restored (``checkpoint_``, or skorch's
    ``LoadInitState``), only the epochs that remain of ``max_epochs``: an
    interrupted fit resumes instead of starting over (the schedule resumes
    itself: ``callbacks.lr_scheduler.FitLRScheduler``).

    Parameters
    ----------
    net : CNNNet
        The net, its checkpoint restored if it had one.
    epochs : int or None
        ``fit_loop``'s ``epochs``: None trains ``max_epochs``.

    Returns
    -------
    epochs : int or None
        The ``epochs`` to hand skorch's ``fit_loop``.
    start : int
        The history's first epoch of this fit, for ``EpochLog``'s k/N.
    """
    restored = getattr(net, "restored_", False) or any(
        isinstance(cb, LoadInitState) for _, cb in net.callbacks_)
    if epochs is None and restored and len(net.history):
        checkpoint = getattr(net, "checkpoint_", None)
        if checkpoint is not None and checkpoint.epochs_left == 0:
            return 0, 0  # the checkpointed fit had ended (stopped early, say)
        return max(net.max_epochs - len(net.history), 0), 0
    return epochs, len(net.history)


def fit_loop(net, X, y, epochs: int | None, fit_params: dict, *, skorch_loop: Callable):
    """Train the epochs left, with the fit's device count, threads, checkpoint and Ctrl-C.

    Parameters
    ----------
    net : CNNNet
        The net, as its training run begins (after ``on_train_begin``).
    X, y
        The training data, as skorch's ``fit_loop`` takes them.
    epochs : int or None
        The epochs to train; None: ``max_epochs``, or what remains of them
        after a restored checkpoint (:func:`epochs_left`).
    fit_params : dict
        skorch's fit parameters.
    skorch_loop : callable
        skorch's ``fit_loop``: the loop over the epochs.

    Returns
    -------
    net : CNNNet
    """
    epochs, start = epochs_left(net, epochs)
    # The history's epochs this fit trains, counted from start: EpochLog's k/N.
    net.fit_epochs_ = (start, len(net.history) + (
        net.max_epochs if epochs is None else epochs))
    net.complete_epochs_ = len(net.history)
    net.graph_replays_ = 0
    try:
        # Counted as training on the device: a fit records its step only
        # while no other fit of the process trains there (cuda_graph).
        with training_on(net.device), ThreadPolicy(net.n_jobs, net.device) as threads, \
                SigintWatch() as sigint:
            net.thread_policy_, net.step_work_ = threads, None
            try:
                skorch_loop(X, y, epochs=epochs, **fit_params)
            except KeyboardInterrupt:
                if sigint.received:  # Ctrl-C: a model trained part of the way
                    _warn_interrupted(net)
                else:  # a callback's way of ending the fit (early stopping)
                    write_checkpoint(net, finished=True)
                raise
            write_checkpoint(net, finished=True)
            return net
    finally:
        net.thread_policy_ = None
        # The wrapper and the sharding live for one training run: afterwards
        # the net predicts every row it is given, on each process alone.
        net.ddp_ = net.world_ = None
        release_graph(net)


def write_checkpoint(net, finished: bool) -> None:
    """Write the net's checkpoint (``checkpoint=``), if it has one.

    Parameters
    ----------
    net : CNNNet
        The net.
    finished : bool
        Whether the fit ended (a resumed fit then trains no more epochs).
    """
    checkpoint = getattr(net, "checkpoint_", None)
    if checkpoint is not None:
        checkpoint.write(net, finished=finished)


def _warn_interrupted(net) -> None:
    """Warn that Ctrl-C stopped the fit; keep only complete epochs in the history."""
    checkpoint = getattr(net, "checkpoint_", None)
    warn_interrupted(net.history, net.complete_epochs_, net.fit_epochs_[1],
                     None if checkpoint is None else checkpoint.path)


# ------------------------------------------------------------- each epoch


def on_epoch_begin(net, *, skorch_hook: Callable, **kwargs) -> None:
    """Write the checkpoint of the epoch that ended, notify, then set the thread count.

    Before the callbacks and the new epoch's row, the epoch that ended did
    everything it does, its callbacks included: its checkpoint is written
    then. The thread count follows the load measured over that epoch.

    Parameters
    ----------
    net : CNNNet
        The net.
    skorch_hook : callable
        skorch's ``on_epoch_begin``.
    **kwargs
        Its arguments.
    """
    checkpoint = getattr(net, "checkpoint_", None)
    if len(net.history) > net.complete_epochs_:
        net.complete_epochs_ = len(net.history)
        write_checkpoint(net, finished=False)
    if checkpoint is not None:
        checkpoint.restore_callbacks(net)
    skorch_hook(net, **kwargs)
    threads = getattr(net, "thread_policy_", None)
    if threads is not None and threads.threads_ is not None:
        net.n_threads_ = threads.apply(net.step_work_, wait=False, within=math.inf)


def on_epoch_end(net, *, skorch_hook: Callable, **kwargs) -> None:
    """Notify, then record the epoch's thread count in the history (``"threads"``).

    Parameters
    ----------
    net : CNNNet
        The net.
    skorch_hook : callable
        skorch's ``on_epoch_end``.
    **kwargs
        Its arguments.
    """
    skorch_hook(net, **kwargs)
    threads = getattr(net, "thread_policy_", None)
    if threads is not None and threads.threads_ is not None:
        net.history.record(THREADS_KEY, threads.threads_)


def on_batch_begin(net, batch, training: bool, *, skorch_hook: Callable, **kwargs) -> None:
    """Notify; before the first training step, set the thread count from the step's work.

    Parameters
    ----------
    net : CNNNet
        The net.
    batch : tuple
        The batch about to run.
    training : bool
        Whether it is a training batch.
    skorch_hook : callable
        skorch's ``on_batch_begin``.
    **kwargs
        Its other arguments.
    """
    skorch_hook(net, batch=batch, training=training, **kwargs)
    threads = getattr(net, "thread_policy_", None)
    if training and threads is not None and threads.threads_ is None:
        images = split_weighted(unpack_data(batch)[0])[0]
        if torch.is_tensor(images) and torch.device(net.device).type == "cpu":
            images = images.to(net.device).contiguous(memory_format=net.memory_format)
            net.step_work_ = step_work(net.module_, images, training=True)
        net.n_threads_ = threads.apply(net.step_work_)


# -------------------------------------------------------------- the batches


def run_single_epoch(net, iterator, training: bool, prefix: str, step_fn: Callable,
                     fit_params: dict, *, skorch_epoch: Callable) -> None:
    """skorch's batch loop, each batch's loss kept on the device until the epoch ends.

    skorch's ``NeuralNet.run_single_epoch`` reads every batch loss with
    ``.item()`` inside the loop (no public point lets a subclass defer it),
    which on a GPU waits for the step to finish and keeps the host from
    queueing the next one (docs/benchmarks.md, section "CUDA", the row "raw
    + ``loss.item()`` per step"). Here all of them reach the history at once,
    in skorch's keys and order; callbacks that read a batch's loss while it
    runs (a progress bar, a logger: :func:`reads_batch_losses`) get skorch's
    own loop. ``tests/_training/test_skorch_points.py`` checks that skorch's
    loop is still the one copied here. In a fit over several processes
    (the net's ``world_``), ``data_parallel.run_sharded_epoch`` runs the
    batches instead.

    Parameters
    ----------
    net : CNNNet
        The net.
    iterator : iterable or None
        The batches; None skips the epoch's part.
    training : bool
        Whether they are training batches.
    prefix : {"train", "valid"}
        Of the history's keys.
    step_fn : callable
        ``train_step`` or ``validation_step``.
    fit_params : dict
        Passed to ``step_fn``.
    skorch_epoch : callable
        skorch's ``run_single_epoch``.
    """
    world = getattr(net, "world_", None)
    if world is not None and iterator is not None:  # one fit over several processes
        run_sharded_epoch(net, iterator, training, prefix, step_fn, fit_params, world)
        return
    if iterator is None or any(reads_batch_losses(cb) for _, cb in net.callbacks_):
        skorch_epoch(iterator, training, prefix, step_fn, **fit_params)
        return
    rows, losses = [], []
    try:
        for batch in iterator:
            net.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            Xi = batch[0] if isinstance(batch, (tuple, list)) else batch
            # skorch's keys, in its order; the loss's value comes at the end.
            net.history.record_batch(prefix + "_loss", None)
            net.history.record_batch(
                prefix + "_batch_size", len(Xi) if torch.is_tensor(Xi) else get_len(Xi))
            loss = step["loss"]
            rows.append(net.history[-1]["batches"][-1])
            losses.append(loss.detach() if loss.requires_grad else loss)
            net.notify("on_batch_end", batch=batch, training=training, **step)
    finally:  # an interrupted epoch (Ctrl-C) keeps the losses of its batches
        values = torch.stack(losses).tolist() if losses else []
        for row, value in zip(rows, values, strict=True):
            row[prefix + "_loss"] = value
    net.history.record(prefix + "_batch_count", len(rows))


def reads_batch_losses(callback: Callback) -> bool:
    """Whether ``callback`` may read a batch's loss from the history during the batch.

    Callbacks that do nothing during a batch do not; of the batch hooks,
    neither do ``EpochScoring.on_batch_end`` (it keeps predictions) and
    ``TrainAccuracy.on_batch_end`` (it counts hits on the device), nor
    ``LRScheduler.on_batch_end`` unless it steps ``ReduceLROnPlateau`` every
    batch, nor a callback whose class says ``reads_batch_losses = False``
    (``WeightAveraging``). Any other batch hook (a subclass's own too) might.
    What skorch's two hooks do is read from their code, which
    ``tests/_training/test_skorch_points.py`` compares with skorch's.

    Parameters
    ----------
    callback : skorch.callbacks.Callback
        An initialised callback.

    Returns
    -------
    reads : bool
    """
    if getattr(type(callback), "reads_batch_losses", None) is False:
        return False
    for hook in BATCH_HOOKS:
        method = getattr(type(callback), hook)
        if method in (getattr(Callback, hook), EpochScoring.on_batch_end,
                      TrainAccuracy.on_batch_end):
            continue
        if method is LRScheduler.on_batch_end and not (
                callback.step_every == "batch"
                and isinstance(getattr(callback, "lr_scheduler_", None), ReduceLROnPlateau)):
            continue
        return True
    return False
