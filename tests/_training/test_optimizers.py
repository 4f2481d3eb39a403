"""Optimizers by name (sklearn_cnn._training.optimizers)."""

import pytest
import torch

from sklearn_cnn._training.optimizers import AUTO_LR, make_optimizer


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop"])
def test_auto_learning_rate_per_optimizer(name):
    _, kwargs = make_optimizer(name, "auto", momentum=0.9, weight_decay=0.0)
    assert kwargs["lr"] == AUTO_LR[name]


def test_momentum_only_where_accepted():
    cls, kwargs = make_optimizer("adam", 0.1, momentum=0.5, weight_decay=0.2)
    assert cls is torch.optim.Adam and "momentum" not in kwargs
    assert kwargs == {"lr": 0.1, "weight_decay": 0.2, "fused": True}
    cls, kwargs = make_optimizer("sgd", 0.1, momentum=0.5, weight_decay=0.0,
                                    device_type="cuda")
    assert kwargs == {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.0, "nesterov": True,
                      "fused": True}
    _, kwargs = make_optimizer("adam", 0.1, momentum=0.5, weight_decay=0.0,
                                  device_type="mps")
    assert "fused" not in kwargs
    _, kwargs = make_optimizer(torch.optim.Adagrad, "auto", momentum=0.5, weight_decay=0.0)
    assert "momentum" not in kwargs
