"""The training step replayed from a CUDA graph (sklearn_cnn._training.cuda_graph).

The graph itself needs a GPU: those tests run where the suite trains on CUDA
(SKLEARN_CNN_TEST_DEVICE=auto on a machine with one). Everything around it
(when a step is recorded, eager batches in between, the gradients each
optimizer step sees, steps that synchronise) is also tested on the CPU, with
stand-ins for CUDA's graph, stream and sync-debug calls.
"""

import contextlib
import itertools
import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, Freezer, Unfreezer

from sklearn_cnn import BatchAugment, CNNClassifier
from sklearn_cnn._estimator import building as building_module
from sklearn_cnn._training import cuda_graph as graphs_module
from sklearn_cnn._training import net as net_module
from sklearn_cnn._training.cuda_graph import WARMUP_STEPS, StepGraph


@pytest.fixture
def needs_cuda(torch_device):
    """Skips the test unless the suite trains on CUDA."""
    if torch_device.type != "cuda":
        pytest.skip("CUDA graphs need the suite to train on a GPU")


class CPUGraph:
    """Stand-in for ``torch.cuda.CUDAGraph`` on the CPU: records the step, reruns it.

    A replay runs the recorded step again and writes its results into the
    tensors the capture returned, as a CUDA graph's replay does. Each capture
    notes the stream it was recorded on, and how many fits were training on
    the device then.
    """

    captures = []  # (stream, fits training on the capturing fit's device), per capture

    def capture_begin(self, pool=None, capture_error_mode="global"):
        assert capture_error_mode == "thread_local" and pool is not None
        self.capturing = True
        CPUGraph.captures.append((Stream.current, training_count()))

    def capture_end(self):
        self.capturing = False

    def reset(self):
        pass

    def replay(self):
        owner = self.owner
        before = [param.grad for param in owner.all_params]  # a replay leaves .grad alone
        for param in owner.all_params:
            param.grad = None
        out = owner.step(owner.X, owner.y)
        owner.loss.copy_(out["loss"])
        owner.y_pred.copy_(out["y_pred"])
        for param, grad in zip(owner.params, owner.grads, strict=True):
            grad.copy_(param.grad)  # only what was recorded: the parameters trained then
        for param, old in zip(owner.all_params, before, strict=True):
            param.grad = old


class Stream:
    """Stand-in for ``torch.cuda.Stream``: knows its device; ``current`` is the one in use."""

    current = None

    def __init__(self, device=None):
        self.device = torch.device(device) if device is not None else None

    def wait_stream(self, other):
        pass


@contextlib.contextmanager
def use_stream(stream):
    """Stand-in for ``torch.cuda.stream``."""
    saved, Stream.current = Stream.current, stream
    try:
        yield
    finally:
        Stream.current = saved


def training_count(device="cpu"):
    """Fits training on ``device`` now, as ``_training.cuda_graph.training_on`` counts them."""
    return graphs_module._TRAINING[torch.device(device)]


#: The device the stand-in fits pretend to train on (their tensors stay on the CPU).
FAKE_GPU = "cuda:1"


@pytest.fixture
def cpu_graphs(monkeypatch):
    """CUDA graphs, streams and sync watching replaced by CPU stand-ins.

    Exercises, without a GPU, everything around the graph: when a step is
    recorded, eager last batches in between, the gradients each optimizer
    step sees, steps that synchronise, fits in threads. The graph's own
    calls are CPU stand-ins; ``torch.cuda.synchronize`` and ``empty_cache``
    are not: a training run must call neither.
    """
    CPUGraph.captures = []
    watches = []
    captured = StepGraph._capture

    def capture_on_cpu(graph, X, y):
        done = captured(graph, X, y)
        if done:
            graph.graph.owner = graph
        return done

    def set_sync_debug_mode(mode):
        if mode == "warn":
            watches.append(training_count())

    def forbidden(*args, **kwargs):
        raise AssertionError("a training run waited for the whole GPU")

    null = lambda *args, **kwargs: contextlib.nullcontext()  # noqa: E731
    for name, value in [("CUDAGraph", CPUGraph), ("Stream", Stream),
                        ("current_stream", lambda device=None: Stream(device)),
                        ("stream", use_stream), ("device", null),
                        ("graph_pool_handle", lambda: (0, len(CPUGraph.captures))),
                        ("get_sync_debug_mode", lambda: 0),
                        ("set_sync_debug_mode", set_sync_debug_mode),
                        ("synchronize", forbidden), ("empty_cache", forbidden)]:
        monkeypatch.setattr(torch.cuda, name, value)
    monkeypatch.setattr(StepGraph, "_capture", capture_on_cpu)
    monkeypatch.setattr(building_module, "graphs_apply", lambda *args: True)
    monkeypatch.setattr(net_module.CNNNet, "on_train_begin", on_train_begin_on_cpu)
    counter = CountReplays(monkeypatch)
    counter.watches = watches
    return counter


on_train_begin = net_module.CNNNet.on_train_begin


def on_train_begin_on_cpu(net, *args, **kwargs):
    """CNNNet.on_train_begin with the graph made as on a GPU, then run on the CPU.

    The step graph is built for ``FAKE_GPU`` (its stream is made there), then
    computes on the net's device, the CPU, and counts the fits training there.
    """
    device, net.device = net.device, FAKE_GPU
    try:
        return on_train_begin(net, *args, **kwargs)
    finally:
        net.device = device
        if net.step_graph_ is not None:
            net.step_graph_.device = torch.device(device)


def test_recorded_steps_train_like_eager_ones_on_the_cpu(digits, cpu_graphs, monkeypatch,
                                                         fast_params):
    X, y = digits
    # No batch norm: the stand-in's capture runs the step once for real, which
    # would move running statistics a real capture leaves alone.
    params = {**fast_params, "device": "cpu", "max_epochs": 3, "batch_size": 64,
              "batch_norm": False}
    graphed = CNNClassifier(**params).fit(X, y)  # 400 digits: 6 full batches and 16
    assert cpu_graphs.replays == 3 * 6 - WARMUP_STEPS
    monkeypatch.setattr(building_module, "graphs_apply", lambda *args: False)
    eager = CNNClassifier(**params).fit(X, y)
    assert cpu_graphs.replays == 3 * 6 - WARMUP_STEPS
    # Same seed, same draws, same arithmetic: the replays did what eager steps do.
    np.testing.assert_allclose(graphed.history_[:, "train_loss"],
                               eager.history_[:, "train_loss"], rtol=1e-5)
    np.testing.assert_allclose(graphed.predict_proba(X), eager.predict_proba(X), atol=1e-6)


def test_a_step_that_synchronises_is_never_recorded(digits, cpu_graphs, monkeypatch, fast_params):
    X, y = digits
    forward = torch.nn.CrossEntropyLoss.forward

    def synchronising(criterion, logits, target):  # as masked_select does on a GPU
        warnings.warn("called a synchronizing CUDA operation", UserWarning, stacklevel=2)
        return forward(criterion, logits, target)

    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", synchronising)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 2}).fit(X, y)
    assert cpu_graphs.replays == 0


def test_batches_are_replayed_only_after_the_warm_up_and_in_the_captured_shape(cpu_graphs):
    weight = torch.nn.Parameter(torch.zeros(2))
    graph = StepGraph(lambda X, y: {}, [weight], FAKE_GPU, batch_size=4, warmup=2)
    X, y = torch.zeros(4, 1, 2, 2), torch.zeros(4, dtype=torch.long)
    assert not graph.accepts(X, y)
    graph.eager_steps = 2
    assert graph.accepts(X, y)
    assert not graph.accepts(X.numpy(), y)  # only tensors
    assert not graph.accepts(X[:3], y[:3])  # the batch recorded is a full one
    graph.graph, graph.X, graph.y = object(), X, y  # as after a capture
    graph.params, graph.trained = [weight], [True]
    assert graph.accepts(X + 1, y)
    assert not graph.accepts(X[:3], y[:3])  # a last, smaller batch: eager
    weight.requires_grad_(False)  # a callback froze it: warm up and record the step anew
    assert not graph.accepts(X, y) and graph.graph is None and graph.eager_steps == 0
    graph.eager_steps = 2
    assert graph.accepts(X, y)
    graph.failed = True
    assert not graph.accepts(X, y)


class CountReplays:
    """Counts the batches trained from the graph (a failed capture is not one)."""

    def __init__(self, monkeypatch):
        self.replays = 0
        call = StepGraph.__call__

        def counted(graph, X, y):
            step = call(graph, X, y)
            self.replays += step is not None
            return step

        monkeypatch.setattr(StepGraph, "__call__", counted)


@pytest.mark.usefixtures("needs_cuda")
def test_default_steps_are_replayed_and_learn(digit_images, monkeypatch, fast_params):
    X, y = digit_images
    counter = CountReplays(monkeypatch)
    params = {**fast_params, "augment": "light", "max_epochs": 6, "batch_size": 64, "dropout": 0.2}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the capture must succeed
        graphed = CNNClassifier(**params).fit(X[:300], y[:300])
    full_batches = 300 // 64
    assert counter.replays == 6 * full_batches - WARMUP_STEPS  # the last 44 eagerly
    monkeypatch.setattr(building_module, "graphs_apply", lambda *args: False)
    eager = CNNClassifier(**params).fit(X[:300], y[:300])
    assert counter.replays == 6 * full_batches - WARMUP_STEPS
    assert graphed.score(X[300:], y[300:]) > eager.score(X[300:], y[300:]) - 0.05
    assert graphed.history_[-1, "train_loss"] < graphed.history_[0, "train_loss"]


@pytest.mark.usefixtures("needs_cuda")
def test_weight_averaging_with_the_graphed_step(digit_images, monkeypatch, fast_params):
    # The average is updated after each replay, and copied in and out of the
    # very tensors the graph steps: graphed and eager fits average alike.
    X, y = digit_images
    counter = CountReplays(monkeypatch)
    params = {**fast_params, "augment": "shift", "ema": 0.9, "max_epochs": 6, "batch_size": 64}
    graphed = CNNClassifier(**params).fit(X[:300], y[:300])
    assert counter.replays > 0 and graphed.cuda_graphs_
    monkeypatch.setattr(building_module, "graphs_apply", lambda *args: False)
    eager = CNNClassifier(**params).fit(X[:300], y[:300])
    assert not eager.cuda_graphs_
    assert graphed.score(X[300:], y[300:]) > eager.score(X[300:], y[300:]) - 0.05
    averaging = dict(graphed.net_.callbacks_)["weight_averaging"]
    assert averaging.n_updates_ == 6 * -(-300 // 64)


class KeepAugmented(Callback):
    """Copies what the augmentation module returned, after every training batch."""

    def on_train_begin(self, net, **kwargs):
        self.outputs, self.batches = [], []
        net.augment_.register_forward_hook(lambda m, args, out: self.outputs.append(out))

    def on_batch_end(self, net, training, **kwargs):
        if training:
            self.batches.append(self.outputs[-1].detach().clone())


@pytest.mark.usefixtures("needs_cuda")
def test_replays_draw_fresh_augmentation(digit_images, fast_params):
    X, _ = digit_images
    same = np.repeat(X[:1], 128, axis=0)  # one image: every difference is a random draw
    clf = CNNClassifier(**{**fast_params, "augment": BatchAugment(degrees=30), "batch_size": 64,
                           "max_epochs": 4, "callbacks": [KeepAugmented()]})
    clf.fit(same, np.arange(128) % 2)
    batches = dict(clf.net_.callbacks_)["KeepAugmented"].batches
    assert len(batches) == 8
    replayed = batches[WARMUP_STEPS:]
    for a, b in itertools.pairwise(replayed):
        assert not torch.equal(a, b)


@pytest.mark.usefixtures("needs_cuda")
def test_graphed_fit_with_hold_out_early_stopping_and_progress_bar_pickles(digits, capsys,
                                                                           fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 6, "validation_fraction": 0.2,
                           "early_stopping": True, "patience": 2, "verbose": 1}).fit(X, y)
    assert "valid_loss" in capsys.readouterr().out
    assert np.isfinite(clf.history_[:, "valid_loss"]).all()
    twin = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(twin.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    twin.partial_fit(X, y)  # trains on, eagerly or from a new graph
    assert twin.n_iter_ == clf.n_iter_ + 1


@pytest.mark.usefixtures("needs_cuda")
def test_steps_that_wait_for_the_host_train_eagerly(digits, monkeypatch, fast_params):
    X, y = digits
    counter = CountReplays(monkeypatch)
    # Cross-entropy with class weights and label smoothing calls masked_select,
    # whose output size the host must read: such a step cannot be recorded.
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        weighted = CNNClassifier(**{**fast_params, "class_weight": "balanced",
                                    "label_smoothing": 0.1}).fit(X, y)
    assert counter.replays == 0 and weighted.score(X, y) > 0.8
    CNNClassifier(**fast_params).fit(X, y)  # the next fit records its step again
    assert counter.replays > 0


@pytest.mark.usefixtures("needs_cuda")
def test_a_failed_capture_leaves_training_and_later_fits_working(digits, monkeypatch, fast_params):
    X, y = digits
    counter = CountReplays(monkeypatch)
    forward = torch.nn.CrossEntropyLoss.forward

    def syncs_while_recorded(criterion, logits, target):  # unseen by the warm-up's watch
        if torch.cuda.is_current_stream_capturing():
            logits.sum().item()
        return forward(criterion, logits, target)

    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", syncs_while_recorded)
    with pytest.warns(RuntimeWarning, match="without a CUDA graph"):
        failed = CNNClassifier(**fast_params).fit(X, y)
    assert counter.replays == 0 and failed.score(X, y) > 0.8 and not failed.cuda_graphs_
    torch.cuda.empty_cache()  # the allocator is out of capture mode (torch < 2.12 left it in)
    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", forward)
    later = CNNClassifier(**fast_params).fit(X, y)  # stream and random generator restored
    assert counter.replays > 0 and later.score(X, y) > 0.8 and later.cuda_graphs_


def test_optimizers_that_need_a_closure_train_eagerly(digits, cpu_graphs, fast_params):
    X, y = digits
    # 4 filters: trained NCHW (LBFGS views every gradient as one flat vector).
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 2, "conv_channels": (4,),
                           "optimizer": torch.optim.LBFGS, "lr": 0.1}).fit(X, y)
    assert cpu_graphs.replays == 0 and clf.n_iter_ == 2


class KeepWeight(Callback):
    """Copies one weight at the end of every epoch."""

    def on_epoch_end(self, net, **kwargs):
        self.seen = [*getattr(self, "seen", []), net.module_.features[0].weight.detach().clone()]


def test_layers_unfrozen_by_a_callback_train_from_then_on(digits, cpu_graphs, fast_params):
    X, y = digits
    callbacks = [Freezer("features.0.weight"), Unfreezer("features.0.weight", at=3),
                 KeepWeight()]
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 4, "batch_size": 64,
                           "callbacks": callbacks})
    clf.fit(X[:384], y[:384])  # full batches only: every step after a warm-up replayed
    seen = dict(clf.net_.callbacks_)["KeepWeight"].seen
    # Recorded twice, each time after a warm-up of its own: cuDNN picks the
    # kernels of the new backward pass eagerly, not inside the capture.
    assert len(CPUGraph.captures) == 2
    assert cpu_graphs.replays == 4 * 6 - 2 * WARMUP_STEPS
    assert torch.equal(seen[0], seen[1])  # frozen: recorded without its gradient
    assert not torch.equal(seen[2], seen[3])  # unfrozen at epoch 3: recorded anew


class StopAtCall(torch.nn.Module):
    """A network that raises KeyboardInterrupt (what Ctrl-C does) at its n-th training call."""

    def __init__(self, input_shape, n_classes, stop_at=5):
        super().__init__()
        self.linear = torch.nn.Linear(int(np.prod(input_shape)), n_classes)
        self.calls, self.stop_at = 0, stop_at

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == self.stop_at:
                raise KeyboardInterrupt
        return self.linear(x.flatten(1))


def test_an_interrupted_epoch_keeps_the_losses_of_its_batches(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "module": StopAtCall, "device": "cpu"}).fit(X, y)
    batches = clf.history_[-1, "batches"]
    assert len(batches) == 5  # the fifth was interrupted in its forward pass
    assert all(isinstance(b["train_loss"], float) for b in batches[:4])


# ------------------------------------------------ streams, threads, failures


def test_each_fit_records_on_a_stream_of_its_own_device(digits, cpu_graphs, fast_params):
    X, y = digits
    params = {**fast_params, "device": "cpu", "max_epochs": 1, "batch_size": 64}
    streams = []
    for _ in range(2):
        clf = CNNClassifier(**params).fit(X, y)
        assert clf.cuda_graphs_
        streams.append(CPUGraph.captures[-1][0])
    # On the fit's device (not the current one, nor the stream the first
    # capture of the process made), and one stream per fit.
    assert all(stream.device == torch.device(FAKE_GPU) for stream in streams)
    assert streams[0] is not streams[1]


def test_the_switch_turns_graphs_off_and_on_between_calls(digits, cpu_graphs, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "cuda_graphs": False}).fit(X, y)
    assert cpu_graphs.replays == 0 and not clf.cuda_graphs_ and not clf.net_.cuda_graphs
    clf.set_params(cuda_graphs=True).partial_fit(X, y)  # 12 full batches of 32
    assert cpu_graphs.replays == 12 - WARMUP_STEPS and clf.cuda_graphs_


class Meet(Callback):
    """Two fits wait for each other when they begin and at the end of their first epoch."""

    def __init__(self, barrier):
        self.barrier = barrier

    def __deepcopy__(self, memo):  # skorch copies its callbacks: keep the one barrier
        return self

    def on_train_begin(self, net, **kwargs):
        self.barrier.wait(timeout=60)

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 1:
            self.barrier.wait(timeout=60)


def fit_two_in_threads(X, y, params):
    """A 5-epoch and a 1-epoch fit in two threads, side by side for their first epoch."""
    barrier = threading.Barrier(2)
    fits = [CNNClassifier(**{**params, "max_epochs": epochs, "callbacks": [Meet(barrier)]})
            for epochs in (5, 1)]
    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(clf.fit, X, y) for clf in fits]:
            future.result()
    return fits


def test_fits_in_threads_record_their_step_only_while_alone_on_the_device(digits, cpu_graphs,
                                                                           fast_params):
    X, y = digits
    long_fit, short_fit = fit_two_in_threads(
        X, y, {**fast_params, "device": "cpu", "batch_size": 64, "random_state": None})
    # The first epochs ran side by side: eager. The sync watch and the capture
    # are process-wide; both waited until the long fit trained alone.
    assert not short_fit.cuda_graphs_ and long_fit.cuda_graphs_
    assert cpu_graphs.watches and set(cpu_graphs.watches) == {1}
    assert [count for _, count in CPUGraph.captures] == [1]
    assert training_count() == 0
    assert long_fit.score(X, y) > 0.8


@pytest.mark.usefixtures("needs_cuda")
def test_unseeded_fits_in_threads_share_the_gpu(digits, fast_params):
    X, y = digits
    long_fit, short_fit = fit_two_in_threads(
        X, y, {**fast_params, "batch_size": 64, "random_state": None})
    assert long_fit.cuda_graphs_ and not short_fit.cuda_graphs_
    assert long_fit.score(X, y) > 0.8 and short_fit.n_iter_ == 1


def test_a_failed_capture_trains_on_eagerly_and_is_undone(digits, cpu_graphs, monkeypatch,
                                                          fast_params):
    X, y = digits
    undone = []
    monkeypatch.setattr(graphs_module, "undo_failed_capture",
                        lambda graph, device, pool: undone.append((device, pool)))
    forward = torch.nn.CrossEntropyLoss.forward

    def fails_while_recorded(criterion, logits, target):  # unseen by the warm-up's watch
        if getattr(Stream.current, "capturing", False):
            raise RuntimeError("operation not permitted when stream is capturing")
        return forward(criterion, logits, target)

    begin = CPUGraph.capture_begin

    def capture_begin(graph, **kwargs):
        Stream.current.capturing = True
        return begin(graph, **kwargs)

    monkeypatch.setattr(CPUGraph, "capture_begin", capture_begin)
    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", fails_while_recorded)
    params = {**fast_params, "device": "cpu", "max_epochs": 2, "batch_size": 64}
    with pytest.warns(RuntimeWarning, match="without a CUDA graph.*not permitted"):
        failed = CNNClassifier(**params).fit(X, y)
    assert undone == [(torch.device("cpu"), (0, 0))]  # its device and the pool it was given
    assert not failed.cuda_graphs_ and cpu_graphs.replays == 0 and failed.n_iter_ == 2
    assert failed.history_[-1, "train_loss"] < failed.history_[0, "train_loss"]
    monkeypatch.setattr(CPUGraph, "capture_begin", begin)
    assert CNNClassifier(**params).fit(X, y).cuda_graphs_  # the next fit records again


class Allocator:
    """Stand-in for the CUDA caching allocator's view of one failed capture's pool.

    ``torch`` is the behaviour of a torch release: "old" (before pytorch#180395
    and #190348: the capture leaves the pool routed and unreleased), "new"
    (both fixed), or "live" (new, with a tensor of the capture still alive).
    """

    def __init__(self, torch_release, pool=(0, 7)):
        self.pool = pool
        self.routing = torch_release == "old"
        self.released = torch_release != "old"
        self.live = torch_release == "live"
        self.segments = True
        self.releases = 0

    def end_allocate(self, device, pool):
        assert (device, pool) == (1, self.pool)
        if not self.routing:
            raise RuntimeError("endAllocatePool: not currently recording to mempool_id")
        self.routing = False

    def release_pool(self, device, pool):
        assert not self.released, "released twice: the allocator's count goes negative"
        self.released, self.releases = True, self.releases + 1

    def empty_cache(self):
        assert not self.routing, "captures_underway.empty() INTERNAL ASSERT FAILED"
        if self.released and not self.live:
            self.segments = False

    def memory_snapshot(self):
        other = {"device": 0, "segment_pool_id": self.pool, "active_size": 0}
        ours = {"device": 1, "segment_pool_id": self.pool, "active_size": 512 * self.live}
        return [other, *([ours] if self.segments else [])]


class Generator:
    """Stand-in for a CUDA generator left registered with an aborted capture."""

    registered = True

    def clone_state(self):
        return "a copy, registered with no capture"

    def graphsafe_set_state(self, state):
        self.registered = False


@pytest.mark.parametrize("torch_release", ["old", "new", "live"])
def test_undoing_a_failed_capture_leaves_the_allocator_as_before(monkeypatch, torch_release):
    allocator, generator = Allocator(torch_release), Generator()
    monkeypatch.setattr(torch._C, "_cuda_endAllocateToPool", allocator.end_allocate,
                        raising=False)
    monkeypatch.setattr(torch._C, "_cuda_releasePool", allocator.release_pool, raising=False)
    monkeypatch.setattr(torch.cuda, "empty_cache", allocator.empty_cache)
    monkeypatch.setattr(torch.cuda, "memory_snapshot", allocator.memory_snapshot)
    monkeypatch.setattr(torch.cuda, "default_generators", (None, generator))
    graphs_module.undo_failed_capture(CPUGraph(), torch.device("cuda:1"), allocator.pool)
    assert not generator.registered and not allocator.routing
    allocator.empty_cache()  # a user's own call works
    if torch_release == "live":  # torch released the pool: only the live tensor holds memory
        assert allocator.releases == 0 and allocator.segments
    else:  # released once, whichever torch did it; the memory is given back
        assert allocator.released and not allocator.segments
        assert allocator.releases == (torch_release == "old")


def test_the_private_torch_calls_that_undo_a_failed_capture_exist():
    # Only CUDA builds of torch have them, and only CUDA runs the undoing.
    if not torch.backends.cuda.is_built():
        assert not torch.cuda.is_available()
        return
    assert hasattr(torch._C, "_cuda_endAllocateToPool") or hasattr(
        torch._C, "_cuda_endAllocateCurrentStreamToPool")
    assert callable(torch._C._cuda_releasePool)
    assert callable(torch.Generator.graphsafe_set_state) and callable(torch.Generator.clone_state)
