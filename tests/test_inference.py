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
