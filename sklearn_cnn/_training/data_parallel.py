"""One fit over several processes: data parallelism with PyTorch's own pieces.

Under ``torchrun`` (``_process_group``), ``CNNNet`` trains one model over
all the processes of the launch, each on its share of every epoch:

- **Shares.** Every process draws the same order of the training images
  (its shuffling generator has the same seed everywhere) and takes its
  share of each batch (``TensorBatches.shard``): ``batch_size`` is the
  images of one optimizer step in all, as on one process, so the learning
  rate, the schedule and the "auto" batch size and epochs mean what they
  mean there. The hold-out is split alike everywhere; each process
  evaluates its share of it.
- **Gradients** are averaged by ``DistributedDataParallel`` (:func:`wrap`)
  during the backward pass. Each process's loss is scaled by its share of
  the step's images (:func:`share`), so that the average is the gradient
  of the mean loss over all of them, as one process computes it. Every
  process then steps the same weights with the same gradients.
- **Batch-norm statistics** (buffers, which no gradient carries) are
  averaged after every step (:func:`average_buffers`): the weights, buffers
  included, stay bit-identical on every process.
- **The history** gets, for each training step, the loss over all its
  images and their count (:func:`reduce_losses`); the validation batches
  of every process are gathered and shown to the callbacks in rank order
  (:func:`run_sharded_epoch`). Scores, early stopping and the schedule
  thus decide the same on every process, which stop at the same epoch.

The fit's random numbers (``_training.randomness``): the shuffling
generator is shared, augmentation and dropout draw from a generator of
each process's own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
from skorch.dataset import unpack_data
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .._data.sample_weights import split_weighted
from .._model.backbone import Backbone
from .._model.convnet import ConvNet
from .._process_group import World, gather

__all__ = ["average_buffers", "reduce_losses", "run_sharded_epoch", "share", "wrap"]


def wrap(module: nn.Module, device: torch.device, X=None) -> DistributedDataParallel:
    """``module`` in ``DistributedDataParallel``: its backward passes average the gradients.

    The wrapper shares ``module``'s parameters: the net keeps training,
    saving and predicting with ``module`` itself (no ``module.`` prefix in
    any state dict); only the training steps' forward pass goes through the
    wrapper (``_training.step.infer``). Constructing it copies rank 0's
    parameters and buffers to every process. Its own broadcast of buffers at
    every forward pass is off: :func:`average_buffers` keeps them equal.

    Parameters
    ----------
    module : nn.Module
        The initialised network, on ``device``.
    device : torch.device
        This process's device.
    X : Tensor, dict or Dataset, default=None
        The training data: a network with lazy layers (``nn.LazyLinear``)
        first sees one image of it, which gives them their shapes.

    Returns
    -------
    wrapper : DistributedDataParallel
    """
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in module.parameters()):
        _materialise(module, device, X)
    # Every parameter of the package's networks takes part in every step; a
    # user's network may leave some out, which DDP must then look for.
    known = isinstance(module, (ConvNet, Backbone))
    # No buffer broadcast at each forward pass (torch 2.14 renamed the option).
    no_sync = ({"forward_sync_buffers": False} if "forward_sync_buffers" in inspect.signature(
        DistributedDataParallel).parameters else {"broadcast_buffers": False})
    return DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None,
        find_unused_parameters=not known, **no_sync)


@torch.no_grad()
def _materialise(module: nn.Module, device: torch.device, X) -> None:
    """Run ``module`` once on one training image, in evaluation mode (lazy layers)."""
    images = split_weighted(X)[0]
    image = images[:1] if torch.is_tensor(images) else images[0][0].unsqueeze(0)
    training = module.training
    module.eval()
    try:
        module(image.to(device))
    finally:
        module.train(training)


@torch.no_grad()
def average_buffers(module: nn.Module) -> None:
    """Replace every floating-point buffer by its mean over the processes.

    Batch norm's running mean and variance: each process updated them from
    its share of the step; their mean is the statistic of the step's images
    (exactly, for the means of equal shares). Integer buffers (batch norm's
    step count) are equal already.
    """
    buffers = [b for b in module.buffers() if b.is_floating_point()]
    if not buffers:
        return
    flat = torch.cat([b.reshape(-1) for b in buffers])
    torch.distributed.all_reduce(flat)
    flat /= torch.distributed.get_world_size()
    start = 0
    for buffer in buffers:
        buffer.copy_(flat[start:start + buffer.numel()].view_as(buffer))
        start += buffer.numel()


def share(world: World, local: int, total: int) -> float:
    """The factor of a process's loss: its images' share of a step's, times the processes.

    ``DistributedDataParallel`` averages the processes' gradients; with
    each loss (a mean over the process's ``local`` images) scaled by
    ``size * local / total``, the average is the gradient of the mean over
    the step's ``total`` images. Exactly 1 where the shares are equal.

    Examples
    --------
    >>> from sklearn_cnn._process_group import World
    >>> share(World(0, 2, 0), 16, 32), share(World(1, 4, 1), 3, 10)
    (1.0, 1.2)
    """
    return world.size * local / total


def reduce_losses(losses: list[torch.Tensor]) -> list[float]:
    """Each step's loss over all its images, from every process's scaled loss of it.

    The scaled losses (:func:`share`) of one step sum to ``size`` times the
    mean loss over its images. One collective for the epoch's steps.
    """
    if not losses:
        return []
    values = torch.stack(losses).float()
    torch.distributed.all_reduce(values)
    return (values / torch.distributed.get_world_size()).tolist()


def run_sharded_epoch(net, iterator, training: bool, prefix: str, step_fn: Callable,
                      fit_params: dict, world: World) -> None:
    """One epoch's batches of this process, their results made those of the whole fit.

    Training: each batch's step (its loss scaled by :func:`share`), the
    buffers averaged before ``on_batch_end``; at the end of the epoch the
    history's batch rows get the loss over each step's images and their
    count. Validation: this process's batches are evaluated (each after
    ``on_batch_begin``), then the batches of every process, gathered in
    rank order, reach the history and ``on_batch_end`` on every process:
    skorch's ``valid_loss``, ``EpochScoring`` and any scoring callback see
    the whole hold-out. Their ``batch`` is ``(None, y)``: the images stay
    with the process that read them.

    Parameters
    ----------
    net : CNNNet
        The net, with ``ddp_`` while it trains.
    iterator : TensorBatches
        This process's share (``TensorBatches.shard``).
    training : bool
        Whether these are training batches.
    prefix : {"train", "valid"}
        Of the history's keys.
    step_fn : callable
        ``train_step`` or ``validation_step``.
    fit_params : dict
        Passed to ``step_fn``.
    world : World
        This process among the fit's.
    """
    if training:
        _train(net, iterator, prefix, step_fn, fit_params, world)
    else:
        _validate(net, iterator, prefix, step_fn, fit_params)


def _train(net, iterator, prefix, step_fn, fit_params, world) -> None:
    rows, losses, completed = [], [], False
    try:
        for batch in iterator:
            net.loss_share_ = share(world, _length(batch), iterator.global_size)
            net.notify("on_batch_begin", batch=batch, training=True)
            step = step_fn(batch, **fit_params)
            average_buffers(net.module_)
            net.history.record_batch(prefix + "_loss", None)
            net.history.record_batch(prefix + "_batch_size", iterator.global_size)
            rows.append(net.history[-1]["batches"][-1])
            losses.append(step["loss"].detach())
            net.notify("on_batch_end", batch=batch, training=True, **step)
        completed = True
    finally:
        net.loss_share_ = None
        # An interrupted epoch keeps this process's losses: the others may
        # be gone, a collective would wait for them.
        values = (reduce_losses(losses) if completed
                  else [v / world.size for v in torch.stack(losses).tolist()] if losses else [])
        for row, value in zip(rows, values, strict=True):
            row[prefix + "_loss"] = value
    net.history.record(prefix + "_batch_count", len(rows))


def _validate(net, iterator, prefix, step_fn, fit_params) -> None:
    mine = []
    for batch in iterator:
        net.notify("on_batch_begin", batch=batch, training=False)
        step = step_fn(batch, **fit_params)
        y = unpack_data(batch)[1]
        mine.append((float(step["loss"]), _length(batch), step["y_pred"].detach().cpu(),
                     y.cpu() if torch.is_tensor(y) else y))
    # skorch's on_batch_begin opened a history row per local batch: the rows
    # are those of the gathered batches instead.
    rows = net.history[-1]["batches"]
    del rows[len(rows) - len(mine):]
    count = 0
    for loss, n, y_pred, y in (b for batches in gather(mine) for b in batches):
        net.history.new_batch()
        net.history.record_batch(prefix + "_loss", loss)
        net.history.record_batch(prefix + "_batch_size", n)
        net.notify("on_batch_end", batch=(None, y), training=False,
                   loss=torch.tensor(loss), y_pred=y_pred)
        count += 1
    net.history.record(prefix + "_batch_count", count)


def _length(batch) -> int:
    """Images in ``batch``: the length of its targets, or of its (weighted) images."""
    X, y = unpack_data(batch)
    if y is not None:
        return len(y)
    return len(split_weighted(X)[0])
