"""Batch norm folded in for prediction (sklearn_cnn._model.folding)."""

import threading

import torch
from torch import nn

from sklearn_cnn import ConvNet
from sklearn_cnn._model.backbone import Backbone
from sklearn_cnn._model.folding import fold_batch_norm


def count(module, kind):
    return sum(isinstance(m, kind) for m in module.modules())


def trained_statistics(module, shape):
    """``module`` in evaluation mode, its running statistics moved away from 0 / 1."""
    torch.manual_seed(0)
    module.train()
    with torch.no_grad():
        module(torch.randn(4, *shape) * 3 + 1)
    return module.eval()


def assert_same_function(folded, module, shape):
    x = torch.randn(6, *shape)
    with torch.inference_mode():
        torch.testing.assert_close(folded(x), module(x), rtol=1e-5, atol=1e-5)


class AttributePairs(nn.Module):
    """Conv/BN pairs as attributes; the second conv's output also feeds a skip."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(4)
        self.head = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        y = self.conv2(torch.relu(self.bn1(self.conv1(x))))
        return self.head((self.bn2(y) + y).flatten(1))


class BranchOnData(AttributePairs):
    """Control flow on a tensor's value: torch.fx cannot trace it."""

    def forward(self, x):
        if x.mean() > 100:
            x = -x
        return super().forward(x)


def test_convnet_pooling_first_keeps_its_batch_norms_and_its_function():
    # Batch norm after max pooling is not an affine map of the convolution's
    # output (a negative scale turns the max into a min): fuse leaves it.
    torch.manual_seed(0)
    net = trained_statistics(ConvNet((3, 8, 8), 4, conv_channels=(8, 16), dropout=0.5),
                             (3, 8, 8))
    folded = fold_batch_norm(net)
    assert count(folded, nn.BatchNorm2d) == 2 and count(folded, nn.Dropout) == 0
    assert_same_function(folded, net, (3, 8, 8))


def test_convnet_folds_to_the_same_function_without_dropout():
    torch.manual_seed(0)
    net = trained_statistics(ConvNet((3, 8, 8), 4, conv_channels=(8, 16), dropout=0.5,
                                     pool_first=False), (3, 8, 8))
    folded = fold_batch_norm(net)
    assert count(folded, nn.BatchNorm2d) == 0 and count(folded, nn.Dropout) == 0
    assert count(net, nn.BatchNorm2d) == 2 and count(net, nn.Dropout) == 1  # untouched
    assert not any(p.requires_grad for p in folded.parameters())
    assert_same_function(folded, net, (3, 8, 8))


def test_every_batch_norm_of_a_resnet_backbone_is_folded():
    # ResNet's conv1/bn1 pairs are attributes; only `downsample` is a Sequential.
    net = trained_statistics(Backbone("resnet18", (1, 8, 8), 3), (1, 8, 8))
    assert count(net, nn.BatchNorm2d) == 20
    folded = fold_batch_norm(net)
    assert count(folded, nn.BatchNorm2d) == 0
    assert_same_function(folded, net, (1, 8, 8))


def test_a_custom_module_folds_only_where_the_conv_feeds_the_batch_norm_alone():
    torch.manual_seed(0)
    net = trained_statistics(AttributePairs(), (1, 6, 6))
    folded = fold_batch_norm(net)
    assert count(folded, nn.BatchNorm2d) == 1  # bn1 folded; bn2 shares conv2's output
    assert not hasattr(folded, "bn1") and hasattr(folded, "bn2")
    assert_same_function(folded, net, (1, 6, 6))


def test_batch_norm_without_running_statistics_stays():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, track_running_stats=False))
    folded = fold_batch_norm(net.eval())
    assert count(folded, nn.BatchNorm2d) == 1
    assert_same_function(folded, net, (1, 5, 5))


def test_untraceable_module_predicts_unfolded():
    torch.manual_seed(0)
    net = trained_statistics(BranchOnData(), (1, 6, 6))
    assert fold_batch_norm(net) is net


def test_module_without_batch_norm_is_returned_as_it_is():
    module = nn.Sequential(nn.Flatten(), nn.Linear(12, 3), nn.Dropout(0.5))
    assert fold_batch_norm(module) is module


def test_the_module_is_traced_in_evaluation_mode():
    class TrainingBranch(AttributePairs):
        def forward(self, x):
            return super().forward(x * 2 if self.training else x)

    torch.manual_seed(0)
    net = trained_statistics(TrainingBranch(), (1, 6, 6)).train()
    folded = fold_batch_norm(net)
    assert net.training  # the caller's module keeps its mode
    assert_same_function(folded, net.eval(), (1, 6, 6))


def test_tracing_leaves_forward_passes_of_other_threads_alone():
    # torch.fx patches nn.Module.__call__ process-wide while it traces.
    other = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    errors, stop = [], threading.Event()

    def forward_passes():
        while not stop.is_set():
            try:
                other(torch.randn(2, 4))
            except Exception as exc:  # any failure: reported below
                errors.append(exc)
                return

    thread = threading.Thread(target=forward_passes)
    thread.start()
    try:
        net = Backbone("resnet18", (1, 8, 8), 3).eval()
        for _ in range(2):
            fold_batch_norm(net)
    finally:
        stop.set()
        thread.join()
    assert errors == []
