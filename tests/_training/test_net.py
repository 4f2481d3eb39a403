"""The skorch net behind CNNClassifier (sklearn_cnn._training.net).

Its training step is tested in test_step.py, its epochs in test_epoch.py.
"""

import pytest
import torch
from torchvision.transforms import v2

from sklearn_cnn import BatchAugment, CNNClassifier, ConvNet
from sklearn_cnn._model.backbone import Backbone
from sklearn_cnn._training.cuda_graph import graphs_apply
from sklearn_cnn._training.device import channels_last_is_fast


def test_builtin_network_trains_channels_last_on_the_cpu(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu"}).fit(X, y)
    assert clf.net_.channels_last and clf.net_.memory_format is torch.channels_last
    conv = clf.module_.features[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert clf.net_.optimizer_.defaults["fused"] is True


def test_custom_module_keeps_the_default_memory_format(digits, fast_params):
    from _helpers import TinyNet

    X, y = digits
    clf = CNNClassifier(**fast_params, module=TinyNet).fit(X, y)
    assert not clf.net_.channels_last


# ------------------------------------------------------- device policies


@pytest.mark.parametrize("device, module, kwargs, expected", [
    ("cpu", ConvNet, {"conv_channels": (4,)}, False),
    ("cpu", ConvNet, {"conv_channels": (8, 16)}, True),
    ("cpu", ConvNet, {"conv_channels": ()}, False),
    ("cpu", Backbone, {}, True),
    ("cuda", ConvNet, {"conv_channels": (4,)}, True),
    ("cuda", torch.nn.Linear, {}, False),
    ("meta", ConvNet, {"conv_channels": (32,)}, False),
])
def test_channels_last_where_it_was_measured_faster(device, module, kwargs, expected):
    assert channels_last_is_fast(torch.device(device), module, kwargs) is expected


@pytest.mark.parametrize("device, module, augment, expected", [
    ("cuda", ConvNet, None, True),
    ("cuda", Backbone, "light", True),
    ("cuda", ConvNet, BatchAugment(degrees=5), True),
    ("cuda", ConvNet, v2.RandomRotation(5), False),  # Python-side randomness
    ("cuda", torch.nn.Linear, None, False),  # a custom module may synchronise
    ("cpu", ConvNet, None, False),
])
def test_cuda_graphs_only_for_steps_they_can_record(device, module, augment, expected):
    assert graphs_apply(torch.device(device), module, augment) is expected
