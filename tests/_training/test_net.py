"""The skorch net behind CNNClassifier (sklearn_cnn._training.net)."""

import numpy as np
import pytest
import torch
from _helpers import ReadsBatchLoss, scalar_reads
from skorch.callbacks import EpochScoring, LRScheduler, ProgressBar
from torchvision.transforms import v2

from sklearn_cnn import BatchAugment, CNNClassifier, ConvNet
from sklearn_cnn._model.backbone import Backbone
from sklearn_cnn._training.cuda_graph import graphs_apply
from sklearn_cnn._training.device import channels_last_is_fast
from sklearn_cnn._training.net import reads_batch_losses


def test_builtin_network_trains_channels_last_on_the_cpu(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu"}).fit(X, y)
    assert clf.net_.channels_last and clf.net_.memory_format is torch.channels_last
    conv = clf.module_.features[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert clf.net_.optimizer_.defaults["fused"] is True


def test_custom_module_keeps_the_default_memory_format(digits, fast_params):
    from _helpers import TinyNet

    X, y = digits
    clf = CNNClassifier(**fast_params, module=TinyNet).fit(X, y)
    assert not clf.net_.channels_last


# ----------------------------------------------------- the per-step path


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


class ModeRecorder(torch.nn.Module):
    """Records whether it is in training mode at every forward pass."""

    def __init__(self, input_shape, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(int(np.prod(input_shape)), n_classes)
        self.dropout = torch.nn.Dropout(0.5)
        self.modes = []

    def forward(self, x):
        self.modes.append((self.training, self.dropout.training))
        return self.linear(self.dropout(x.flatten(1)))


def test_modules_switch_between_training_and_evaluation(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "module": ModeRecorder, "max_epochs": 2,
                           "validation_fraction": 0.25, "batch_size": 100}).fit(X, y)
    # per epoch: 3 training batches, then 1 validation batch
    assert clf.module_.modes == 2 * ([(True, True)] * 3 + [(False, False)])
    clf.predict(X[:5])
    clf.partial_fit(X[:300], y[:300])
    assert clf.module_.modes[-4:] == [(False, False)] + [(True, True)] * 3


# ------------------------------------------------------- device policies


@pytest.mark.parametrize("device, module, kwargs, expected", [
    ("cpu", ConvNet, {"conv_channels": (4,)}, False),
    ("cpu", ConvNet, {"conv_channels": (8, 16)}, True),
    ("cpu", ConvNet, {"conv_channels": ()}, False),
    ("cpu", Backbone, {}, True),
    ("cuda", ConvNet, {"conv_channels": (4,)}, True),
    ("cuda", torch.nn.Linear, {}, False),
    ("meta", ConvNet, {"conv_channels": (32,)}, False),
])
def test_channels_last_where_it_was_measured_faster(device, module, kwargs, expected):
    assert channels_last_is_fast(torch.device(device), module, kwargs) is expected


@pytest.mark.parametrize("device, module, augment, expected", [
    ("cuda", ConvNet, None, True),
    ("cuda", Backbone, "light", True),
    ("cuda", ConvNet, BatchAugment(degrees=5), True),
    ("cuda", ConvNet, v2.RandomRotation(5), False),  # Python-side randomness
    ("cuda", torch.nn.Linear, None, False),  # a custom module may synchronise
    ("cpu", ConvNet, None, False),
])
def test_cuda_graphs_only_for_steps_they_can_record(device, module, augment, expected):
    assert graphs_apply(torch.device(device), module, augment) is expected
