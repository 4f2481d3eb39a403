"""``OnnxPredictor`` (sklearn_cnn/export/_predictor.py): the estimator's answers from its file."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from sklearn_cnn import CNNClassifier, CNNRegressor
from sklearn_cnn.export import OnnxPredictor

ROOT = Path(__file__).parents[2]

#: A process in which torch, torchvision, skorch and scikit-learn cannot be
#: imported: what a deployment with only onnxruntime, numpy and Pillow has.
WITHOUT_TORCH = """
import importlib.abc, sys
class Hidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "skorch", "sklearn"):
            raise ImportError(f"{name} is hidden")
sys.meta_path.insert(0, Hidden())
from sklearn_cnn.export import OnnxPredictor
predictor = OnnxPredictor(sys.argv[1])
print(" ".join(map(str, predictor.predict(sys.argv[2]))))
print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "skorch", "sklearn")))
"""


def test_on_files_the_float_file_gives_the_estimators_labels(exported, digit_folder):
    clf, float_path, int8_path = exported
    _, paths, _ = digit_folder
    expected = clf.predict(paths)
    np.testing.assert_array_equal(OnnxPredictor(float_path).predict(paths), expected)
    np.testing.assert_allclose(OnnxPredictor(float_path).predict_proba(paths),
                               clf.predict_proba(paths), atol=1e-5)
    assert (OnnxPredictor(int8_path).predict(paths) == expected).mean() >= 0.99


def test_a_folder_arrays_and_pil_images_read_as_the_estimator_reads_them(exported, digit_folder):
    clf, float_path, _ = exported
    root, paths, _ = digit_folder
    predictor = OnnxPredictor(float_path)
    one_class = root / "3"
    files = sorted(str(p) for p in one_class.iterdir())
    np.testing.assert_array_equal(predictor.predict(one_class), clf.predict(np.array(files)))
    pils = [Image.open(p) for p in paths[:20]]
    np.testing.assert_array_equal(predictor.predict(pils), clf.predict(paths[:20]))
    X = (load_digits().data[:50].reshape(-1, 8, 8) * 15).astype(np.uint8)
    for layout in (X, X[:, None], X[..., None], X.reshape(50, -1), X.astype(np.float32) / 255):
        np.testing.assert_array_equal(predictor.predict(layout), clf.predict(X))
    assert predictor.predict(X[0]).shape == (1,)  # one image


def test_it_imports_and_predicts_where_torch_cannot_be_imported(exported, digit_folder):
    clf, float_path, _ = exported
    root = digit_folder[0] / "7"
    run = subprocess.run([sys.executable, "-c", WITHOUT_TORCH, str(float_path), str(root)],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    labels, imported = run.stdout.splitlines()
    files = np.array(sorted(str(p) for p in root.iterdir()))
    assert labels.split() == [str(v) for v in clf.predict(files)]
    assert imported == "[]"


def test_what_the_file_says_is_what_the_estimator_knows(exported):
    clf, float_path, int8_path = exported
    predictor = OnnxPredictor(int8_path)
    np.testing.assert_array_equal(predictor.classes_, clf.classes_)
    assert predictor.input_shape_ == tuple(clf.input_shape_) == (1, 8, 8)
    assert predictor.deployment_.mode == "L" and predictor.deployment_.task == "multiclass"
    assert predictor.deployment_.quantization["agreement"] >= 0.99
    assert OnnxPredictor(float_path).deployment_.quantization is None
    assert "int8" in repr(predictor) and "float32" in repr(OnnxPredictor(float_path))


def test_string_labels_multilabel_and_regressors(tmp_path, fast_params):
    fast_params = {**fast_params, "device": "cpu"}  # compared with ONNX Runtime's CPU numbers
    X, y = load_digits(return_X_y=True)
    X, y = X[:200], y[:200]
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])[y]
    multilabel = np.stack([y % 2, y > 4], axis=1)
    for name, model in (("labels", CNNClassifier(**fast_params).fit(X, names)),
                        ("multilabel", CNNClassifier(**fast_params).fit(X, multilabel)),
                        ("numbers", CNNRegressor(**fast_params).fit(X, y.astype(float))),
                        ("outputs", CNNRegressor(**fast_params).fit(X, multilabel * 1.5))):
        model.to_onnx(tmp_path / f"{name}.onnx")
        predicted = OnnxPredictor(tmp_path / f"{name}.onnx").predict(X)
        expected = model.predict(X)
        assert predicted.shape == expected.shape and predicted.dtype.kind == expected.dtype.kind
        if expected.dtype.kind == "f":
            np.testing.assert_allclose(predicted, expected, rtol=1e-4, atol=1e-4)
        else:
            np.testing.assert_array_equal(predicted, expected)


def test_images_that_do_not_fit_the_model_say_what_fits(exported):
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\), \(N, 8, 8, 1\), \(N, 8, 8\)"):
        OnnxPredictor(exported[1]).predict(np.zeros((3, 9, 9)))


def test_a_file_without_metadata_is_refused_with_a_way_out(exported, tmp_path):
    import onnx

    model = onnx.load(exported[1])
    del model.metadata_props[:]
    onnx.save(model, tmp_path / "bare.onnx")
    with pytest.raises(ValueError, match=r"not written by sklearn-cnn.s to_onnx.*export"):
        OnnxPredictor(tmp_path / "bare.onnx")


@pytest.mark.slow
def test_the_readmes_runtime_only_install_predicts(exported, digit_folder, tmp_path):
    """README's "Deploying without PyTorch": its install line, in a fresh venv, as written."""
    import re
    import venv

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Deploying without PyTorch"):]
    (install,) = re.findall(r"^pip install onnxruntime.*$", section, re.MULTILINE)
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    command = install.replace("pip install", f"{python} -m pip install --quiet")
    run = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    clf, float_path, _ = exported
    root = digit_folder[0] / "5"
    alone = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv's own
    run = subprocess.run([str(python), "-c", WITHOUT_TORCH, str(float_path), str(root)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path, env=alone)
    assert run.returncode == 0, run.stderr[-2000:]
    labels, _ = run.stdout.splitlines()
    files = np.array(sorted(str(p) for p in root.iterdir()))
    assert labels.split() == [str(v) for v in clf.predict(files)]
    installed = subprocess.run([str(python), "-c", "import torch"], capture_output=True,
                               env=alone)
    assert installed.returncode != 0  # no torch in that environment at all
