"""The skorch net behind a ``CNNClassifier``: skorch's ``NeuralNetClassifier``, extended.

``CNNNet`` adds augmentation, channels-last, bfloat16 steps and the CUDA
graph of the training step through skorch's public extension points
(``initialize_module``, ``train_step``, ``train_step_single``, ``infer``,
``get_loss``, ``on_train_begin``, ``fit_loop``). Where it relies on more
than those (one overridden loop and three private skorch names), the code
says why, and ``tests/_training/test_skorch_points.py`` fails if skorch
changes what it relies on; ``pyproject.toml`` pins the skorch versions
that suite passed with. The estimator builds the net
(``_estimator.building``); skorch runs the loop.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EpochScoring, LoadInitState, LRScheduler
from skorch.dataset import get_len, unpack_data
from skorch.utils import TeeGenerator, to_device
from torch.optim.lr_scheduler import ReduceLROnPlateau

from .._data.sample_weights import split_weighted
from .._model.augment import resolve_augment
from .._model.folding import fold_batch_norm
from .._model.inference import class_probabilities, label_probabilities
from .._model.losses import weighted_loss
from .._names import stable_name
from .._persistence.compat import upgrade_net_state
from .callbacks import EARLY_STOPPING, LR_SCHEDULE
from .callbacks.scoring import TrainAccuracy
from .cuda_graph import StepGraph, training_on
from .interrupts import SigintWatch, warn_interrupted
from .optimizers import OPTIMIZERS
from .precision import training_autocast
from .randomness import ITERATOR_GENERATOR
from .threads import THREADS_KEY, ThreadPolicy, step_work

__all__ = ["CNNNet", "carry_over", "sigmoid", "single_pass", "softmax"]

#: Optimizers stepped without skorch's closure (which only optimizers that
#: evaluate the loss several times per step, such as LBFGS, need).
CLOSURE_FREE_OPTIMIZERS = tuple(OPTIMIZERS.values())

#: Prefix of the net's attributes that hold callbacks: ``callbacks`` (the
#: parameter), ``callbacks_`` (the initialised ones) and ``callbacks__*``.
DEVICE_DEPENDENT_CALLBACKS = "callbacks"


@stable_name()
class CNNNet(NeuralNetClassifier):
    """skorch's ``NeuralNetClassifier`` with the training path of CNNClassifier.

    Four choices, each off by default: augmentation of training batches,
    channels-last memory format, bfloat16 mixed precision, and the training
    step replayed from a CUDA graph. skorch still runs the loop, the callbacks
    and the history; within an epoch nothing waits for the device (the
    batch losses reach the history at its end, unless a callback reads them
    during the batch).

    Parameters
    ----------
    *args, **kwargs
        Those of ``NeuralNetClassifier``.
    augment : {"shift", "flip", "sharp", "light", "standard"}, BatchAugment, callable or None, \
            default=None
        The ``augment`` parameter of ``CNNClassifier``. Its module,
        ``augment_``, is built with the network (so skorch moves it to the
        device and pickles it) and applied to every training batch on the
        training device; never at evaluation or prediction.
    channels_last : bool, default=False
        Keep the network and its input batches in channels-last memory
        format (faster convolutions on the CPU: see docs/benchmarks.md).
    precision : {"float32", "bfloat16"}, default="float32"
        The precision of training steps: with "bfloat16", their forward
        passes run under bfloat16 autocast (weights, gradients, optimizer
        state and the loss stay float32). Validation and prediction run in
        float32 either way (``sklearn_cnn._training.precision``).
    cuda_graphs : bool, default=False
        On CUDA, record the training step (augmentation, forward, loss,
        backward) as a CUDA graph after a few eager steps and replay it for
        every batch of the same shape (``sklearn_cnn._training.cuda_graph``). Only for
        steps free of host synchronisation and Python-side randomness.
    multilabel : bool, default=False
        The targets are a 0/1 indicator matrix ``(N, n_labels)``: ``predict``
        returns one, the labels whose probability (``predict_nonlinearity``:
        ``sigmoid``) is above 0.5, so skorch's ``valid_acc`` is the subset
        accuracy, as scikit-learn's ``accuracy_score`` computes it.
    n_jobs : int or None, default=None
        torch's thread count while training (``sklearn_cnn._training.threads``):
        None chooses it before the first step from the step's work, the
        free cores and the caller's setting, and again every epoch; an int
        pins it. Each epoch's count is in the history (``"threads"``), the
        last one in ``n_threads_``.
    """

    def __init__(self, *args, augment=None, channels_last=False, precision="float32",
                 cuda_graphs=False, multilabel=False, n_jobs=None, **kwargs):
        # Set before skorch's __init__: afterwards skorch only lets
        # initialize_* methods set attributes holding torch modules.
        self.augment = augment
        self.channels_last = channels_last
        self.precision = precision
        self.cuda_graphs = cuda_graphs
        self.multilabel = multilabel
        self.n_jobs = n_jobs
        super().__init__(*args, **kwargs)

    @property
    def memory_format(self) -> torch.memory_format:
        """The memory format of the network's 4-D tensors, and of its input batches.

        Decided once, by ``channels_last``, for training and prediction
        alike (``module_``, ``inference_module()``, every batch).
        """
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def initialize_module(self):
        super().initialize_module()
        self.module_.to(memory_format=self.memory_format)
        self.augment_ = resolve_augment(self.augment)
        self.inference_cache_ = {}
        return self

    def inference_module(self) -> torch.nn.Module:
        """``module_`` for prediction: batch norm folded in, in ``memory_format``.

        See ``sklearn_cnn._model.folding.fold_batch_norm`` (``module_`` itself
        where there is nothing to fold or the network cannot be traced).
        Built on first use after each training run and kept until the next.
        """
        if "module" not in self.inference_cache_:
            folded = fold_batch_norm(self.module_)
            self.inference_cache_["module"] = folded.to(memory_format=self.memory_format)
        return self.inference_cache_["module"]

    def initialize_callbacks(self):
        super().initialize_callbacks()
        # skorch pickles the attributes named here through torch's serializer,
        # whose unpickler maps CUDA storages to the CPU on a machine without
        # CUDA. Callbacks hold device tensors too: LRScheduler keeps the
        # optimizer (Adam's moments), a user's callback anything (skorch issue
        # #1096). Pickled with module_ and optimizer_, the scheduler also keeps
        # pointing at the very optimizer the net steps. (tests/_training/
        # test_skorch_points.py checks skorch still pickles these that way.)
        if DEVICE_DEPENDENT_CALLBACKS not in self.cuda_dependent_attributes_:
            self.cuda_dependent_attributes_ = [
                *self.cuda_dependent_attributes_, DEVICE_DEPENDENT_CALLBACKS]
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # Before the callbacks: the schedule and early stopping start from it.
        checkpoint = getattr(self, "checkpoint_", None)
        self.restored_ = checkpoint is not None and checkpoint.restore(self)
        self.inference_cache_ = {}  # training changes the weights it was built from
        self.step_graph_ = None
        # Not for optimizers that need skorch's closure: the graph's step has
        # none; not for weighted input (a dict), which the graph does not take.
        if (self.cuda_graphs and torch.device(self.device).type == "cuda"
                and isinstance(self.optimizer_, CLOSURE_FREE_OPTIMIZERS)
                and split_weighted(X)[1] is None):
            self.step_graph_ = StepGraph(
                lambda Xi, yi: self.train_step_single((Xi, yi)),
                [param for _, param in self.get_all_learnable_params()], self.device,
                self.batch_size)
        return super().on_train_begin(net, X=X, y=y, **kwargs)

    def __getstate__(self):
        state = super().__getstate__()
        state["inference_cache_"] = {}  # rebuilt on demand, on the device it loads on
        state["step_graph_"] = None  # lives for one training run
        state["thread_policy_"] = None  # likewise
        state["checkpoint_"] = None  # likewise
        state.pop(ITERATOR_GENERATOR, None)  # the fit's own, while it trains (_random)
        return state

    def __setstate__(self, state):
        upgrade_net_state(state)  # pickled by an earlier version
        super().__setstate__(state)  # skorch maps CUDA to the CPU where CUDA is missing

    def predict(self, X):
        if not self.multilabel:
            return super().predict(X)
        return (self.predict_proba(X) > 0.5).astype(np.int64)

    def train_step(self, batch, **fit_params):
        graph = getattr(self, "step_graph_", None)
        if graph is None:
            return self._eager_step(batch, fit_params)
        Xi, yi = unpack_data(batch)
        if torch.is_tensor(Xi) and torch.is_tensor(yi):
            # On the device before anything is watched or recorded: copying a
            # batch from the host is not part of the step.
            Xi, yi = Xi.to(self.device, non_blocking=True), yi.to(self.device, non_blocking=True)
            batch = (Xi, yi)
        if not fit_params and graph.accepts(Xi, yi):
            step = graph(Xi, yi)
            if step is not None:
                self._set_training(True)  # skorch's train_step_single does it too
                return self._finish_step(step, batch)
        with graph.eager() as watched:
            return self._eager_step(batch, fit_params, watched)

    def _eager_step(self, batch, fit_params: dict, watched=contextlib.nullcontext) -> dict:
        # skorch's train_step passes the optimizer a closure (which only
        # optimizers that evaluate the loss several times per step, such as
        # LBFGS, need) and notifies through a step accumulator: the built-in
        # optimizers step without them (docs/benchmarks.md, "Small-data
        # overhead"), and the CUDA graph records what ``watched`` wraps.
        if isinstance(self.optimizer_, CLOSURE_FREE_OPTIMIZERS):
            self.optimizer_.zero_grad()
            with watched():  # what a CUDA graph would record
                step = self.train_step_single(batch, **fit_params)
            step = self._finish_step(step, batch)
        else:
            step = super().train_step(batch, **fit_params)  # may need skorch's closure
        # Callbacks get the outputs without the autograd graph, which the
        # backward pass is done with: kept alive, it would tie the next step
        # (and a CUDA graph recording it) to this one's streams.
        return {k: v.detach() if torch.is_tensor(v) else v for k, v in step.items()}

    def _finish_step(self, step: dict, batch) -> dict:
        """What skorch's ``train_step`` does after the backward pass."""
        self.notify("on_grad_computed", named_parameters=TeeGenerator(
            self.get_all_learnable_params()), batch=batch, training=True)
        self.optimizer_.step()
        return step

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # After a checkpoint was restored (``checkpoint_``, or skorch's
        # LoadInitState), train only the epochs that remain: an interrupted
        # fit resumes instead of starting over.
        restored = getattr(self, "restored_", False) or any(
            isinstance(cb, LoadInitState) for _, cb in self.callbacks_)
        start = len(self.history)
        if epochs is None and restored and len(self.history):
            # (The schedule resumes itself: _schedule.FitLRScheduler.)
            epochs, start = max(self.max_epochs - len(self.history), 0), 0
            checkpoint = getattr(self, "checkpoint_", None)
            if checkpoint is not None and checkpoint.epochs_left == 0:
                epochs = 0  # the checkpointed fit had ended (stopped early, say)
        # The history's epochs this fit trains, counted from start: EpochLog's k/N.
        self.fit_epochs_ = (start, len(self.history) + (
            self.max_epochs if epochs is None else epochs))
        self.complete_epochs_ = len(self.history)
        self.graph_replays_ = 0
        try:
            # Counted as training on the device: a fit records its step only
            # while no other fit of the process trains there (_graphs).
            with training_on(self.device), ThreadPolicy(self.n_jobs, self.device) as threads, \
                    SigintWatch() as sigint:
                self.thread_policy_, self.step_work_ = threads, None
                try:
                    super().fit_loop(X, y, epochs=epochs, **fit_params)
                except KeyboardInterrupt:
                    if sigint.received:  # Ctrl-C: a model trained part of the way
                        self._interrupted()
                    else:  # a callback's way of ending the fit (early stopping)
                        self._write_checkpoint(finished=True)
                    raise
                self._write_checkpoint(finished=True)
                return self
        finally:
            self.thread_policy_ = None
            if getattr(self, "step_graph_", None) is not None:
                self.graph_replays_ = self.step_graph_.replays
                self.step_graph_.release()  # its memory, also when training failed
                self.step_graph_ = None

    def _write_checkpoint(self, finished: bool) -> None:
        checkpoint = getattr(self, "checkpoint_", None)
        if checkpoint is not None:
            checkpoint.write(self, finished=finished)

    def _interrupted(self) -> None:
        """Warn that Ctrl-C stopped the fit; keep only complete epochs in the history."""
        checkpoint = getattr(self, "checkpoint_", None)
        warn_interrupted(self.history, self.complete_epochs_, self.fit_epochs_[1],
                         None if checkpoint is None else checkpoint.path)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        checkpoint = getattr(self, "checkpoint_", None)
        if checkpoint is not None:  # a fit that had ended: early stopping's best weights
            checkpoint.restore_callbacks(self)
        return super().on_train_end(net, X=X, y=y, **kwargs)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        super().on_batch_begin(net, batch=batch, training=training, **kwargs)
        threads = getattr(self, "thread_policy_", None)
        if training and threads is not None and threads.threads_ is None:
            # The first training step: its work sets how many threads pay.
            images = split_weighted(unpack_data(batch)[0])[0]
            if torch.is_tensor(images) and torch.device(self.device).type == "cpu":
                images = images.to(self.device).contiguous(memory_format=self.memory_format)
                self.step_work_ = step_work(self.module_, images, training=True)
            self.n_threads_ = threads.apply(self.step_work_)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        # Before the callbacks and the new epoch's row: the epoch that ended
        # did everything it does, its callbacks included.
        checkpoint = getattr(self, "checkpoint_", None)
        if len(self.history) > self.complete_epochs_:
            self.complete_epochs_ = len(self.history)
            self._write_checkpoint(finished=False)
        if checkpoint is not None:
            checkpoint.restore_callbacks(self)
        super().on_epoch_begin(net, dataset_train=dataset_train,
                               dataset_valid=dataset_valid, **kwargs)
        threads = getattr(self, "thread_policy_", None)
        if threads is not None and threads.threads_ is not None:
            # The load measured over the epoch that ended.
            self.n_threads_ = threads.apply(self.step_work_, wait=False, within=math.inf)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train=dataset_train,
                             dataset_valid=dataset_valid, **kwargs)
        threads = getattr(self, "thread_policy_", None)
        if threads is not None and threads.threads_ is not None:
            self.history.record(THREADS_KEY, threads.threads_)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # skorch's loop (NeuralNet.run_single_epoch), with one change: each
        # batch's loss stays on the device until the epoch ends, and all of
        # them reach the history at once. skorch reads every loss with
        # .item() inside this method (no public point lets a subclass defer
        # it), which on a GPU waits for the step to finish and keeps the host
        # from queueing the next one: a raw loop that does it trains at 0.86x
        # of one that does not (docs/benchmarks.md, "CUDA"). Callbacks that
        # read a batch's loss while it runs (a progress bar, a logger) get
        # skorch's own loop. tests/_training/test_skorch_points.py checks
        # that skorch's loop is still the one copied here.
        if iterator is None or any(reads_batch_losses(cb) for _, cb in self.callbacks_):
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        rows, losses = [], []
        try:
            for batch in iterator:
                self.notify("on_batch_begin", batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                Xi = batch[0] if isinstance(batch, (tuple, list)) else batch
                # skorch's keys, in its order; the loss's value comes at the end.
                self.history.record_batch(prefix + "_loss", None)
                self.history.record_batch(
                    prefix + "_batch_size", len(Xi) if torch.is_tensor(Xi) else get_len(Xi))
                loss = step["loss"]
                rows.append(self.history[-1]["batches"][-1])
                losses.append(loss.detach() if loss.requires_grad else loss)
                self.notify("on_batch_end", batch=batch, training=training, **step)
        finally:  # an interrupted epoch (Ctrl-C) keeps the losses of its batches
            values = torch.stack(losses).tolist() if losses else []
            for row, value in zip(rows, values, strict=True):
                row[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", len(rows))

    def infer(self, x, **fit_params):
        x = split_weighted(x)[0]  # the network takes the images, not their weights
        if not torch.is_tensor(x):
            return super().infer(x, **fit_params)  # dicts and the like: skorch's way
        x = x.to(self.device)
        if x.dim() == 4:
            x = x.contiguous(memory_format=self.memory_format)
        y_pred = self.module_(x, **fit_params)
        # The loss, scores and history take float32 logits.
        return y_pred.float() if isinstance(y_pred, torch.Tensor) else y_pred

    def get_loss(self, y_pred, y_true, X=None, training=False):
        sample_weight = split_weighted(X)[1]
        if sample_weight is not None:  # training and validation batches alike
            return weighted_loss(self.criterion_, y_pred, to_device(y_true, self.device),
                                 sample_weight.to(self.device))
        if isinstance(self.criterion_, torch.nn.NLLLoss) or not torch.is_tensor(y_true):
            return super().get_loss(y_pred, y_true, X=X, training=training)
        return self.criterion_(y_pred, y_true.to(self.device))

    def train_step_single(self, batch, **fit_params):
        # skorch's, with the training batch augmented on the device first.
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        images, sample_weight = split_weighted(Xi)
        if torch.is_tensor(images):
            # Non-blocking: from the pinned memory of a DataLoader of image
            # files (``_data.workers``), the copy overlaps the host's work.
            images = images.to(self.device, non_blocking=True)
        if self.augment_ is not None:
            images = self.augment_(to_device(images, self.device))
        # Training steps only: validation and prediction run in float32.
        with training_autocast(self.precision, self.device):
            y_pred = self.infer(images, **fit_params)
        loss = self.get_loss(y_pred, yi, X=images if sample_weight is None else Xi,
                             training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}


#: The callback methods skorch calls during a batch.
BATCH_HOOKS = ("on_batch_begin", "on_grad_computed", "on_batch_end")


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


@stable_name()
def softmax(logits: torch.Tensor) -> torch.Tensor:
    """skorch's ``predict_nonlinearity``: the classifier's own softmax.

    A module-level function so that nets pickle; pickles of earlier versions
    name it (as ``sklearn_cnn._net.softmax``), so it stays here.
    """
    return class_probabilities(logits)


@stable_name()
def sigmoid(logits: torch.Tensor) -> torch.Tensor:
    """skorch's ``predict_nonlinearity`` for multilabel targets: one sigmoid per label."""
    return label_probabilities(logits)


def carry_over(source: NeuralNetClassifier, net: NeuralNetClassifier) -> None:
    """Start the initialised ``net`` from ``source``'s weights and history."""
    try:
        net.module_.load_state_dict(source.module_.state_dict())
    except RuntimeError as exc:
        raise ValueError(
            "warm_start=True continues the previous fit, but the network's "
            "architecture parameters have changed since; set warm_start=False "
            "to train the new architecture from scratch."
        ) from exc
    net.history = copy.deepcopy(source.history)


@contextlib.contextmanager
def single_pass(net: NeuralNetClassifier) -> Iterator[None]:
    """Let ``net`` train like scikit-learn's ``partial_fit``: one plain pass.

    No hold-out, early stopping or schedule, at the base learning rate
    ``net.lr``; the net's configuration is put back afterwards.
    """
    saved_split, saved_callbacks = net.train_split, net.callbacks_
    net.train_split = None
    net.callbacks_ = [
        (name, cb) for name, cb in saved_callbacks
        if name not in (LR_SCHEDULE, EARLY_STOPPING)
    ]
    for group in net.optimizer_.param_groups:
        group["lr"] = net.lr
    try:
        yield
    finally:
        net.train_split, net.callbacks_ = saved_split, saved_callbacks
