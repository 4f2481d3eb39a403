"""CNNRegressor: images to numbers, with what scikit-learn users do with a regressor."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_digits
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.preprocessing import StandardScaler

from sklearn_cnn import CNNRegressor, load, save


@pytest.fixture(scope="module")
def numbers():
    """Digits whose target is 1000 x their label: a number far from unit scale."""
    X, y = load_digits(return_X_y=True)
    return X[:600], 1000.0 * y[:600]


@pytest.fixture
def params(fast_params):
    return {**fast_params, "max_epochs": 12}


def test_an_unscaled_target_is_learned(numbers, params):
    X, y = numbers
    reg = CNNRegressor(**params).fit(X[:450], y[:450])
    prediction = reg.predict(X[450:])
    assert prediction.shape == (150,) and reg.n_outputs_ == 1
    assert reg.score(X[450:], y[450:]) > 0.6  # R², in the targets' own scale
    assert abs(prediction.mean() - y[450:].mean()) < 0.3 * y.std()
    assert reg.y_scale_[0] == pytest.approx(y[:450].std())


def test_inside_transformed_target_regressor_the_answer_is_the_same(numbers, params):
    X, y = numbers
    alone = CNNRegressor(**{**params, "device": "cpu", "n_jobs": 1}).fit(X[:450], y[:450])
    wrapped = TransformedTargetRegressor(
        regressor=CNNRegressor(**{**params, "device": "cpu", "n_jobs": 1}),
        transformer=StandardScaler()).fit(X[:450], y[:450])
    np.testing.assert_allclose(wrapped.predict(X[450:]), alone.predict(X[450:]),
                               rtol=1e-4, atol=1e-3 * y.std())


@pytest.mark.parametrize("shape", ["1-D", "column", "two outputs"])
def test_targets_of_every_shape(numbers, params, shape):
    X, y = numbers
    target = {"1-D": y, "column": y[:, None], "two outputs": np.c_[y, -y / 1000]}[shape]
    reg = CNNRegressor(**params).fit(X[:450], target[:450])
    prediction = reg.predict(X[450:])
    assert prediction.shape == ((150, 2) if shape == "two outputs" else (150,))
    assert r2_score(target[450:], prediction) > 0.5


@pytest.mark.parametrize("loss", ["squared_error", "huber", "absolute_error"])
def test_losses(numbers, params, loss):
    X, y = numbers
    assert CNNRegressor(**params, loss=loss).fit(X[:450], y[:450]).score(X[450:], y[450:]) > 0.5


def test_sample_weight_partial_fit_and_warm_start(numbers, params):
    X, y = numbers
    weights = np.where(np.arange(450) % 2 == 0, 1.0, 0.0)
    weighted = CNNRegressor(**params).fit(X[:450], y[:450], sample_weight=weights)
    assert weighted.score(X[450:], y[450:]) > 0.4
    reg = CNNRegressor(**params)
    for _ in range(3):
        reg.partial_fit(X[:450], y[:450])
    assert reg.n_iter_ == 3 and reg.y_mean_[0] == pytest.approx(y[:450].mean())
    reg.set_params(warm_start=True).fit(X[:450], y[:450])
    assert reg.n_iter_ == 3 + params["max_epochs"]


def test_early_stopping_on_the_hold_out_r2(numbers, params):
    X, y = numbers
    reg = CNNRegressor(**{**params, "max_epochs": 30, "validation_fraction": 0.2,
                          "early_stopping": True, "patience": 2}).fit(X, y)
    assert reg.best_epoch_ is not None
    assert all("valid_r2" in row and "valid_acc" not in row for row in reg.history_)
    assert max(reg.history_[:, "valid_r2"]) > 0.5


def test_search_cross_validation_clone_pickle_save(numbers, params, tmp_path):
    X, y = numbers
    scores = cross_val_score(CNNRegressor(**{**params, "max_epochs": 4}), X, y, cv=2)
    assert scores.shape == (2,) and np.all(np.isfinite(scores))
    search = GridSearchCV(CNNRegressor(**{**params, "max_epochs": 4}),
                          {"loss": ["squared_error", "huber"]}, cv=2).fit(X, y)
    assert search.best_params_["loss"] in ("squared_error", "huber")
    reg = search.best_estimator_
    assert clone(reg).get_params() == reg.get_params()
    path = tmp_path / "regressor.safetensors"
    save(reg, path)
    for copy in (load(path, device="cpu"), pickle.loads(pickle.dumps(reg))):
        np.testing.assert_allclose(copy.predict(X[:50]), reg.predict(X[:50]),
                                   rtol=1e-5, atol=1e-3)


def test_tta_embed_and_onnx(numbers, params, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    from sklearn_cnn.preprocessing import ToImage

    X, y = numbers
    reg = CNNRegressor(**{**params, "dense_units": (16,)}).fit(X[:450], y[:450])
    assert reg.embed(X[:5]).shape == (5, 16)
    assert reg.set_params(tta=True).predict(X[:5]).shape == (5,)
    reg.set_params(tta=False)
    reg.to_onnx(tmp_path / "regressor.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "regressor.onnx"),
                                           providers=["CPUExecutionProvider"])
    predictions = session.run(None, {"images": ToImage().fit_transform(X[450:480])})[0]
    np.testing.assert_allclose(predictions[:, 0], reg.predict(X[450:480]), rtol=1e-4, atol=1e-2)


def test_targets_that_are_not_numbers_are_refused(numbers, params):
    X, y = numbers
    with pytest.raises(ValueError, match=r"Unknown label type.*CNNClassifier"):
        CNNRegressor(**params).fit(X[:20], np.array(["a", "b"] * 10))
    with pytest.raises(ValueError, match="NaN or infinite"):
        CNNRegressor(**params).fit(X[:20], np.r_[np.nan, y[:19]])


def test_weight_averaging_and_bfloat16_steps(numbers, params):
    X, y = numbers
    averaged = CNNRegressor(**params, ema=0.99).fit(X[:450], y[:450])
    assert averaged.score(X[450:], y[450:]) > 0.4
    cpu = {**params, "device": "cpu"}
    assert CNNRegressor(**cpu, precision="bfloat16").fit(X[:200], y[:200]).precision_ == \
        "bfloat16"


@pytest.mark.slow
def test_a_torchvision_backbone_learns_a_number(numbers, params):
    X, y = numbers
    rgb = np.repeat(np.kron(X.reshape(-1, 8, 8, 1) * 16, np.ones((1, 4, 4, 1))), 3, axis=3)
    reg = CNNRegressor(**{**params, "max_epochs": 4}, backbone="resnet18", weights=None)
    reg.fit(rgb[:400].astype(np.uint8), y[:400])
    assert reg.predict(rgb[400:410].astype(np.uint8)).shape == (10,)
    assert reg.score(rgb[400:].astype(np.uint8), y[400:]) > 0.2
