"""The thread policy (sklearn_cnn._training.threads): its choice, in fits and predictions.

Tests of the choice give the policy a scripted load of other processes (the
machine running the suite may be busy or quiet); one test makes the load
real, with busy processes on every CPU.
"""

import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from joblib import cpu_count
from sklearn.model_selection import cross_validate
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from sklearn_cnn import CNNClassifier
from sklearn_cnn._cpu import affinity, usable_cores
from sklearn_cnn._training import threads
from sklearn_cnn._training.threads import (
    ThreadPolicy,
    caller_threads,
    choose_threads,
    settle_n_jobs,
    torch_default_threads,
    work_threads,
)

CORES = usable_cores()


class ScriptedLoad:
    """Free cores from a script, one value per measurement; the last one repeats."""

    measurable = True

    def sample(self):
        pass

    def __init__(self, *free):
        self.script = list(free)

    def free(self, usable, *, within, wait):
        value = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return min(float(usable), value)


@pytest.fixture
def idle(monkeypatch):
    monkeypatch.setattr(threads, "LOAD", ScriptedLoad(float(CORES)))


@pytest.fixture
def busy(monkeypatch):
    monkeypatch.setattr(threads, "LOAD", ScriptedLoad(0.0))


@pytest.fixture
def restore_threads():
    """Put this thread's torch count back after a test that sets it."""
    count = torch.get_num_threads()
    yield
    torch.set_num_threads(count)


@pytest.fixture(scope="module")
def big_step():
    """32x32 images and the default network in batches of 128: a step that feeds
    more threads (84) than any machine has cores."""
    rng = np.random.default_rng(0)
    X, y = rng.random((256, 32, 32), dtype=np.float32), np.arange(256) % 4
    return X, y, dict(max_epochs=2, batch_size=128, augment=None, device="cpu", random_state=0)


class RecordThreads(Callback):
    """torch's thread count in the fitting thread at every training batch; optionally
    meets other fits at a barrier when each epoch begins."""

    reads_batch_losses = False  # keeps CNNNet's fast epoch loop

    def __init__(self, barrier=None):
        self.barrier = barrier

    def __deepcopy__(self, memo):  # the fit's copy meets the same barrier
        return type(self)(self.barrier)

    def initialize(self):
        self.counts_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        if self.barrier is not None:
            self.barrier.wait(timeout=60)

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.counts_.append(torch.get_num_threads())


def recorded(clf):
    return dict(clf.net_.callbacks_)["record"].counts_


@pytest.mark.parametrize(("work", "usable", "free", "sharing", "expected"), [
    (None, 2, 1.97, 1, 2),  # idle
    (None, 2, 0.0, 1, 1),  # two busy processes
    (None, 2, 1.33, 1, 1),  # one, measured beside two threads of ours
    (None, 2, 1.75, 1, 2),  # a process at a quarter of a core
    (None, 2, None, 1, 2),  # load unknown: all usable cores
    (None, 8, 8.0, 2, 4),  # two fits in threads of the process share
    (None, 2, 2.0, 3, 1),  # never none
    (1, 8, 8.0, 1, 1),  # a step too small to split
    (3, 8, 8.0, 1, 3),
    (40, 8, 9.5, 1, 8),  # never more than the usable cores
])
def test_the_choice(work, usable, free, sharing, expected):
    assert choose_threads(work=work, usable=usable, free=free, sharing=sharing) == expected


def test_n_jobs_as_joblib_reads_it():
    assert [settle_n_jobs(n, 8) for n in (None, 1, 3, -1, -2, -8, -20)] == [
        None, 1, 3, 8, 7, 1, 1]


def test_one_thread_per_50_million_operations_of_a_step():
    assert [work_threads(f) for f in (1e6, 99e6, 100e6, 4.2e9, None)] == [1, 1, 2, 84, None]


@pytest.mark.parametrize("n_jobs", [0, 1.5, "all"])
def test_bad_n_jobs_is_refused(n_jobs, digits):
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter"):
        CNNClassifier(n_jobs=n_jobs).fit(*digits)


def test_a_fit_trains_on_the_free_cores_its_step_feeds(idle, big_step):
    X, y, params = big_step
    clf = CNNClassifier(**params).fit(X, y)
    assert clf.net_.step_work_ >= 84  # 4.2 billion operations a step
    assert clf.history_[:, "threads"] == [CORES, CORES] and clf.n_threads_ == CORES


def test_a_small_step_trains_on_one_thread_on_an_idle_machine(idle, digits, fast_params):
    clf = CNNClassifier(**{**fast_params, "device": "cpu"}).fit(*digits)
    assert clf.net_.step_work_ == 1 and set(clf.history_[:, "threads"]) == {1}


def test_busy_cores_leave_one_thread(busy, big_step):
    X, y, params = big_step
    assert CNNClassifier(**params).fit(X, y).history_[:, "threads"] == [1, 1]


def test_the_count_follows_the_load_epoch_by_epoch(monkeypatch, big_step):
    X, y, params = big_step
    # Measured before the first step, then as each later epoch begins.
    monkeypatch.setattr(threads, "LOAD", ScriptedLoad(CORES, 0.0, 0.0, CORES))
    clf = CNNClassifier(**{**params, "max_epochs": 4}).fit(X, y)
    assert clf.history_[:, "threads"] == [CORES, 1, 1, CORES] and clf.n_threads_ == CORES


def test_busy_processes_on_every_cpu_leave_one_thread(big_step):
    if not threads.LOAD.measurable:
        pytest.skip("the load of other processes is measured on Linux only")
    X, y, params = big_step
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in affinity()]
    try:
        time.sleep(1.2)  # spinning for longer than the load's window (RECENT) reaches back
        clf = CNNClassifier(**{**params, "max_epochs": 1}).fit(X, y)
    finally:
        for spinner in spinners:
            spinner.kill()
    assert clf.history_[:, "threads"] == [1]


@pytest.mark.parametrize(("n_jobs", "expected"), [(1, 1), (2, 2), (-1, CORES)])
def test_n_jobs_pins_the_count_whatever_the_load(busy, big_step, n_jobs, expected):
    X, y, params = big_step
    clf = CNNClassifier(**params, n_jobs=n_jobs, callbacks=[("record", RecordThreads())])
    clf.fit(X, y)
    assert clf.history_[:, "threads"] == [expected] * 2
    assert recorded(clf) == [expected] * 4  # what torch computed on, batch by batch


def test_a_count_the_caller_set_is_kept(idle, big_step, restore_threads):
    X, y, params = big_step
    torch.set_num_threads(1)
    assert caller_threads() == 1
    clf = CNNClassifier(**params).fit(X, y)
    assert clf.history_[:, "threads"] == [1, 1] and torch.get_num_threads() == 1


def test_omp_num_threads_is_the_callers_setting(busy, big_step, monkeypatch):
    # As in a worker of joblib's loky backend, which sets it to cores // n_jobs.
    X, y, params = big_step
    monkeypatch.setenv("OMP_NUM_THREADS", str(torch.get_num_threads()))
    assert caller_threads() == torch.get_num_threads()
    clf = CNNClassifier(**params).fit(X, y)  # busy, yet the caller's count
    assert clf.history_[:, "threads"] == [torch.get_num_threads()] * 2


class Failing(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("a callback fails")


def test_the_count_is_restored_after_fit_predict_and_a_failed_fit(big_step):
    X, y, params = big_step
    before = torch.get_num_threads()
    other = 1 if before > 1 else 2
    clf = CNNClassifier(**params, n_jobs=other).fit(X, y)
    assert clf.history_[:, "threads"] == [other] * 2 and torch.get_num_threads() == before
    clf.predict_proba(X)
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="a callback fails"):
        CNNClassifier(**params, n_jobs=other, callbacks=[Failing()]).fit(X, y)
    assert torch.get_num_threads() == before


def test_two_fits_in_threads_each_keep_their_own_count(big_step):
    X, y, params = big_step
    barrier = threading.Barrier(2)  # both fits train at once, epoch by epoch
    before = torch.get_num_threads()

    def fit(n_jobs):
        return CNNClassifier(**params, n_jobs=n_jobs,
                             callbacks=[("record", RecordThreads(barrier))]).fit(X, y)

    results = {}
    workers = [threading.Thread(target=lambda n=n: results.setdefault(n, fit(n)))
               for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert recorded(results[1]) == [1] * 4 and recorded(results[2]) == [2] * 4
    assert torch.get_num_threads() == before
    # And each is the model it would be alone, at its count.
    for n_jobs, clf in results.items():
        alone = CNNClassifier(**params, n_jobs=n_jobs).fit(X, y)
        np.testing.assert_array_equal(clf.predict_proba(X), alone.predict_proba(X))


def test_fits_in_threads_share_the_free_cores(idle, big_step):
    X, y, params = big_step
    barrier = threading.Barrier(2)
    results = []
    workers = [threading.Thread(target=lambda: results.append(CNNClassifier(
        **params, callbacks=[("record", RecordThreads(barrier))]).fit(X, y)))
        for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    shared = choose_threads(work=None, usable=CORES, free=CORES, sharing=2)
    assert [clf.history_[0, "threads"] for clf in results] == [shared, shared]
    assert CNNClassifier(**params).fit(X, y).history_[:, "threads"] == [CORES] * 2  # alone


def test_a_thread_that_starts_while_a_fit_runs_gets_torchs_default_back(restore_threads):
    default = torch_default_threads()
    other = 1 if default > 1 else 2
    seen = {}

    def fresh_thread():
        seen["start"] = torch.get_num_threads()  # torch's last count set, another's
        seen["caller"] = caller_threads()
        with ThreadPolicy() as policy:
            policy.apply(None)
        seen["after"] = torch.get_num_threads()

    with ThreadPolicy(n_jobs=other) as policy:
        policy.apply(None)
        worker = threading.Thread(target=fresh_thread)
        worker.start()
        worker.join()
    assert seen == {"start": other, "caller": None, "after": default}


class ThreadsAtForward(torch.nn.Module):
    """A user's network that records torch's thread count at every forward pass."""

    def __init__(self, input_shape, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(int(np.prod(input_shape)), n_classes)
        self.counts = []

    def forward(self, x):
        self.counts.append(torch.get_num_threads())
        return self.linear(x.flatten(1))


def test_predictions_follow_n_jobs(digits, fast_params, busy):
    X, y = digits
    before = torch.get_num_threads()
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "module": ThreadsAtForward,
                           "max_epochs": 1, "n_jobs": 2}).fit(X, y)
    clf.module_.counts.clear()
    clf.predict(X)
    assert set(clf.module_.counts) == {2}
    clf.set_params(n_jobs=1).predict(X)
    assert clf.module_.counts[-1] == 1 and torch.get_num_threads() == before


def test_a_prediction_takes_the_threads_its_batches_feed(idle, big_step, digits, fast_params):
    X, y, params = big_step
    big = CNNClassifier(**params).fit(X, y)
    small = CNNClassifier(**{**fast_params, "device": "cpu"}).fit(*digits)
    counts = []
    for clf in (big, small):
        clf.net_.inference_module().register_forward_hook(
            lambda *args: counts.append(torch.get_num_threads()))
    big.predict(X)  # 256 images of 11 million operations each
    small.predict(digits[0][:10])
    assert counts == [CORES, 1]


def test_each_epochs_count_is_in_the_history_not_in_the_table(idle, digits, fast_params,
                                                              capsys):
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 2, "verbose": 1})
    clf.fit(*digits)
    header = capsys.readouterr().out.splitlines()[0].split()
    assert "threads" not in header and clf.history_[:, "threads"] == [1, 1]


@pytest.mark.slow
def test_workers_of_a_parallel_search_take_the_count_joblib_gives_them(big_step):
    # joblib's loky workers get OMP_NUM_THREADS = cores // n_jobs, the caller's setting.
    X, y, params = big_step
    result = cross_validate(CNNClassifier(**{**params, "max_epochs": 1}), X, y, cv=2,
                            n_jobs=2, return_estimator=True)
    assert [clf.n_threads_ for clf in result["estimator"]] == [max(1, cpu_count() // 2)] * 2
