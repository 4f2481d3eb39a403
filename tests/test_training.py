"""Optimizer, loss, schedule and hold-out pieces (sklearn_cnn._training)."""

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_cnn._training import (
    AUTO_LR,
    HoldoutSplit,
    OneCycleLR,
    OneHotMSELoss,
    make_criterion,
    make_lr_scheduler,
    resolve_optimizer,
)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop"])
def test_auto_learning_rate_per_optimizer(name):
    _, kwargs = resolve_optimizer(name, "auto", momentum=0.9, weight_decay=0.0)
    assert kwargs["lr"] == AUTO_LR[name]


def test_momentum_only_where_accepted():
    cls, kwargs = resolve_optimizer("adam", 0.1, momentum=0.5, weight_decay=0.2)
    assert cls is torch.optim.Adam and "momentum" not in kwargs
    assert kwargs == {"lr": 0.1, "weight_decay": 0.2, "fused": True}
    cls, kwargs = resolve_optimizer("sgd", 0.1, momentum=0.5, weight_decay=0.0,
                                    device_type="cuda")
    assert kwargs == {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.0, "nesterov": True,
                      "fused": True}
    _, kwargs = resolve_optimizer("adam", 0.1, momentum=0.5, weight_decay=0.0,
                                  device_type="mps")
    assert "fused" not in kwargs
    _, kwargs = resolve_optimizer(torch.optim.Adagrad, "auto", momentum=0.5, weight_decay=0.0)
    assert "momentum" not in kwargs


def test_one_hot_mse_matches_its_definition():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    target = torch.tensor([0, 2])
    expected = ((logits.softmax(1) - nn.functional.one_hot(target, 3)) ** 2).mean()
    torch.testing.assert_close(OneHotMSELoss()(logits, target), expected)


def test_one_hot_mse_class_weight_and_smoothing():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    target = torch.tensor([0, 1])
    only_second = OneHotMSELoss(weight=torch.tensor([0.0, 1.0]))(logits, target)
    torch.testing.assert_close(only_second, OneHotMSELoss()(logits[1:], target[1:]))
    smooth = OneHotMSELoss(label_smoothing=1.0)(logits, target)
    uniform = ((logits.softmax(1) - 0.5) ** 2).mean()
    torch.testing.assert_close(smooth, uniform)


def test_make_criterion():
    cls, kwargs = make_criterion("cross_entropy", np.array([1.0, 2.0]), 0.1)
    criterion = cls(**kwargs)
    assert isinstance(criterion, nn.CrossEntropyLoss)
    assert criterion.label_smoothing == 0.1
    torch.testing.assert_close(criterion.weight, torch.tensor([1.0, 2.0]))
    assert make_criterion("mse", None, 0.0)[0] is OneHotMSELoss


def test_onecycle_peaks_at_the_optimizer_lr_and_ends_low():
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.2, momentum=0.9)
    schedule = OneCycleLR(optimizer, total_steps=20)
    lrs = []
    for _ in range(25):  # stepping past the end holds the last rate
        optimizer.step()
        lrs.append(optimizer.param_groups[0]["lr"])
        schedule.step()
    assert max(lrs) == pytest.approx(0.2)
    assert lrs[0] < 0.01 and lrs[-1] < 1e-4
    assert lrs[-1] == lrs[-5]


def test_onecycle_leaves_momentum_alone_without_momentum():
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.2, momentum=0.0)
    OneCycleLR(optimizer, total_steps=10)
    assert optimizer.param_groups[0]["momentum"] == 0.0


def test_make_lr_scheduler():
    assert make_lr_scheduler("constant", 10, 5) is None
    assert make_lr_scheduler("cosine", 10, 5).T_max == 10
    assert make_lr_scheduler("onecycle", 10, 5).total_steps == 50


def test_holdout_is_stratified_and_seeded():
    y = np.repeat(np.arange(4), 25)
    split = HoldoutSplit(0.2, random_state=0)
    train, valid = split.indices(y)
    assert len(valid) == 20 and len(train) == 80
    assert np.bincount(y[valid]).tolist() == [5, 5, 5, 5]
    np.testing.assert_array_equal(valid, HoldoutSplit(0.2, random_state=0).indices(y)[1])
    assert not np.array_equal(valid, HoldoutSplit(0.2, random_state=1).indices(y)[1])


def test_holdout_falls_back_on_tiny_data():
    # A class with one sample cannot be stratified: plain split instead.
    y = np.array([0, 0, 0, 1, 1, 1, 2, 3, 3, 3])
    train, valid = HoldoutSplit(0.3, random_state=0).indices(y)
    assert len(valid) == 3 and len(train) == 7
    # Too few samples to hold any out: everything trains.
    train, valid = HoldoutSplit(0.5, random_state=0).indices(np.array([0, 1]))
    assert len(valid) == 0 and len(train) == 2


def test_holdout_as_skorch_train_split():
    from skorch.dataset import Dataset

    X = torch.zeros(10, 1)
    y = np.repeat([0, 1], 5)
    train, valid = HoldoutSplit(0.2, random_state=0)(Dataset(X, y), y)
    assert len(train) == 8 and len(valid) == 2
    assert HoldoutSplit(0.5, 0)(Dataset(X[:2], y[:2]), y[:2])[1] is None


def test_holdout_size_matches_the_split():
    split = HoldoutSplit(0.15, random_state=None)
    for n in (2, 3, 10, 57, 400):
        y = np.arange(n) % 3
        assert split.n_valid(n) == len(split.indices(y)[1])
