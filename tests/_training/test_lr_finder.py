"""The learning-rate range test: a clone trained with a growing rate, and its suggestion."""

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from sklearn_cnn import CNNClassifier
from sklearn_cnn._training.lr_finder import LRFinder, lr_sweep, suggest_lr
from sklearn_cnn.preprocessing import ToImage

#: A short sweep: 13 batches of 32 per pass over 400 digits.
SWEEP = dict(start_lr=1e-5, end_lr=10.0, num_steps=60)


@pytest.fixture(scope="module")
def sweep(digits, fast_params):
    X, y = digits
    return lr_sweep(CNNClassifier(**fast_params), X, y, **SWEEP)


def test_rates_grow_exponentially_from_start_lr(sweep):
    lrs, losses, _ = sweep
    assert len(lrs) == len(losses) <= SWEEP["num_steps"]
    assert lrs[0] == pytest.approx(SWEEP["start_lr"])
    ratio = (SWEEP["end_lr"] / SWEEP["start_lr"]) ** (1 / (SWEEP["num_steps"] - 1))
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], ratio, rtol=1e-6)


def test_runs_num_steps_over_several_passes_when_nothing_diverges(digits, fast_params):
    X, y = digits
    lrs, losses, _ = lr_sweep(CNNClassifier(**fast_params), X[:100], y[:100], start_lr=1e-5,
                              end_lr=1e-4, num_steps=10)  # 4 batches a pass
    assert len(lrs) == 10
    assert lrs[-1] == pytest.approx(1e-4)
    assert np.all(np.isfinite(losses))


def test_stops_when_the_loss_diverges(digits, fast_params):
    X, y = digits
    threshold = 1.5
    lrs, losses, _ = lr_sweep(CNNClassifier(**fast_params), X, y, start_lr=1e-3, end_lr=1e4,
                              num_steps=200, diverge_threshold=threshold)
    assert len(lrs) < 200
    best_before = np.minimum.accumulate(losses)[:-1]
    assert np.all(losses[:-1] <= threshold * best_before)
    assert not np.isfinite(losses[-1]) or losses[-1] > threshold * best_before[-1]


def test_suggestion_is_where_training_works(sweep, digits, fast_params):
    X, y = digits
    X_train, y_train, X_test, y_test = X[:300], y[:300], X[300:], y[300:]
    _, _, suggested = sweep
    assert suggested is not None

    def fit(lr):
        return CNNClassifier(**{**fast_params, "lr": lr}).fit(X_train, y_train)

    at_suggestion = fit(suggested)
    losses = at_suggestion.history_[:, "train_loss"]
    assert losses[-1] < 0.7 * losses[0]
    score = at_suggestion.score(X_test, y_test)
    assert score > fit(10 * suggested).score(X_test, y_test)
    assert score > fit(suggested / 10).score(X_test, y_test)


def test_the_estimator_is_not_touched(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params)
    params = clf.get_params()
    lr_sweep(clf, X[:100], y[:100], num_steps=10)
    assert not hasattr(clf, "net_")
    assert clf.get_params() == params

    clf.fit(X[:100], y[:100])
    proba, history = clf.predict_proba(X[:50]), list(clf.history_)
    lr_sweep(clf, X[:100], y[:100], num_steps=10)
    np.testing.assert_array_equal(clf.predict_proba(X[:50]), proba)
    assert list(clf.history_) == history


class BatchSizes(Callback):
    """Counts the training batches it sees (in a class attribute: fit copies callbacks)."""

    seen = []

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            BatchSizes.seen.append(len(batch[0]))


def test_trains_as_fit_would_with_the_users_callbacks(digits, fast_params):
    X, y = digits
    BatchSizes.seen = []
    clf = CNNClassifier(**{**fast_params, "batch_size": 16}, callbacks=[BatchSizes()])
    lrs, _, _ = lr_sweep(clf, X[:40], y[:40], num_steps=8)
    assert BatchSizes.seen == [16, 16, 8, 16, 16, 8, 16, 16][:len(lrs)]


def test_pipeline_sweeps_its_last_step(digits, fast_params):
    X, y = digits
    lrs, losses, _ = lr_sweep(make_pipeline(ToImage(), CNNClassifier(**fast_params)), X[:100],
                              y[:100], num_steps=10)
    assert len(lrs) == len(losses) == 10


def test_invalid_ranges(digits, fast_params):
    X, y = digits
    with pytest.raises(ValueError, match=r"start_lr=1\.0 must be below end_lr=0\.1"):
        lr_sweep(CNNClassifier(**fast_params), X, y, start_lr=1.0, end_lr=0.1)
    with pytest.raises(InvalidParameterError, match="num_steps"):
        lr_sweep(CNNClassifier(**fast_params), X, y, num_steps=3)
    with pytest.raises(InvalidParameterError, match="smoothing"):
        lr_sweep(CNNClassifier(**fast_params), X, y, smoothing=0)


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
