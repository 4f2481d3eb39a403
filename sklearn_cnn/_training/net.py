"""The skorch net behind a ``CNNClassifier``: skorch's ``NeuralNetClassifier``, extended.

``CNNNet`` adds augmentation, channels-last, bfloat16 steps and the CUDA
graph of the training step through skorch's public extension points
(``initialize_module``, ``train_step``, ``train_step_single``, ``infer``,
``get_loss``, ``get_iterator``, ``run_single_epoch``, ``fit_loop`` and the
``on_*`` hooks); under ``torchrun``, one fit over all the processes
(``_training.data_parallel``).
Those of the training run are thin calls of two modules: what one
optimizer step does is ``_training.step``'s, the epochs and the batch loop
are ``_training.epoch``'s. Where they rely on more than skorch's public
points (a copied loop, private skorch names, the order of skorch's hooks),
the code says why, and ``tests/_training/test_skorch_points.py`` has one
test per reliance, which docs/architecture.md lists; ``pyproject.toml``
pins the skorch versions that suite passed with. The estimator builds the
net (``_estimator.building``); skorch runs the loop.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import numpy as np
import torch
from skorch import NeuralNetClassifier

from .._model.augment import make_augment
from .._model.folding import fold_batch_norm
from .._model.inference import class_probabilities, label_probabilities
from .._names import stable_name
from .._persistence.compat import upgrade_net_state
from .._process_group import current_world
from . import data_parallel, epoch, step
from .batches import TensorBatches
from .callbacks import EARLY_STOPPING, LR_SCHEDULE
from .randomness import ITERATOR_GENERATOR, MODULE_GENERATOR

__all__ = ["CNNNet", "carry_over", "sigmoid", "single_pass", "softmax"]

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
        self.augment_ = make_augment(self.augment)
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

    def __getstate__(self):
        state = super().__getstate__()
        state["inference_cache_"] = {}  # rebuilt on demand, on the device it loads on
        state["step_graph_"] = None  # lives for one training run
        state["thread_policy_"] = None  # likewise
        state["checkpoint_"] = None  # likewise
        state["ddp_"] = state["world_"] = None  # likewise: a model alone, wherever it loads
        state.pop(ITERATOR_GENERATOR, None)  # the fit's own, while it trains (_random)
        state.pop(MODULE_GENERATOR, None)  # likewise
        return state

    def __setstate__(self, state):
        upgrade_net_state(state)  # pickled by an earlier version
        device = torch.device(state.get("device") or "cpu")
        if device.type == "cuda" and torch.cuda.is_available() \
                and (device.index or 0) >= torch.cuda.device_count():
            # Trained on GPU k of a node (a fit over several processes), loaded
            # where there is no GPU k: on the current GPU.
            state["device"] = "cuda"
        super().__setstate__(state)  # skorch maps CUDA to the CPU where CUDA is missing

    def predict(self, X):
        if not self.multilabel:
            return super().predict(X)
        return (self.predict_proba(X) > 0.5).astype(np.int64)

    # The training run (_training.epoch): its epochs and their batches.

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # Before the callbacks: the schedule and early stopping start from it.
        checkpoint = getattr(self, "checkpoint_", None)
        self.restored_ = checkpoint is not None and checkpoint.restore(self)
        self.inference_cache_ = {}  # training changes the weights it was built from
        # One fit over the processes of a launch (_training.data_parallel).
        self.world_ = current_world()
        wrapper = None if self.world_ is None else data_parallel.wrap(
            self.module_, torch.device(self.device), X)
        # Past skorch's guard on modules set outside initialize_*: the wrapper
        # must not be registered, moved or pickled with the net's modules.
        object.__setattr__(self, "ddp_", wrapper)
        self.step_graph_ = step.step_graph(self, X)
        return super().on_train_begin(net, X=X, y=y, **kwargs)

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        world = getattr(self, "world_", None)
        if world is not None and isinstance(iterator, TensorBatches):
            iterator.shard(world.rank, world.size, training=training)
        return iterator

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        return epoch.fit_loop(self, X, y, epochs, fit_params, skorch_loop=super().fit_loop)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        checkpoint = getattr(self, "checkpoint_", None)
        if checkpoint is not None:  # a fit that had ended: early stopping's best weights
            checkpoint.restore_callbacks(self)
        return super().on_train_end(net, X=X, y=y, **kwargs)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        epoch.on_epoch_begin(self, dataset_train=dataset_train, dataset_valid=dataset_valid,
                             skorch_hook=super().on_epoch_begin, **kwargs)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        epoch.on_epoch_end(self, dataset_train=dataset_train, dataset_valid=dataset_valid,
                           skorch_hook=super().on_epoch_end, **kwargs)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        epoch.on_batch_begin(self, batch, training, skorch_hook=super().on_batch_begin,
                             **kwargs)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        epoch.run_single_epoch(self, iterator, training, prefix, step_fn, fit_params,
                               skorch_epoch=super().run_single_epoch)

    # One optimizer step (_training.step): eager or replayed from a CUDA graph.

    def train_step(self, batch, **fit_params):
        return step.train_step(self, batch, fit_params, skorch_step=super().train_step)

    def train_step_single(self, batch, **fit_params):
        return step.train_step_single(self, batch, fit_params)

    def infer(self, x, **fit_params):
        return step.infer(self, x, fit_params, skorch_infer=super().infer)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return step.get_loss(self, y_pred, y_true, X, training, skorch_loss=super().get_loss)


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
