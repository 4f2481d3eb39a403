"""save/load without pickle (sklearn_cnn._persistence.format), and pickle across devices."""

import json
import os
import pickle
import sys
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import safetensors.torch
import torch
from safetensors import safe_open
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback, Checkpoint, EpochScoring
from skorch.exceptions import DeviceWarning
from torch import nn
from torchvision.transforms import v2

import sklearn_cnn
from sklearn_cnn import BatchAugment, CNNClassifier, load, save
from sklearn_cnn._persistence.format import FORMAT, FORMAT_VERSION
from sklearn_cnn.preprocessing import ChannelStandardizer, Resize


class SmallNet(nn.Module):
    """A custom network, importable from this test module."""

    def __init__(self, input_shape, n_classes, hidden=16):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(input_shape)), hidden),
                                  nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x):
        return self.body(x)


def read_header(path):
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()[FORMAT]), {k: f.get_tensor(k) for k in f.keys()}


def rewrite(path, header, tensors):
    safetensors.torch.save_file(tensors, str(path), metadata={FORMAT: json.dumps(header)})


@pytest.fixture(scope="module")
def fitted(digits, fast_params):
    X, y = digits
    return CNNClassifier(**fast_params).fit(X[:300], y[:300])


@pytest.mark.parametrize("params", [
    {},
    {"class_weight": "balanced", "optimizer": torch.optim.Adagrad, "lr": 0.05},
    {"validation_fraction": 0.2, "early_stopping": True, "patience": 2},
    {"augment": BatchAugment(degrees=10, erase=0.2), "conv_channels": [8], "dense_units": ()},
    {"augment": "standard", "callbacks": [("acc", EpochScoring("accuracy", on_train=True))]},
    {"loss": "mse", "lr_schedule": "cosine", "activation": "gelu", "pooling": "avg"},
    {"module": SmallNet, "module_kwargs": {"hidden": 8}},
])
def test_round_trip_keeps_predictions_params_and_fitted_state(digits, tmp_path, params,
                                                              fast_params):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])[y]
    clf = CNNClassifier(**{**fast_params, **params}).fit(X[:300], names[:300])
    clf.save(tmp_path / "model.safetensors")
    twin = load(tmp_path / "model.safetensors", trusted=[__name__])
    np.testing.assert_array_equal(twin.predict_proba(X[300:]), clf.predict_proba(X[300:]))
    np.testing.assert_array_equal(twin.predict(X[300:]), clf.predict(X[300:]))
    assert twin.classes_.dtype == clf.classes_.dtype
    for key in ("input_shape_", "n_features_in_", "n_iter_", "best_epoch_", "device_"):
        assert getattr(twin, key) == getattr(clf, key), key
    assert twin.history_.to_list() == json.loads(json.dumps(clf.history_.to_list()))
    for key, value in clf.get_params(deep=False).items():
        if key == "callbacks" and value:
            assert [name for name, _ in twin.callbacks] == [name for name, _ in value]
        elif isinstance(value, BatchAugment):
            assert twin.augment.get_params() == value.get_params()
        else:
            assert twin.get_params(deep=False)[key] == value, key


def test_loaded_model_keeps_training(fitted, digits, tmp_path):
    X, y = digits
    fitted.save(tmp_path / "m.safetensors")
    twin = load(tmp_path / "m.safetensors").set_params(warm_start=True, max_epochs=2)
    twin.fit(X[:300], y[:300])
    assert twin.n_iter_ == fitted.n_iter_ + 2
    assert twin.history_[fitted.n_iter_, "train_loss"] < fitted.history_[0, "train_loss"]
    twin.partial_fit(X[:300], y[:300])
    assert twin.n_iter_ == fitted.n_iter_ + 3


def pooling_last(clf):
    """``clf`` with its network rebuilt as saved before max pooling moved first."""
    kwargs = {k[len("module__"):]: v for k, v in clf.net_.get_params().items()
              if k.startswith("module__")}
    old = sklearn_cnn.ConvNet(**kwargs, pool_first=False)
    keys = iter(old.state_dict())  # same tensors, in the same order, at the old indices
    old.load_state_dict({next(keys): v for v in clf.net_.module_.state_dict().values()})
    del old.pool_first  # as an earlier version pickled it: the class default
    clf.net_.module_ = old.to(clf.device_).eval()
    return clf


def test_files_and_pickles_of_networks_that_pooled_last_keep_their_order(digits, tmp_path,
                                                                         fast_params):
    X, y = digits
    clf = pooling_last(CNNClassifier(**{**fast_params, "max_epochs": 1}).fit(X[:200], y[:200]))
    clf.save(tmp_path / "old.safetensors")
    for twin in (load(tmp_path / "old.safetensors"), pickle.loads(pickle.dumps(clf))):
        assert not twin.net_.module_.pool_first
        np.testing.assert_allclose(twin.predict_proba(X[200:]), clf.predict_proba(X[200:]),
                                   atol=1e-6)
        twin.set_params(warm_start=True).fit(X[:200], y[:200])  # continues that network
        assert not twin.net_.module_.pool_first


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)],
                         ids=["022", "077", "002"])
def test_saved_file_respects_the_umask(fitted, tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        fitted.save(tmp_path / "method.safetensors")
        save(make_pipeline(Resize((8, 8)), fitted), tmp_path / "function.safetensors")
    finally:
        os.umask(previous)
    for name in ("method.safetensors", "function.safetensors"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name
    assert load(tmp_path / "method.safetensors").n_iter_ == fitted.n_iter_


def test_unfitted_estimator_round_trips_unfitted(tmp_path):
    clf = CNNClassifier(conv_channels=(8, 8), kernel_size=5)
    save(clf, tmp_path / "m.safetensors")
    twin = load(tmp_path / "m.safetensors")
    assert twin.get_params() == clf.get_params()
    assert not hasattr(twin, "net_")


def test_pipeline_round_trip(digits, tmp_path, fast_params):
    X, y = digits
    images = X.reshape(-1, 8, 8)
    pipe = make_pipeline(Resize((12, 12)), ChannelStandardizer(), CNNClassifier(**fast_params))
    pipe.fit(images[:300], y[:300])
    sklearn_cnn.save(pipe, tmp_path / "pipe.safetensors")
    twin = load(tmp_path / "pipe.safetensors")
    assert [name for name, _ in twin.steps] == [name for name, _ in pipe.steps]
    np.testing.assert_array_equal(twin[1].mean_, pipe[1].mean_)
    np.testing.assert_array_equal(twin[1].scale_, pipe[1].scale_)
    np.testing.assert_array_equal(twin.predict_proba(images[300:]),
                                  pipe.predict_proba(images[300:]))


def test_only_sklearn_cnn_estimators_are_saved(digits, tmp_path, fast_params):
    pipe = make_pipeline(StandardScaler(), CNNClassifier(**fast_params))
    with pytest.raises(TypeError, match=r"StandardScaler.*pickle or joblib"):
        save(pipe, tmp_path / "m.safetensors")


def test_custom_module_needs_the_caller_to_trust_it(digits, tmp_path, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "module": SmallNet}).fit(X[:100], y[:100])
    clf.save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match=f"trusted=\\['{__name__}'\\]"):
        load(tmp_path / "m.safetensors")
    assert load(tmp_path / "m.safetensors", trusted=[__name__]).module is SmallNet


def test_unimportable_module_is_refused_at_save(digits, tmp_path, fast_params):
    class Local(SmallNet):
        pass

    X, y = digits
    clf = CNNClassifier(**{**fast_params, "module": Local}).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="not importable"):
        clf.save(tmp_path / "m.safetensors")


def test_training_only_objects_that_are_not_data_load_as_none(digits, tmp_path, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "augment": v2.RandomRotation(5)}).fit(X[:100], y[:100])
    with pytest.warns(UserWarning, match="augment"):
        clf.save(tmp_path / "m.safetensors")
    twin = load(tmp_path / "m.safetensors")
    assert twin.augment is None
    np.testing.assert_array_equal(twin.predict_proba(X[100:]), clf.predict_proba(X[100:]))


# ----------------------------------------------------------- bad files


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No sklearn-cnn model file"):
        load(tmp_path / "nothing.safetensors")


def test_truncated_and_foreign_files(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    fitted.save(path)
    data = path.read_bytes()
    (tmp_path / "cut").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable sklearn-cnn model file"):
        load(tmp_path / "cut")
    (tmp_path / "noise").write_bytes(b"\x00\x01 not a model" * 20)
    with pytest.raises(ValueError, match="not a readable sklearn-cnn model file"):
        load(tmp_path / "noise")
    safetensors.torch.save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign"))
    with pytest.raises(ValueError, match=r"not one written by sklearn_cnn\.save"):
        load(tmp_path / "foreign")


@pytest.mark.parametrize("compress", [0, 3])
def test_a_pickle_is_named_as_one(fitted, tmp_path, compress):
    import joblib

    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path, compress=compress)
    with pytest.raises(ValueError, match=r"is a pickle .* joblib\.load\(path\), and only if "
                                         r"you trust"):
        load(path)


@pytest.mark.parametrize("start", [b"\x80", b"\x78\x5e"])
def test_a_model_file_that_starts_like_a_pickle_loads(fitted, digits, tmp_path, start):
    # A safetensors file starts with its header's length: some lengths give
    # the bytes a pickle or a zlib stream starts with.
    path = tmp_path / "m.safetensors"
    fitted.save(path)
    header, tensors = read_header(path)
    pad = 0
    for _ in range(4):
        safetensors.torch.save_file(tensors, str(path), metadata={
            FORMAT: json.dumps(header), "padding": " " * pad})
        length = int.from_bytes(path.read_bytes()[:8], "little")
        wanted = int.from_bytes(start, "little")
        step = 256 ** len(start)
        pad += (wanted - length) % step
        if path.read_bytes().startswith(start):
            break
    assert path.read_bytes().startswith(start)
    X, _ = digits
    np.testing.assert_array_equal(load(path).predict(X[:20]), fitted.predict(X[:20]))


def test_newer_format_version_is_refused(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    fitted.save(path)
    header, tensors = read_header(path)
    header["format_version"] = FORMAT_VERSION + 1
    rewrite(path, header, tensors)
    with pytest.raises(ValueError, match=f"format {FORMAT_VERSION + 1}.*Upgrade"):
        load(path)


def test_tampered_weights_and_parameters(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    fitted.save(path)
    header, tensors = read_header(path)
    key = next(k for k in tensors if k.endswith("weight"))
    rewrite(path, header, {**tensors, key: torch.zeros(3, 3)})
    with pytest.raises(ValueError, match="damaged or was tampered with"):
        load(path)
    header["estimator"]["params"]["kernel_size"] = "huge"
    rewrite(path, header, tensors)
    with pytest.raises(ValueError, match="kernel_size"):
        load(path)


def test_malicious_payloads_are_not_executed(fitted, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    (tmp_path / "evil_payload.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\nclass Net:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "m.safetensors"
    fitted.save(path)
    header, tensors = read_header(path)

    # A class from an untrusted module: refused before any import.
    header["estimator"]["params"]["module"] = {"__import__": "evil_payload:Net"}
    rewrite(path, header, tensors)
    with pytest.raises(ValueError, match="not trusted"):
        load(path)
    # A call to a function of a module that is imported anyway.
    header["estimator"]["params"]["module"] = {
        "__object__": "os:system", "params": {"__dict__": [["command", f"touch {marker}"]]}}
    rewrite(path, header, tensors)
    with pytest.raises(ValueError, match="not trusted"):
        load(path)
    # The estimator class itself.
    header["estimator"]["class"] = "evil_payload:Net"
    rewrite(path, header, tensors)
    with pytest.raises(ValueError, match="not an sklearn-cnn one"):
        load(path)
    # A pickle where the weights should be (what torch.save would write).
    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match=r"is a pickle .* only if you trust"):
        load(path)
    torch.save({"weight": torch.zeros(2), "x": Payload()}, path)
    with pytest.raises(ValueError, match="not a readable"):
        load(path)
    assert not marker.exists()
    assert "evil_payload" not in sys.modules


def test_device_of_the_file_missing_here_falls_back_to_cpu(fitted, digits, tmp_path,
                                                           monkeypatch, test_device, proba_atol):
    X, _ = digits
    expected = fitted.predict_proba(X)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = tmp_path / "m.safetensors"
    fitted.set_params(device="cuda").save(path)
    fitted.set_params(device=test_device)
    with pytest.warns(UserWarning, match="not available here"):
        twin = load(path)
    assert twin.device_ == "cpu" and twin.device == "cuda"
    np.testing.assert_allclose(twin.predict_proba(X), expected, atol=proba_atol())
    assert load(path, device="cpu").device_ == "cpu"


# ------------------------------------------------------------ pickle


class KeepWeights(Callback):
    """A user callback holding device tensors: the weights of the last epoch."""

    def on_epoch_end(self, net, **kwargs):
        self.weights_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}


def pickled_on_cuda(model) -> bytes:
    """``pickle.dumps(model)`` as a model trained on CUDA writes it, without a GPU.

    torch writes each storage's device with ``torch.serialization.location_tag``,
    "cuda:0" for a CUDA tensor; tagging every storage so (and the devices as
    CUDA) gives the bytes of a GPU-pickled model, which a CPU-only machine
    fails to read unless every tensor goes through a device-mapping unpickler.
    """
    twin = pickle.loads(pickle.dumps(model))
    twin.net_.device, twin.device_ = "cuda", "cuda"
    with mock.patch("torch.serialization.location_tag", lambda storage: "cuda:0"):
        return pickle.dumps(twin)


@pytest.mark.parametrize("params", [
    {"lr_schedule": "onecycle", "callbacks": [KeepWeights()]},
    {"lr_schedule": "cosine", "optimizer": "sgd"},
    {"validation_fraction": 0.2, "early_stopping": True, "patience": 1},
    {"checkpoint": True},
], ids=["default", "cosine-sgd", "early-stopping", "checkpoint"])
def test_model_pickled_on_cuda_unpickles_on_a_cpu_only_machine(params, digits, tmp_path,
                                                                monkeypatch, fast_params):
    X, y = digits
    if params.pop("checkpoint", False):
        params = {"callbacks": [Checkpoint(dirname=str(tmp_path), monitor=None)]}
    model = CNNClassifier(**{**fast_params, "max_epochs": 2, **params, "device": "cpu"})
    model.fit(X[:300], y[:300])
    payload = pickled_on_cuda(model)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        restored = pickle.loads(payload)
    assert any(issubclass(w.category, DeviceWarning) for w in caught)
    assert restored.device_ == "cpu" and str(restored.net_.device) == "cpu"
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    callbacks = dict(restored.net_.callbacks_)
    if "lr_schedule" in callbacks:  # still schedules the optimizer the net steps
        assert callbacks["lr_schedule"].lr_scheduler_.optimizer is restored.net_.optimizer_
    if "KeepWeights" in callbacks:
        assert {t.device.type for t in callbacks["KeepWeights"].weights_.values()} == {"cpu"}
    restored.partial_fit(X[:300], y[:300])  # and trains on
    assert restored.n_iter_ == 3


#: Files written on a GPU by tests/data/make_cuda_fixtures.py (cuda_model.json says where).
CUDA_FIXTURES = Path(__file__).parents[1] / "data"


def test_models_trained_on_a_gpu_load_on_a_cpu_only_machine(monkeypatch, proba_atol):
    X, y = load_digits(return_X_y=True)
    made_on = json.loads((CUDA_FIXTURES / "cuda_model.json").read_text())
    assert "NVIDIA" in made_on["gpu"]
    expected = np.load(CUDA_FIXTURES / "cuda_proba.npy")  # predict_proba on the GPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pickled = pickle.loads((CUDA_FIXTURES / "cuda_model.pkl").read_bytes())
        saved = load(CUDA_FIXTURES / "cuda_model.safetensors")
    assert any(issubclass(w.category, DeviceWarning) for w in caught)
    for model in (pickled, saved):
        assert model.device_ == "cpu"
        assert {p.device.type for p in model.module_.parameters()} == {"cpu"}
        np.testing.assert_allclose(model.predict_proba(X[1000:1200]), expected,
                                   atol=proba_atol("cuda"))
    pickled.set_params(device="auto").partial_fit(X[:1000], y[:1000])  # optimizer state too
    assert pickled.n_iter_ == 6 and pickled.score(X[1000:1200], y[1000:1200]) > 0.8


def test_a_loaded_model_trains_on_with_the_batch_size_it_was_fitted_with(tmp_path):
    # Loading builds the net without labels: the saved history gives the size.
    X, y = load_digits(return_X_y=True)
    clf = CNNClassifier(conv_channels=(4,), dense_units=(), max_epochs=1, device="cpu",
                        class_weight="balanced", random_state=0).fit(X[:1500], y[:1500])
    clf.save(tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert clf.net_.batch_size > 16
    assert loaded.net_.batch_size == clf.net_.batch_size
    np.testing.assert_allclose(loaded.net_.criterion_.weight, clf.net_.criterion_.weight)


def test_a_checkpoint_folder_given_as_a_path_is_saved_as_its_text(tmp_path):
    path = tmp_path / "m.safetensors"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not "Not saved: checkpoint"
        save(CNNClassifier(checkpoint=Path("runs") / "digits"), path)
    assert load(path).checkpoint == os.path.join("runs", "digits")
