"""The training step replayed from a CUDA graph (sklearn_cnn._graphs).

The graph itself needs a GPU: those tests run where the suite trains on CUDA
(SKLEARN_CNN_TEST_DEVICE=auto on a machine with one). Everything around it
(when a step is recorded, eager batches in between, the gradients each
optimizer step sees, steps that synchronise) is also tested on the CPU, with
stand-ins for CUDA's graph, stream and sync-debug calls.
"""

import contextlib
import itertools
import pickle
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, Freezer, Unfreezer

from sklearn_cnn import BatchAugment, CNNClassifier
from sklearn_cnn import _building as building_module
from sklearn_cnn import _skorch_net as net_module
from sklearn_cnn._graphs import WARMUP_STEPS, StepGraph


@pytest.fixture
def needs_cuda(torch_device):
    """Skips the test unless the suite trains on CUDA."""
    if torch_device.type != "cuda":
        pytest.skip("CUDA graphs need the suite to train on a GPU")


class CPUGraph:
    """Stand-in for ``torch.cuda.CUDAGraph`` on the CPU: records the step, reruns it.

    A replay runs the recorded step again and writes its results into the
    tensors the capture returned, as a CUDA graph's replay does.
    """

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


@pytest.fixture
def cpu_graphs(monkeypatch):
    """CUDA graphs, streams and sync watching replaced by CPU stand-ins.

    Exercises, without a GPU, everything around the graph: when a step is
    recorded, eager last batches in between, the gradients each optimizer
    step sees, steps that synchronise.
    """
    class Stream:
        def __init__(self, device=None):
            pass

        def wait_stream(self, other):
            pass

    @contextlib.contextmanager
    def capture(graph, capture_error_mode="global"):
        yield

    captured = StepGraph._capture

    def capture_on_cpu(graph, X, y):
        done = captured(graph, X, y)
        graph.graph.owner = graph
        return done

    null = lambda *args, **kwargs: contextlib.nullcontext()  # noqa: E731
    for name, value in [("CUDAGraph", CPUGraph), ("graph", capture), ("Stream", Stream),
                        ("current_stream", lambda device=None: Stream()), ("stream", null),
                        ("device", null), ("get_sync_debug_mode", lambda: 0),
                        ("set_sync_debug_mode", lambda mode: None)]:
        monkeypatch.setattr(torch.cuda, name, value)
    monkeypatch.setattr(StepGraph, "_capture", capture_on_cpu)
    monkeypatch.setattr(building_module, "graphs_apply", lambda *args: True)
    monkeypatch.setattr(net_module.CNNNet, "on_train_begin", on_train_begin_on_cpu)
    return CountReplays(monkeypatch)


on_train_begin = net_module.CNNNet.on_train_begin


def on_train_begin_on_cpu(net, *args, **kwargs):
    """CNNNet.on_train_begin with the graph made as on CUDA, for the CPU."""
    device, net.device = net.device, "cuda"
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


def test_batches_are_replayed_only_after_the_warm_up_and_in_the_captured_shape():
    weight = torch.nn.Parameter(torch.zeros(2))
    graph = StepGraph(lambda X, y: {}, [weight], "cuda", batch_size=4, warmup=2)
    X, y = torch.zeros(4, 1, 2, 2), torch.zeros(4, dtype=torch.long)
    assert not graph.accepts(X, y)
    graph.eager_steps = 2
    assert graph.accepts(X, y)
    assert not graph.accepts(X.numpy(), y)  # only tensors
    assert not graph.accepts(X[:3], y[:3])  # the batch recorded is a full one
    graph.graph, graph.X, graph.y, graph.trained = object(), X, y, [True]  # as after a capture
    assert graph.accepts(X + 1, y)
    assert not graph.accepts(X[:3], y[:3])  # a last, smaller batch: eager
    weight.requires_grad_(False)  # a callback froze it: record the step anew
    assert graph.accepts(X, y) and graph.graph is None
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
    assert counter.replays == 0 and failed.score(X, y) > 0.8
    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", forward)
    later = CNNClassifier(**fast_params).fit(X, y)  # stream and random generator restored
    assert counter.replays > 0 and later.score(X, y) > 0.8


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
    clf.fit(X[:384], y[:384])  # full batches only: every step after the warm-up replayed
    seen = dict(clf.net_.callbacks_)["KeepWeight"].seen
    assert cpu_graphs.replays > 0
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
