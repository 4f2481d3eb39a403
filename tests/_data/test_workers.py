"""num_workers: image files decoded by DataLoader worker processes."""

import multiprocessing
import os

import numpy as np
import pytest
import torch
from _helpers import image_files
from sklearn.utils._param_validation import InvalidParameterError
from torch.utils.data import DataLoader, Dataset

from sklearn_cnn import CNNClassifier
from sklearn_cnn._data import workers as _loading
from sklearn_cnn._data.files import iter_file_batches
from sklearn_cnn._data.workers import load_file_batches, loader_kwargs, settle_num_workers
from sklearn_cnn._estimator import base as _base
from sklearn_cnn._training.batches import TensorBatches


@pytest.fixture
def digit_files(tmp_path, digit_images):
    images, y = digit_images
    return image_files(tmp_path, images[:120], sizes=(8,)), y[:120]


def _state(clf) -> dict:
    return {k: v.clone() for k, v in clf.module_.state_dict().items()}


def test_workers_give_the_same_model(digit_files, fast_params):
    # Augmentation draws from the fit's generator between batches, and a
    # hold-out goes through the validation DataLoader: neither may depend
    # on how far ahead the workers decode.
    paths, y = digit_files
    params = {**fast_params, "max_epochs": 2, "device": "cpu", "augment": "light",
              "validation_fraction": 0.2}
    models = [CNNClassifier(**params, num_workers=w).fit(paths, y) for w in (0, 2)]
    assert models[1].net_.iterator_train__num_workers == 2
    first, second = (_state(clf) for clf in models)
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key
    np.testing.assert_array_equal(models[0].history_[:, "valid_loss"],
                                  models[1].history_[:, "valid_loss"])


def test_predictions_with_workers_equal_without(digit_files, fast_params, monkeypatch):
    paths, y = digit_files
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1, "device": "cpu"}, num_workers=0)
    clf.fit(paths, y)
    monkeypatch.setattr(_base, "INFERENCE_BATCH_SIZE", 32)  # several batches
    expected = clf.predict_proba(paths)
    np.testing.assert_array_equal(clf.set_params(num_workers=2).predict_proba(paths), expected)


def test_file_batches_keep_their_size_and_order(digit_files):
    paths = list(digit_files[0][:50])
    batches = load_file_batches(paths, "L", (8, 8), 16, num_workers=2)
    assert isinstance(batches, DataLoader) and batches.num_workers == 2
    with_workers = list(batches)
    assert [len(b) for b in with_workers] == [16, 16, 16, 2]
    torch.testing.assert_close(torch.cat(with_workers),
                               torch.cat(list(iter_file_batches(paths, "L", (8, 8), 16))),
                               rtol=0, atol=0)
    # No workers: decoded in this process, as the batches are asked for.
    assert not isinstance(load_file_batches(paths, "L", (8, 8), 16), DataLoader)


def test_augmentation_sees_file_batches(digit_files, fast_params):
    # The augmentation runs on the training batches of files too.
    paths, y = digit_files
    seen = []

    def augment(image):
        seen.append(image.shape)
        return image

    clf = CNNClassifier(**{**fast_params, "max_epochs": 1, "device": "cpu", "augment": augment},
                        num_workers=1)
    clf.fit(paths, y)
    assert seen == [(1, 8, 8)] * len(paths)


@pytest.mark.parametrize(("cores", "n_files", "expected"), [
    (1, 100_000, 0), (2, 100_000, 0), (4, 100, 0), (4, 10_000, 2), (6, 512, 3),
    (16, 10_000, 4),
])
def test_auto_resolves_by_cores_and_files(cores, n_files, expected):
    assert settle_num_workers("auto", n_files, cores=cores) == expected
    assert settle_num_workers(3, n_files, cores=cores) == 3  # an int is kept


def test_auto_in_a_fit(digit_files, fast_params, monkeypatch):
    paths, y = digit_files
    params = {**fast_params, "max_epochs": 1, "device": "cpu"}
    clf = CNNClassifier(**params).fit(paths, y)  # 120 files: too few for workers
    assert clf.num_workers == "auto" and clf.net_.iterator_train__num_workers == 0
    monkeypatch.setattr(_loading, "MIN_FILES_FOR_WORKERS", 100)
    monkeypatch.setattr(_loading, "available_cores", lambda: 4)
    assert CNNClassifier(**params).fit(paths, y).net_.iterator_train__num_workers == 2


@pytest.mark.parametrize("value", [-1, 1.5, "many", None])
def test_bad_num_workers_is_refused(value, digits):
    X, y = digits
    expected = r"'num_workers' parameter .*'auto'.* int in the range \[0, inf\)"
    with pytest.raises(InvalidParameterError, match=expected):
        CNNClassifier(num_workers=value).fit(X, y)


def test_loader_kwargs_pin_memory_on_cuda_only():
    assert loader_kwargs(0, "cpu") == {"num_workers": 0, "pin_memory": False}
    cuda = loader_kwargs(2, "cuda")
    assert cuda["pin_memory"] and cuda["num_workers"] == 2
    assert cuda["worker_init_fn"] is _loading.init_worker


class _Threads(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return torch.get_num_threads()


def test_workers_run_torch_on_one_thread():
    loader = DataLoader(_Threads(), batch_size=None, **loader_kwargs(2, "cpu"))
    assert list(loader) == [1, 1]


class _Pids(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return torch.tensor([os.getpid(), i])


def test_workers_persist_from_epoch_to_epoch(digit_files, fast_params):
    # The DataLoader and its workers are the iterator's, which skorch keeps
    # for the whole fit; each epoch in a new order.
    # Processes other tests left running (joblib's reusable loky workers) are not ours.
    running = set(multiprocessing.active_children())
    generator = torch.Generator().manual_seed(0)
    batches = TensorBatches(_Pids(), batch_size=4, shuffle=True, generator=generator,
                            **loader_kwargs(2, "cpu"))
    epochs = [torch.cat(list(batches)) for _ in range(3)]
    pids = {int(pid) for epoch in epochs for pid in epoch[:, 0]}
    assert len(pids) == 2 and os.getpid() not in pids  # the same two workers throughout
    orders = [epoch[:, 1].tolist() for epoch in epochs]
    assert all(sorted(order) == list(range(8)) for order in orders)
    assert orders[0] != orders[1] != orders[2]
    del batches  # and its workers
    assert set(multiprocessing.active_children()) <= running
    # skorch builds one iterator per fit: the workers stop with the fit.
    paths, y = digit_files
    clf = CNNClassifier(**{**fast_params, "max_epochs": 3, "device": "cpu"}, num_workers=1)
    clf.fit(paths, y)
    assert clf.net_.iterator_train__num_workers == 1
    assert set(multiprocessing.active_children()) <= running
