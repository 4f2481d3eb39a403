"""The range test's callback (LRFinder) and its rule (suggest_lr)."""


from types import SimpleNamespace

import numpy as np
import pytest

from sklearn_cnn._training.lr_finder import LRFinder, suggest_lr

#: A short sweep: 13 batches of 32 per pass over 400 digits.
SWEEP = dict(start_lr=1e-5, end_lr=10.0, num_steps=60)


#: What LRFinder reads of a skorch net.
FakeNet = SimpleNamespace(optimizer_=SimpleNamespace(param_groups=[{"lr": 0.5}]))


def test_range_test_smooths_and_stops():
    test = LRFinder(num_steps=4, smoothing=0.5, diverge_threshold=3).initialize()
    for loss in (2.0, 4.0, 1.0):
        test.on_batch_begin(FakeNet, training=True)
        test.on_batch_end(FakeNet, training=True, loss=loss)
    assert test.losses_ == [2.0, 3.0, 2.0]
    assert test.lrs_ == [0.5] * 3
    test.on_batch_end(FakeNet, training=False, loss=100.0)  # validation batches ignored
    with pytest.raises(KeyboardInterrupt):  # num_steps reached
        test.on_batch_end(FakeNet, training=True, loss=2.0)

    test = LRFinder(num_steps=100, smoothing=1.0, diverge_threshold=3).initialize()
    test.on_batch_end(FakeNet, training=True, loss=1.0)
    with pytest.raises(KeyboardInterrupt):  # above 3 x the minimum
        test.on_batch_end(FakeNet, training=True, loss=3.5)
    test = LRFinder(num_steps=100, smoothing=1.0, diverge_threshold=3).initialize()
    with pytest.raises(KeyboardInterrupt):
        test.on_batch_end(FakeNet, training=True, loss=float("nan"))


def test_suggest_lr_steepest_descent_before_the_minimum():
    lrs = np.logspace(-6, 1, 71)
    log_lr = np.log10(lrs)
    falling = 3 - np.tanh(2 * (log_lr + 3))  # steepest at 1e-3
    blow_up = np.where(log_lr > -1, 40 * (log_lr + 1) ** 2, 0)  # climbs steeply past 0.1
    assert suggest_lr(lrs, falling + blow_up, rule="steep") == pytest.approx(1e-3)
    # A steeper fall after the minimum is not taken.
    late_drop = falling + blow_up - np.where(log_lr > 0.5, 200 * (log_lr - 0.5), 0)
    late_drop[log_lr > 0.5] += 500
    assert suggest_lr(lrs, late_drop, rule="steep") == pytest.approx(1e-3)
    # The smoother's first steps are ignored.
    early = falling.copy()
    early[:3] = [9.0, 5.0, 4.0]
    assert suggest_lr(lrs, early, rule="steep") == pytest.approx(1e-3)
    assert suggest_lr(lrs, np.linspace(1, 5, 71)) is None  # never fell
    assert suggest_lr(lrs[:6], falling[:6]) is None  # too short to tell


def test_suggest_lr_minimum_and_valley_rules():
    lrs = np.logspace(-6, 1, 71)
    log_lr = np.log10(lrs)
    # Falls from 1e-5 to 1e-2, flat to 1e-1, then blows up.
    losses = 3 - np.tanh(np.clip(log_lr + 3.5, -1.5, 1.5)) + np.where(log_lr > -1, 40 * (
        log_lr + 1) ** 2, 0) - 0.01 * np.clip(log_lr + 1, None, 0)
    lowest = lrs[np.argmin(losses)]
    assert suggest_lr(lrs, losses, rule="minimum") == pytest.approx(lowest / 10)
    assert suggest_lr(lrs, losses) == suggest_lr(lrs, losses, rule="minimum")  # the default
    valley = suggest_lr(lrs, losses, rule="valley")
    falls = lrs[5:][np.r_[True, np.diff(losses[5:]) < 0]]  # where the loss still falls
    assert lrs[5] < valley < lowest and valley in falls
    # Two thirds down the valley: past its steepest point (1e-3.5), before its end.
    assert 10 ** -3.5 <= valley <= 10 ** -1.5
    assert suggest_lr(lrs, np.linspace(1, 5, 71), rule="valley") is None  # never fell
    with pytest.raises(ValueError, match="rule must be one of"):
        suggest_lr(lrs, losses, rule="fastest")
