"""Prediction forward passes (sklearn_cnn._inference)."""

import numpy as np
import torch
from torch import nn

from sklearn_cnn._inference import predict_logits


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


def test_fold_batch_norm_computes_the_same_function():
    from sklearn_cnn import ConvNet
    from sklearn_cnn._inference import fold_batch_norm

    torch.manual_seed(0)
    net = ConvNet((3, 8, 8), 4, conv_channels=(8, 16))
    net.train()
    net(torch.randn(64, 3, 8, 8))  # move the running statistics away from 0 / 1
    net.eval()
    folded = fold_batch_norm(net)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())  # original untouched
    x = torch.randn(5, 3, 8, 8)
    with torch.inference_mode():
        torch.testing.assert_close(folded(x), net(x), rtol=1e-5, atol=1e-5)


def test_fold_batch_norm_leaves_other_modules_alone():
    from sklearn_cnn._inference import fold_batch_norm

    module = make_module()
    assert fold_batch_norm(module) is module


def test_inference_module_is_rebuilt_after_training(digits):
    from conftest import FAST

    from sklearn_cnn import CNNClassifier

    X, y = digits
    clf = CNNClassifier(**FAST).fit(X, y)
    first = clf.net_.inference_module()
    assert clf.net_.inference_module() is first
    before = clf.predict_proba(X)
    clf.partial_fit(X, y)
    assert clf.net_.inference_module() is not first
    assert not np.allclose(clf.predict_proba(X), before)


def test_log_softmax_matches_scipy():
    from scipy.special import log_softmax as scipy_log_softmax

    from sklearn_cnn._inference import log_softmax

    logits = np.random.default_rng(0).normal(size=(7, 5)) * 30
    np.testing.assert_allclose(log_softmax(logits), scipy_log_softmax(logits, axis=1),
                               rtol=1e-12, atol=1e-12)
