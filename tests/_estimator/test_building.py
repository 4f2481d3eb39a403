"""Overridable parts of CNNClassifier (sklearn_cnn._estimator.building): a subclass swaps one."""

import numpy as np
from _helpers import CountEpochs
from torch import nn

from sklearn_cnn import CNNClassifier
from sklearn_cnn._training.net import CNNNet


class TinyNet(nn.Module):
    def __init__(self, input_shape, n_classes):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(input_shape)),
                                                            n_classes))

    def forward(self, x):
        return self.layers(x)


class TinyClassifier(CNNClassifier):
    def _build_module(self, input_shape, n_classes):
        return TinyNet, {"input_shape": input_shape, "n_classes": n_classes}

    def _build_callbacks(self, has_holdout, steps_per_epoch):
        return [*super()._build_callbacks(has_holdout, steps_per_epoch),
                ("count", CountEpochs())]


class LoggingNet(CNNNet):
    steps = 0

    def train_step(self, batch, **fit_params):
        type(self).steps += 1
        return super().train_step(batch, **fit_params)


def test_a_subclass_swaps_the_network_and_adds_a_callback(digits, fast_params):
    X, y = digits
    clf = TinyClassifier(**fast_params).fit(X, y)
    assert isinstance(clf.module_, TinyNet)
    assert len(dict(clf.net_.callbacks_)["count"].epochs_) == fast_params["max_epochs"]
    assert clf.score(X, y) > 0.8


def test_a_subclass_swaps_the_skorch_net_class(digits, fast_params):
    class Logged(CNNClassifier):
        net_class = LoggingNet

    X, y = digits
    LoggingNet.steps = 0
    clf = Logged(**{**fast_params, "max_epochs": 1}).fit(X[:64], y[:64])
    assert isinstance(clf.net_, LoggingNet) and LoggingNet.steps == 64 // fast_params["batch_size"]


def test_criterion_and_optimizer_come_from_their_methods(digits, fast_params):
    class Weighted(CNNClassifier):
        def _build_criterion(self, classes, y):
            return nn.CrossEntropyLoss, {"weight": None, "label_smoothing": 0.0}

        def _build_optimizer(self, device):
            return __import__("torch").optim.SGD, {"lr": 0.05}

    X, y = digits
    clf = Weighted(**{**fast_params, "max_epochs": 1}).fit(X[:64], y[:64])
    assert type(clf.net_.optimizer_).__name__ == "SGD"
    assert clf.net_.criterion_.label_smoothing == 0.0
