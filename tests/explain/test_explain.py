"""Grad-CAM and saliency maps (sklearn_cnn.explain)."""

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.exceptions import NotFittedError
from torch import nn

from sklearn_cnn import CNNClassifier, ConvNet
from sklearn_cnn._model.backbone import Backbone
from sklearn_cnn.datasets import make_shapes
from sklearn_cnn.explain import _attribution, grad_cam, saliency
from sklearn_cnn.explain._layers import default_layer

pytest.importorskip("captum")

@pytest.fixture(scope="module")
def atol(proba_atol):
    """How far two computations of the same maps on the test device may differ.

    float32 rounding on the CPU; on CUDA, TF32 convolutions whose algorithm
    may change with the batch size.
    """
    return proba_atol()


@pytest.fixture(scope="module")
def flat_clf(digits, fast_params):
    """The ``fast_params`` network fitted on flat digits: conv blocks features.0-3 and 4-7."""
    X, y = digits
    return CNNClassifier(**fast_params).fit(X, y)


@pytest.fixture(scope="module")
def named_clf(digits, fast_params):
    """The ``fast_params`` network fitted on digits labelled by name."""
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])
    return CNNClassifier(**fast_params).fit(X, names[y])


def _as_tensor(clf, X):
    return torch.as_tensor(np.asarray(X, dtype=np.float32).reshape(-1, *clf.input_shape_),
                           device=clf.device_)


def _scaled(maps):
    """Each map divided by its maximum, as the explain functions return them."""
    peak = maps.amax(dim=(1, 2), keepdim=True)
    return (maps / peak.clamp_min(torch.finfo(maps.dtype).tiny)).cpu().numpy()


def _grad_cam_by_hand(clf, X, columns, layer):
    """Grad-CAM as Selvaraju et al. write it, with plain autograd: no captum."""
    network = clf.module_.eval()
    images = _as_tensor(clf, X)
    features = []
    hook = layer.register_forward_hook(lambda module, inputs, output: features.append(output))
    try:
        scores = network(images)[torch.arange(len(images)), torch.as_tensor(columns)]
    finally:
        hook.remove()
    gradients, = torch.autograd.grad(scores.sum(), features[0])
    weights = gradients.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * features[0]).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=images.shape[2:], mode="bilinear")[:, 0]
    return _scaled(cam.detach())


def _saliency_by_hand(clf, X, columns):
    network = clf.module_.eval()
    images = _as_tensor(clf, X).requires_grad_()
    scores = network(images)[torch.arange(len(images)), torch.as_tensor(columns)]
    gradients, = torch.autograd.grad(scores.sum(), images)
    return _scaled(gradients.abs().amax(dim=1))


# ------------------------------------------------------------------ what they compute

def test_grad_cam_heat_lies_on_the_shape(fast_params):
    X, y, boxes = make_shapes(600, image_size=24, return_boxes=True, random_state=0)
    clf = CNNClassifier(**{**fast_params, "conv_channels": (16, 32), "max_epochs": 10})
    clf.fit(X[:500], y[:500])
    heat = grad_cam(clf, X[500:])
    inside = np.array([h[top:bottom, left:right].mean()
                       for h, (top, left, bottom, right) in zip(heat, boxes[500:], strict=True)])
    # 89-100 % over 16 seeds of data and weights (default_layer's docstring).
    assert np.mean(inside > heat.mean(axis=(1, 2))) >= 3 / 4


def test_grad_cam_is_grad_cam(named_clf, digits, torch_device, atol):
    X = digits[0][:12]
    if torch_device.type in ("cpu", "cuda"):  # the network's input is channels-last there
        assert named_clf.net_.memory_format == torch.channels_last
    heat = grad_cam(named_clf, X, target="three")
    column = list(named_clf.classes_).index("three")
    expected = _grad_cam_by_hand(named_clf, X, [column] * len(X),
                                 named_clf.module_.features[7])
    np.testing.assert_allclose(heat, expected, atol=atol)
    assert heat.dtype == np.float32


def test_saliency_is_the_largest_absolute_input_gradient(named_clf, digits, atol):
    X = digits[0][:12]
    columns = np.arange(12) % 10
    labels = named_clf.classes_[columns]
    sal = saliency(named_clf, X, target=labels)
    np.testing.assert_allclose(sal, _saliency_by_hand(named_clf, X, columns), atol=atol)
    assert sal.dtype == np.float32


@pytest.mark.parametrize("explain", [grad_cam, saliency])
def test_maps_are_scaled_to_one_per_image(flat_clf, digits, explain):
    maps = explain(flat_clf, digits[0][:20])
    assert maps.min() >= 0
    peaks = maps.max(axis=(1, 2))
    # Grad-CAM of a class without positive evidence is all zero.
    np.testing.assert_allclose(peaks[peaks > 0], 1, atol=1e-6)
    assert (peaks > 0).sum() >= 15


# ------------------------------------------------------------------------- inputs

@pytest.mark.parametrize("explain", [grad_cam, saliency])
@pytest.mark.parametrize("shape", [(-1, 64), (-1, 8, 8), (-1, 8, 8, 1), (-1, 1, 8, 8)])
def test_every_layout_gives_the_same_maps(flat_clf, digits, explain, shape, atol):
    X = digits[0][:10]
    maps = explain(flat_clf, X.reshape(shape))
    assert maps.shape == (10, 8, 8)
    np.testing.assert_allclose(maps, explain(flat_clf, X), atol=atol)


def test_channels_last_rgb_input(fast_params):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(40, 12, 10, 3), dtype=np.uint8)
    y = np.repeat([0, 1], 20)
    X[y == 1, 3:8, 3:7] = 255  # class 1: a white patch
    clf = CNNClassifier(**fast_params).fit(X, y)
    assert grad_cam(clf, X[:5]).shape == (5, 12, 10)
    assert saliency(clf, X[:5]).shape == (5, 12, 10)


def test_image_files_give_the_maps_of_their_pixels(digit_images, tmp_path, fast_params, atol):
    X, y = digit_images
    clf = CNNClassifier(**fast_params).fit(X, y)
    paths = []
    for i, image in enumerate(X[:6]):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])  # PNG: lossless
    np.testing.assert_allclose(grad_cam(clf, np.array(paths)), grad_cam(clf, X[:6]), atol=atol)
    np.testing.assert_allclose(saliency(clf, np.array(paths)), saliency(clf, X[:6]), atol=atol)


@pytest.mark.parametrize("explain", [grad_cam, saliency])
def test_batches_do_not_change_the_maps(flat_clf, digits, monkeypatch, explain, atol):
    X = digits[0][:50]
    labels = flat_clf.classes_[np.arange(50) % 10]
    whole = explain(flat_clf, X, target=labels)
    monkeypatch.setattr(_attribution, "EXPLAIN_BATCH_SIZE", 7)
    np.testing.assert_allclose(explain(flat_clf, X, target=labels), whole, atol=atol)


@pytest.mark.parametrize("explain", [grad_cam, saliency])
def test_float32_under_the_callers_autocast_and_no_grad(flat_clf, digits, explain, atol):
    X = digits[0][:10]
    expected = explain(flat_clf, X)
    device_type = torch.device(flat_clf.device_).type
    with torch.autocast(device_type, dtype=torch.bfloat16), torch.no_grad():
        np.testing.assert_allclose(explain(flat_clf, X), expected, atol=atol)
    with torch.inference_mode():
        np.testing.assert_allclose(explain(flat_clf, X), expected, atol=atol)


# ------------------------------------------------------------------------ targets

@pytest.mark.parametrize("explain", [grad_cam, saliency])
def test_default_target_is_the_prediction(named_clf, digits, explain, atol):
    X = digits[0][:30]
    predicted = explain(named_clf, X)
    np.testing.assert_allclose(explain(named_clf, X, target=named_clf.predict(X)), predicted,
                               atol=atol)
    # ... and the target matters: another class gives other maps.
    other = np.where(named_clf.predict(X) == "one", "seven", "one")
    assert not np.allclose(explain(named_clf, X, target=other), predicted, atol=1e-3)


def test_one_label_for_every_image(named_clf, digits, atol):
    X = digits[0][:8]
    np.testing.assert_allclose(grad_cam(named_clf, X, target="five"),
                               grad_cam(named_clf, X, target=["five"] * 8), atol=atol)


def test_unknown_target_lists_the_classes(named_clf, flat_clf, digits):
    X = digits[0][:4]
    with pytest.raises(ValueError, match=r"\['cat'\].*known classes are \['eight'"):
        grad_cam(named_clf, X, target="cat")
    with pytest.raises(ValueError, match="labels, not column indices"):
        saliency(named_clf, X, target=3)
    with pytest.raises(ValueError, match=r"\['3'\].*\[0, 1, 2"):
        grad_cam(flat_clf, X, target="3")


def test_one_target_per_image(named_clf, digits):
    with pytest.raises(ValueError, match=r"one label per image \(4\).*\(3,\)"):
        grad_cam(named_clf, digits[0][:4], target=["one", "two", "six"])


# ------------------------------------------------------------------------- layers

def test_layer_by_name_and_by_module(flat_clf, digits, atol):
    X = digits[0][:10]
    block = grad_cam(flat_clf, X)  # the second block's ReLU
    np.testing.assert_allclose(grad_cam(flat_clf, X, layer="features.7"), block, atol=atol)
    np.testing.assert_allclose(grad_cam(flat_clf, X, layer=flat_clf.module_.features[7]),
                               block, atol=atol)
    for other in ("features.4", "features.0"):  # convolutions, before batch norm
        heat = grad_cam(flat_clf, X, layer=other)
        assert heat.shape == block.shape
        assert not np.allclose(heat, block, atol=1e-3)


@pytest.mark.parametrize(("network", "expected"), [
    (ConvNet((1, 8, 8), 3, conv_channels=(4, 4, 4)), "features.11"),  # conv, pool, BN, ReLU
    (ConvNet((1, 8, 8), 3, conv_channels=(4, 4), batch_norm=False), "features.4"),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()), "0"),
    (nn.Conv2d(1, 2, 3), ""),
    (Backbone("resnet18", (3, 8, 8), 3), "model.layer4.1.conv2"),  # residual block
    (Backbone("mobilenet_v3_small", (3, 8, 8), 3), "model.features.12.2"),  # Hardswish
])
def test_default_layer_is_the_last_conv_blocks_output(network, expected):
    assert default_layer(network) == expected


def test_unknown_layer_name_lists_the_conv_layers(flat_clf, digits):
    with pytest.raises(ValueError, match=r"'features\.9'.*\['features\.0', 'features\.4'\]"):
        grad_cam(flat_clf, digits[0][:2], layer="features.9")


def test_layer_outside_the_network(flat_clf, digits):
    with pytest.raises(ValueError, match="not part of the classifier's network"):
        grad_cam(flat_clf, digits[0][:2], layer=nn.Conv2d(1, 8, 3))
    with pytest.raises(TypeError, match="got int"):
        grad_cam(flat_clf, digits[0][:2], layer=4)


def test_layer_without_feature_maps(flat_clf, digits):
    with pytest.raises(ValueError, match=r"\(N, C, h, w\) feature map"):
        grad_cam(flat_clf, digits[0][:2], layer="classifier.1")


def test_resnet_backbone(digits, fast_params, atol):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1}, backbone="resnet18", weights=None)
    clf.fit(X[:100], y[:100])
    heat = grad_cam(clf, X[:4])
    assert heat.shape == (4, 8, 8)
    np.testing.assert_allclose(heat, grad_cam(clf, X[:4], layer="model.layer4.1.conv2"), atol=atol)
    assert grad_cam(clf, X[:4], layer="model.layer2").shape == (4, 8, 8)
    assert saliency(clf, X[:4]).shape == (4, 8, 8)


class SmallNet(nn.Module):
    """A user's network: one conv, global pooling, a linear head."""

    def __init__(self, input_shape, n_classes):
        super().__init__()
        self.conv = nn.Conv2d(input_shape[0], 6, 3, padding=1)
        self.head = nn.Linear(6, n_classes)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).mean(dim=(2, 3)))


class DenseNet(nn.Module):
    """A user's network without convolutions."""

    def __init__(self, input_shape, n_classes):
        super().__init__()
        self.flatten = nn.Flatten()
        self.head = nn.Linear(int(np.prod(input_shape)), n_classes)

    def forward(self, x):
        return self.head(self.flatten(x))


def test_custom_module(digits, fast_params, atol):
    X, y = digits
    clf = CNNClassifier(**fast_params, module=SmallNet).fit(X, y)
    np.testing.assert_allclose(grad_cam(clf, X[:5]), grad_cam(clf, X[:5], layer="conv"), atol=atol)
    assert grad_cam(clf, X[:5]).shape == (5, 8, 8)


def test_network_without_convolutions(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params, module=DenseNet).fit(X, y)
    with pytest.raises(ValueError, match=r"DenseNet.*no nn\.Conv2d.*pass layer="):
        grad_cam(clf, X[:3])
    assert saliency(clf, X[:3]).shape == (3, 8, 8)


# ----------------------------------------------------------------- side effects

@pytest.mark.parametrize("explain", [grad_cam, saliency])
def test_modes_and_flags_are_restored(digits, explain, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params).fit(X, y)
    network = clf.module_
    network.train()
    network.features[2].eval()  # a batch norm in evaluation mode
    network.features[0].weight.requires_grad_(False)  # a frozen conv
    modes = [m.training for m in network.modules()]
    flags = [p.requires_grad for p in network.parameters()]
    proba = clf.predict_proba(X[:10])
    explain(clf, X[:10])
    assert [m.training for m in network.modules()] == modes
    assert [p.requires_grad for p in network.parameters()] == flags
    np.testing.assert_array_equal(clf.predict_proba(X[:10]), proba)


def test_frozen_backbone_is_explained(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1}, backbone="resnet18",
                        freeze_backbone=True).fit(X[:60], y[:60])
    heat = grad_cam(clf, X[:3])
    assert heat.shape == (3, 8, 8) and heat.max() > 0


# ------------------------------------------------------------------------ errors

def test_not_fitted(digits):
    for explain in (grad_cam, saliency):
        with pytest.raises(NotFittedError):
            explain(CNNClassifier(), digits[0][:2])


def test_missing_captum_names_the_extra(flat_clf, digits, monkeypatch):
    monkeypatch.setitem(sys.modules, "captum", None)
    for explain in (grad_cam, saliency):
        with pytest.raises(ImportError, match=r"pip install 'sklearn-cnn\[explain\]'"):
            explain(flat_clf, digits[0][:2])


def test_importing_needs_no_captum():
    code = ("import sys; sys.modules['captum'] = None; import sklearn_cnn.explain; "
            "assert 'captum.attr' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
