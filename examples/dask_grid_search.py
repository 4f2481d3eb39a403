"""
A grid search whose fits run on a Dask cluster
==============================================

joblib, which scikit-learn's searches use to run fits in parallel, has a
"dask" backend: inside ``parallel_config(backend="dask")`` every fit of the
search is a task on the cluster the ``Client`` is connected to. Here the
cluster is a ``LocalCluster`` of two worker processes on this machine; on a
real cluster, ``Client("tcp://scheduler:8786")`` is the only line to change
(docs/cluster.md: the commands that start a scheduler and one worker per GPU).

Each worker runs one task at a time (``threads_per_worker=1``): on a GPU
machine, one fit per GPU. ``device="auto"`` makes each fit use its worker's
GPU, or the CPU where there is none.

Run: ``python examples/dask_grid_search.py``
"""

import torch
from dask.distributed import Client, LocalCluster
from joblib import parallel_config
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_cnn import CNNClassifier

# Worker processes start by importing this file again (Python's "spawn"), so
# the work waits behind the __main__ guard, as with multiprocessing.
if __name__ == "__main__":
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        # One torch thread per fit, as the nanny's OMP_NUM_THREADS=1 already
        # gives: fits repeat exactly on any cluster (docs/reproducibility.md).
        client.run(torch.set_num_threads, 1)
        threads = client.run(torch.get_num_threads)
        print(f"workers: {len(threads)}, {max(threads.values())} thread each")

        search = GridSearchCV(
            CNNClassifier(max_epochs=5, random_state=0),
            {"kernel_size": [3, 5]},
            cv=3,
            n_jobs=-1,  # as many fits at once as the cluster has worker threads
        )
        with parallel_config(backend="dask"):
            search.fit(X_train, y_train)  # the refit on all of X_train runs here

    print(f"best params: {search.best_params_}")
    print(f"best cross-validated accuracy: {search.best_score_:.4f}")
    print(f"held-out accuracy: {search.score(X_test, y_test):.4f}")
