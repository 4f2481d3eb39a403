"""Prediction: forward passes and class probabilities (sklearn_cnn._model.inference)."""

import copy

import numpy as np
import pytest
import torch
from _helpers import ConvBatchNorm
from numpy.testing import assert_array_equal
from scipy.special import log_softmax, softmax
from torch import nn

from sklearn_cnn import CNNClassifier
from sklearn_cnn._model.inference import class_probabilities, predict_logits
from sklearn_cnn.preprocessing import ToImage


def make_module():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 64), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(64, 3))


def test_logits_in_eval_mode_as_float64():
    module = make_module().train()
    images = torch.randn(10, 3, 2, 2)
    logits = predict_logits(module, images, "cpu", batch_size=4)
    assert logits.dtype == np.float64 and logits.shape == (10, 3)
    assert not module.training  # dropout off: repeatable
    np.testing.assert_array_equal(logits, predict_logits(module, images, "cpu", batch_size=4))


def test_an_image_gets_the_same_logits_wherever_it_sits():
    # Unpadded, this module's BLAS products round some rows differently in a
    # 5-row last batch than in a 16-row one (by about 1e-7).
    module = make_module()
    images = torch.randn(37, 3, 2, 2)
    reference = predict_logits(module, images, "cpu", batch_size=16)
    perm = np.random.default_rng(0).permutation(37)
    shuffled = predict_logits(module, images[perm], "cpu", batch_size=16)
    np.testing.assert_array_equal(shuffled, reference[perm])


def test_no_autograd_graph_is_built():
    module = make_module()
    images = torch.randn(4, 3, 2, 2, requires_grad=True)
    predict_logits(module, images, "cpu")
    assert images.grad is None
    assert all(p.grad is None for p in module.parameters())


@pytest.mark.parametrize("network", [
    {}, {"backbone": "resnet18", "weights": None}, {"module": ConvBatchNorm},
], ids=["convnet", "resnet18", "custom"])
def test_predict_proba_is_the_softmax_of_the_unfolded_network(digits, fast_params, network):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 1},
                        **network).fit(X[:100], y[:100])
    folded = clf.net_.inference_module()
    # The built-in network's batch norms follow max pooling: they stay.
    unfoldable = len(fast_params["conv_channels"]) if not network else 0
    assert folded is not clf.module_ and unfoldable == sum(
        isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    images = torch.from_numpy(ToImage().fit_transform(X[100:160]))
    with torch.inference_mode():
        logits = copy.deepcopy(clf.module_).eval().double()(images.double())
    expected = torch.softmax(logits, dim=1).numpy()
    np.testing.assert_allclose(clf.predict_proba(X[100:160]), expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(clf.predict_log_proba(X[100:160]),
                               torch.log_softmax(logits, dim=1).numpy(), rtol=1e-4, atol=1e-5)
    assert_array_equal(clf.predict(X[100:160]), clf.classes_[expected.argmax(axis=1)])


def test_skorch_net_predicts_the_classifier_probabilities(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "loss": "mse"}).fit(X, y)
    images = ToImage().fit_transform(X[:50])
    np.testing.assert_allclose(clf.net_.predict_proba(images), clf.predict_proba(X[:50]),
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize(("network", "memory_format"), [
    ({}, torch.channels_last),  # the built-in network goes channels-last on the CPU
    ({"module": ConvBatchNorm}, torch.contiguous_format),
])
def test_inference_module_is_in_the_nets_memory_format(digits, fast_params, network,
                                                       memory_format):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 1},
                        **network).fit(X[:100], y[:100])
    assert clf.net_.memory_format is memory_format
    convs = [m for m in clf.net_.inference_module().modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=memory_format) for c in convs)


def test_inference_module_is_rebuilt_after_training(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params).fit(X, y)
    first = clf.net_.inference_module()
    assert clf.net_.inference_module() is first
    before = clf.predict_proba(X)
    clf.partial_fit(X, y)
    assert clf.net_.inference_module() is not first
    assert not np.allclose(clf.predict_proba(X), before)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_class_probabilities_match_scipy(dtype):
    logits = np.random.default_rng(0).normal(size=(7, 5)) * 30
    tensor = torch.from_numpy(logits).to(dtype)
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    proba, log_proba = class_probabilities(tensor), class_probabilities(tensor, log=True)
    assert proba.dtype == log_proba.dtype == dtype
    np.testing.assert_allclose(proba.numpy(), softmax(logits, axis=1), rtol=tol, atol=tol)
    np.testing.assert_allclose(log_proba.numpy(), log_softmax(logits, axis=1), rtol=tol,
                               atol=tol)


def test_class_probabilities_of_bfloat16_logits_are_float32():
    logits = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.bfloat16)
    proba = class_probabilities(logits)
    assert proba.dtype == torch.float32
    torch.testing.assert_close(proba, torch.softmax(logits.float(), dim=1))
