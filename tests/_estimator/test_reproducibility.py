"""What docs/reproducibility.md promises about thread counts and n_jobs, on the CPU."""

import numpy as np
import pytest
import torch
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV

from sklearn_cnn import CNNClassifier


@pytest.fixture
def one_thread():
    """torch on one intra-op thread for the test, then as it was."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_fit_leaves_the_thread_count_alone(digits, fast_params):
    threads = torch.get_num_threads()
    CNNClassifier(**{**fast_params, "device": "cpu"}).fit(*digits)
    assert torch.get_num_threads() == threads


def test_same_thread_count_gives_identical_models(digits, fast_params, one_thread):
    X, y = digits
    params = {**fast_params, "device": "cpu"}
    first = CNNClassifier(**params).fit(X, y).predict_proba(X)
    second = CNNClassifier(**params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_one_thread_gives_the_same_search_at_any_n_jobs(digits, fast_params, one_thread):
    """The recipe of docs/reproducibility.md: one thread everywhere, identical scores."""
    X, y = digits[0][:200], digits[1][:200]
    estimator = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 2})
    grid = {"kernel_size": [3, 5]}
    scores = []
    for n_jobs, backend in ((1, "loky"), (2, "loky")):
        with parallel_config(backend=backend, inner_max_num_threads=1):
            search = GridSearchCV(estimator, grid, cv=2, n_jobs=n_jobs,
                                  scoring="neg_log_loss").fit(X, y)
        scores.append([search.cv_results_[f"split{i}_test_score"] for i in range(2)])
    np.testing.assert_array_equal(scores[0], scores[1])
