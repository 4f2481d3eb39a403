"""sklearn_cnn._model.work: the operations of a forward pass, counted without side effects."""

import torch
from torch import nn

from sklearn_cnn import ConvNet
from sklearn_cnn._model.backbone import Backbone
from sklearn_cnn._model.work import forward_flops


def test_a_convnet_is_counted_as_its_convolutions_and_products():
    net = ConvNet((1, 8, 8), n_classes=10, conv_channels=(4, 8), dense_units=(16,))
    conv1 = 8 * 8 * 4 * (1 * 3 * 3) * 2  # "same" padding: 8x8 outputs, 2 per multiply-add
    conv2 = 4 * 4 * 8 * (4 * 3 * 3) * 2  # after 2x2 pooling
    dense = (8 * 2 * 2) * 16 * 2 + 16 * 10 * 2
    assert forward_flops(net, torch.zeros(1, 1, 8, 8)) == conv1 + conv2 + dense


def test_counting_leaves_every_module_in_its_mode_and_its_statistics_alone():
    net = ConvNet((3, 16, 16), n_classes=2)
    net.train()
    net.features[1].eval()  # one submodule set apart by hand
    norms = {k: v.clone() for k, v in net.state_dict().items() if "running" in k}
    forward_flops(net, torch.randn(1, 3, 16, 16))
    assert net.training and not net.features[1].training
    assert all(m.training for i, m in enumerate(net.features) if i != 1)
    assert all(torch.equal(net.state_dict()[k], v) for k, v in norms.items())


def test_a_backbone_is_counted():
    net = Backbone("resnet18", (3, 32, 32), n_classes=2)
    assert forward_flops(net, torch.zeros(1, 3, 32, 32)) > 10**7


class Counting(nn.Module):
    """A user's network whose forward pass has an effect: it counts its calls."""

    def __init__(self):
        super().__init__()
        self.linear, self.calls = nn.Linear(4, 2), 0

    def forward(self, x):
        self.calls += 1
        return self.linear(x)


def test_a_users_network_is_not_called_nor_a_lazy_one_initialised():
    net = Counting()
    assert forward_flops(net, torch.zeros(1, 4)) is None and net.calls == 0
    lazy = ConvNet((1, 8, 8), n_classes=2)
    lazy.classifier = nn.Sequential(nn.Flatten(), nn.LazyLinear(2))
    before = torch.random.get_rng_state()
    assert forward_flops(lazy, torch.zeros(1, 1, 8, 8)) is None
    assert torch.equal(torch.random.get_rng_state(), before)
