"""Training steps replayed from a CUDA graph.

On a GPU, one training step of a small network is a few hundred short
kernels, and launching them one by one from Python takes longer than
running them: the GPU waits for the host. A CUDA graph records the kernels of
one step (augmentation, forward pass, loss, backward pass) once and replays
them with a single launch per batch, as PyTorch's "whole network capture"
recipe does (https://pytorch.org/docs/stable/notes/cuda.html#cuda-graphs).
The optimizer is stepped eagerly after each replay, so learning-rate and
momentum schedules, gradient callbacks and the optimizer work as without it.

Fits in threads of one process (joblib's threading backend, an application's
thread pool) share the GPU, and PyTorch allows one capture at a time in a
process. So every fit counts itself as training on its device while it
trains (:func:`training_on`), and a fit watches and records its step only
while it is the only one training there, under a process-wide lock that a
fit about to start waits for. A fit that is not alone then trains eagerly
until it is. Each fit warms up and records on a stream of its own, on its
own device, and a failed capture is undone for the whole process
(:func:`undo_failed_capture`) and marks only that fit as eager.

``torch.compile(mode="reduce-overhead")`` builds the same kind of graph, but
compiling takes longer than a whole default fit on a small data set.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator

import torch

from .._model.augment import BatchAugment
from .._model.backbone import Backbone
from .._model.convnet import ConvNet
from .._warnings import warn_user

__all__ = [
    "WARMUP_STEPS",
    "StepGraph",
    "alone_on",
    "capturing",
    "graphs_apply",
    "training_on",
    "undo_failed_capture",
    "watching_synchronisation",
]

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


# ------------------------------------------------------- fits sharing a GPU

#: Held while a fit watches or records its step, and while a fit starts or
#: ends training: PyTorch allows one capture at a time in a process.
_CAPTURE_LOCK = threading.Lock()

#: Fits training on each device in this process (under ``_CAPTURE_LOCK``).
_TRAINING: collections.Counter = collections.Counter()


def _indexed(device) -> torch.device:
    """``device`` with its index: "cuda" is the current GPU, as torch places tensors."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device


@contextlib.contextmanager
def training_on(device) -> Iterator[None]:
    """Count the calling fit as training on ``device`` while the block runs.

    Entering waits while another fit watches or records its step, so no fit
    starts drawing random numbers or synchronising with the device during a
    capture.

    Parameters
    ----------
    device : torch.device or str
        Where the fit trains.
    """
    device = _indexed(device)
    with _CAPTURE_LOCK:
        _TRAINING[device] += 1
    try:
        yield
    finally:
        with _CAPTURE_LOCK:
            _TRAINING[device] -= 1
            if not _TRAINING[device]:
                del _TRAINING[device]


@contextlib.contextmanager
def alone_on(device) -> Iterator[bool]:
    """Hold the capture lock; yield whether at most one fit trains on ``device``.

    Parameters
    ----------
    device : torch.device or str
        The device of the fit that asks (counted by :func:`training_on`).
    """
    device = _indexed(device)
    with _CAPTURE_LOCK:
        yield _TRAINING[device] <= 1


@contextlib.contextmanager
def watching_synchronisation(syncs: list) -> Iterator[None]:
    """Append to ``syncs`` the warnings of CUDA's sync debug mode raised in the block.

    A step that waits for the host (``.item()``, a data-dependent shape such as
    ``masked_select``, which cross-entropy with class weights and label
    smoothing uses) cannot be recorded: its capture would fail. Other
    warnings are passed on. The sync debug mode and the warning filters are
    process-wide: :class:`StepGraph` watches only while its fit is the only
    one training on the device (:func:`alone_on`).

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


@contextlib.contextmanager
def capturing(graph, stream, pool) -> Iterator[None]:
    """Record the CUDA work of the block into ``graph``, on ``stream``, in ``pool``.

    ``torch.cuda.graph`` without the ``torch.cuda.synchronize()`` and
    ``torch.cuda.empty_cache()`` it starts with: both wait for the whole
    device, the work of other fits included, and every ``partial_fit`` call
    would pay for them. Errors are raised for this thread's illegal calls
    only (``capture_error_mode="thread_local"``): other threads may go on
    using the GPU.

    Parameters
    ----------
    graph : torch.cuda.CUDAGraph
        An empty graph.
    stream : torch.cuda.Stream
        The stream to record on, on the device the work runs on.
    pool : tuple
        The memory pool of the graph (``torch.cuda.graph_pool_handle()``).
    """
    stream.wait_stream(torch.cuda.current_stream(stream.device))
    with torch.cuda.stream(stream):
        graph.capture_begin(pool=pool, capture_error_mode="thread_local")
        try:
            yield
        except BaseException:
            with contextlib.suppress(RuntimeError):  # the capture is void: report the cause
                graph.capture_end()
            raise
        graph.capture_end()


def undo_failed_capture(graph, device: torch.device, pool) -> None:
    """Put back what an aborted capture leaves behind, on every torch this package supports.

    - The device's random generator stays registered with the capture, and
      every later draw would fail: give it a copy of its state, which is not.
    - Before torch 2.12 (pytorch#180395) the caching allocator goes on
      routing allocations to the graph's pool: every later ``empty_cache()``
      fails an assertion, every later capture fails, and out-of-memory
      retries cannot free the cache. End the routing where it is still on.
    - Where torch does not release the pool of a failed capture
      (pytorch#190348), its memory stays reserved until the process ends:
      release it, once it holds no live tensor and only then (releasing a
      pool torch released already would corrupt the allocator's count).

    Parameters
    ----------
    graph : torch.cuda.CUDAGraph
        The graph whose capture failed.
    device : torch.device
        Its device, with an index.
    pool : tuple
        Its memory pool, as given to :func:`capturing`.
    """
    generator = torch.cuda.default_generators[device.index]
    generator.graphsafe_set_state(generator.clone_state())
    # Private: torch has no public call that ends or releases a graph's pool
    # (torch.cuda.use_mem_pool calls the first; before torch 2.8 it was named
    # _cuda_endAllocateCurrentStreamToPool). tests/_training/test_cuda_graph.py checks both exist.
    end = getattr(torch._C, "_cuda_endAllocateToPool", None)
    end = end or torch._C._cuda_endAllocateCurrentStreamToPool
    with contextlib.suppress(RuntimeError):  # "not currently recording": torch ended it
        end(device.index, pool)
    graph.reset()
    torch.cuda.empty_cache()
    segments = [segment for segment in torch.cuda.memory_snapshot()
                if segment["device"] == device.index
                and tuple(segment.get("segment_pool_id", ())) == tuple(pool)]
    # Still reserved after empty_cache() with nothing live in it: torch kept the pool.
    if segments and not any(segment["active_size"] for segment in segments):
        torch._C._cuda_releasePool(device.index, pool)
        torch.cuda.empty_cache()


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

    Attributes
    ----------
    replays : int
        Batches trained from the graph so far.
    failed : bool
        Whether the step was found unrecordable: it trains eagerly from then on.

    Notes
    -----
    A replay writes the gradients into tensors that belong to the graph; an
    eager step in between (a last, smaller batch) replaces them, and the next
    replay puts the graph's back. When a callback freezes or unfreezes
    parameters, the graph is dropped and the step warmed up and recorded
    anew (cuDNN picks the kernels of the new backward pass eagerly). Random
    draws (dropout, augmentation) come from PyTorch's CUDA generator, fresh
    at every replay. The last warm-up step and the capture wait until no
    other fit trains on the device (:func:`alone_on`); until then, steps
    train eagerly.
    """

    def __init__(self, step: Callable, params: Iterable[torch.nn.Parameter],
                 device: torch.device | str, batch_size: int,
                 warmup: int = WARMUP_STEPS) -> None:
        self.step = step
        self.all_params = list(params)
        self.device = _indexed(device)
        self.batch_size = batch_size
        self.warmup = warmup
        self.stream = torch.cuda.Stream(device=self.device)  # this fit's own
        self.eager_steps = 0
        self.graph = None
        self.failed = False
        self.replays = 0

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
        if self.graph is not None and [p.requires_grad for p in self.all_params] != self.trained:
            self.release()  # a callback froze or unfroze layers: warm up, then record anew
            self.eager_steps = 0
        if self.failed or self.eager_steps < self.warmup:
            return False
        if not (isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor)):
            return False
        if self.graph is None:
            return len(X) == self.batch_size
        return (X.shape, X.dtype, y.shape, y.dtype) == (
            self.X.shape, self.X.dtype, self.y.shape, self.y.dtype)

    @contextlib.contextmanager
    def eager(self) -> Iterator[Callable[[], contextlib.AbstractContextManager]]:
        """Context of an eager step: warm-up steps run on the fit's own stream.

        Yields a function that returns the context to wrap what a capture
        would record in (the forward and backward pass): in the last warm-up
        step, CUDA's sync debug mode; if that part waits for the host, the
        step is never captured. The last warm-up step waits until the fit
        trains alone on its device; until then it is an ordinary eager step.
        """
        if self.graph is not None or self.failed or self.eager_steps >= self.warmup:
            yield contextlib.nullcontext
            return
        last = self.eager_steps == self.warmup - 1
        with alone_on(self.device) if last else contextlib.nullcontext(True) as alone:
            if not alone:
                yield contextlib.nullcontext
                return
            syncs = []

            def watched():
                return watching_synchronisation(syncs) if last else contextlib.nullcontext()

            self.stream.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(self.stream):  # on the stream's device too
                yield watched
            torch.cuda.current_stream(self.device).wait_stream(self.stream)
            self.eager_steps += 1
            self.failed = bool(syncs)

    def __call__(self, X: torch.Tensor, y: torch.Tensor) -> dict | None:
        """Train on one batch from the graph; None if it was not recorded.

        Parameters
        ----------
        X, y : Tensor
            The batch, on the device, accepted by :meth:`accepts`.

        Returns
        -------
        step : dict or None
            ``{"loss", "y_pred"}``, detached copies of the graph's outputs;
            None where the step could not be recorded, or another fit trains
            on the device: train the batch eagerly.
        """
        if self.graph is None:
            with alone_on(self.device) as alone:
                if not (alone and self._capture(X, y)):
                    return None
        with torch.cuda.device(self.device):
            self.X.copy_(X, non_blocking=True)
            self.y.copy_(y, non_blocking=True)
            self.graph.replay()
        for param, grad in zip(self.params, self.grads, strict=True):
            param.grad = grad
        self.replays += 1
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
        pool = torch.cuda.graph_pool_handle()
        error = None
        try:
            with torch.cuda.device(self.device), capturing(graph, self.stream, pool):
                out = self.step(self.X, self.y)
        except RuntimeError as exc:
            error = str(exc)  # outside this block: its traceback holds the step's tensors
        if error is not None:
            for param in self.all_params:
                param.grad = None
            with torch.cuda.device(self.device):
                undo_failed_capture(graph, self.device, pool)
            warn_user(
                f"Training continues without a CUDA graph, which could not record "
                f"the training step: {error}", RuntimeWarning)
            self.failed = True
            return False
        self.graph = graph
        # Detached: the recorded autograd graph would otherwise stay alive and
        # bind the next eager step's gradient accumulation to the capture stream.
        self.loss, self.y_pred = out["loss"].detach(), out["y_pred"].detach()
        self.grads = [p.grad for p in self.params]
        return True
