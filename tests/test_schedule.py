"""The learning-rate schedule (sklearn_cnn._schedule)."""

import pytest
import torch

from sklearn_cnn._schedule import OneCycleLR, make_lr_scheduler


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
