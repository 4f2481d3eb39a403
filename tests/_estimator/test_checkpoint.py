"""Interrupted fits: KeyboardInterrupt, and skorch's Checkpoint/LoadInitState to resume."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, Checkpoint, LoadInitState

from sklearn_cnn import CNNClassifier


class InterruptAt(Callback):
    """Raise KeyboardInterrupt (what Ctrl-C does) at the end of epoch ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_keyboard_interrupt_leaves_a_usable_model(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 6, "callbacks": [InterruptAt(2)]})
    clf.fit(X[:300], y[:300])
    assert clf.n_iter_ == 2
    assert clf.score(X[300:], y[300:]) > 0.5
    assert clf.predict_proba(X[300:]).shape == (100, 10)


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_checkpoint_resumes_an_interrupted_fit(digits, tmp_path, schedule, fast_params):
    X, y = digits
    params = {**fast_params, "max_epochs": 5, "lr_schedule": schedule}
    checkpoint = Checkpoint(dirname=str(tmp_path), monitor=None)  # every epoch
    resume = [checkpoint, LoadInitState(checkpoint)]

    first = CNNClassifier(**params, callbacks=[*resume, InterruptAt(2)]).fit(X, y)
    assert first.n_iter_ == 2 and (tmp_path / "params.pt").exists()
    # A new process would start here: a fresh estimator, the same callbacks.
    resumed = CNNClassifier(**params, callbacks=resume).fit(X, y)
    assert resumed.n_iter_ == 5  # 2 restored + the 3 that remained
    assert resumed.history_[:2, "train_loss"] == first.history_[:, "train_loss"]

    uninterrupted = CNNClassifier(**params).fit(X, y)
    # The learning-rate schedule continued where it stopped instead of restarting.
    lr = [m.net_.optimizer_.param_groups[0]["lr"] for m in (resumed, uninterrupted)]
    assert lr[0] == pytest.approx(lr[1], rel=1e-6)
    assert abs(resumed.score(X, y) - uninterrupted.score(X, y)) < 0.05


#: Weights after every epoch, kept by ``Snapshots`` (callbacks are copied by fit).
SNAPSHOTS = []


class Snapshots(Callback):
    def on_epoch_end(self, net, **kwargs):
        SNAPSHOTS.append({k: v.clone() for k, v in net.module_.state_dict().items()})


def test_checkpoint_keeps_the_best_model_each_epoch(digits, tmp_path, fast_params):
    X, y = digits
    SNAPSHOTS.clear()
    checkpoint = Checkpoint(dirname=str(tmp_path), monitor="valid_loss_best")
    clf = CNNClassifier(**{**fast_params, "max_epochs": 6, "validation_fraction": 0.2,
                           "callbacks": [Snapshots(), checkpoint]}).fit(X, y)
    valid_loss = clf.history_[:, "valid_loss"]
    best = int(np.argmin(valid_loss))
    # Saved exactly on the epochs that improved the validation loss ...
    assert clf.history_[:, "event_cp"] == [
        loss == min(valid_loss[:i + 1]) for i, loss in enumerate(valid_loss)]
    # ... so the file holds the best epoch's weights.
    saved = torch.load(tmp_path / "params.pt", weights_only=True)
    assert all(torch.equal(saved[k], SNAPSHOTS[best][k]) for k in saved)
