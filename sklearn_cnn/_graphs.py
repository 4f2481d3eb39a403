"""Training steps replayed from a CUDA graph.

On a GPU, one training step of a small network is a few hundred short
kernels, and launching them one by one from Python takes longer than
running them: the GPU waits for the host. A CUDA graph records the kernels of
one step (augmentation, forward pass, loss, backward pass) once and replays
them with a single launch per batch, as PyTorch's "whole network capture"
recipe does (https://pytorch.org/docs/stable/notes/cuda.html#cuda-graphs).
The optimizer is stepped eagerly after each replay, so learning-rate and
momentum schedules, gradient callbacks and the optimizer work as without it.

``torch.compile(mode="reduce-overhead")`` builds the same kind of graph, but
compiling takes longer than a whole default fit on a small data set.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Iterator

import torch

from ._augment import BatchAugment
from ._backbone import Backbone
from ._convnet import ConvNet

__all__ = ["WARMUP_STEPS", "StepGraph", "graphs_apply", "watching_synchronisation"]

#: Eager steps, on a side stream, before the step is captured: cuDNN and
#: cuBLAS pick their kernels and allocate their workspaces then, and the last
#: one is watched for host synchronisation.
WARMUP_STEPS = 3


def graphs_apply(device: torch.device, module: type, augment) -> bool:
    """Whether the training step may be replayed from a CUDA graph.

    On CUDA, for the built-in and torchvision networks with no augmentation
    or batch augmentation: their steps draw every random number on the GPU.
    A custom module or a torchvision transform might draw them in Python or
    wait for the host, which a graph would record as a constant.

    Parameters
    ----------
    device : torch.device
        The training device; only CUDA has graphs.
    module : type
        The network class: ``ConvNet``, ``Backbone`` or the user's.
    augment : str, BatchAugment, callable or None
        The ``augment`` parameter, "auto" settled.

    Returns
    -------
    apply : bool
        True where the step may be recorded.
    """
    return (device.type == "cuda" and module in (ConvNet, Backbone)
            and (augment is None or isinstance(augment, (str, BatchAugment))))


@contextlib.contextmanager
def watching_synchronisation(syncs: list) -> Iterator[None]:
    """Append to ``syncs`` the warnings of CUDA's sync debug mode raised in the block.

    A step that waits for the host (``.item()``, a data-dependent shape such as
    ``masked_select``, which cross-entropy with class weights and label
    smoothing uses) cannot be recorded: its capture would fail. Other
    warnings are passed on.

    Parameters
    ----------
    syncs : list
        Where the synchronisation warnings go.
    """
    mode = torch.cuda.get_sync_debug_mode()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            yield
        finally:
            torch.cuda.set_sync_debug_mode(mode)
    for warning in caught:
        if "synchroniz" in str(warning.message):
            syncs.append(warning)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)


class StepGraph:
    """The training steps of one training run: eager while warming up, then replayed.

    Parameters
    ----------
    step : callable
        ``step(X, y) -> dict`` with ``"loss"`` and ``"y_pred"`` tensors, that
        runs the backward pass (skorch's ``train_step_single``). It must be
        free of host synchronisation and of Python-side randomness: what it
        does is recorded once.
    params : iterable of Parameter
        The parameters ``step`` may compute gradients for.
    device : torch.device or str
        The CUDA device the step runs on (not necessarily the current one).
    batch_size : int
        The size of the batches to record: smaller ones (a last batch) train
        eagerly.
    warmup : int, default=WARMUP_STEPS
        Batches trained eagerly (through :meth:`eager`) before the capture.

    Notes
    -----
    A replay writes the gradients into tensors that belong to the graph; an
    eager step in between (a last, smaller batch) replaces them, and the next
    replay puts the graph's back. When a callback freezes or unfreezes
    parameters, the step is recorded again. Random draws (dropout,
    augmentation) come from PyTorch's CUDA generator, fresh at every replay.
    """

    def __init__(self, step: Callable, params: Iterable[torch.nn.Parameter],
                 device: torch.device | str, batch_size: int,
                 warmup: int = WARMUP_STEPS) -> None:
        self.step = step
        self.all_params = list(params)
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.warmup = warmup
        self.eager_steps = 0
        self.graph = None
        self.failed = False

    def accepts(self, X, y) -> bool:
        """Whether the batch ``(X, y)`` can be replayed (else it trains eagerly).

        Parameters
        ----------
        X, y : Tensor
            The batch, on the device.

        Returns
        -------
        accepted : bool
        """
        if self.failed or self.eager_steps < self.warmup:
            return False
        if not (isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor)):
            return False
        if self.graph is None:
            return len(X) == self.batch_size
        if [p.requires_grad for p in self.all_params] != self.trained:
            self.graph = None  # a callback froze or unfroze layers: record anew
            return len(X) == self.batch_size
        return (X.shape, X.dtype, y.shape, y.dtype) == (
            self.X.shape, self.X.dtype, self.y.shape, self.y.dtype)

    @contextlib.contextmanager
    def eager(self) -> Iterator[Callable[[], contextlib.AbstractContextManager]]:
        """Context of an eager step: warm-up steps run on a side stream.

        Yields a function that returns the context to wrap what a capture
        would record in (the forward and backward pass): in the last warm-up
        step, CUDA's sync debug mode; if that part waits for the host, the
        step is never captured.
        """
        if self.graph is not None or self.failed:
            yield contextlib.nullcontext
            return
        self.eager_steps += 1
        syncs = []

        def watched():
            if self.eager_steps == self.warmup:
                return watching_synchronisation(syncs)
            return contextlib.nullcontext()

        side = torch.cuda.Stream(device=self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):  # on side's device too
            yield watched
        torch.cuda.current_stream(self.device).wait_stream(side)
        self.failed = bool(syncs)

    def __call__(self, X: torch.Tensor, y: torch.Tensor) -> dict | None:
        """Train on one batch from the graph; None if it could not be captured.

        Parameters
        ----------
        X, y : Tensor
            The batch, on the device, accepted by :meth:`accepts`.

        Returns
        -------
        step : dict or None
            ``{"loss", "y_pred"}``, detached copies of the graph's outputs.
        """
        if self.graph is None and not self._capture(X, y):
            return None
        with torch.cuda.device(self.device):
            self.X.copy_(X, non_blocking=True)
            self.y.copy_(y, non_blocking=True)
            self.graph.replay()
        for param, grad in zip(self.params, self.grads, strict=True):
            param.grad = grad
        # The graph's outputs are overwritten by the next replay.
        return {"loss": self.loss.clone(), "y_pred": self.y_pred.clone()}

    def release(self) -> None:
        """Free the graph's memory, the gradients it wrote included."""
        if self.graph is not None:
            for param in self.params:
                param.grad = None
        self.graph = None

    def _capture(self, X: torch.Tensor, y: torch.Tensor) -> bool:
        self.trained = [p.requires_grad for p in self.all_params]
        self.params = [p for p in self.all_params if p.requires_grad]
        self.X = torch.empty_like(X, device=self.device).copy_(X)
        self.y = torch.empty_like(y, device=self.device).copy_(y)
        for param in self.all_params:
            param.grad = None  # backward allocates them from the graph's memory
        graph = torch.cuda.CUDAGraph()
        stream = torch.cuda.current_stream(self.device)
        try:
            # thread_local: CUDA calls of other threads (other fits) stay legal.
            with torch.cuda.device(self.device), torch.cuda.graph(
                    graph, capture_error_mode="thread_local"):
                out = self.step(self.X, self.y)
        except RuntimeError as exc:
            _recover_from_failed_capture(stream)
            warnings.warn(
                f"Training continues without a CUDA graph, which could not record "
                f"the training step: {exc}", RuntimeWarning, stacklevel=4)
            self.failed = True
            return False
        self.graph = graph
        # Detached: the recorded autograd graph would otherwise stay alive and
        # bind the next eager step's gradient accumulation to the capture stream.
        self.loss, self.y_pred = out["loss"].detach(), out["y_pred"].detach()
        self.grads = [p.grad for p in self.params]
        return True


def _recover_from_failed_capture(stream: torch.cuda.Stream) -> None:
    """Undo what an aborted ``torch.cuda.graph`` leaves behind.

    Its exit does not reach restoring the stream, and the device's random
    generator stays marked as capturing (every later draw would fail): give
    it a copy of its state, which is not.
    """
    torch.cuda.set_stream(stream)
    generator = torch.cuda.default_generators[stream.device.index]
    generator.graphsafe_set_state(generator.clone_state())
