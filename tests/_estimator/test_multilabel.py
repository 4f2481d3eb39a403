"""Multilabel targets: a 0/1 indicator matrix y, as scikit-learn's MLPClassifier takes it."""

import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import cross_val_score
from skorch.history import History
from torch.nn import functional as F

import sklearn_cnn
from sklearn_cnn import CNNClassifier
from sklearn_cnn._model.losses import IndicatorBCELoss, IndicatorMSELoss
from sklearn_cnn._training.callbacks.scoring import TrainAccuracy
from sklearn_cnn._training.holdout import HoldoutSplit
from sklearn_cnn._training.randomness import draw_seed
from sklearn_cnn.preprocessing import ToImage


def digit_labels(digits):
    """Three yes/no questions about each digit: even, greater than 4, has a loop."""
    return np.column_stack([digits % 2 == 0, digits > 4,
                            np.isin(digits, [0, 6, 8, 9])]).astype(np.int64)


@pytest.fixture(scope="module")
def multilabel_digits(digits):
    X, y = digits
    return X, digit_labels(y)


@pytest.fixture(scope="module")
def fitted(multilabel_digits, fast_params):
    X, Y = multilabel_digits
    return CNNClassifier(**{**fast_params, "max_epochs": 8}).fit(X[:300], Y[:300])


def test_fit_sets_the_classes_as_mlp_classifier_does(fitted):
    assert fitted.multilabel_ is True
    np.testing.assert_array_equal(fitted.classes_, [0, 1, 2])  # the column indices
    assert isinstance(fitted.net_.criterion_, torch.nn.BCEWithLogitsLoss)


def test_predict_is_the_indicator_matrix_of_proba_above_one_half(fitted, multilabel_digits):
    X, _ = multilabel_digits
    proba = fitted.predict_proba(X[300:])
    y_pred = fitted.predict(X[300:])
    assert proba.shape == y_pred.shape == (100, 3)
    assert y_pred.dtype == np.int64  # as MLPClassifier.predict
    assert set(np.unique(y_pred)) <= {0, 1}
    assert ((proba > 0) & (proba < 1)).all()
    np.testing.assert_array_equal(y_pred, proba > 0.5)
    # A sigmoid per label: the rows are not distributions over the labels.
    assert not np.allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(fitted.predict_log_proba(X[300:]), np.log(proba), rtol=1e-12)


def test_learns_the_three_labels_of_digits(fitted, multilabel_digits):
    X, Y = multilabel_digits
    y_pred = fitted.predict(X[300:])
    # Measured over random_state 0-3: 0.86 to 0.96 per label, 0.71 to 0.84 subset accuracy.
    assert (y_pred == Y[300:]).mean(axis=0).min() > 0.8
    score = fitted.score(X[300:], Y[300:])
    assert score == accuracy_score(Y[300:], y_pred)  # subset accuracy, as scikit-learn's
    assert score > 0.6


def test_predict_log_proba_is_finite_where_the_probabilities_underflow(fitted):
    log_proba = fitted._log_probabilities(np.array([[-800.0, 0.0, 800.0]]))
    np.testing.assert_allclose(log_proba, [[-800.0, np.log(0.5), 0.0]])


@pytest.mark.parametrize("as_", [list, sp.csr_matrix, lambda Y: Y.astype(bool)],
                         ids=["list_of_lists", "sparse", "bool"])
def test_every_form_of_the_indicator_matrix_trains_the_same_model(multilabel_digits,
                                                                  fast_params, as_):
    X, Y = multilabel_digits
    params = {**fast_params, "max_epochs": 1, "device": "cpu"}
    expected = CNNClassifier(**params).fit(X[:100], Y[:100]).predict_proba(X[100:120])
    Y_other = as_(Y[:100]) if as_ is not list else Y[:100].tolist()
    clf = CNNClassifier(**params).fit(X[:100], Y_other)
    np.testing.assert_array_equal(clf.predict_proba(X[100:120]), expected)
    assert clf.predict(X[100:120]).dtype == np.int64


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_losses_compare_sigmoid_outputs_with_smoothed_targets(loss, label_smoothing):
    logits = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 0.0, 4.0]])
    target = torch.tensor([[1, 0, 1], [0, 0, 1]])
    smoothed = target * (1 - label_smoothing) + label_smoothing / 2  # towards 0.5
    if loss == "cross_entropy":
        criterion = IndicatorBCELoss(label_smoothing=label_smoothing)
        expected = F.binary_cross_entropy_with_logits(logits, smoothed)
    else:
        criterion = IndicatorMSELoss(label_smoothing=label_smoothing)
        expected = F.mse_loss(logits.sigmoid(), smoothed)
    torch.testing.assert_close(criterion(logits, target), expected)


def test_mse_loss_and_label_smoothing_train(multilabel_digits, fast_params):
    X, Y = multilabel_digits
    clf = CNNClassifier(**{**fast_params, "loss": "mse", "label_smoothing": 0.2}).fit(
        X[:300], Y[:300])
    assert isinstance(clf.net_.criterion_, IndicatorMSELoss)
    assert clf.net_.criterion_.label_smoothing == 0.2
    assert (clf.predict(X[300:]) == Y[300:]).mean() > 0.6  # chance: about 0.5


def test_partial_fit_continues_and_keeps_the_labels(multilabel_digits, fast_params):
    X, Y = multilabel_digits
    clf = CNNClassifier(**fast_params)
    clf.partial_fit(X[:200], Y[:200])  # classes: the column indices, from y
    clf.partial_fit(X[200:300], Y[200:300], classes=np.arange(3))
    assert clf.n_iter_ == 2 and clf.multilabel_
    assert clf.predict(X[300:]).shape == (100, 3)
    with pytest.raises(ValueError, match=r"multilabel indicator matrix of 2 columns.*3 labels"):
        clf.partial_fit(X[:10], Y[:10, :2])
    with pytest.raises(ValueError, match=r"fitted on multilabel targets.*Refit"):
        clf.partial_fit(X[:10], Y[:10, 0])
    with pytest.raises(ValueError, match=r"column indices, \[0, 1, 2\]; got classes=\[0, 1\]"):
        CNNClassifier(**fast_params).partial_fit(X[:10], Y[:10], classes=[0, 1])


def test_warm_start_refuses_to_switch_between_classes_and_labels(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1, "warm_start": True}).fit(X, y)
    with pytest.raises(ValueError, match=r"fitted on class labels \[0, 1, 2, 3"):
        clf.fit(X, digit_labels(y))


def test_validation_fraction_scores_the_subset_accuracy(multilabel_digits, fast_params):
    X, Y = multilabel_digits
    X, Y = X[:300], Y[:300]
    params = {**fast_params, "validation_fraction": 0.2, "verbose": 0,
              "callbacks": [("train_acc", TrainAccuracy())]}
    clf = CNNClassifier(**params).fit(X, Y)
    history = clf.history_
    assert len(history) == fast_params["max_epochs"]
    assert all(0 <= a <= 1 for a in history[:, "train_acc"])
    # The hold-out the fit drew (no stratification on an indicator matrix).
    _, valid = HoldoutSplit(0.2, draw_seed(fast_params["random_state"])).indices(Y)
    assert len(valid) == 60
    # skorch's valid_acc: the last epoch's weights, every label right.
    expected = accuracy_score(Y[valid], clf.net_.predict(ToImage().fit_transform(X[valid])))
    assert history[-1, "valid_acc"] == pytest.approx(expected, abs=1 / len(valid))
    assert history[-1, "valid_acc"] == pytest.approx(clf.score(X[valid], Y[valid]),
                                                     abs=1 / len(valid))


def test_train_accuracy_counts_samples_with_every_label_right():
    accuracy = TrainAccuracy().initialize()
    net = SimpleNamespace(history=History())
    net.history.new_epoch()
    accuracy.on_epoch_begin(net)
    logits = torch.tensor([[2.0, -1.0], [3.0, 1.0], [-1.0, -2.0]])
    target = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])  # the second: one label wrong
    accuracy.on_batch_end(net, batch=(torch.zeros(3, 1), target), training=True, y_pred=logits)
    accuracy.on_epoch_end(net)
    assert net.history[-1, "train_acc"] == pytest.approx(2 / 3)


def test_holdout_of_an_indicator_matrix_is_not_stratified():
    Y = np.tile([[1, 0, 1], [0, 1, 1], [0, 0, 0], [1, 1, 0]], (5, 1))
    train, valid = HoldoutSplit(0.25, random_state=0).indices(Y)
    assert len(valid) == 5 and sorted([*train, *valid]) == list(range(20))


def test_save_load_and_pickle_keep_the_predictions(fitted, multilabel_digits, tmp_path):
    X, _ = multilabel_digits
    expected = fitted.predict_proba(X[300:])
    fitted.save(tmp_path / "multilabel.safetensors")
    loaded = sklearn_cnn.load(tmp_path / "multilabel.safetensors")
    unpickled = pickle.loads(pickle.dumps(fitted))
    for model in (loaded, unpickled):
        assert model.multilabel_
        np.testing.assert_array_equal(model.classes_, fitted.classes_)
        np.testing.assert_allclose(model.predict_proba(X[300:]), expected, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(model.predict(X[300:]), fitted.predict(X[300:]))
    loaded.partial_fit(X[:50], digit_labels(np.arange(50) % 10))  # still multilabel to train


def test_onnx_outputs_the_label_probabilities(fitted, multilabel_digits, tmp_path, proba_atol):
    onnxruntime = pytest.importorskip("onnxruntime")
    X, _ = multilabel_digits
    path = tmp_path / "multilabel.onnx"
    fitted.to_onnx(path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    proba = session.run(["probabilities"], {"images": ToImage().fit_transform(X[300:])})[0]
    np.testing.assert_allclose(proba, fitted.predict_proba(X[300:]), atol=proba_atol())


def test_image_files_train_on_an_indicator_matrix(digit_pngs, digit_images, fast_params):
    paths, digits = digit_pngs
    Y = digit_labels(digits)
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1}).fit(paths, Y)
    proba = clf.predict_proba(paths)
    np.testing.assert_allclose(proba, clf.predict_proba(digit_images[0][:60]), atol=1e-6)
    assert clf.predict(paths).shape == (60, 3)


def test_class_weight_is_refused(multilabel_digits, fast_params):
    X, Y = multilabel_digits
    with pytest.raises(ValueError, match=r"class_weight='balanced'.*set class_weight=None"):
        CNNClassifier(**{**fast_params, "class_weight": "balanced"}).fit(X[:50], Y[:50])


def test_single_column_is_binary_class_labels(digits, fast_params):
    X, y = digits
    column = (y[:100] % 2 == 0).astype(int)[:, None]
    with pytest.warns(DataConversionWarning):  # as MLPClassifier: a column is 1-D labels
        clf = CNNClassifier(**{**fast_params, "max_epochs": 1}).fit(X[:100], column)
    assert not clf.multilabel_
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.predict(X[:5]).shape == (5,)


@pytest.mark.parametrize("Y", [np.tile([[0, 1, 2], [1, 0, 1]], (5, 1)),
                               np.tile([[0.5, 1.0], [0.0, 1.0]], (5, 1))],
                         ids=["multiclass", "continuous"])
def test_columns_of_other_values_than_0_and_1_are_refused(digits, fast_params, Y):
    X, _ = digits
    with pytest.raises(ValueError, match=r"0/1 indicator matrix of shape \(N, n_labels\)"):
        CNNClassifier(**fast_params).fit(X[:10], Y)


def test_cross_val_score_reports_subset_accuracy(multilabel_digits, fast_params):
    X, Y = multilabel_digits
    scores = cross_val_score(CNNClassifier(**{**fast_params, "max_epochs": 2}),
                             X[:240], Y[:240], cv=3)
    assert scores.shape == (3,)
    assert ((scores > 0.1) & (scores <= 1)).all()  # chance (every label right): 1/8
