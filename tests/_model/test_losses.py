"""Losses by name (sklearn_cnn._model.losses)."""

import numpy as np
import torch
from torch import nn

from sklearn_cnn._model.losses import OneHotMSELoss, make_criterion


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
