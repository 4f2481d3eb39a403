"""The learning-rate schedule (sklearn_cnn._training.callbacks.lr_scheduler)."""

import pytest
import torch

from sklearn_cnn import CNNClassifier
from sklearn_cnn._training.callbacks.lr_scheduler import OneCycleLR, make_lr_scheduler
from sklearn_cnn._training.epochs_and_batches import (
    AUTO_BATCH_SIZES,
    AUTO_EPOCHS,
    settle_batch_size,
    settle_max_epochs,
)


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


@pytest.mark.parametrize("n", [1, 10, 50, 300, 1000, 4000, 100_000])
def test_auto_batch_size_is_a_bounded_power_of_two_near_a_sixteenth(n):
    size = settle_batch_size("auto", n)
    low, high = AUTO_BATCH_SIZES
    assert low <= size <= high and size & (size - 1) == 0
    assert size in (low, high) or size <= n / 16 < 2 * size


@pytest.mark.parametrize("steps", [1, 4, 16, 17, 32, 100, 469])
def test_auto_epochs_aim_at_a_number_of_steps(steps):
    epochs = settle_max_epochs("auto", steps)
    low, high = AUTO_EPOCHS
    assert low <= epochs <= high
    assert epochs in (low, high) or (epochs - 1) * steps < 480 <= epochs * steps


def test_numbers_are_kept():
    assert settle_batch_size(100, 4000) == 100 and settle_max_epochs(7, 3) == 7


def test_the_fit_trains_the_auto_length_and_schedules_over_it(digits):
    X, y = digits
    clf = CNNClassifier(conv_channels=(4,), dense_units=(8,), augment=None, device="cpu",
                        random_state=0).fit(X[:100], y[:100])
    assert clf.net_.batch_size == 16 and clf.n_iter_ == 30  # 7 steps an epoch
    schedule = dict(clf.net_.callbacks_)["lr_schedule"].lr_scheduler_
    assert schedule.total_steps == 30 * 7
