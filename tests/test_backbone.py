"""torchvision backbones (sklearn_cnn._backbone)."""

import pytest
import torch
from torch import nn

from sklearn_cnn._backbone import Backbone, check_backbone


def test_unknown_backbone_lists_the_choices():
    with pytest.raises(ValueError, match="resnet18"):
        check_backbone("resnet_nineteen")


@pytest.mark.parametrize(("name", "head"), [("resnet18", "fc"), ("mobilenet_v3_small",
                                                                   "classifier.3")])
def test_head_is_replaced(name, head):
    net = Backbone(name, (3, 32, 32), 7)
    assert net.model.get_submodule(head).out_features == 7
    assert isinstance(net.adapter, nn.Identity)
    assert net.eval()(torch.zeros(2, 3, 32, 32)).shape == (2, 7)


def test_other_channel_counts_get_an_adapter():
    net = Backbone("resnet18", (1, 16, 16), 3)
    assert isinstance(net.adapter, nn.Conv2d) and net.adapter.in_channels == 1
    assert net.eval()(torch.zeros(2, 1, 16, 16)).shape == (2, 3)


def test_freeze_trains_only_the_head_and_adapter():
    net = Backbone("resnet18", (1, 16, 16), 3, freeze=True)
    trainable = {name for name, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"adapter.weight", "adapter.bias", "model.fc.weight", "model.fc.bias"}


def test_unknown_weights_name(tmp_path):
    with pytest.raises(ValueError, match="weights"):
        Backbone("resnet18", (3, 16, 16), 3, weights="NoSuchWeights.V1")
