"""ONNX export (sklearn_cnn.export); skipped only where the export extra is missing."""

import shutil
import sys

import numpy as np
import pytest
from _helpers import ConvBatchNorm
from sklearn.exceptions import NotFittedError
from torch import nn

from sklearn_cnn import CNNClassifier
from sklearn_cnn.export import to_onnx
from sklearn_cnn.preprocessing import ToImage

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("batch", [1, 37, 197])
def test_onnx_matches_predict_proba_on_real_digits(digits, tmp_path, batch,
                                                   fast_params, proba_atol):
    X, y = digits
    clf = CNNClassifier(**fast_params).fit(X[:200], y[:200])
    clf.to_onnx(tmp_path / "digits.onnx")
    onnx_model = session(tmp_path / "digits.onnx")
    (inp,), (out,) = onnx_model.get_inputs(), onnx_model.get_outputs()
    assert (inp.name, out.name) == ("images", "probabilities")
    assert inp.shape[1:] == [1, 8, 8] and not isinstance(inp.shape[0], int)  # free batch
    images = ToImage().fit_transform(X[200:200 + batch])
    proba = onnx_model.run(None, {"images": images})[0]
    assert proba.shape == (batch, 10)
    np.testing.assert_allclose(proba, clf.predict_proba(X[200:200 + batch]), atol=proba_atol())


def test_onnx_of_rgb_uint8_photos(tmp_path, fast_params, proba_atol):
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(0)
    photos = np.stack(load_sample_images().images)  # (2, 427, 640, 3) uint8
    patches = np.stack([p[r:r + 24, c:c + 24] for p in photos
                        for r, c in rng.integers(0, 400, size=(40, 2))])
    labels = np.repeat([0, 1], 40)
    clf = CNNClassifier(**fast_params).fit(patches, labels)
    to_onnx(clf, tmp_path / "photos.onnx")
    proba = session(tmp_path / "photos.onnx").run(
        None, {"images": ToImage().fit_transform(patches)})[0]
    np.testing.assert_allclose(proba, clf.predict_proba(patches), atol=proba_atol())


def test_unfitted_model_is_refused(tmp_path):
    with pytest.raises(NotFittedError):
        CNNClassifier().to_onnx(tmp_path / "m.onnx")


def test_missing_extra_says_how_to_install_it(digits, tmp_path, monkeypatch, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params).fit(X[:100], y[:100])
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(ImportError, match=r"sklearn-cnn\[export\]"):
        clf.to_onnx(tmp_path / "m.onnx")


@pytest.mark.parametrize("architecture", [
    {},  # FAST's: 15 kB of weights, which torch's exporter alone put in a second file
    {"conv_channels": (64, 128), "dense_units": (512,)},  # 1.4 MB
])
def test_the_onnx_file_alone_is_the_model(digits, tmp_path, architecture,
                                          fast_params, proba_atol):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1, **architecture}).fit(X[:100], y[:100])
    clf.to_onnx(tmp_path / "model.onnx")
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(tmp_path / "model.onnx", elsewhere)
    proba = session(elsewhere / "model.onnx").run(
        None, {"images": ToImage().fit_transform(X[100:140])})[0]
    np.testing.assert_allclose(proba, clf.predict_proba(X[100:140]), atol=proba_atol())


def test_a_network_over_the_protobuf_limit_keeps_its_weights_beside(digits, tmp_path, monkeypatch,
                                                                    fast_params, proba_atol):
    onnx = pytest.importorskip("onnx")
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1}).fit(X[:100], y[:100])
    monkeypatch.setattr(onnx.checker, "MAXIMUM_PROTOBUF", 4096)  # 2 GB takes too long
    with pytest.warns(UserWarning, match=r"2 GB.*'model\.onnx\.data'"):
        clf.to_onnx(tmp_path / "model.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "model.onnx.data"]
    graph = onnx.load(str(tmp_path / "model.onnx"), load_external_data=False).graph
    locations = {entry.value for tensor in graph.initializer for entry in tensor.external_data
                 if entry.key == "location"}
    assert locations == {"model.onnx.data"}
    proba = session(tmp_path / "model.onnx").run(
        None, {"images": ToImage().fit_transform(X[100:140])})[0]
    np.testing.assert_allclose(proba, clf.predict_proba(X[100:140]), atol=proba_atol())


def test_a_failed_export_leaves_the_file_already_there(digits, tmp_path, monkeypatch,
                                                       fast_params):
    onnx = pytest.importorskip("onnx")
    X, y = digits
    clf = CNNClassifier(**fast_params).fit(X[:100], y[:100])
    path = tmp_path / "model.onnx"
    clf.to_onnx(path)
    before = path.read_bytes()

    def disk_full(model, target, **kwargs):
        with open(target, "wb") as file:
            file.write(b"half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(onnx, "save_model", disk_full)
    with pytest.raises(OSError, match=r"Could not write .*model\.onnx.*No space left"):
        clf.to_onnx(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


@pytest.mark.parametrize("network", [
    pytest.param({"module": ConvBatchNorm}, id="custom"),
    pytest.param({"backbone": "resnet18", "weights": None}, id="resnet18",
                 marks=pytest.mark.slow),
])
def test_onnx_of_a_folded_network_matches_predict_proba(digits, tmp_path, network,
                                                        fast_params, proba_atol):
    # Batch norm folded into attribute convolutions (not Sequential neighbours).
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1}, **network).fit(X[:100], y[:100])
    assert not any(isinstance(m, nn.BatchNorm2d) for m in clf.net_.inference_module().modules())
    clf.to_onnx(tmp_path / "model.onnx")
    proba = session(tmp_path / "model.onnx").run(
        None, {"images": ToImage().fit_transform(X[100:140])})[0]
    np.testing.assert_allclose(proba, clf.predict_proba(X[100:140]), atol=proba_atol())


def test_onnx_of_a_tta_model_warns_and_holds_the_network_alone(digits, tmp_path, fast_params,
                                                               proba_atol):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "tta": True}).fit(X[:200], y[:200])
    with pytest.warns(UserWarning, match="without test-time augmentation"):
        clf.to_onnx(tmp_path / "tta.onnx")
    proba = session(tmp_path / "tta.onnx").run(None, {"images": ToImage().fit_transform(X[:20])})[0]
    np.testing.assert_allclose(proba, clf.set_params(tta=False).predict_proba(X[:20]),
                               atol=proba_atol())
