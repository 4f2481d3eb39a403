"""The built-in ConvNet (sklearn_cnn._model.convnet)."""

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_cnn import CNNClassifier, ConvNet
from sklearn_cnn._model.convnet import Dropout, conv_geometry, pooled_last

#: The tutorial's Keras model, through CNNClassifier parameters alone.
SEED_KERAS = dict(
    conv_channels=(32, 64), kernel_size=3, padding="valid", activation="relu",
    pooling="max", batch_norm=False, dense_units=(64,), dropout=0.0, init="xavier",
)


def count_parameters(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_reproduces_the_seed_keras_model_layer_for_layer():
    net = ConvNet((1, 28, 28), 10, **SEED_KERAS)
    weighted = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    # Keras: Conv2D(32) 320, Conv2D(64) 18,496, Dense(64) 102,464, Dense(10) 650.
    shapes = [(tuple(m.weight.shape), m.bias.shape[0]) for m in weighted]
    assert shapes == [((32, 1, 3, 3), 32), ((64, 32, 3, 3), 64), ((64, 1600), 64),
                      ((10, 64), 10)]
    assert count_parameters(net) == 121_930
    kinds = [type(m).__name__ for m in net.modules()
             if not isinstance(m, (nn.Sequential, ConvNet))]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d",
                     "Flatten", "Linear", "ReLU", "Linear"]
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # Keras' glorot_uniform kernels and zero biases.
    assert all((m.bias == 0).all() for m in weighted)
    fan_in, fan_out = 1600, 64
    limit = (6 / (fan_in + fan_out)) ** 0.5 * nn.init.calculate_gain("relu")
    assert weighted[2].weight.abs().max() <= limit


def test_classifier_builds_the_same_network(digits):
    X, y = digits
    clf = CNNClassifier(**SEED_KERAS, max_epochs=1, validation_fraction=0.0, random_state=0)
    # 28x28 images, as in the tutorial: each digit pixel becomes a 3x3 block (+ border).
    images = np.pad(np.kron(X[:64].reshape(-1, 8, 8), np.ones((3, 3))), ((0, 0), (2, 2), (2, 2)))
    clf.fit(images, y[:64])
    assert count_parameters(clf.module_) == 121_930


@pytest.mark.parametrize("size", [(1, 1), (1, 2), (1, 3), (2, 2), (3, 5), (8, 8), (28, 28)])
@pytest.mark.parametrize("depth", [0, 1, 2, 5])
def test_same_padding_fits_any_image_at_any_depth(size, depth):
    net = ConvNet((2, *size), 3, conv_channels=(4,) * depth)
    assert net(torch.zeros(3, 2, *size)).shape == (3, 3)


def test_geometry_of_digits():
    blocks = conv_geometry((8, 8), 4, 3, "same")
    assert [hw for _, hw in blocks] == [(4, 4), (2, 2), (1, 1), (1, 1)]
    assert blocks[-1][0] == (1, 1)  # nothing left to pool
    assert [hw for _, hw in conv_geometry((28, 28), 2, 3, "valid")] == [(13, 13), (5, 5)]


def test_valid_padding_too_deep_raises():
    with pytest.raises(ValueError, match="kernel_size=3"):
        conv_geometry((8, 8), 3, 3, "valid")


@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_pooling_kind(pooling):
    net = ConvNet((1, 8, 8), 2, conv_channels=(4,), pooling=pooling)
    pools = [m for m in net.modules() if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
    assert [type(p) for p in pools] == [nn.MaxPool2d if pooling == "max" else nn.AvgPool2d]


def test_batch_norm_replaces_conv_bias():
    net = ConvNet((1, 8, 8), 2, conv_channels=(4,), batch_norm=True)
    conv = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    assert conv.bias is None
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())


@pytest.mark.parametrize("init", ["kaiming", "xavier", "orthogonal"])
def test_init_schemes_change_weights_and_zero_biases(init):
    torch.manual_seed(0)
    reference = ConvNet((1, 8, 8), 2, conv_channels=(4,), init="torch", batch_norm=False)
    torch.manual_seed(0)
    net = ConvNet((1, 8, 8), 2, conv_channels=(4,), init=init, batch_norm=False)
    layers = [(a, b) for a, b in zip(net.modules(), reference.modules(), strict=True)
              if isinstance(a, (nn.Conv2d, nn.Linear))]
    assert all((a.bias == 0).all() for a, _ in layers)
    assert any(not torch.equal(a.weight, b.weight) for a, b in layers)
    if init == "orthogonal":
        w = layers[-1][0].weight
        torch.testing.assert_close(w @ w.T, torch.eye(w.shape[0]), atol=1e-5, rtol=0)


def test_dropout_only_in_the_dense_head():
    net = ConvNet((1, 8, 8), 2, dense_units=(8, 8), dropout=0.4)
    drops = [m for m in net.classifier if isinstance(m, nn.Dropout)]
    assert len(drops) == 2 and drops[0].p == 0.4
    assert not any(isinstance(m, nn.Dropout) for m in net.features)


def test_dropout_draws_its_mask_from_the_generator():
    x = torch.ones(4000)
    dropout = Dropout(0.25)
    dropout.generator = torch.Generator().manual_seed(0)
    first = dropout(x)
    torch.testing.assert_close(first.unique(), torch.tensor([0.0, 1 / 0.75]))  # nn.Dropout's
    assert (first == 0).float().mean().item() == pytest.approx(0.25, abs=0.03)
    dropout.generator = torch.Generator().manual_seed(0)
    torch.manual_seed(1)  # the global generator plays no part
    torch.testing.assert_close(dropout(x), first, rtol=0, atol=0)
    assert dropout.eval()(x) is x


def test_dropout_without_a_generator_is_torchs():
    x = torch.rand(100)
    torch.manual_seed(0)
    expected = nn.Dropout(0.5)(x)
    torch.manual_seed(0)
    torch.testing.assert_close(Dropout(0.5)(x), expected, rtol=0, atol=0)


def test_max_pooling_comes_before_batch_norm_and_the_activation():
    layers = [type(m) for m in ConvNet((1, 8, 8), 3, conv_channels=(4,)).features]
    assert layers == [nn.Conv2d, nn.MaxPool2d, nn.BatchNorm2d, nn.ReLU]
    last = [type(m) for m in ConvNet((1, 8, 8), 3, conv_channels=(4,), pool_first=False).features]
    assert last == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d]
    avg = [type(m) for m in ConvNet((1, 8, 8), 3, conv_channels=(4,), pooling="avg").features]
    assert avg == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.AvgPool2d]


def test_blocks_without_batch_norm_pool_last():
    layers = [type(m) for m in ConvNet((1, 8, 8), 3, conv_channels=(4,), batch_norm=False).features]
    assert layers == [nn.Conv2d, nn.ReLU, nn.MaxPool2d]


def test_pooled_last_reads_the_block_order_from_a_state_dict():
    for pool_first in (True, False):
        net = ConvNet((1, 8, 8), 3, conv_channels=(4, 8), pool_first=pool_first)
        state = {f"module.{k}": v for k, v in net.state_dict().items()}
        assert pooled_last(state) is not pool_first
