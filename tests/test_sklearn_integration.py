"""CNNClassifier inside the scikit-learn tools a user already knows."""

import pickle

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.metrics import classification_report, f1_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cnn import CNNClassifier


def test_grid_search_over_kernel_activation_optimizer_in_parallel(digits, fast_params):
    X, y = digits
    grid = {"kernel_size": [3, 5], "activation": ["relu", "tanh"], "optimizer": ["adam", "sgd"]}
    search = GridSearchCV(CNNClassifier(**fast_params), grid, cv=2, n_jobs=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert search.best_score_ > 0.6
    assert set(search.best_params_) == set(grid)
    assert isinstance(search.best_estimator_, CNNClassifier)
    assert search.best_estimator_.kernel_size == search.best_params_["kernel_size"]
    assert search.score(X, y) > 0.6


def test_cross_val_score(digits, fast_params):
    X, y = digits
    scores = cross_val_score(CNNClassifier(**fast_params), X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.min() > 0.6


def test_clone_of_fitted_model_is_unfitted_with_same_params(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params).fit(X, y)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params()
    assert not hasattr(twin, "net_")
    np.testing.assert_array_equal(twin.fit(X, y).predict_proba(X), clf.predict_proba(X))


def test_pickle_and_joblib_round_trips_keep_predictions(digits, tmp_path, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params).fit(X, y)
    expected = clf.predict_proba(X)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    path = tmp_path / "clf.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert loaded.classes_.tolist() == clf.classes_.tolist()
    # The restored model trains on.
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == clf.n_iter_ + 1


def test_pipeline_with_a_scaler_on_flat_data(digits, fast_params):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), CNNClassifier(**fast_params)).fit(X[:300], y[:300])
    assert pipe.score(X[300:], y[300:]) > 0.6
    assert pipe.predict_proba(X[:2]).shape == (2, 10)
    grid = GridSearchCV(pipe, {"cnnclassifier__kernel_size": [3, 5]}, cv=2).fit(X, y)
    assert grid.best_params_["cnnclassifier__kernel_size"] in (3, 5)


def test_metrics_on_predictions(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 10}).fit(X[:300], y[:300])
    y_pred = clf.predict(X[300:])
    report = classification_report(y[300:], y_pred, output_dict=True)
    assert report["accuracy"] == clf.score(X[300:], y[300:])
    assert 0.8 < f1_score(y[300:], y_pred, average="macro") <= 1
