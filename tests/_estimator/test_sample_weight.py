"""Sample weights: validation, what they mean for the loss, routing, boosting."""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.datasets import load_digits
from sklearn.ensemble import AdaBoostClassifier
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split
from sklearn.pipeline import make_pipeline
from torch import nn

from sklearn_cnn import CNNClassifier
from sklearn_cnn._model.losses import IndicatorBCELoss, OneHotMSELoss, weighted_loss
from sklearn_cnn._training.holdout import HoldoutSplit
from sklearn_cnn._training.randomness import draw_seed
from sklearn_cnn.preprocessing import ChannelStandardizer


@pytest.fixture
def cpu_params(fast_params):
    """The fast settings on the CPU, where equal seeds give bit-identical models."""
    return {**fast_params, "device": "cpu"}


# ------------------------------------------------------------------- errors

@pytest.mark.parametrize("weights, match", [
    (lambda n: -np.ones(n), "Negative values"),
    (lambda n: np.r_[np.nan, np.ones(n - 1)], "NaN"),
    (lambda n: np.r_[np.inf, np.ones(n - 1)], "infinity"),
    (lambda n: np.ones(n - 1), r"sample_weight.shape == \(\d+,\), expected \(\d+,\)"),
    (lambda n: np.zeros(n), "weight.*zero"),  # scikit-learn's message, or ours
])
def test_invalid_weights_are_refused(digits, fast_params, weights, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        CNNClassifier(**fast_params).fit(X, y, sample_weight=weights(len(y)))


def test_weights_that_leave_one_class_are_refused(digits, fast_params):
    X, y = digits
    with pytest.raises(ValueError, match="at least 2 classes with non-zero sample_weight"):
        CNNClassifier(**fast_params).fit(X, y, sample_weight=(y == 3).astype(float))


def test_partial_fit_takes_a_chunk_of_one_weighted_class(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params).partial_fit(X, y, sample_weight=(y == 3) + 0.0)
    assert clf.n_iter_ == 1


def test_an_all_zero_validation_holdout_is_refused(digits, fast_params):
    X, y = digits
    split = HoldoutSplit(0.25, draw_seed(0))
    _, valid = split.indices(y)
    weights = np.ones(len(y))
    weights[valid] = 0
    with pytest.raises(ValueError, match="validation hold-out are all zero"):
        CNNClassifier(**{**fast_params, "validation_fraction": 0.25}).fit(
            X, y, sample_weight=weights)


def test_the_callers_weights_are_not_changed(digits, fast_params):
    X, y = digits
    weights = np.linspace(0.5, 2.0, len(y))
    before = weights.copy()
    CNNClassifier(**fast_params).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(weights, before)


# ------------------------------------------------------- what weights mean

@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_equal_weights_give_the_model_of_no_weights(digits, cpu_params, method):
    X, y = digits
    plain = getattr(CNNClassifier(**cpu_params), method)(X, y)
    weighted = getattr(CNNClassifier(**cpu_params), method)(
        X, y, sample_weight=np.full(len(y), 2.5))
    np.testing.assert_array_equal(plain.predict_proba(X), weighted.predict_proba(X))


@pytest.mark.slow
def test_zero_weight_leaves_samples_out(cpu_params):
    # Every "1" also appears with the wrong label 7, at weight zero: a weighted
    # model sees only the right labels, an unweighted one both.
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    ones = y_train == 1
    X_noisy = np.vstack([X_train, X_train[ones]])
    y_noisy = np.r_[y_train, np.full(ones.sum(), 7)]
    weights = np.r_[np.ones(len(y_train)), np.zeros(ones.sum())]
    params = {**cpu_params, "max_epochs": 6}
    weighted = CNNClassifier(**params).fit(X_noisy, y_noisy, sample_weight=weights)
    unweighted = CNNClassifier(**params).fit(X_noisy, y_noisy)
    test_ones = X_test[y_test == 1]
    right_weighted = np.mean(weighted.predict(test_ones) == 1)
    right_unweighted = np.mean(unweighted.predict(test_ones) == 1)
    assert right_weighted >= 0.8
    assert right_weighted >= right_unweighted + 0.2


def test_weights_of_a_class_act_as_its_class_weight(digits, cpu_params):
    X, y = digits
    params = {**cpu_params, "label_smoothing": 0.0}
    by_class = CNNClassifier(**params, class_weight={8: 10.0}).fit(X, y)
    by_sample = CNNClassifier(**params).fit(X, y, sample_weight=np.where(y == 8, 10.0, 1.0))
    plain = CNNClassifier(**params).fit(X, y)
    np.testing.assert_allclose(by_sample.predict_proba(X), by_class.predict_proba(X), atol=1e-4)
    assert np.abs(by_sample.predict_proba(X) - plain.predict_proba(X)).max() > 0.05


@pytest.mark.parametrize("criterion", [
    nn.CrossEntropyLoss(label_smoothing=0.1),
    nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1),
    OneHotMSELoss(weight=torch.tensor([1.0, 2.0, 0.5])),
])
def test_weighted_loss_is_the_weighted_mean_of_sample_losses(criterion):
    torch.manual_seed(0)
    logits, target = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    weight = torch.tensor([0.0, 1.0, 2.0, 3.0, 0.5, 1.5])
    criterion.reduction = "none"
    per_sample = criterion(logits, target)
    criterion.reduction = "mean"
    class_weight = criterion.weight[target] if criterion.weight is not None else 1.0
    expected = (weight * per_sample).sum() / (weight * class_weight).sum()
    torch.testing.assert_close(weighted_loss(criterion, logits, target, weight), expected)
    # equal weights: the criterion's own mean; all zero: 0 and no NaN
    torch.testing.assert_close(weighted_loss(criterion, logits, target, torch.full((6,), 3.0)),
                               criterion(logits, target))
    assert weighted_loss(criterion, logits, target, torch.zeros(6)).item() == 0.0
    assert criterion.reduction == "mean"


def test_the_validation_loss_is_weighted(digits, cpu_params):
    X, y = digits
    weights = np.random.RandomState(0).uniform(0.1, 3.0, len(y))
    # One batch holds the whole hold-out: its loss is the hold-out's weighted mean.
    clf = CNNClassifier(**{**cpu_params, "validation_fraction": 0.25, "batch_size": 512,
                           "max_epochs": 1}).fit(X, y, sample_weight=weights)
    _, valid = HoldoutSplit(0.25, draw_seed(0)).indices(y)
    module = clf.net_.module_.eval()
    with torch.no_grad():
        logits = module(torch.as_tensor(X[valid], dtype=torch.float32).reshape(-1, 1, 8, 8))
    target = torch.as_tensor(np.searchsorted(clf.classes_, y[valid]))
    expected = weighted_loss(clf.net_.criterion_, logits, target,
                             torch.as_tensor(weights[valid], dtype=torch.float32))
    assert clf.history_[-1, "valid_loss"] == pytest.approx(expected.item(), rel=1e-5)


def test_weighted_image_files_train(digit_pngs, fast_params):
    paths, y = digit_pngs
    weights = np.where(np.arange(60) % 2, 1.0, 0.5)
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1, "validation_fraction": 0.25})
    clf.fit(paths, y, sample_weight=weights)
    assert np.isfinite(clf.history_[-1, "valid_loss"])
    zero = weights.copy()
    zero[HoldoutSplit(0.25, draw_seed(0)).indices(y)[1]] = 0
    with pytest.raises(ValueError, match="validation hold-out are all zero"):
        clf.fit(paths, y, sample_weight=zero)


# ------------------------------------------------------- metadata routing

@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def test_grid_search_routes_weights_to_fit_and_score(digits, cpu_params, routing):
    X, y = digits
    weights = np.random.RandomState(1).uniform(0.2, 2.0, len(y))
    train, test = np.arange(300), np.arange(300, len(y))
    clf = CNNClassifier(**cpu_params).set_fit_request(sample_weight=True)
    clf.set_score_request(sample_weight=True)
    search = GridSearchCV(clf, {"kernel_size": [3]}, cv=[(train, test)])
    search.fit(X, y, sample_weight=weights)

    direct = CNNClassifier(**cpu_params).fit(X[train], y[train], sample_weight=weights[train])
    assert search.cv_results_["split0_test_score"][0] == direct.score(
        X[test], y[test], sample_weight=weights[test])
    refit = CNNClassifier(**cpu_params).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(search.best_estimator_.predict_proba(X),
                                  refit.predict_proba(X))


def test_weights_requested_only_for_score_are_an_error(digits, cpu_params, routing):
    X, y = digits
    clf = CNNClassifier(**cpu_params).set_score_request(sample_weight=True)
    with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
        GridSearchCV(clf, {"kernel_size": [3]}, cv=2).fit(X, y, sample_weight=np.ones(len(y)))


def test_cross_validate_routes_weights(digits, cpu_params, routing):
    X, y = digits
    weights = np.where(y % 2, 2.0, 0.5)
    clf = CNNClassifier(**cpu_params).set_fit_request(sample_weight=True)
    clf.set_score_request(sample_weight=True)
    result = cross_validate(clf, X, y, cv=[(np.arange(300), np.arange(300, len(y)))],
                            params={"sample_weight": weights}, return_estimator=True)
    direct = CNNClassifier(**cpu_params).fit(X[:300], y[:300], sample_weight=weights[:300])
    np.testing.assert_array_equal(result["estimator"][0].predict_proba(X),
                                  direct.predict_proba(X))
    assert result["test_score"][0] == direct.score(X[300:], y[300:],
                                                   sample_weight=weights[300:])


def test_a_pipeline_routes_weights_to_the_classifier(digit_images, cpu_params, routing):
    X, y = digit_images
    weights = np.where(y % 2, 2.0, 0.5)
    pipe = make_pipeline(ChannelStandardizer(),
                         CNNClassifier(**cpu_params).set_fit_request(sample_weight=True))
    pipe.fit(X, y, sample_weight=weights)
    standardized = ChannelStandardizer().fit_transform(X)
    direct = CNNClassifier(**cpu_params).fit(standardized, y, sample_weight=weights)
    np.testing.assert_array_equal(pipe.predict_proba(X), direct.predict_proba(standardized))


@pytest.mark.slow
def test_adaboost_boosts_a_weak_cnn():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    weak = CNNClassifier(conv_channels=(2,), dense_units=(), max_epochs=1, lr=0.01,
                         dropout=0.0, augment=None, label_smoothing=0.0, random_state=0,
                         device="cpu")
    single = weak.fit(X_train, y_train).score(X_test, y_test)
    boosted = AdaBoostClassifier(weak, n_estimators=8, random_state=0).fit(X_train, y_train)
    assert len(boosted.estimators_) == 8
    assert boosted.score(X_test, y_test) >= single + 0.1


def test_multilabel_targets_take_weights(digits, cpu_params):
    X, digit = digits
    Y = np.column_stack([digit % 2 == 0, digit > 4]).astype(int)
    plain = CNNClassifier(**cpu_params).fit(X, Y)
    equal = CNNClassifier(**cpu_params).fit(X, Y, sample_weight=np.full(len(Y), 0.5))
    np.testing.assert_array_equal(plain.predict_proba(X), equal.predict_proba(X))
    # one loss per label: a sample's loss is their mean, then weighted as above
    criterion = IndicatorBCELoss()
    logits, target = torch.randn(5, 2), torch.tensor(Y[:5], dtype=torch.float32)
    weight = torch.tensor([0.0, 1.0, 2.0, 3.0, 0.5])
    per_sample = nn.functional.binary_cross_entropy_with_logits(
        logits, target, reduction="none").mean(dim=1)
    torch.testing.assert_close(weighted_loss(criterion, logits, target, weight),
                               (weight * per_sample).sum() / weight.sum())
