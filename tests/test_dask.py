"""Searches on a dask.distributed cluster: the same results as loky, a GPU per worker.

A real ``LocalCluster`` of two worker processes, one thread each, runs
GridSearchCV and RandomizedSearchCV through joblib's "dask" backend; loky with
``n_jobs=2`` runs the same searches. Every fit, on either backend, runs torch
on one thread: then the two searches fit the same models and score every
split identically (docs/reproducibility.md, "GridSearchCV and cross_val_score
across n_jobs"). docs/cluster.md is the user's side of this.
"""

import os
import pathlib
import runpy

import numpy as np
import pytest
import torch
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from sklearn_cnn import CNNClassifier
from sklearn_cnn._training.device import settle_device

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402  (installed with distributed)

pytestmark = pytest.mark.slow  # three clusters and a loky pool: a minute or two on 2 cores

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"
SEARCHES = {
    "grid": lambda clf: GridSearchCV(clf, {"kernel_size": [3, 5]}, cv=2, scoring="neg_log_loss"),
    "randomized": lambda clf: RandomizedSearchCV(
        clf, {"kernel_size": [3, 5], "lr": [0.003, 0.01, 0.03]}, n_iter=3, cv=2,
        scoring="neg_log_loss", random_state=0),
}


@pytest.fixture(scope="module", autouse=True)
def environ_restored():
    """Put back what starting a nanny sets in this process's own environment.

    Before it spawns a worker, a nanny sets dask's
    "distributed.nanny.pre-spawn-environ" (OMP_NUM_THREADS=1, ...) and
    PYTHONHASHSEED in ``os.environ`` of the process that starts the cluster;
    the tests after these must not inherit it.
    """
    names = [*dask.config.get("distributed.nanny.pre-spawn-environ"), "PYTHONHASHSEED"]
    with pytest.MonkeyPatch.context() as patch:
        for name in names:
            if name in os.environ:
                patch.setenv(name, os.environ[name])
            else:
                patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def client():
    """A Client of two worker processes with one thread each, torch on one thread."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            # On a loaded machine the workers may not have registered yet.
            client.wait_for_workers(2, timeout=120)
            # The nanny starts each worker with OMP_NUM_THREADS=1 and
            # MKL_NUM_THREADS=1 (dask's "distributed.nanny.pre-spawn-environ"),
            # so torch runs one thread there; say so rather than rely on it.
            client.run(torch.set_num_threads, 1)
            yield client


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:200], y[:200], X[200:], y[200:]


def fit_on(backend, search, X, y):
    """``search`` fitted through joblib's ``backend``, every fit on one torch thread."""
    # loky: each worker process gets one thread (inner_max_num_threads);
    # dask: the client fixture set one in each worker.
    options = {"inner_max_num_threads": 1} if backend == "loky" else {}
    with parallel_config(backend=backend, **options):
        return search.set_params(n_jobs=-1 if backend == "dask" else 2).fit(X, y)


def test_tasks_run_torch_on_one_thread(client):
    """What joblib's dask tasks run in: the worker's executor thread, one torch thread."""
    threads = [client.submit(torch.get_num_threads, pure=False, workers=[worker]).result()
               for worker in client.scheduler_info()["workers"]]
    assert threads == [1, 1]


@pytest.mark.parametrize("kind", sorted(SEARCHES))
def test_search_on_dask_matches_loky(client, data, fast_params, kind):
    X, y, X_test, y_test = data
    make = SEARCHES[kind]
    clf = CNNClassifier(**{**fast_params, "device": "cpu"})
    on_dask = fit_on("dask", make(clf), X, y)
    on_loky = fit_on("loky", make(clf), X, y)

    assert on_dask.cv_results_["params"] == on_loky.cv_results_["params"]
    assert len(on_dask.cv_results_["params"]) >= 2
    for split in ("split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(on_dask.cv_results_[split], on_loky.cv_results_[split])
    # Different candidates, different models: the comparison above has teeth.
    assert len(set(on_dask.cv_results_["split0_test_score"])) > 1
    assert on_dask.best_params_ == on_loky.best_params_

    best = on_dask.best_estimator_  # refit in this process, on all of X
    assert best.n_iter_ == fast_params["max_epochs"]
    assert set(best.predict(X_test)) <= set(best.classes_)
    assert best.score(X_test, y_test) > 0.5  # 10 classes: chance is 0.1


def report_device():
    """Run on a worker: its CUDA_VISIBLE_DEVICES, the GPUs torch sees, what "auto" picks."""
    return (os.environ.get("CUDA_VISIBLE_DEVICES"), torch.cuda.device_count(),
            str(settle_device("auto")))


def test_auto_device_is_the_workers_gpu(client):
    """One worker per GPU: CUDA_VISIBLE_DEVICES=k, so device="auto" is GPU k, as cuda:0.

    The workers start as ``CUDA_VISIBLE_DEVICES=k dask worker ...`` starts them
    (and as dask-cuda's LocalCUDACluster does): a nanny with that variable in
    its ``env``. Each worker must see only its own GPU, or none where the
    machine has no GPU k (on a CPU-only machine: none, and "auto" is the CPU).
    """
    workers = {f"gpu-{k}": {"cls": distributed.Nanny,
                            "options": {"nthreads": 1, "env": {"CUDA_VISIBLE_DEVICES": str(k)}}}
               for k in range(2)}
    scheduler = {"cls": distributed.Scheduler, "options": {"dashboard_address": ":0"}}
    with distributed.SpecCluster(workers=workers, scheduler=scheduler) as cluster:
        with distributed.Client(cluster) as one_gpu_each:
            by_name = {info["name"]: address for address, info
                       in one_gpu_each.scheduler_info()["workers"].items()}
            reports = {name: one_gpu_each.run(report_device, workers=[address])[address]
                       for name, address in by_name.items()}

    # This process sees every GPU when nothing restricts it: then worker k
    # sees GPU k exactly when the machine has one.
    gpus = None if "CUDA_VISIBLE_DEVICES" in os.environ else torch.cuda.device_count()
    for k in range(2):
        visible, count, device = reports[f"gpu-{k}"]
        assert visible == str(k)
        assert count <= 1
        assert device == ("cuda" if count == 1 else "cpu")
        if gpus is not None:
            assert count == int(k < gpus)
    # The search cluster, started with no CUDA_VISIBLE_DEVICES, resolves "auto"
    # as this process does.
    here = str(settle_device("auto"))
    assert {report[2] for report in client.run(report_device).values()} == {here}


def test_dask_grid_search_example(capsys):
    runpy.run_path(str(EXAMPLES / "dask_grid_search.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "workers: 2, 1 thread each" in out
    assert "best params: {'kernel_size':" in out
    assert float(out.split("best cross-validated accuracy:", 1)[1].split()[0]) > 0.8
    assert float(out.rsplit("held-out accuracy:", 1)[1]) > 0.8
