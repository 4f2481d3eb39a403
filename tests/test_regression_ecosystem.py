"""CNNRegressor with the rest of the ecosystem: MAPIE intervals, ensembles, displays, Grad-CAM."""

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import BaggingRegressor, StackingRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import PredictionErrorDisplay
from sklearn.pipeline import make_pipeline

from sklearn_cnn import CNNEmbedding, CNNRegressor

matplotlib.use("Agg")

PARAMS = {"conv_channels": (8, 16), "dense_units": (32,), "max_epochs": 8, "random_state": 0,
          "device": "cpu", "n_jobs": 1}


@pytest.fixture(scope="module")
def data():
    """Digits in random order (writers mixed: exchangeable), target 1000 x label."""
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    return X[order], 1000.0 * y[order]


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return CNNRegressor(**PARAMS).fit(X[:900], y[:900])


def test_split_conformal_intervals_reach_their_coverage(data, fitted):
    mapie = pytest.importorskip("mapie", reason="MAPIE is in the dev extra")
    from mapie.metrics.regression import regression_coverage_score
    from mapie.regression import SplitConformalRegressor

    X, y = data
    rng = np.random.default_rng(1)
    rest = np.arange(900, len(y))
    coverages = []
    for _ in range(20):  # averaged over calibration/test halves of the images left
        order = rng.permutation(rest)
        cal, test = order[: len(order) // 2], order[len(order) // 2:]
        conformal = SplitConformalRegressor(fitted, confidence_level=0.9, prefit=True)
        conformal.conformalize(X[cal], y[cal])
        _, intervals = conformal.predict_interval(X[test])
        coverages.append(regression_coverage_score(y[test], intervals)[0])
    assert mapie.__version__ and 0.87 <= np.mean(coverages) <= 0.95


def test_cross_conformal_intervals(data):
    pytest.importorskip("mapie", reason="MAPIE is in the dev extra")
    from mapie.metrics.regression import regression_coverage_score
    from mapie.regression import CrossConformalRegressor

    X, y = data
    conformal = CrossConformalRegressor(CNNRegressor(**{**PARAMS, "max_epochs": 5}),
                                        confidence_level=0.9, cv=3)
    conformal.fit_conformalize(X[:600], y[:600])
    _, intervals = conformal.predict_interval(X[600:900])
    assert regression_coverage_score(y[600:900], intervals)[0] >= 0.8


def test_bagging_and_stacking_on_embeddings(data, fitted):
    X, y = data
    bagging = BaggingRegressor(CNNRegressor(**{**PARAMS, "max_epochs": 4}), n_estimators=2,
                               random_state=0).fit(X[:600], y[:600])
    assert bagging.score(X[900:], y[900:]) > 0.5
    stacking = StackingRegressor(
        [("cnn", CNNRegressor(**{**PARAMS, "max_epochs": 4})),
         ("ridge_on_features", make_pipeline(
             CNNEmbedding(CNNRegressor(**{**PARAMS, "max_epochs": 4})), Ridge()))],
        final_estimator=Ridge(), cv=2).fit(X[:600], y[:600])
    assert stacking.score(X[900:], y[900:]) > 0.5


def test_prediction_error_display_and_grad_cam(data, fitted):
    pytest.importorskip("captum", reason="Grad-CAM needs the explain extra")
    from sklearn_cnn.explain import grad_cam

    X, y = data
    display = PredictionErrorDisplay.from_estimator(fitted, X[900:], y[900:])
    assert len(display.scatter_.get_offsets()) == len(y) - 900
    maps = grad_cam(fitted, X[:4])
    assert maps.shape == (4, 8, 8) and np.isfinite(maps).all() and maps.max() > 0
    with pytest.raises(ValueError, match=r"known outputs are \[0\]"):
        grad_cam(fitted, X[:4], target=3)


def test_sample_weight_through_metadata_routing(data):
    from sklearn import config_context
    from sklearn.model_selection import cross_validate

    X, y = data
    weights = np.ones(len(y))
    with config_context(enable_metadata_routing=True):
        reg = CNNRegressor(**{**PARAMS, "max_epochs": 2}).set_fit_request(
            sample_weight=True).set_score_request(sample_weight=False)
        scores = cross_validate(reg, X[:400], y[:400], cv=2,
                                params={"sample_weight": weights[:400]})
    assert np.isfinite(scores["test_score"]).all()
