"""Weight averaging (CNNClassifier(ema=...), sklearn_cnn._training.callbacks.averaging)."""

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, Checkpoint

from sklearn_cnn import CNNClassifier, load, save
from sklearn_cnn._training.callbacks import WEIGHT_AVERAGING
from sklearn_cnn._training.callbacks.averaging import WeightAveraging, ema_weight
from sklearn_cnn._training.epoch import reads_batch_losses


def weights(module):
    return [t.detach().clone() for t in (*module.parameters(), *module.buffers())]


class Watch(Callback):
    """Records the network's weights at the points weight averaging acts on."""

    def initialize(self):
        self.after_steps, self.before_steps, self.at_epoch_end = [], [], []
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.before_steps.append(weights(net.module_))

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.after_steps.append(weights(net.module_))

    def on_epoch_end(self, net, **kwargs):
        self.at_epoch_end.append(weights(net.module_))


def hand_average(steps, decay):
    average = [t.clone() for t in steps[0]]
    for n, step in enumerate(steps[1:], start=1):
        weight = ema_weight(decay, n)
        average = [a + weight * (s - a) if a.is_floating_point() else s.clone()
                   for a, s in zip(average, step, strict=True)]
    return average


def assert_same(a, b):
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)


def test_ema_weight_warms_up_then_holds_the_decay():
    assert ema_weight(0.99, 0) == pytest.approx(0.9)
    assert ema_weight(0.99, 10) == pytest.approx(1 - 11 / 20)
    assert ema_weight(0.99, 10_000) == pytest.approx(0.01)


@pytest.fixture
def watched_fit(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "ema": 0.9, "max_epochs": 3,
                           "callbacks": [("watch", Watch())]}).fit(X[:400], y[:400])
    return clf, dict(clf.net_.callbacks_)["watch"]


def test_the_fitted_network_is_the_average_of_every_step(watched_fit):
    clf, watch = watched_fit
    assert_same(weights(clf.module_), hand_average(watch.after_steps, 0.9))
    assert not np.allclose(weights(clf.module_)[0].cpu(), watch.after_steps[-1][0].cpu())


def test_epochs_end_on_the_average_and_training_goes_on_from_the_steps(watched_fit):
    _, watch = watched_fit
    steps_per_epoch = len(watch.after_steps) // 3
    for epoch in range(3):
        last = (epoch + 1) * steps_per_epoch
        assert_same(watch.at_epoch_end[epoch], hand_average(watch.after_steps[:last], 0.9))
        if epoch < 2:  # the next epoch's first step starts from the last step's weights
            assert_same(watch.before_steps[last], watch.after_steps[last - 1])


def test_validation_and_early_stopping_see_the_average(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "ema": 0.9, "validation_fraction": 0.25,
                           "early_stopping": True, "patience": 2}).fit(X, y)
    split = clf.net_.train_split
    _, valid = split(X, y)
    # The last epoch's validation loss is the fitted (averaged) network's loss on the hold-out.
    if clf.best_epoch_ == clf.n_iter_:
        probabilities = clf.predict_proba(X[valid.indices])
        loss = torch.nn.functional.cross_entropy(
            torch.from_numpy(np.log(probabilities)), torch.from_numpy(y[valid.indices]),
            label_smoothing=clf.label_smoothing)
        # rel: prediction folds batch norm in (and runs TF32 on CUDA); validation does not.
        assert clf.history_[-1, "valid_loss"] == pytest.approx(float(loss), rel=1e-3)
    assert clf.score(X[valid.indices], y[valid.indices]) == pytest.approx(
        clf.history_[clf.best_epoch_ - 1, "valid_acc"], abs=0.01)


def test_checkpoints_hold_the_average(digits, fast_params, tmp_path):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "ema": 0.9, "callbacks": [
        Checkpoint(monitor=None, dirname=str(tmp_path), load_best=False)]}).fit(X[:300], y[:300])
    saved = torch.load(tmp_path / "params.pt", map_location="cpu", weights_only=True)
    for name, tensor in clf.module_.state_dict().items():
        torch.testing.assert_close(saved[name], tensor.cpu())


def test_partial_fit_goes_on_averaging(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "ema": 0.9, "batch_size": 100})
    clf.partial_fit(X[:200], y[:200], classes=np.unique(y))
    averaging = dict(clf.net_.callbacks_)[WEIGHT_AVERAGING]
    assert averaging.n_updates_ == 2
    trained = [t.clone() for t in averaging.trained_]
    clf.partial_fit(X[200:400], y[200:400])
    assert averaging.n_updates_ == 4  # the same average, two more steps
    assert not all(torch.equal(a, b) for a, b in zip(trained, averaging.trained_, strict=True))


def test_warm_start_trains_on_from_the_averaged_weights(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "ema": 0.9, "warm_start": True}).fit(X, y)
    first = clf.score(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 2 * fast_params["max_epochs"]
    assert clf.score(X, y) >= first - 0.02


def test_save_load_and_pickle_keep_the_averaged_model(digits, fast_params, tmp_path):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "ema": 0.95}).fit(X, y)
    save(clf, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.ema == 0.95
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-5)
    unpickled = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(unpickled.predict_proba(X), clf.predict_proba(X), atol=1e-5)
    unpickled.partial_fit(X, y)  # its average goes on from the pickled one


def test_averaging_changes_the_model_and_none_means_no_callback(digits, fast_params):
    X, y = digits
    plain = CNNClassifier(**fast_params).fit(X, y)
    assert WEIGHT_AVERAGING not in dict(plain.net_.callbacks_)
    averaged = CNNClassifier(**{**fast_params, "ema": 0.99}).fit(X, y)
    assert not np.allclose(plain.predict_proba(X), averaged.predict_proba(X))


def test_averaging_keeps_batch_losses_on_the_device():
    # Its batch hooks read no loss: the epoch loop need not read each loss (a sync on GPUs).
    assert not reads_batch_losses(WeightAveraging(0.9))
