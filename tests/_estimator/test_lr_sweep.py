"""lr_sweep: a clone trained with a growing learning rate, and its suggestion."""


import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from sklearn_cnn import CNNClassifier
from sklearn_cnn._estimator.lr_sweep import lr_sweep
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
