"""Interrupted fits: Ctrl-C, ``checkpoint=`` and skorch's Checkpoint/LoadInitState to resume."""

import os
import signal
import warnings

import numpy as np
import pytest
import torch
from _helpers import CountEpochs
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback, Checkpoint, LoadInitState
from torch import nn

from sklearn_cnn import CNNClassifier
from sklearn_cnn._training.interrupts import FitInterruptedWarning


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


# ------------------------------------------------ checkpoint=: resumable fits


class Watch(CountEpochs):
    """Count the epochs a fit trains in ``EPOCHS``, and press Ctrl-C where ``CTRL_C`` says.

    Ctrl-C is this process sending itself SIGINT at training batch 3 of
    epoch ``CTRL_C[0]``. Globals, not parameters: a fit and its rerun are the
    same fit (the parameters of its callbacks are in its checkpoint's key).
    """

    def on_batch_end(self, net, training=False, **kwargs):
        if training and CTRL_C and len(net.history) == CTRL_C[0] \
                and len(net.history[-1]["batches"]) == 3:
            CTRL_C.clear()
            os.kill(os.getpid(), signal.SIGINT)


#: The epochs begun by every fit ``Watch`` watches, counted from 1.
EPOCHS = CountEpochs.begun
CTRL_C = []

#: Exact on the CPU at one thread: a resumed fit equals an uninterrupted one.
CPU = {"device": "cpu", "n_jobs": 1}


class Dropping(nn.Module):
    """A network whose dropout draws from torch's global generator (not the fit's own)."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(),
                                    nn.Dropout(0.3), nn.Linear(32, n_classes))

    def forward(self, x):
        return self.layers(x)


def _watched(params):
    EPOCHS.clear()
    return CNNClassifier(**params, callbacks=[("watch", Watch())])


def _interrupted_fit(params, X, y, epoch=3):
    CTRL_C[:] = [epoch]
    clf = _watched(params)
    with pytest.warns(FitInterruptedWarning, match=rf"during epoch {epoch} of"):
        clf.fit(X, y)
    return clf


@pytest.mark.parametrize("extra", [
    pytest.param({}, id="default"),
    pytest.param({"validation_fraction": 0.2, "ema": 0.99, "early_stopping": True,
                  "patience": 10, "lr_schedule": "cosine"}, id="holdout-ema-early-stopping"),
    pytest.param({"module": Dropping, "optimizer": "sgd"}, id="global-generator"),
    pytest.param({"random_state": None}, id="drawn-seed"),
])
def test_a_fit_interrupted_mid_epoch_resumes_to_the_uninterrupted_model(digits, tmp_path,
                                                                        fast_params, extra):
    X, y = digits
    params = {**fast_params, **CPU, "max_epochs": 6, **extra, "checkpoint": tmp_path}
    first = _interrupted_fit(params, X, y)
    assert first.n_iter_ == 2 and len(first.history_) == 2  # complete epochs only
    assert [p.name for p in tmp_path.iterdir()] == [
        next(tmp_path.glob("fit-*.pt")).name]  # one file, no temporary one
    resumed = _watched(params).fit(X, y)
    assert EPOCHS == [3, 4, 5, 6]  # only the epochs left
    assert resumed.n_iter_ == 6
    if extra.get("random_state", 0) is None:  # the seed the first run drew, kept in the file
        assert resumed.history_[:2, "train_loss"] == pytest.approx(
            first.history_[:, "train_loss"], rel=1e-6)
        return
    uninterrupted = _watched({**params, "checkpoint": None}).fit(X, y)
    assert resumed.history_[:, "train_loss"] == uninterrupted.history_[:, "train_loss"]
    np.testing.assert_array_equal(resumed.predict_proba(X), uninterrupted.predict_proba(X))


def test_a_finished_fit_run_again_returns_its_model_without_training(digits, tmp_path,
                                                                     fast_params):
    X, y = digits
    params = {**fast_params, "checkpoint": tmp_path}
    first = _watched(params).fit(X, y)
    assert EPOCHS == [1, 2, 3, 4]
    again = _watched(params).fit(X, y)
    assert EPOCHS == [] and again.n_iter_ == first.n_iter_
    np.testing.assert_allclose(again.predict_proba(X), first.predict_proba(X), atol=1e-6)


def test_an_early_stopped_fit_stays_stopped_with_its_best_weights(digits, tmp_path, fast_params):
    X, y = digits
    params = {**fast_params, **CPU, "max_epochs": 30, "validation_fraction": 0.25,
              "early_stopping": True, "patience": 1, "lr": 0.05, "checkpoint": tmp_path}
    first = CNNClassifier(**params).fit(X, y)
    assert first.n_iter_ < 30 and first.best_epoch_ < first.n_iter_  # stopped, best restored
    again = CNNClassifier(**params).fit(X, y)
    assert (again.n_iter_, again.best_epoch_) == (first.n_iter_, first.best_epoch_)
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))


def test_ctrl_c_warns_and_keeps_a_usable_model_with_complete_epochs(digits, fast_params):
    X, y = digits
    clf = _interrupted_fit({**fast_params, "max_epochs": 6}, X[:300], y[:300])
    assert clf.n_iter_ == 2 and all("train_loss" in row for row in clf.history_)
    assert clf.score(X[300:], y[300:]) > 0.3
    with pytest.warns(FitInterruptedWarning, match=r"epoch 1 of 6.*count the 0 complete "
                                                   r"epochs\.$"):
        CTRL_C[:] = [1]
        _watched({**fast_params, "max_epochs": 6}).fit(X, y)


def test_a_callback_that_ends_the_fit_is_not_an_interrupt(digits, fast_params):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitInterruptedWarning)
        clf = CNNClassifier(**{**fast_params, "max_epochs": 6,
                               "callbacks": [InterruptAt(2)]}).fit(X, y)
    assert clf.n_iter_ == 2


def test_fits_of_a_search_keep_their_own_files_in_one_folder(digits, tmp_path, fast_params):
    X, y = digits
    search = GridSearchCV(_watched({**fast_params, "max_epochs": 2, "checkpoint": tmp_path}),
                          {"lr": [0.01, 0.02]}, cv=2)
    EPOCHS.clear()
    search.fit(X, y)
    assert len(EPOCHS) == 5 * 2
    assert len(list(tmp_path.glob("fit-*.pt"))) == 2 * 2 + 1  # candidates x folds + refit
    EPOCHS.clear()
    search.fit(X, y)  # run again (after a crash, say)
    assert EPOCHS == []  # every fit found its finished checkpoint


def test_another_fit_in_the_folder_does_not_resume_from_this_one(digits, tmp_path, fast_params):
    X, y = digits
    params = {**fast_params, "checkpoint": tmp_path}
    _watched(params).fit(X, y)
    for changed in ({"lr": 0.02}, {"X": X[::-1]}, {"y": (y + 1) % 10}):
        data = {"X": X, "y": y, **{k: v for k, v in changed.items() if k in ("X", "y")}}
        other = {k: v for k, v in changed.items() if k not in ("X", "y")}
        _watched({**params, **other}).fit(data["X"], data["y"])
        assert EPOCHS == [1, 2, 3, 4], changed
    assert len(list(tmp_path.glob("fit-*.pt"))) == 4
    # Not in the key: where and how fast it runs, how much it says.
    _watched({**params, "n_jobs": 1, "verbose": 0, "num_workers": 0}).fit(X, y)
    assert EPOCHS == []


def test_a_damaged_checkpoint_is_replaced_with_a_warning(digits, tmp_path, fast_params):
    X, y = digits
    params = {**fast_params, "max_epochs": 2, "checkpoint": tmp_path}
    CNNClassifier(**params).fit(X, y)
    (path,) = tmp_path.glob("fit-*.pt")
    path.write_bytes(b"damaged")
    with pytest.warns(UserWarning, match=r"cannot be read.*starts afresh"):
        clf = CNNClassifier(**params).fit(X, y)
    assert clf.n_iter_ == 2 and torch.load(path, weights_only=True)["finished"]


def test_partial_fit_and_warm_start_leave_the_checkpoint_alone(digits, tmp_path, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params, checkpoint=tmp_path)
    clf.partial_fit(X, y, classes=np.arange(10))
    assert list(tmp_path.iterdir()) == []
    clf.fit(X, y)
    (path,) = tmp_path.glob("fit-*.pt")
    before = path.read_bytes()
    clf.set_params(warm_start=True).fit(X, y)
    assert clf.n_iter_ == 8 and path.read_bytes() == before
