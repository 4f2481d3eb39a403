"""The randomness of one fit, beside fits in other threads (sklearn_cnn._training.randomness)."""

import math
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed
from skorch.callbacks import Callback
from torch import nn

from sklearn_cnn import CNNClassifier
from sklearn_cnn._model.convnet import Dropout
from sklearn_cnn._model.generator import DrawsFromGenerator
from sklearn_cnn._training.randomness import (
    ITERATOR_GENERATOR,
    SharedLock,
    draw_seed,
    draws_from_own_generator,
    seeded,
)


class DropoutNet(nn.Module):
    """A custom network whose dropout draws from torch's global generator."""

    def __init__(self, input_shape, n_classes):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), 32),
                                    nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, n_classes))

    def forward(self, x):
        return self.layers(x)


@pytest.fixture(scope="module")
def random_params(fast_params):
    """``fast_params`` with dropout and augmentation on, on the CPU, 2 epochs.

    On one thread: fits in threads share the cores, so left to choose, each
    would train on fewer threads than one alone (another model).
    """
    return {**fast_params, "dropout": 0.3, "augment": "light", "device": "cpu", "max_epochs": 2,
            "n_jobs": 1}


#: The fits run together: (random_state, module), the first two seeded.
BESIDE = {
    "seeded": [(0, None), (1, None)],
    "unseeded_beside": [(0, None), (1, None), (None, None)],
    "custom_module": [(0, DropoutNet), (1, DropoutNet), (None, DropoutNet), (2, None)],
}


def _proba(X, y, params, random_state, module):
    clf = CNNClassifier(**{**params, "random_state": random_state, "module": module})
    return clf.fit(X, y).predict_proba(X)


@pytest.mark.parametrize("case", BESIDE)
def test_seeded_fits_in_threads_match_sequential_fits(digits, random_params, case):
    X, y = digits[0][:256], digits[1][:256]
    fits = BESIDE[case]
    in_threads = Parallel(n_jobs=len(fits), backend="threading")(
        delayed(_proba)(X, y, random_params, seed, module) for seed, module in fits)
    # One after the other, in one thread: as the fits in threads are, outside
    # the main thread (whose OpenMP team trains much slower on a busy machine).
    with ThreadPoolExecutor(max_workers=1) as sequential:
        for (seed, module), proba in zip(fits, in_threads, strict=True):
            if seed is not None:
                alone = sequential.submit(_proba, X, y, random_params, seed, module).result()
                np.testing.assert_array_equal(proba, alone)


@pytest.mark.parametrize("module", [None, DropoutNet])
def test_fit_leaves_the_global_generator_alone(digits, random_params, module):
    X, y = digits
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    CNNClassifier(**{**random_params, "module": module, "max_epochs": 1}).fit(X[:64], y[:64])
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_unseeded_fits_follow_torch_manual_seed(digits, random_params):
    X, y = digits
    probas = []
    for _ in range(2):
        torch.manual_seed(5)
        clf = CNNClassifier(**{**random_params, "random_state": None})
        probas.append(clf.fit(X[:128], y[:128]).predict_proba(X[:10]))
    np.testing.assert_array_equal(*probas)


class WatchesDraws(Callback):
    """Records what the net's training draws from (not the generators: it is pickled)."""

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            iterator = getattr(net, ITERATOR_GENERATOR, None)
            self.iterator_has_one = isinstance(iterator, torch.Generator)
            self.modules_have_it = [m.generator is iterator for m in (
                *net.module_.modules(), net.augment_) if isinstance(m, DrawsFromGenerator)]
            self.pickled_with_it = b"Generator" in pickle.dumps(net)  # skorch's Checkpoint


def test_the_generator_is_set_for_the_fit_only(digits, random_params):
    X, y = digits
    clf = CNNClassifier(**{**random_params, "max_epochs": 1, "callbacks": [WatchesDraws()]})
    clf.fit(X[:64], y[:64])
    sees = next(cb for _, cb in clf.net_.callbacks_ if isinstance(cb, WatchesDraws))
    assert sees.iterator_has_one
    assert sees.modules_have_it == [True] * 3  # ConvNet, its Dropout, BatchAugment
    assert not sees.pickled_with_it
    assert not hasattr(clf.net_, ITERATOR_GENERATOR)
    assert all(m.generator is None for m in (*clf.module_.modules(), clf.net_.augment_)
               if isinstance(m, DrawsFromGenerator))
    assert b"Generator" not in pickle.dumps(clf)


def test_generators_never_travel_with_a_module():
    dropout = Dropout(0.5)
    dropout.generator = torch.Generator().manual_seed(0)
    assert b"Generator" in pickle.dumps(dropout.generator)  # what the next line looks for
    assert b"Generator" not in pickle.dumps(dropout)
    assert pickle.loads(pickle.dumps(dropout)).generator is None


def test_who_draws_from_its_own_generator(digits, random_params):
    X, y = digits[0][:64], digits[1][:64]

    def net(**params):
        return CNNClassifier(**{**random_params, "max_epochs": 1, **params}).fit(X, y).net_

    assert draws_from_own_generator(net())
    assert not draws_from_own_generator(net(module=DropoutNet))
    assert not draws_from_own_generator(net(augment=lambda image: image))
    legacy = net()  # a pickle of an earlier version: the built-in network with nn.Dropout
    legacy.module_.classifier[3] = nn.Dropout(0.3)
    assert not draws_from_own_generator(legacy)


def test_seeded_repeats_and_restores_global_state():
    torch.manual_seed(7)
    outside = torch.rand(2)
    torch.manual_seed(7)
    with seeded(3, torch.device("cpu")):
        first = torch.rand(2)
    with seeded(3, torch.device("cpu")):
        second = torch.rand(2)
    torch.testing.assert_close(first, second)
    torch.testing.assert_close(torch.rand(2), outside)


def test_draw_seed():
    assert draw_seed(None) is None
    assert draw_seed(0) == draw_seed(0)
    assert draw_seed(0) != draw_seed(1)


def _in_thread(hold, release: threading.Event) -> threading.Event:
    """Hold ``hold()`` in a thread until ``release`` is set; the event: it holds it."""
    entered = threading.Event()

    def run():
        with hold():
            entered.set()
            release.wait()

    threading.Thread(target=run, daemon=True).start()
    return entered


def test_shared_lock_modes():
    lock = SharedLock()
    done = threading.Event()
    try:
        assert _in_thread(lock.shared, done).wait(5)
        assert _in_thread(lock.shared, done).wait(5)  # beside another shared holder
        exclusive = _in_thread(lock.exclusive, done)
        assert not exclusive.wait(0.2)  # waits for the shared holders
        assert not _in_thread(lock.shared, done).wait(0.2)  # and new ones wait behind it
    finally:
        done.set()
    assert exclusive.wait(5)


def test_shared_lock_is_reentrant():
    lock = SharedLock()
    with lock.exclusive(), lock.exclusive(), lock.shared():
        pass
    with lock.shared(), lock.exclusive():
        pass
    release = threading.Event()
    assert _in_thread(lock.exclusive, release).wait(5)  # released: free again
    release.set()
