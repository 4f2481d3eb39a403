"""CNNClassifier: fitting, prediction, parameters, inputs and errors."""

import numpy as np
import pytest
import torch
from _helpers import CountEpochs, TinyNet

from sklearn_cnn import CNNClassifier


@pytest.fixture
def fit_fast(fast_params):
    """``fit_fast(X, y, **params)``: CNNClassifier on ``fast_params`` and ``params``, fitted."""

    def fit(X, y, **params):
        return CNNClassifier(**{**fast_params, **params}).fit(X, y)

    return fit


# ------------------------------------------------------------------ training


def test_learns_digits(digits, fit_fast):
    X, y = digits
    clf = fit_fast(X[:300], y[:300], max_epochs=8)
    assert clf.score(X[300:], y[300:]) > 0.85


def test_fitted_attributes(digits, fast_params, torch_device, fit_fast):
    X, y = digits
    clf = fit_fast(X, y)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert clf.n_features_in_ == 64
    assert clf.input_shape_ == (1, 8, 8)
    assert clf.n_iter_ == fast_params["max_epochs"] == len(clf.history_)
    assert clf.device_ == str(torch_device)
    assert clf.precision_ == "float32"
    assert clf.cuda_graphs_ is (torch_device.type == "cuda")  # 12 full batches: replayed there
    assert clf.best_epoch_ is None
    assert clf.module_ is clf.net_.module_
    proba = clf.predict_proba(X[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(clf.predict_log_proba(X[:5]), np.log(proba))
    np.testing.assert_array_equal(clf.predict(X[:5]), proba.argmax(axis=1))


def test_same_random_state_gives_identical_probabilities(digits, fit_fast):
    X, y = digits
    a = fit_fast(X, y, validation_fraction=0.2, dropout=0.2).predict_proba(X)
    b = fit_fast(X, y, validation_fraction=0.2, dropout=0.2).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = fit_fast(X, y, validation_fraction=0.2, dropout=0.2, random_state=1).predict_proba(X)
    assert not np.allclose(a, c)


def test_fit_leaves_global_torch_rng_alone(digits, fit_fast):
    X, y = digits
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fit_fast(X[:64], y[:64], max_epochs=1)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_string_labels_round_trip(digits, fit_fast):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])
    clf = fit_fast(X, names[y])
    assert set(clf.predict(X)) <= set(names)
    assert clf.classes_.tolist() == sorted(names)
    assert clf.score(X, names[y]) > 0.5


def test_mixed_label_types_are_refused(digits, fit_fast):
    X, _ = digits
    y = np.array([1, "a"] * 5, dtype=object)
    with pytest.raises(ValueError, match=r"mixed types \(number and str\).*y.astype\(str\)"):
        fit_fast(X[:10], y)
    # A two-column table (a path and an int label) as y: one error that says so.
    table = np.array([[f"{i}.png", i % 2] for i in range(10)], dtype=object)
    with pytest.raises(ValueError, match=r"shape \(10, 2\).*one column"):
        fit_fast(X[:10], table)
    fit_fast(X[:10], np.array(["a", "b"] * 5, dtype=object))  # one type: fine


@pytest.mark.parametrize(
    "params",
    [
        dict(activation="tanh", pooling="avg", init="xavier", batch_norm=False),
        dict(activation="gelu", init="orthogonal", dropout=0.5, dense_units=()),
        dict(activation="leaky_relu", init="torch", conv_channels=[4, 4, 4, 4]),
        dict(conv_channels=8, dense_units=16),
        dict(activation="sigmoid", kernel_size=5, conv_channels=()),
        dict(activation="elu", optimizer="sgd", lr_schedule="cosine"),
        dict(activation="silu", optimizer="rmsprop", lr_schedule="constant", lr=1e-3),
        dict(optimizer="adamw", weight_decay=0.01, label_smoothing=0.2),
        dict(optimizer=torch.optim.Adagrad, lr=0.05),
        dict(loss="mse", class_weight="balanced"),
    ],
)
def test_parameter_combinations_train(digits, params, fit_fast):
    X, y = digits
    clf = fit_fast(X, y, max_epochs=6, **params)
    assert clf.score(X, y) > 0.5
    assert np.isfinite(clf.history_[:, "train_loss"]).all()


def test_optimizer_gets_its_arguments(digits, fit_fast):
    X, y = digits
    clf = fit_fast(X[:64], y[:64], max_epochs=1, optimizer="sgd", lr=0.03, momentum=0.5,
                   weight_decay=0.01, lr_schedule="constant")
    group = clf.net_.optimizer_.param_groups[0]
    assert isinstance(clf.net_.optimizer_, torch.optim.SGD)
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.03, 0.5, 0.01)


def test_onecycle_schedule_moves_the_learning_rate(digits, fit_fast):
    X, y = digits
    clf = fit_fast(X, y, lr_schedule="onecycle", lr=0.01)
    lrs = [b["event_lr"] for epoch in clf.history_ for b in epoch["batches"]]
    assert max(lrs) == pytest.approx(0.01, rel=0.05)
    assert lrs[0] < 0.001 and lrs[-1] < 0.001


def test_class_weight_shifts_predictions(digits, fit_fast):
    X, y = digits
    weights = {k: 1e-3 for k in range(10)} | {3: 1000.0}
    clf = fit_fast(X, y, class_weight=weights)
    assert np.mean(clf.predict(X) == 3) > 0.5


def test_validation_and_early_stopping(digits, fit_fast):
    X, y = digits
    clf = fit_fast(X, y, validation_fraction=0.2, early_stopping=True, patience=2,
                   max_epochs=40, lr_schedule="constant", lr=0.05)
    history = clf.history_
    assert "valid_acc" in history[-1] and "valid_loss" in history[-1]
    assert clf.n_iter_ < 40  # stopped early
    assert clf.best_epoch_ == history[int(np.argmin(history[:, "valid_loss"])), "epoch"]


def test_extra_callbacks_run_and_are_not_mutated(digits, fit_fast):
    X, y = digits
    counter = CountEpochs()
    clf = fit_fast(X[:64], y[:64], max_epochs=3, callbacks=[("count", counter)])
    assert dict(clf.net_.callbacks_)["count"].epochs_ == [1, 2, 3]
    assert not hasattr(counter, "epochs_")


def test_verbose_zero_prints_nothing(digits, capsys, fit_fast):
    X, y = digits
    fit_fast(X[:64], y[:64], max_epochs=2, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_one_prints_one_plain_line_per_epoch(digits, capsys, fit_fast):
    X, y = digits
    clf = fit_fast(X[:64], y[:64], max_epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "train_loss" in out and "train_acc" in out and "2/2" in out
    assert "progress_bar" not in dict(clf.net_.callbacks_)  # not a terminal


# ------------------------------------------------------ partial_fit / warm_start


def test_partial_fit_trains_one_epoch_per_call(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params)
    clf.partial_fit(X[:100], y[:100], classes=np.arange(10))
    first = clf.predict_proba(X)
    clf.partial_fit(X[100:200], y[100:200])
    assert clf.n_iter_ == 2
    assert not np.allclose(first, clf.predict_proba(X))


def test_partial_fit_needs_every_class_up_front(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params).partial_fit(X[y < 5], y[y < 5])
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X[y >= 5], y[y >= 5])
    with pytest.raises(ValueError, match="differs from the classes"):
        clf.partial_fit(X[y < 5], y[y < 5], classes=np.arange(10))


def test_warm_start_continues_from_previous_weights(digits, fit_fast):
    X, y = digits
    clf = fit_fast(X, y, max_epochs=2, warm_start=True)
    loss_after_first = clf.history_[-1, "train_loss"]
    clf.fit(X, y)
    assert clf.n_iter_ == 4
    # A continued fit starts where the first ended, not from scratch.
    assert clf.history_[2, "train_loss"] < clf.history_[0, "train_loss"]
    assert clf.history_[-1, "train_loss"] < loss_after_first


def test_without_warm_start_fit_restarts(digits, fit_fast):
    X, y = digits
    clf = fit_fast(X, y, max_epochs=2)
    clf.fit(X, y)
    assert clf.n_iter_ == 2


def test_warm_start_with_new_architecture_is_refused(digits, fit_fast):
    X, y = digits
    clf = fit_fast(X, y, max_epochs=1, warm_start=True)
    clf.set_params(conv_channels=(4,))
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X, y)


# ------------------------------------------------------------ custom networks


def test_custom_module_gets_shape_classes_and_kwargs(digits, fit_fast):
    X, y = digits
    clf = fit_fast(X, y, module=TinyNet, module_kwargs={"hidden": 24})
    assert isinstance(clf.module_, TinyNet)
    assert clf.module_.net[1].out_features == 24
    assert clf.score(X, y) > 0.5


def test_backbone_from_local_weights(tmp_path, digit_images):
    torchvision = pytest.importorskip("torchvision")
    path = tmp_path / "resnet18.pt"
    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), path)
    X, y = digit_images
    clf = CNNClassifier(backbone="resnet18", weights=path, freeze_backbone=True,
                        max_epochs=1, batch_size=64, random_state=0).fit(X[:128], y[:128])
    model = clf.module_.model
    torch.testing.assert_close(model.conv1.weight.cpu(), reference.conv1.weight)
    assert model.fc.out_features == 10 and model.fc.weight.requires_grad
    assert not model.conv1.weight.requires_grad
    assert clf.predict_proba(X[:3]).shape == (3, 10)


# ------------------------------------------------------------------ inputs


@pytest.mark.parametrize("layout", ["flat", "nhw", "nhwc", "nchw", "list"])
def test_every_layout_gives_the_same_model(digits, layout, fit_fast):
    X, y = digits
    images = X.reshape(-1, 8, 8)
    converted = {
        "flat": X,
        "nhw": images,
        "nhwc": images[..., None],
        "nchw": images[:, None],
        "list": images.tolist(),
    }[layout]
    reference = fit_fast(X, y, max_epochs=1)
    clf = fit_fast(converted, y, max_epochs=1)
    assert clf.input_shape_ == (1, 8, 8)
    np.testing.assert_array_equal(clf.predict_proba(converted), reference.predict_proba(X))


def test_uint8_pixels_are_read_as_unit_range(digit_images, fit_fast):
    X, y = digit_images
    from_uint8 = fit_fast(X, y, max_epochs=1)
    from_float = fit_fast(X.astype(np.float32) / 255, y, max_epochs=1)
    np.testing.assert_allclose(
        from_uint8.predict_proba(X), from_float.predict_proba(X / 255), atol=1e-6
    )


def test_rgb_channels_last_and_image_shape(digits, fit_fast):
    X, y = digits
    rgb = np.repeat(X.reshape(-1, 8, 8, 1), 3, axis=3)
    clf = fit_fast(rgb, y, max_epochs=1)
    assert clf.input_shape_ == (3, 8, 8)
    flat = rgb.transpose(0, 3, 1, 2).reshape(len(X), -1)
    clf_flat = fit_fast(flat, y, max_epochs=1, image_shape=(3, 8, 8))
    np.testing.assert_array_equal(clf.predict_proba(rgb), clf_flat.predict_proba(flat))


def test_seed_keras_geometry_on_small_images_does_not_crash(digits, fit_fast):
    X, y = digits
    clf = fit_fast(X, y, conv_channels=(32, 64), kernel_size=3, max_epochs=1)
    assert clf.predict(X[:2]).shape == (2,)


def test_impossible_geometry_names_the_parameters(digits, fit_fast):
    X, y = digits
    with pytest.raises(ValueError, match=r"kernel_size=3.*padding='valid'"):
        fit_fast(X, y, padding="valid", conv_channels=(8, 8, 8))


def test_predict_on_wrong_shape_or_channels(digits, fit_fast):
    X, y = digits
    clf = fit_fast(X, y, max_epochs=1)
    with pytest.raises(ValueError, match="channel"):
        clf.predict(np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="fitted on"):
        clf.predict(np.zeros((2, 9, 9)))
    with pytest.raises(ValueError, match="expecting 64 features"):
        clf.predict(np.zeros((2, 10)))
