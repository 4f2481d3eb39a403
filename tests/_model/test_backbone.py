"""torchvision backbones (sklearn_cnn._model.backbone)."""

import pytest
import torch
from torch import nn

from sklearn_cnn._model.backbone import Backbone, check_backbone, resolve_weights


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


@pytest.mark.parametrize("name", ["DEFAULT", "IMAGENET1K_V1", "ResNet18_Weights.IMAGENET1K_V1"])
def test_weights_names_as_torchvision_takes_them(name):
    from torchvision.models import ResNet18_Weights

    assert resolve_weights("resnet18", name) is ResNet18_Weights.IMAGENET1K_V1


def test_a_failed_download_is_one_clear_error(monkeypatch, tmp_path):
    import urllib.error

    import torchvision.models._api

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", offline)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(OSError) as caught:
        Backbone("resnet18", (3, 16, 16), 3, weights="DEFAULT")
    message = str(caught.value)
    assert "\n" not in message and "Temporary failure in name resolution" in message
    assert "https://download.pytorch.org/models/resnet18" in message
    assert f"{tmp_path}/checkpoints" in message and "weights='/path/to/file.pth'" in message


def test_a_downloaded_weights_file_is_a_state_dict_path(tmp_path):
    path = tmp_path / "resnet18-f37072fd.pth"  # as torchvision names its cached files
    torch.save(Backbone("resnet18", (3, 16, 16), 1000).model.state_dict(), path)
    net = Backbone("resnet18", (3, 16, 16), 3, weights=path)
    assert net.model.fc.out_features == 3
