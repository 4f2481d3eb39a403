"""``sklearn-cnn export`` and ``sklearn-cnn predict`` on its ``.onnx`` files, in fresh processes."""

import csv
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def cli(*args, cwd):
    run = subprocess.run([sys.executable, "-m", "sklearn_cnn", *map(str, args)],
                         capture_output=True, text=True, cwd=cwd, timeout=300)
    return run


def labels(path) -> list[str]:
    with open(path, newline="") as file:
        return [row["label"] for row in csv.DictReader(file)]


def test_export_then_predict_with_the_onnx_file(tmp_path):
    X, y = load_digits(return_X_y=True)
    for i in range(200):
        path = tmp_path / "digits" / str(y[i]) / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((X[i].reshape(8, 8) * 15).astype(np.uint8)).save(path)
    steps = [("fit", "digits", "--out", "m.safetensors", "--param", "max_epochs=4",
              "--param", "device=cpu", "--quiet"),
             ("export", "m.safetensors", "m.onnx"),
             ("export", "m.safetensors", "q.onnx", "--int8", "--calibration", "digits"),
             ("predict", "m.safetensors", "digits", "--out", "model.csv"),
             ("predict", "m.onnx", "digits", "--out", "float.csv"),
             ("predict", "q.onnx", "digits", "--out", "int8.csv")]
    said = {}
    for step in steps:
        run = cli(*step, cwd=tmp_path)
        assert run.returncode == 0, (step, run.stderr)
        said[step[:3]] = run.stdout
    assert "float32" in said[("export", "m.safetensors", "m.onnx")]
    assert "int8, agreeing with the float model on" in said[("export", "m.safetensors", "q.onnx")]
    assert labels(tmp_path / "float.csv") == labels(tmp_path / "model.csv")
    agree = np.mean(np.array(labels(tmp_path / "int8.csv")) == labels(tmp_path / "model.csv"))
    assert agree >= 0.95


def test_int8_needs_its_calibration_folder(tmp_path):
    run = cli("export", "m.safetensors", "q.onnx", "--int8", cwd=tmp_path)
    assert run.returncode == 1
    assert "--int8 and --calibration FOLDER go together" in run.stderr
