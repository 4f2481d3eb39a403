"""The epochs of CNNNet's training run and their batch loop (sklearn_cnn._training.epoch)."""

import types

import numpy as np
import pytest
import torch
from _helpers import ReadsBatchLoss, scalar_reads
from skorch.callbacks import Callback, EpochScoring, LRScheduler, ProgressBar

from sklearn_cnn import CNNClassifier
from sklearn_cnn._training.epoch import epochs_left, reads_batch_losses
from sklearn_cnn._training.net import CNNNet

# ----------------------------------------------------------- the batch loop


def test_batch_losses_reach_the_history_as_skorch_records_them(digits, fast_params):
    X, y = digits
    params = {**fast_params, "max_epochs": 3, "validation_fraction": 0.2}
    deferred = CNNClassifier(**params).fit(X, y)
    reader = ReadsBatchLoss()
    per_batch = CNNClassifier(**{**params, "callbacks": [reader]}).fit(X, y)
    for key in ("train_loss", "valid_loss", "train_batch_size", "valid_batch_size"):
        np.testing.assert_allclose(deferred.history_[:, "batches", :, key],
                                   per_batch.history_[:, "batches", :, key], rtol=1e-5)
    for key in ("train_loss", "valid_loss", "train_batch_count", "valid_batch_count"):
        np.testing.assert_allclose(deferred.history_[:, key], per_batch.history_[:, key],
                                   rtol=1e-5)
    fitted_reader = dict(per_batch.net_.callbacks_)["ReadsBatchLoss"]
    assert len(fitted_reader.seen) == 3 * per_batch.history_[-1, "train_batch_count"]


def test_training_reads_no_scalar_per_step(digits, fast_params):
    X, y = digits
    steps = 2 * len(X) // fast_params["batch_size"]
    # SGD: Adam on the CPU reads each parameter's step count, in any loop.
    clf = CNNClassifier(**{**fast_params, "max_epochs": 2, "optimizer": "sgd", "device": "cpu"})
    assert scalar_reads(lambda: clf.fit(X, y)) <= 2  # at most one per epoch
    with_reader = clf.set_params(callbacks=[ReadsBatchLoss()])
    assert scalar_reads(lambda: with_reader.fit(X, y)) >= steps  # skorch's way, when asked


@pytest.mark.parametrize("callback, reads", [
    (EpochScoring("accuracy", on_train=True), False),
    (LRScheduler("StepLR", step_size=1), False),
    (ReadsBatchLoss(), True),
    (ProgressBar(), True),
])
def test_which_callbacks_read_batch_losses(callback, reads):
    assert reads_batch_losses(callback) is reads


def test_plateau_schedule_stepped_per_batch_reads_the_batch_loss(digits, fast_params):
    X, y = digits
    plateau = LRScheduler("ReduceLROnPlateau", monitor="train_loss", step_every="batch")
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1, "lr_schedule": "constant",
                           "callbacks": [plateau]}).fit(X, y)
    assert reads_batch_losses(dict(clf.net_.callbacks_)["LRScheduler"])


# ------------------------------------------------------- the training run


def net_with(history_length, restored=False, epochs_left_=None, max_epochs=5):
    checkpoint = None if epochs_left_ is None else types.SimpleNamespace(
        epochs_left=epochs_left_)
    return types.SimpleNamespace(restored_=restored, callbacks_=[], checkpoint_=checkpoint,
                                 history=[{}] * history_length, max_epochs=max_epochs)


@pytest.mark.parametrize("net, epochs, expected", [
    (net_with(0), None, (None, 0)),  # max_epochs, from the start
    (net_with(3), None, (None, 3)),  # warm start: max_epochs more
    (net_with(3), 2, (2, 3)),
    (net_with(3, restored=True), None, (2, 0)),  # resumed: what remains of 5
    (net_with(7, restored=True), None, (0, 0)),
    (net_with(3, restored=True, epochs_left_=0), None, (0, 0)),  # the fit had ended
    (net_with(3, restored=True), 4, (4, 3)),  # epochs named: those
])
def test_a_restored_fit_trains_the_epochs_that_remain(net, epochs, expected):
    assert epochs_left(net, epochs) == expected


class CheckpointRecorder:
    """Stands in for ``checkpoint_``: records what the run writes and restores."""

    path = "stand-in"
    epochs_left = None

    def __init__(self):
        self.calls = []

    def restore(self, net):
        self.calls.append("restore")
        return False

    def restore_callbacks(self, net):
        pass

    def write(self, net, *, finished):
        self.calls.append(("write", len(net.history), finished))


class StopAt(Callback):
    """Ends the fit from a callback (as early stopping does) at the end of ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("callbacks, writes", [
    ([], [("write", 1, False), ("write", 2, False), ("write", 3, True)]),
    ([StopAt(2)], [("write", 1, False), ("write", 2, True)]),
])
def test_each_epoch_is_checkpointed_once_it_ended_and_the_fit_when_it_ends(callbacks, writes):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 4)).astype(np.float32), rng.integers(0, 2, 32)
    net = CNNNet(torch.nn.Linear(4, 2), criterion=torch.nn.CrossEntropyLoss, max_epochs=3,
                 batch_size=16, train_split=None, verbose=0, n_jobs=1, callbacks=callbacks)
    net.initialize()
    net.checkpoint_ = checkpoint = CheckpointRecorder()
    net.partial_fit(X, y)
    assert checkpoint.calls == ["restore", *writes]
    assert net.fit_epochs_ == (0, 3)  # EpochLog's k/N
    assert net.thread_policy_ is None and net.graph_replays_ == 0
    assert list(net.history[:, "threads"]) == [1] * len(net.history)
