"""The command line on a CSV of image paths and targets: CNNRegressor (numbers) or CNNClassifier."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from sklearn_cnn import CNNClassifier, CNNRegressor, load
from sklearn_cnn._cli.main import main

#: A fit small enough for 2 cores: seconds.
TINY = [f"--param={p}" for p in ("max_epochs=2", "conv_channels=8", "dense_units=16",
                                  "device=cpu", "random_state=0")]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """120 digits as 8x8 PNG files in images/; their labels."""
    root = tmp_path_factory.mktemp("digits")
    X, y = load_digits(return_X_y=True)
    (root / "images").mkdir()
    for i, image in enumerate(X[:120]):
        pixels = (image.reshape(8, 8) * 16).clip(0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / "images" / f"{i:03d}.png")
    return root, y[:120]


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def image_rows(y, *columns):
    """Rows of a relative path (to the CSV beside images/) and each column's value."""
    return [[f"images/{i:03d}.png", *(column(label) for column in columns)]
            for i, label in enumerate(y)]


def run(*args, cwd):
    """The command line in a fresh process, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "sklearn_cnn", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def test_round_trip_on_a_csv_of_paths_and_numbers_in_a_fresh_process(digits, tmp_path):
    root, y = digits
    table = write_csv(root / "thousands.csv", ["path", "thousands"],
                      image_rows(y, lambda label: 1000 * label))
    model = tmp_path / "model.safetensors"
    result = run("fit", table, "--out", model, *TINY, "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "120 images, 1 numeric target: thousands from 0 to 9000" in result.stdout
    assert "a CNNRegressor (numbers: --task classify reads them as labels)" in result.stdout
    regressor = load(model)
    assert isinstance(regressor, CNNRegressor) and regressor.n_outputs_ == 1
    assert regressor.max_epochs == 2 and regressor.conv_channels == 8

    plot = tmp_path / "errors.png"
    result = run("evaluate", model, table, "--plot", plot, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, scores = result.stdout.splitlines()[1:3]
    assert header.split() == ["R²", "MAE", "RMSE"] and scores.split()[0] == "thousands"
    r2, mae, rmse = map(float, scores.split()[1:])
    paths = np.array([os.fspath(root / "images" / f"{i:03d}.png") for i in range(len(y))])
    predicted = regressor.predict(paths)
    np.testing.assert_allclose(r2, regressor.score(paths, 1000.0 * y), rtol=1e-3)
    np.testing.assert_allclose(mae, np.abs(predicted - 1000 * y).mean(), rtol=1e-3)
    np.testing.assert_allclose(rmse, np.sqrt(((predicted - 1000 * y) ** 2).mean()), rtol=1e-3)
    picture = np.asarray(Image.open(plot).convert("L"), dtype=float)
    assert picture.std() > 10  # drawn, not blank

    out = tmp_path / "predictions.csv"
    result = run("predict", model, root / "images", "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with open(out, newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["path", "prediction"] and len(rows) == len(y)
    assert [row["path"] for row in rows] == paths.tolist()
    np.testing.assert_allclose([float(row["prediction"]) for row in rows], predicted, rtol=1e-5)


def test_several_target_columns(digits, tmp_path, capsys):
    root, y = digits
    table = write_csv(root / "two.csv", ["path", "thousands", "half"],
                      image_rows(y, lambda label: 1000 * label, lambda label: label / 2))
    model = tmp_path / "m.safetensors"
    assert main(["fit", str(table), "--out", str(model), *TINY, "--quiet"]) == 0
    assert "2 numeric targets: thousands from 0 to 9000 (mean" in capsys.readouterr().out
    assert load(model).n_outputs_ == 2
    assert main(["evaluate", str(model), str(table)]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert rows == ["thousands", "half", "mean"]
    assert main(["predict", str(model), str(root / "images" / "000.png")]) == 0
    header, row = capsys.readouterr().out.strip().splitlines()
    assert header == "path,prediction_0,prediction_1" and len(row.split(",")) == 3


def test_labels_in_a_csv_train_a_classifier(digits, tmp_path, capsys):
    root, y = digits
    table = write_csv(root / "parity.csv", ["path", "parity"],
                      image_rows(y, lambda label: "even odd".split()[label % 2]))
    model = tmp_path / "m.safetensors"
    assert main(["fit", str(table), "--out", str(model), *TINY, "--quiet"]) == 0
    assert "120 images of 2 classes: even (" in capsys.readouterr().out
    classifier = load(model)
    assert isinstance(classifier, CNNClassifier)
    assert classifier.classes_.tolist() == ["even", "odd"]
    assert main(["evaluate", str(model), str(table)]) == 0
    assert "precision" in capsys.readouterr().out


def test_task_forces_the_estimator(digits, tmp_path, capsys):
    root, y = digits
    table = write_csv(root / "digit.csv", ["path", "digit"], image_rows(y, int))
    model = tmp_path / "m.safetensors"
    assert main(["fit", str(table), "--out", str(model), *TINY, "--quiet",
                 "--task", "classify"]) == 0
    assert "120 images of 10 classes: 0 (" in capsys.readouterr().out
    assert load(model).classes_.tolist() == [str(d) for d in range(10)]
    assert main(["fit", str(table), "--out", str(model), *TINY, "--quiet",
                 "--task", "regress"]) == 0
    printed = capsys.readouterr().out
    assert "a CNNRegressor" in printed and "--task classify reads" not in printed
    assert isinstance(load(model), CNNRegressor)


def one_error_line(capsys, argv):
    assert main(argv) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith(f"sklearn-cnn {argv[0]}: error: ")
    return lines[0]


def test_mistakes_in_the_csv_name_the_line_and_column(digits, tmp_path, capsys):
    root, y = digits
    out = ["--out", str(tmp_path / "m.safetensors")]
    rows = image_rows(y[:6], lambda label: 1000 * label)
    gone = write_csv(root / "gone.csv", ["path", "y"],
                     [*rows[:3], ["images/nope.png", "3"], ["elsewhere/x.png", "4"]])
    line = one_error_line(capsys, ["fit", str(gone), *out])
    assert "line 5 of" in line and "no such image file 'images/nope.png'" in line
    assert "(and 1 more, on lines 6)" in line
    words = write_csv(root / "words.csv", ["path", "age"], [*rows[:3], [rows[3][0], "old"]])
    line = one_error_line(capsys, ["fit", str(words), *out, "--task", "regress"])
    assert "line 5 of" in line and "column 'age': 'old' is not a (finite) number" in line
    assert "--task regress needs numeric targets" in line
    short = write_csv(root / "short.csv", ["path", "age", "weight"],
                      [[*rows[0], "1"], rows[1]])
    line = one_error_line(capsys, ["fit", str(short), *out])
    assert "line 3 of" in line and "lacks column 'weight'" in line
    lone = write_csv(root / "lone.csv", ["path"], [[row[0]] for row in rows])
    assert "names one column ('path')" in one_error_line(capsys, ["fit", str(lone), *out])
    headless = write_csv(root / "headless.csv", rows[0], rows[1:])
    assert "add a header row" in one_error_line(capsys, ["fit", str(headless), *out])
    line = one_error_line(capsys, ["fit", str(root / "images"), *out, "--task", "regress"])
    assert "--task regress needs a CSV of path,target" in line
    numbers = write_csv(root / "numbers.csv", ["path", "y"], rows)
    line = one_error_line(capsys, ["fit", str(numbers), *out, "--param", "class_weight=balanced"])
    assert "'class_weight' is no parameter of CNNRegressor" in line
    assert "No such folder or CSV file" in one_error_line(
        capsys, ["fit", str(root / "missing.csv"), *out])


def test_evaluate_mistakes(digits, tmp_path, capsys):
    root, y = digits
    table = write_csv(root / "small.csv", ["path", "y"], image_rows(y[:40], float))
    model = tmp_path / "m.safetensors"
    assert main(["fit", str(table), "--out", str(model), *TINY, "--quiet"]) == 0
    capsys.readouterr()
    line = one_error_line(capsys, ["evaluate", str(model), str(root)])
    assert "holds a CNNRegressor, evaluated on a CSV of path,target" in line
    two = write_csv(root / "two_columns.csv", ["path", "a", "b"],
                    image_rows(y[:4], float, float))
    line = one_error_line(capsys, ["evaluate", str(model), str(two)])
    assert "has 2 target column(s) (a, b); the model predicts 1" in line
    words = write_csv(root / "labels.csv", ["path", "y"],
                      [*image_rows(y[:3], str), ["images/003.png", "three"]])
    line = one_error_line(capsys, ["evaluate", str(model), str(words)])
    assert "line 5 of" in line and "column 'y': 'three' is not a (finite) number" in line
    line = one_error_line(capsys, ["explain", str(model), str(root / "images" / "000.png"),
                                   "--out", str(tmp_path / "cam")])
    assert "holds a CNNRegressor; explain needs a fitted CNNClassifier" in line
