"""One optimizer step of ``CNNNet``: what happens to a training batch, eager or graphed.

skorch's epoch loop (``_training.epoch``) hands each training batch to
``CNNNet.train_step``, which runs :func:`train_step`. In order:

1. ``on_batch_begin`` (the epoch loop, before the step): the callbacks'
   batch hook; ``WeightAveraging`` (``ema=``) puts back the weights the
   steps left where the network showed their average; before the first
   step, the thread count is set (``_training.epoch``).
2. Graph or eager (:func:`train_step`): a batch the run's
   :class:`~sklearn_cnn._training.cuda_graph.StepGraph` accepts is replayed
   from it; any other batch (the warm-up steps, a smaller last batch, fit
   parameters) trains eagerly. Whether a run has a graph at all is decided
   once, as it begins (:func:`step_graph`).
3. Eager (:func:`eager_step`): the optimizer's gradients are zeroed, then
   :func:`train_step_single` moves the batch to the device, augments it
   (``augment_``, on the device), runs the forward pass (:func:`infer`)
   under the training autocast (``precision``), the loss (:func:`get_loss`,
   weighted per sample when the input carries ``sample_weight``) and the
   backward pass. A replay does all of this in one launch, into the
   gradients the graph recorded.
4. :func:`finish_step`: ``on_grad_computed``, then the optimizer steps.
   Where the optimizer needs skorch's closure (LBFGS), or the net has
   several (skorch steps each with the closure, a forward and backward pass
   per optimizer), skorch's own ``train_step`` does 3 and 4 instead
   (:func:`closure_free`).
5. ``on_batch_end`` (the epoch loop) with the step's outputs, detached:
   ``WeightAveraging`` folds the stepped weights into its average,
   ``TrainAccuracy`` counts the batch's hits.

Each function takes the net first and implements the ``CNNNet`` method of
its name, which is a thin call of it; where skorch's own method is the way
for some input, the net passes it (``skorch_*``). The recording and
replaying of a graph is ``_training.cuda_graph``'s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator, to_device

from .._data.sample_weights import split_weighted
from .._model.losses import weighted_loss
from .cuda_graph import StepGraph
from .optimizers import OPTIMIZERS
from .precision import training_autocast

__all__ = [
    "CLOSURE_FREE_OPTIMIZERS",
    "closure_free",
    "eager_step",
    "finish_step",
    "get_loss",
    "infer",
    "release_graph",
    "step_graph",
    "train_step",
    "train_step_single",
]

#: Optimizers stepped without skorch's closure (which only optimizers that
#: evaluate the loss several times per step, such as LBFGS, need).
CLOSURE_FREE_OPTIMIZERS = tuple(OPTIMIZERS.values())


def closure_free(net) -> bool:
    """Whether the net's step may do without skorch's closure: one optimizer, closure-free.

    skorch lists the net's optimizers in ``_optimizers``: ``"optimizer"``,
    and each other one an ``initialize_optimizer`` sets as an attribute. Its
    ``train_step`` steps each of them with the closure, which runs the
    forward and backward pass again for every optimizer after the first (on
    the weights the ones before it stepped): a net with several optimizers
    trains as skorch trains it, through skorch's own ``train_step``. A
    single one of :data:`CLOSURE_FREE_OPTIMIZERS` steps after one pass, as
    skorch's does, without the closure.

    Parameters
    ----------
    net : CNNNet
        An initialised net.

    Returns
    -------
    closure_free : bool
    """
    names = net._optimizers
    return len(names) == 1 and isinstance(getattr(net, names[0] + "_"), CLOSURE_FREE_OPTIMIZERS)


def step_graph(net, X) -> StepGraph | None:
    """The CUDA graph the training run that begins replays its steps from, or None.

    A graph only with ``cuda_graphs`` on a CUDA device; not for steps that
    need skorch's closure (:func:`closure_free`: the graph's step has none),
    nor for weighted input (a dict), which the graph does not take, nor in a
    fit over several processes (``_training.data_parallel``): the backward
    pass of ``DistributedDataParallel`` talks to the other processes, which
    a graph's replay would not.

    Parameters
    ----------
    net : CNNNet
        The net, as its training run begins.
    X : array-like, Tensor, dict or Dataset
        The run's input, as ``on_train_begin`` gets it.

    Returns
    -------
    graph : StepGraph or None
    """
    if not (net.cuda_graphs and torch.device(net.device).type == "cuda"
            and closure_free(net) and split_weighted(X)[1] is None
            and getattr(net, "world_", None) is None):
        return None
    return StepGraph(lambda Xi, yi: net.train_step_single((Xi, yi)),
                     [param for _, param in net.get_all_learnable_params()], net.device,
                     net.batch_size)


def release_graph(net) -> None:
    """Count the run's replays in ``graph_replays_`` and free its graph, if it had one."""
    graph = getattr(net, "step_graph_", None)
    if graph is not None:
        net.graph_replays_ = graph.replays
        graph.release()  # its memory, also when training failed
        net.step_graph_ = None


def train_step(net, batch, fit_params: dict, *, skorch_step: Callable) -> dict:
    """One optimizer step on ``batch``: replayed from the run's graph, or eager.

    Parameters
    ----------
    net : CNNNet
        The net being trained.
    batch : tuple
        ``(X, y)``, as the iterator yields it.
    fit_params : dict
        Parameters of the module's forward pass; a batch with any trains eagerly.
    skorch_step : callable
        skorch's ``train_step``, for optimizers that need its closure, and
        nets with several optimizers.

    Returns
    -------
    step : dict
        ``{"loss", "y_pred"}``, detached from the autograd graph.
    """
    graph = getattr(net, "step_graph_", None)
    if graph is None:
        return eager_step(net, batch, fit_params, skorch_step=skorch_step)
    Xi, yi = unpack_data(batch)
    if torch.is_tensor(Xi) and torch.is_tensor(yi):
        # On the device before anything is watched or recorded: copying a
        # batch from the host is not part of the step.
        Xi, yi = Xi.to(net.device, non_blocking=True), yi.to(net.device, non_blocking=True)
        batch = (Xi, yi)
    if not fit_params and graph.accepts(Xi, yi):
        step = graph(Xi, yi)
        if step is not None:
            net._set_training(True)  # skorch's train_step_single does it too
            return finish_step(net, step, batch)
    with graph.eager() as watched:
        return eager_step(net, batch, fit_params, watched, skorch_step=skorch_step)


def eager_step(net, batch, fit_params: dict, watched=contextlib.nullcontext, *,
               skorch_step: Callable) -> dict:
    """One optimizer step on ``batch``, run op by op.

    skorch's ``train_step`` passes the optimizers a closure (which only
    optimizers that evaluate the loss several times per step, such as LBFGS,
    need) and collects the step through a step accumulator: where the net
    has one optimizer, one of :data:`CLOSURE_FREE_OPTIMIZERS`
    (:func:`closure_free`), the step does without them (docs/benchmarks.md,
    section "Small-data overhead"), zeroing and stepping it through skorch's
    ``_zero_grad_optimizer`` and ``_step_optimizer``, as skorch's step does.

    Parameters
    ----------
    net : CNNNet
        The net being trained.
    batch : tuple
        ``(X, y)``.
    fit_params : dict
        Parameters of the module's forward pass.
    watched : callable, default=contextlib.nullcontext
        Returns the context of what a CUDA graph would record (the forward
        and backward pass): ``StepGraph.eager`` watches it for host
        synchronisation before the capture.
    skorch_step : callable
        skorch's ``train_step``, for optimizers that need its closure, and
        nets with several optimizers.

    Returns
    -------
    step : dict
        ``{"loss", "y_pred"}``, detached from the autograd graph.
    """
    if closure_free(net):
        net._zero_grad_optimizer()
        with watched():  # what a CUDA graph would record
            step = net.train_step_single(batch, **fit_params)
        step = finish_step(net, step, batch)
    else:
        step = skorch_step(batch, **fit_params)  # may need skorch's closure
    # Callbacks get the outputs without the autograd graph, which the
    # backward pass is done with: kept alive, it would tie the next step
    # (and a CUDA graph recording it) to this one's streams.
    return {k: v.detach() if torch.is_tensor(v) else v for k, v in step.items()}


def finish_step(net, step: dict, batch) -> dict:
    """What skorch's ``train_step`` does after the backward pass: notify, step the optimizer.

    Parameters
    ----------
    net : CNNNet
        The net being trained.
    step : dict
        ``{"loss", "y_pred"}`` of the forward and backward pass.
    batch : tuple
        The batch, for ``on_grad_computed``.

    Returns
    -------
    step : dict
        ``step`` itself.
    """
    net.notify("on_grad_computed", named_parameters=TeeGenerator(
        net.get_all_learnable_params()), batch=batch, training=True)
    net._step_optimizer(None)  # the one of _optimizers (closure_free), without a closure
    return step


def train_step_single(net, batch, fit_params: dict) -> dict:
    """skorch's forward and backward pass, the training batch augmented on the device first.

    Parameters
    ----------
    net : CNNNet
        The net being trained.
    batch : tuple
        ``(X, y)``; ``X`` may be skorch's weighted input,
        ``{"X": images, "sample_weight": w}``.
    fit_params : dict
        Parameters of the module's forward pass.

    Returns
    -------
    step : dict
        ``{"loss", "y_pred"}``, the loss not yet detached.
    """
    net._set_training(True)
    Xi, yi = unpack_data(batch)
    images, sample_weight = split_weighted(Xi)
    if torch.is_tensor(images):
        # Non-blocking: from the pinned memory of a DataLoader of image
        # files (``_data.workers``), the copy overlaps the host's work.
        images = images.to(net.device, non_blocking=True)
    if net.augment_ is not None:
        images = net.augment_(to_device(images, net.device))
    # Training steps only: validation and prediction run in float32.
    with training_autocast(net.precision, net.device):
        y_pred = net.infer(images, **fit_params)
    loss = net.get_loss(y_pred, yi, X=images if sample_weight is None else Xi, training=True)
    loss.backward()
    return {"loss": loss, "y_pred": y_pred}


def infer(net, x, fit_params: dict, *, skorch_infer: Callable):
    """The forward pass of training, validation and skorch's prediction.

    The images of weighted input, on the device, in the net's memory
    format; float32 logits whatever the autocast. A training step of a fit
    over several processes runs through ``ddp_``, the wrapper of the network
    that averages its gradients.

    Parameters
    ----------
    net : CNNNet
        The net.
    x : Tensor, dict or other input skorch takes
        A batch of images, or weighted input.
    fit_params : dict
        Parameters of the module's forward pass.
    skorch_infer : callable
        skorch's ``infer``, for input that is not a tensor (dicts and the like).

    Returns
    -------
    y_pred : Tensor or what the module returns
    """
    x = split_weighted(x)[0]  # the network takes the images, not their weights
    if not torch.is_tensor(x):
        return skorch_infer(x, **fit_params)
    x = x.to(net.device)
    if x.dim() == 4:
        x = x.contiguous(memory_format=net.memory_format)
    # A training step of a fit over several processes runs the wrapper that
    # averages the gradients (_training.data_parallel); anything else the network.
    ddp = getattr(net, "ddp_", None)
    module = ddp if ddp is not None and net.module_.training else net.module_
    y_pred = module(x, **fit_params)
    # The loss, scores and history take float32 logits.
    return y_pred.float() if isinstance(y_pred, torch.Tensor) else y_pred


def get_loss(net, y_pred, y_true, X, training: bool, *, skorch_loss: Callable):
    """The loss of a batch, weighted per sample when ``X`` carries ``sample_weight``.

    Training and validation batches alike (``_model.losses.weighted_loss``).
    In a fit over several processes, a training batch's loss is scaled by
    the net's ``loss_share_`` (``_training.data_parallel.share``).

    Parameters
    ----------
    net : CNNNet
        The net.
    y_pred : Tensor
        The logits.
    y_true : Tensor
        The targets.
    X : Tensor, dict or None
        The batch's input: weighted input carries its weights.
    training : bool
        Whether the batch is a training batch.
    skorch_loss : callable
        skorch's ``get_loss``, for ``NLLLoss`` (the log of the probabilities)
        and targets that are not tensors.

    Returns
    -------
    loss : Tensor
    """
    sample_weight = split_weighted(X)[1]
    if sample_weight is not None:
        loss = weighted_loss(net.criterion_, y_pred, to_device(y_true, net.device),
                             sample_weight.to(net.device))
    elif isinstance(net.criterion_, torch.nn.NLLLoss) or not torch.is_tensor(y_true):
        loss = skorch_loss(y_pred, y_true, X=X, training=training)
    else:
        loss = net.criterion_(y_pred, y_true.to(net.device))
    share = getattr(net, "loss_share_", None)
    # Over several processes: this one's share of the step (_training.data_parallel).
    return loss * share if training and share is not None else loss
