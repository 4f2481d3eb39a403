"""Bad input and bad parameters: a clear error, before any training starts."""

import copy

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from skorch.callbacks import Callback
from torch import nn

from sklearn_cnn import CNNClassifier


class RefuseToTrain(Callback):
    """Fails the test if training begins: errors must come before."""

    def on_train_begin(self, net, **kwargs):
        raise AssertionError("training started although the call was invalid")


@pytest.fixture
def guarded(fast_params):
    """``guarded(**params)``: a CNNClassifier whose fit fails the test if training begins."""

    def make(**params):
        return CNNClassifier(**{**fast_params, "callbacks": [RefuseToTrain()], **params})

    return make


BAD_PARAMS = [
    ("conv_channels", (0, 8), "positive ints"),
    ("conv_channels", (3.5,), "positive ints"),
    ("conv_channels", "32", "conv_channels"),
    ("kernel_size", 0, "kernel_size"),
    ("kernel_size", 2.5, "kernel_size"),
    ("padding", "full", "padding"),
    ("activation", "swish", "activation"),
    ("pooling", "min", "pooling"),
    ("batch_norm", "yes", "batch_norm"),
    ("dense_units", (-1,), "positive ints"),
    ("dropout", 1.0, "dropout"),
    ("dropout", -0.1, "dropout"),
    ("init", "he", "init"),
    ("module", int, "module"),
    ("module", nn.Linear(2, 2), "module"),
    ("module_kwargs", {"hidden": 3}, "module_kwargs"),
    ("backbone", "not_a_model", "backbone"),
    ("weights", "weights.pt", "backbone"),
    ("freeze_backbone", True, "backbone"),
    ("optimizer", "adagrad", "optimizer"),
    ("optimizer", int, "optimizer"),
    ("lr", 0, "lr"),
    ("lr", "fast", "lr"),
    ("momentum", 1.5, "momentum"),
    ("weight_decay", -1.0, "weight_decay"),
    ("loss", "hinge", "loss"),
    ("label_smoothing", 1.0, "label_smoothing"),
    ("lr_schedule", "step", "lr_schedule"),
    ("batch_size", 0, "batch_size"),
    ("max_epochs", 0, "max_epochs"),
    ("validation_fraction", 1.0, "validation_fraction"),
    ("early_stopping", "no", "early_stopping"),
    ("patience", 0, "patience"),
    ("augment", "heavy", "augment"),
    ("class_weight", "auto", "class_weight"),
    ("class_weight", {42: 2.0}, "42"),
    ("callbacks", "print", "callbacks"),
    ("warm_start", "maybe", "warm_start"),
    ("image_shape", (0, 8), "image_shape"),
    ("image_shape", (8, 8), "image_shape"),  # 64 features but 4 rows given below
    ("data_format", "nchw", "data_format"),
    ("device", "tpu9", "device"),
    ("device", 3.5, "device"),
    ("random_state", "seed", "random_state"),
    ("verbose", -1, "verbose"),
]


@pytest.mark.parametrize(("name", "value", "match"), BAD_PARAMS)
def test_bad_parameter_is_refused_before_training(digits, name, value, match, guarded):
    X, y = digits
    if name == "image_shape" and value == (8, 8):
        X = X[:, :60]
    clf = guarded(**{name: value})
    with pytest.raises((ValueError, TypeError), match=match):
        clf.fit(X, y)


def test_cuda_on_a_machine_without_it(digits, monkeypatch, guarded):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = digits
    with pytest.raises(ValueError, match="no cuda device is available"):
        guarded(device="cuda").fit(X, y)


def test_module_that_does_not_fit_the_images_fails_clearly(digits, guarded):
    X, y = digits
    with pytest.raises(ValueError, match="padding='same'"):
        guarded(padding="valid", conv_channels=(8, 8, 8)).fit(X, y)


BAD_DATA = [
    ("nan", lambda X, y: (np.where(X == 0, np.nan, X), y), ValueError, "NaN"),
    ("inf", lambda X, y: (np.where(X == 0, np.inf, X), y), ValueError, "infinity"),
    ("empty", lambda X, y: (X[:0], y[:0]), ValueError, "0 sample"),
    ("one class", lambda X, y: (X, np.zeros_like(y)), ValueError, "one class"),
    ("1-D X", lambda X, y: (X[:, 0], y), ValueError, "Reshape your data"),
    ("5-D X", lambda X, y: (X.reshape(len(X), 1, 2, 4, 8), y), ValueError, "dimension"),
    ("sparse", lambda X, y: (sp.csr_matrix(X), y), TypeError, "[Ss]parse"),
    ("object", lambda X, y: (np.array([["a"] * 64] * len(X), dtype=object), y),
     ValueError, "convert|could not"),
    ("strings", lambda X, y: (X.astype(str), y), ValueError, "numeric|convert"),
    ("y None", lambda X, y: (X, None), ValueError, "requires y"),
    ("y too short", lambda X, y: (X, y[:-1]), ValueError, "inconsistent"),
    ("y continuous", lambda X, y: (X, y + 0.5), ValueError, "Unknown label type"),
    ("y 2-D", lambda X, y: (X, np.c_[y, y]), ValueError, r"class labels of shape \(N,\)"),
    ("y NaN", lambda X, y: (X, np.where(y == 0, np.nan, y)), ValueError, "NaN"),
    ("ambiguous", lambda X, y: (np.zeros((len(X), 3, 8, 3)), y), ValueError, "data_format"),
]


@pytest.mark.parametrize(
    ("make", "error", "match"), [case[1:] for case in BAD_DATA], ids=[c[0] for c in BAD_DATA]
)
def test_bad_data_is_refused_before_training(digits, make, error, match, guarded):
    X, y = make(*digits)
    with pytest.raises(error, match=match):
        guarded().fit(X, y)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_predict_before_fit(digits, method):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        getattr(CNNClassifier(), method)(digits[0])


def snapshot(clf):
    return {
        "state": copy.deepcopy(clf.module_.state_dict()),
        "attrs": {k: v for k, v in vars(clf).items() if k.endswith("_") and k != "net_"},
        "net": clf.net_,
        "epochs": len(clf.history_),
    }


def assert_unchanged(clf, before):
    after = snapshot(clf)
    assert after["net"] is before["net"]
    assert after["epochs"] == before["epochs"]
    for key, value in before["attrs"].items():
        np.testing.assert_array_equal(after["attrs"][key], value)
    for key, tensor in before["state"].items():
        torch.testing.assert_close(after["state"][key], tensor, rtol=0, atol=0)


FAILING_CALLS = [
    ("fit NaN", lambda clf, X, y: clf.fit(np.full_like(X, np.nan), y)),
    ("fit one class", lambda clf, X, y: clf.fit(X, np.zeros_like(y))),
    ("fit bad param", lambda clf, X, y: clf.set_params(kernel_size=0).fit(X, y)),
    ("fit bad geometry", lambda clf, X, y: clf.set_params(padding="valid",
                                                          conv_channels=(8,) * 3).fit(X, y)),
    ("partial_fit new class", lambda clf, X, y: clf.partial_fit(X, y + 10)),
    ("partial_fit new shape", lambda clf, X, y: clf.partial_fit(X[:, :49], y)),
    ("warm start new channels",
     lambda clf, X, y: clf.set_params(warm_start=True).fit(np.stack([X.reshape(-1, 8, 8)] * 3, 1),
                                                           y)),
    ("predict bad shape", lambda clf, X, y: clf.predict(X[:, :10])),
]


@pytest.mark.parametrize("call", [c[1] for c in FAILING_CALLS], ids=[c[0] for c in FAILING_CALLS])
def test_failed_call_leaves_fitted_model_unchanged(digits, call, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1}).fit(X, y)
    before = snapshot(clf)
    proba = clf.predict_proba(X)
    with pytest.raises((ValueError, TypeError)):
        call(clf, X, y)
    assert_unchanged(clf, before)
    clf.set_params(**{**fast_params, "max_epochs": 1, "warm_start": False,
                      "padding": "same", "conv_channels": fast_params["conv_channels"]})
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
