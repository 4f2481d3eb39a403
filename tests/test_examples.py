"""Every script in examples/ runs and prints what it promises."""

import pathlib
import runpy
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


@pytest.mark.slow
def test_seed_keras_model_example(capsys):
    pytest.importorskip("mlxtend")
    runpy.run_path(str(EXAMPLES / "seed_keras_model.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "parameters: 121,930 (Keras: 121,930)" in out
    accuracy = float(out.rsplit("accuracy:", 1)[1])
    assert accuracy > 0.9  # 1,000 training digits (0.96 measured); chance is 0.1


def test_pipeline_rgb_example(capsys):
    runpy.run_path(str(EXAMPLES / "pipeline_rgb.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "network input (3, 32, 32)" in out
    assert float(out.rsplit("accuracy:", 1)[1]) > 0.9


def test_augmentation_example(capsys):
    runpy.run_path(str(EXAMPLES / "augmentation_small_data.py"), run_name="__main__")
    lines = capsys.readouterr().out.strip().splitlines()
    none, standard = (float(line.rsplit(":", 1)[1]) for line in lines)
    assert standard > none


def test_save_load_onnx_example(capsys, proba_atol):
    pytest.importorskip("onnxruntime")
    runpy.run_path(str(EXAMPLES / "save_load_onnx.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "predict_proba identical: True" in out
    assert "input ['batch', 1, 8, 8]" in out
    device = out.split("trained on ", 1)[1].split(":", 1)[0]
    assert float(out.rsplit("predict_proba:", 1)[1].split()[0]) < proba_atol(device)
    # OnnxPredictor: the float file gives the estimator's labels, the int8 one nearly all.
    shares = [float(line.rsplit(" on ", 1)[1].split("%")[0])
              for line in out.splitlines() if "the estimator's labels on" in line]
    assert shares[0] >= 99.0 and shares[1] >= 98.0  # the example trains on any device


def test_multilabel_digits_example(capsys):
    runpy.run_path(str(EXAMPLES / "multilabel_digits.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "classes_: [0 1 2] (the label columns), predict: (450, 3)" in out
    report = {line.rsplit(None, 4)[0].strip(): float(line.split()[-2])
              for line in out.splitlines() if line.strip().startswith(
                  ("even", "greater than 4", "has a loop"))}
    assert sorted(report) == ["even", "greater than 4", "has a loop"]
    assert min(report.values()) > 0.9  # each label's f1-score
    assert float(out.rsplit("all three labels right):", 1)[1]) > 0.85


@pytest.mark.slow
def test_cli_round_trip_example(capsys):
    runpy.run_path(str(EXAMPLES / "cli_round_trip.py"), run_name="__main__")
    out = capsys.readouterr().out
    accuracy = float(out.split("accuracy", 1)[1].split()[0])
    assert accuracy > 0.75  # two photos: chance is 0.5
    assert "predictions.csv: 80 rows, columns path,label,proba_china,proba_flower" in out
    assert out.count("Grad-CAM in gradcam/") == 2
    assert "confusion.png, gradcam, model.safetensors, predictions.csv" in out


def test_grad_cam_example(capsys, monkeypatch, tmp_path):
    figure = tmp_path / "grad_cam.png"
    monkeypatch.setattr(sys, "argv", ["grad_cam.py", str(figure)])
    runpy.run_path(str(EXAMPLES / "grad_cam.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert float(out.split("held-out accuracy:", 1)[1].split()[0]) > 0.9
    assert int(out.split("than over the image:", 1)[1].split()[0]) >= 75
    assert figure.stat().st_size > 0


def test_training_curves_example(capsys, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(EXAMPLES / "training_curves.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert float(out.split("held-out accuracy:", 1)[1].split()[0]) > 0.9
    folder = pathlib.Path(out.rsplit("figures in ", 1)[1].split(":", 1)[0])
    assert sorted(p.name for p in folder.glob("*.png")) == [
        "confusion_matrix.png", "history.png", "mistakes.png", "roc.png"]


@pytest.mark.slow
def test_lr_finder_example(capsys, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(EXAMPLES / "lr_finder.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert pathlib.Path(out.split("plotted in ", 1)[1].split()[0]).is_file()
    tenth, suggested, _ = (float(line.rsplit(":", 1)[1])
                           for line in out.splitlines() if line.startswith("lr="))
    assert suggested > 0.9 and suggested > tenth


@pytest.mark.slow
def test_audit_example(capsys, monkeypatch):
    pytest.importorskip("cleanlab")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(EXAMPLES / "audit_digits.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert pathlib.Path(out.split("plotted in ", 1)[1].split()[0]).is_file()
    found = {line.split(":")[0]: int(line.split(": ")[1].split()[0])
             for line in out.splitlines() if " planted found" in line}
    assert found["leak"] == 5 and found["near_duplicate"] == 8 and found["label"] >= 15


@pytest.mark.slow
def test_regression_angle_example(capsys):
    runpy.run_path(str(EXAMPLES / "regression_angle.py"), run_name="__main__")
    out = capsys.readouterr().out
    cnn, ridge = (float(out.split(name + ": R2 ", 1)[1].split(",")[0])
                  for name in ("CNNRegressor", "ridge on pixels"))
    errors = [float(line.rsplit("mean error ", 1)[1].split()[0]) for line in out.splitlines()
              if "mean error" in line]
    assert cnn > 0.95 and cnn > ridge and errors[0] < errors[1]
