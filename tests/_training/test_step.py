"""One optimizer step of CNNNet (sklearn_cnn._training.step)."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback

from sklearn_cnn import CNNClassifier
from sklearn_cnn._training import step
from sklearn_cnn._training.net import CNNNet


def small_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 1, 4, 4)).astype(np.float32), rng.integers(0, 3, n)


class TwoLayers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.first = torch.nn.Linear(16, 8)
        self.second = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.second(torch.relu(self.first(x.flatten(1))))


def with_second_optimizer(base):
    """A net class that trains ``module_.second`` with an optimizer of its own, ``second_``."""

    class TwoOptimizers(base):
        def initialize_optimizer(self, *args, **kwargs):
            first = self.module_.first.named_parameters()
            args, kwargs = self.get_params_for_optimizer("optimizer", first)
            self.optimizer_ = self.optimizer(*args, **kwargs)
            second = self.module_.second.named_parameters()
            args, kwargs = self.get_params_for_optimizer("second", second)
            self.second_ = torch.optim.Adam(*args, **{**kwargs, "lr": 0.05})
            return self

    return TwoOptimizers


# ----------------------------------------------------------- the optimizers


class GradientsSeen(Callback):
    """Counts ``on_grad_computed``: once per forward and backward pass of a training batch."""

    def initialize(self):
        self.count = 0
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.count += 1


def test_a_net_with_several_optimizers_steps_each_as_skorch_does():
    # skorch steps each optimizer with its closure: a second forward and
    # backward pass for the second one, on the weights the first stepped.
    ours = two_optimizer_fit(CNNNet)
    skorchs = two_optimizer_fit(NeuralNetClassifier)
    assert ours._optimizers == ["optimizer", "second"] and not step.closure_free(ours)
    assert ours.second_.state and ours.optimizer_.state  # both stepped
    for (name, mine), theirs in zip(ours.module_.named_parameters(),
                                    skorchs.module_.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, msg=name)
    np.testing.assert_allclose(ours.history[:, "batches", :, "train_loss"],
                               skorchs.history[:, "batches", :, "train_loss"], rtol=1e-5)
    assert dict(ours.callbacks_)["GradientsSeen"].count == 2 * 2 * 4  # epochs, batches


def two_optimizer_fit(base):
    X, y = small_data()
    torch.manual_seed(0)
    net = with_second_optimizer(base)(
        TwoLayers, criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=0.01,
        max_epochs=2, batch_size=16, train_split=None, verbose=0,
        iterator_train__shuffle=False, callbacks=[GradientsSeen()])
    return net.fit(X, y)


class NeedsClosure(torch.optim.Optimizer):
    """Plain SGD, outside the closure-free optimizers (as LBFGS is): counts its closures."""

    closures = 0

    def __init__(self, params, lr=0.01):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        NeedsClosure.closures += closure is not None
        with torch.enable_grad():
            loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                param.add_(param.grad, alpha=-group["lr"])
        return loss


def test_an_optimizer_that_needs_a_closure_gets_skorchs():
    NeedsClosure.closures = 0
    net = CNNNet(TwoLayers, criterion=torch.nn.CrossEntropyLoss, optimizer=NeedsClosure,
                 max_epochs=1, batch_size=16, train_split=None, verbose=0).fit(*small_data())
    assert not step.closure_free(net)
    assert NeedsClosure.closures == 4  # every batch


# ----------------------------------------------------------- the sequence


class Recorder(Callback):
    """Records the batch hooks of the training batches in ``log``."""

    def __init__(self, log):
        self.log = log

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.log.append("on_batch_begin")

    def on_grad_computed(self, net, named_parameters, **kwargs):
        grads = [p.grad is not None for _, p in named_parameters]
        self.log.append("on_grad_computed" if all(grads) else "on_grad_computed without grads")

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.log.append("on_batch_end")


def test_a_step_zeroes_augments_runs_forward_and_backward_notifies_then_steps():
    log = []

    class RecordedSGD(torch.optim.SGD):
        def zero_grad(self, set_to_none=True):
            log.append("zero_grad")
            super().zero_grad(set_to_none)

        def step(self, closure=None):
            assert closure is None
            log.append("step")
            return super().step()

    class Module(TwoLayers):
        def forward(self, x):
            log.append(("forward", torch.is_autocast_enabled("cpu")))
            out = super().forward(x)
            if out.requires_grad:
                out.register_hook(lambda grad: log.append("backward"))
            return out

    def augment(image):  # called per image: noted once per batch
        if log[-1] != "augment":
            log.append("augment")
        return image

    X, y = small_data(16)
    net = CNNNet(Module, criterion=torch.nn.CrossEntropyLoss, optimizer=RecordedSGD,
                 augment=augment, precision="bfloat16", max_epochs=1, batch_size=16,
                 train_split=None, verbose=0, callbacks=[Recorder(log)]).fit(X, y)
    assert log == ["on_batch_begin", "zero_grad", "augment", ("forward", True), "backward",
                   "on_grad_computed", "step", "on_batch_end"]
    log.clear()
    assert net.predict_proba(X).dtype == np.float32
    assert log == [("forward", False)]  # prediction: no augmentation, no autocast


class ModeRecorder(torch.nn.Module):
    """Records whether it is in training mode at every forward pass."""

    def __init__(self, input_shape, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(int(np.prod(input_shape)), n_classes)
        self.dropout = torch.nn.Dropout(0.5)
        self.modes = []

    def forward(self, x):
        self.modes.append((self.training, self.dropout.training))
        return self.linear(self.dropout(x.flatten(1)))


def test_modules_switch_between_training_and_evaluation(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "module": ModeRecorder, "max_epochs": 2,
                           "validation_fraction": 0.25, "batch_size": 100}).fit(X, y)
    # per epoch: 3 training batches, then 1 validation batch
    assert clf.module_.modes == 2 * ([(True, True)] * 3 + [(False, False)])
    clf.predict(X[:5])
    clf.partial_fit(X[:300], y[:300])
    assert clf.module_.modes[-4:] == [(False, False)] + [(True, True)] * 3


def test_step_outputs_reach_the_callbacks_without_their_autograd_graph():
    seen = []

    class Outputs(Callback):
        def on_batch_end(self, net, training=False, loss=None, y_pred=None, **kwargs):
            if training:
                seen.append((loss.requires_grad, y_pred.requires_grad, loss.grad_fn))

    CNNNet(TwoLayers, criterion=torch.nn.CrossEntropyLoss, max_epochs=1, batch_size=32,
           train_split=None, verbose=0, callbacks=[Outputs()]).fit(*small_data())
    assert seen == [(False, False, None)] * 2


# ------------------------------------------------------- sample weights


def test_weighted_input_weighs_the_loss_and_never_reaches_the_network():
    X, y = small_data(8)
    net = CNNNet(TwoLayers, criterion=torch.nn.CrossEntropyLoss, train_split=None,
                 verbose=0).initialize()
    weights = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1], dtype=torch.float32)
    weighted = {"X": torch.from_numpy(X), "sample_weight": weights}
    y_pred = net.infer(weighted)
    torch.testing.assert_close(y_pred, net.infer(torch.from_numpy(X)))
    y_true = torch.from_numpy(y)
    loss = net.get_loss(y_pred, y_true, X=weighted, training=True)
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(y_pred[4:], y_true[4:]))
    torch.testing.assert_close(net.get_loss(y_pred, y_true, X=torch.from_numpy(X)),
                               torch.nn.functional.cross_entropy(y_pred, y_true))


# ------------------------------------------------------- graph or eager


@pytest.mark.parametrize("change, graphed", [
    ({}, True),
    ({"cuda_graphs": False}, False),
    ({"device": "cpu"}, False),
    ({"optimizer": NeedsClosure}, False),
    ({"weighted": True}, False),
    ({"second optimizer": True}, False),
])
def test_a_run_has_a_graph_only_for_closure_free_unweighted_steps_on_cuda(monkeypatch, change,
                                                                           graphed):
    made = []
    monkeypatch.setattr(step, "StepGraph", lambda *args: made.append(args) or "graph")
    change = dict(change)
    weighted = change.pop("weighted", False)
    cls = with_second_optimizer(CNNNet) if change.pop("second optimizer", False) else CNNNet
    net = cls(TwoLayers, criterion=torch.nn.CrossEntropyLoss, train_split=None, verbose=0,
              **{"optimizer": torch.optim.SGD, "cuda_graphs": True, **change})
    net.initialize()
    if "device" not in change:
        net.device = "cuda"  # decided only: nothing runs there
    X = small_data(8)[0]
    X = {"X": X, "sample_weight": np.ones(8, np.float32)} if weighted else X
    assert (step.step_graph(net, X) == "graph") is graphed
    if graphed:
        _, params, device, batch_size = made[0]
        assert device == "cuda" and batch_size == net.batch_size
        assert params == list(net.module_.parameters())
