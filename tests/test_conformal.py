"""Conformal prediction sets from MAPIE on CNNClassifier (docs/user_guide.md)."""

import numpy as np
import pytest
from _helpers import image_files
from sklearn.datasets import load_digits

from sklearn_cnn import CNNClassifier

mapie = pytest.importorskip("mapie", reason="MAPIE is in the dev extra")
from mapie.classification import SplitConformalClassifier  # noqa: E402
from mapie.metrics.classification import classification_coverage_score  # noqa: E402

PARAMS = {"conv_channels": (8, 16), "max_epochs": 6, "random_state": 0, "device": "cpu"}
LEVELS = [0.9, 0.95]


@pytest.fixture(scope="module")
def split():
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))  # exchangeable: writers mixed
    return X[order], y[order]


def coverage_over_splits(clf, X, y, n_splits=20):
    """Mean coverage (per level) and set size over random calibration/test halves."""
    rng = np.random.default_rng(1)
    coverages, sizes = [], []
    for _ in range(n_splits):
        order = rng.permutation(len(y))
        cal, test = order[: len(y) // 2], order[len(y) // 2:]
        conformal = SplitConformalClassifier(clf, confidence_level=LEVELS, prefit=True)
        conformal.conformalize(X[cal], y[cal])
        _, sets = conformal.predict_set(X[test])
        coverages.append(classification_coverage_score(y[test], sets))
        sizes.append(sets.sum(axis=1).mean(axis=0))
    return np.mean(coverages, axis=0), np.mean(sizes, axis=0)


def test_prefit_sets_reach_their_nominal_coverage(split):
    X, y = split
    clf = CNNClassifier(**PARAMS).fit(X[:800], y[:800])
    coverage, size = coverage_over_splits(clf, X[800:], y[800:])
    # Split conformal guarantees coverage >= the level on average over draws.
    assert coverage[0] >= 0.9 - 0.01 and coverage[1] >= 0.95 - 0.01, coverage
    assert size[0] < size[1] < 3, size  # informative sets, larger for the higher level


def test_sets_of_an_estimator_mapie_fits(split):
    X, y = split
    conformal = SplitConformalClassifier(CNNClassifier(**PARAMS), confidence_level=0.9,
                                         prefit=False)
    conformal.fit(X[:800], y[:800]).conformalize(X[800:1300], y[800:1300])
    _, sets = conformal.predict_set(X[1300:])
    # One draw of 500 calibration images: within about two standard errors.
    assert classification_coverage_score(y[1300:], sets)[0] >= 0.9 - 0.03
    assert sets.sum(axis=1).mean() < 3


def test_sets_on_image_files(split, tmp_path):
    X, y = split
    pixels = (X.reshape(-1, 8, 8) * 255 / 16).astype(np.uint8)
    paths = image_files(tmp_path, pixels)
    clf = CNNClassifier(**PARAMS).fit(paths[:800], y[:800])
    assert not hasattr(clf, "n_features_in_")  # no columns: MAPIE skips its check
    conformal = SplitConformalClassifier(clf, confidence_level=0.9, prefit=True)
    conformal.conformalize(paths[800:1300], y[800:1300])
    _, sets = conformal.predict_set(paths[1300:])
    assert classification_coverage_score(y[1300:], sets)[0] >= 0.9 - 0.04
