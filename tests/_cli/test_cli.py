"""The sklearn-cnn command line: demo, fit, evaluate, predict, explain, and user mistakes."""

import csv
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from sklearn_cnn import load
from sklearn_cnn._cli.main import demo, main
from sklearn_cnn.datasets import SHAPES, make_shapes

#: A CLI fit small enough for 2 cores.
QUICK = [f"--param={p}" for p in ("max_epochs=8", "conv_channels=8,16", "dense_units=32",
                                   "batch_size=32", "lr=0.01", "augment=None", "device=cpu",
                                   "random_state=0")]


def write_shapes(root, n_samples, random_state):
    """make_shapes as a folder of PNG files: mixed sizes, RGB and gray, one folder per shape."""
    X, y = make_shapes(n_samples, image_size=24, n_classes=2, random_state=random_state)
    for i, (image, label) in enumerate(zip(X, y, strict=True)):
        picture = Image.fromarray((image * 255).astype(np.uint8))
        if i % 4 == 0:
            picture = picture.resize((30, 30))  # other photos are bigger
        if i % 3 == 0:
            picture = picture.convert("RGB")
        folder = root / SHAPES[label]
        folder.mkdir(parents=True, exist_ok=True)
        picture.save(folder / f"{i:03d}.png")
    return root


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    return write_shapes(root / "train", 300, 0), write_shapes(root / "test", 40, 1)


@pytest.fixture(scope="module")
def model(folders, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "shapes.safetensors"
    assert main(["fit", str(folders[0]), "--out", str(path), "--quiet", *QUICK]) == 0
    return path


def test_fit_saves_a_model(model, folders, capsys):
    clf = load(model)
    assert clf.classes_.tolist() == ["disc", "square"]
    assert clf.max_epochs == 8 and clf.conv_channels == (8, 16) and clf.augment is None
    assert clf.input_shape_ == (3, 24, 24)  # the most common size; RGB as some are


def test_fit_prints_epochs_and_the_size_warning(folders, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    assert main(["fit", str(folders[1]), "--out", str(out), *QUICK, "--param", "max_epochs=2",
                 "--validation-fraction", "0.25"]) == 0
    captured = capsys.readouterr()
    assert "40 images of 2 classes: disc (20), square (20)" in captured.out
    assert "trained 2 epochs" in captured.out and "valid_acc" in captured.out
    assert f"saved to {out}" in captured.out and out.is_file()
    assert load(out).validation_fraction == 0.25
    warning = captured.err.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("sklearn-cnn fit: warning:")
    assert "resized to 24x24" in warning[0] and "--param image_shape=H,W" in warning[0]


def test_image_shape_param_sets_the_size(folders, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    assert main(["fit", str(folders[1]), "--out", str(out), "--quiet", *QUICK,
                 "--param", "max_epochs=1", "--param", "image_shape=1,16,16"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert load(out).input_shape_ == (1, 16, 16)


def test_fit_resumes_from_its_checkpoint_after_ctrl_c(folders, tmp_path, capsys, monkeypatch):
    from sklearn_cnn._training.net import CNNNet

    on_epoch_end, pressed = CNNNet.on_epoch_end, []

    def ctrl_c_in_epoch_2(net, *args, **kwargs):
        on_epoch_end(net, *args, **kwargs)
        if len(net.history) == 2 and not pressed:
            pressed.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(CNNNet, "on_epoch_end", ctrl_c_in_epoch_2)
    out, checkpoint = tmp_path / "m.safetensors", tmp_path / "run"
    command = ["fit", str(folders[1]), "--out", str(out), "--checkpoint", str(checkpoint),
               *QUICK, "--param", "max_epochs=4"]
    assert main(command) == 130
    err = capsys.readouterr().err
    assert "interrupted after 1 complete epoch; nothing saved" in err
    assert "run the same command to resume" in err and not out.exists()
    assert main(command) == 0  # the same command again
    printed = capsys.readouterr().out
    assert "trained 4 epochs" in printed and load(out).n_iter_ == 4
    assert [line.split()[0] for line in printed.splitlines()
            if "/4" in line] == ["2/4", "3/4", "4/4"]  # the epoch table: those left


def test_evaluate(model, folders, capsys, tmp_path):
    plot = tmp_path / "confusion.png"
    assert main(["evaluate", str(model), str(folders[1]), "--plot", str(plot)]) == 0
    printed = capsys.readouterr().out
    assert "precision" in printed and "confusion matrix" in printed
    accuracy = float(printed.split("accuracy")[1].split()[0])
    assert accuracy >= 0.75  # two classes: chance is 0.5
    picture = np.asarray(Image.open(plot).convert("L"), dtype=float)
    assert picture.std() > 10  # drawn, not blank


def run(*args):
    """The command line in a fresh process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "sklearn_cnn", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_evaluate_on_classes_the_model_never_saw(model, folders, tmp_path):
    import shutil

    strangers = tmp_path / "strangers"
    for name in ("brick", "grass"):
        shutil.copytree(folders[1] / "disc", strangers / name)
    result = run("evaluate", model, strangers)
    assert result.returncode != 0 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "None of the classes" in lines[0]
    assert "brick, grass" in lines[0] and "disc, square" in lines[0]
    # Some known, some not: a warning that counts them, and integer supports.
    mixed = tmp_path / "mixed"
    shutil.copytree(folders[1], mixed)
    shutil.copytree(folders[1] / "disc", mixed / "brick")
    result = run("evaluate", model, mixed)
    assert result.returncode == 0, result.stderr
    assert "20 of the 60 images are of classes the model was never fitted on (brick" \
        in result.stderr
    supports = [line.split()[-1] for line in result.stdout.splitlines()
                if line.strip().startswith(("brick", "disc", "square", "accuracy"))]
    assert supports[:4] == ["20", "20", "20", "60"]


#: Run the command line as on a machine without some packages installed.
WITHOUT = """
import sys
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
sys.meta_path.insert(0, Missing())
from sklearn_cnn._cli.main import main
sys.exit(main({argv!r}))
"""


@pytest.mark.parametrize(("blocked", "command", "expected"), [
    ({"matplotlib", "captum"}, "explain", "explain needs the explain and plot extras, not "
     "installed: pip install 'sklearn-cnn[explain,plot]'"),
    ({"captum"}, "explain", "explain needs the explain extra, not installed: "
     "pip install 'sklearn-cnn[explain]'"),
    ({"matplotlib"}, "evaluate", "evaluate --plot needs the plot extra, not installed: "
     "pip install 'sklearn-cnn[plot]'"),
    ({"matplotlib", "cleanlab"}, "audit", "audit needs the audit and plot extras, not "
     "installed: pip install 'sklearn-cnn[audit,plot]'"),
])
def test_missing_extras_are_named_together_before_any_work(model, folders, tmp_path, blocked,
                                                            command, expected):
    argv = {"explain": ["explain", str(model), str(folders[1]), "--out", str(tmp_path / "c")],
            "evaluate": ["evaluate", str(model), str(folders[1]), "--plot",
                         str(tmp_path / "m.png")],
            "audit": ["audit", str(folders[0]), "--out", str(tmp_path / "c"), "--plot",
                      str(tmp_path / "m.png")]}[command]
    result = subprocess.run([sys.executable, "-c", WITHOUT.format(blocked=blocked, argv=argv)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and result.stdout == ""  # no report, no maps first
    assert result.stderr.strip() == f"sklearn-cnn {command}: error: {expected}"
    assert not (tmp_path / "c").exists()


def test_predict_writes_csv(model, folders, tmp_path, capsys):
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(model), str(folders[1]), "--out", str(out)]) == 0
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 40
    assert list(rows[0]) == ["path", "label", "proba_disc", "proba_square"]
    clf = load(model)
    paths = np.array([row["path"] for row in rows])
    np.testing.assert_allclose([[float(r["proba_disc"]), float(r["proba_square"])] for r in rows],
                               clf.predict_proba(paths), atol=1e-5)
    assert [r["label"] for r in rows] == clf.predict(paths).tolist()
    # Files on the command line, to stdout.
    capsys.readouterr()
    assert main(["predict", str(model), rows[0]["path"], rows[1]["path"]]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[1].startswith(rows[0]["path"] + ",")


def test_explain_writes_overlays(model, folders, tmp_path):
    images = sorted((folders[1] / "square").glob("*.png"))[:2]
    assert main(["explain", str(model), *map(str, images), "--out", str(tmp_path / "cam")]) == 0
    written = sorted((tmp_path / "cam").glob("*_gradcam_*.png"))
    assert len(written) == 2
    for image, figure in zip(images, written, strict=True):
        picture = Image.open(figure)
        side = Image.open(image).size[0]
        assert picture.size[0] > 2 * 4 * side and picture.size[1] > 4 * side  # enlarged, 2 panels
        pixels = np.asarray(picture.convert("RGB"), dtype=float)
        assert pixels.std() > 10 and np.ptp(pixels[..., 0] - pixels[..., 2]) > 0  # coloured
        # Titled with the prediction, its probability and the true class (the folder's).
        assert "square" in figure.name


def one_error_line(capsys, argv, code=1):
    assert main(argv) == code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


def test_user_mistakes_get_one_line(model, folders, tmp_path, capsys):
    out = ["--out", str(tmp_path / "m.safetensors")]
    assert "No such folder" in one_error_line(capsys, ["fit", str(tmp_path / "nope"), *out])
    line = one_error_line(capsys, ["fit", str(folders[0]), *out, "--param", "max_epoch=3"])
    assert "unknown parameter 'max_epoch'" in line and "max_epochs" in line
    line = one_error_line(capsys, ["fit", str(folders[0]), *out, "--param", "optimizer=adamm"])
    assert "optimizer" in line and "adam" in line
    line = one_error_line(capsys, ["fit", str(folders[0]), *out, "--param", "lr"])
    assert "key=value" in line
    not_a_model = tmp_path / "photo.png"
    Image.new("L", (4, 4)).save(not_a_model)
    line = one_error_line(capsys, ["evaluate", str(not_a_model), str(folders[1])])
    assert "not a readable sklearn-cnn model file" in line
    line = one_error_line(capsys, ["predict", str(model), str(tmp_path / "gone.png")])
    assert "gone.png" in line
    (tmp_path / "flat").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "flat" / "a.png")
    line = one_error_line(capsys, ["evaluate", str(model), str(tmp_path / "flat")])
    assert "no class subfolders" in line and "load_image_folder" not in line
    corrupt = tmp_path / "bad.png"
    corrupt.write_bytes(b"not a png")
    assert "bad.png" in one_error_line(capsys, ["predict", str(model), str(corrupt)])
    # A malformed command line: one line too, exit code 2.
    with pytest.raises(SystemExit) as info:
        main(["fit", str(folders[0])])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0]


def test_messages_read_as_plain_text(folders, tmp_path):
    import shutil

    one = tmp_path / "one"
    shutil.copytree(folders[1] / "disc", one / "disc")
    result = run("fit", one, "--out", tmp_path / "m.safetensors", *QUICK)
    assert "20 images of 1 class: disc (20)" in result.stdout
    assert result.returncode == 1
    assert result.stderr.strip().endswith("got only one class ('disc').")  # not np.str_(...)
    # A list of files after a colon runs on from it: "file(s): a.png: ...; b.png: ...".
    broken = tmp_path / "broken"
    shutil.copytree(folders[1], broken)
    for name in ("a.png", "b.png"):
        (broken / "disc" / name).write_bytes(b"not a png")
    result = run("fit", broken, "--out", tmp_path / "m.safetensors", *QUICK)
    line = result.stderr.strip()
    assert result.returncode == 1 and "\n" not in line and ":;" not in line
    assert "2 image file(s): " in line and "a.png" in line and "; " in line


def test_missing_extra_is_named(model, folders, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    line = one_error_line(capsys, ["evaluate", str(model), str(folders[1]),
                                   "--plot", str(tmp_path / "c.png")])
    assert "pip install 'sklearn-cnn[plot]'" in line


@pytest.mark.parametrize("command", [[], ["fit"], ["evaluate"], ["predict"], ["explain"]])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    assert "usage: sklearn-cnn" in capsys.readouterr().out


def test_demo_beats_svc_on_digits(capsys):
    scores = demo(random_state=0)
    svc, cnn = scores["SVC()"], scores["CNNClassifier(random_state=0)"]
    # At least as good as the SVC (0.9867) on any thread count; 0.9933 on 2
    # threads. A broken network scores far lower.
    assert cnn >= svc
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and f"{cnn:.4f}" in out


def test_main_requires_a_command(capsys):
    with pytest.raises(SystemExit):
        main([])
    assert "COMMAND" in capsys.readouterr().err


@pytest.mark.slow
def test_round_trip_from_a_fresh_shell(folders, tmp_path):
    """What the README shows: the installed command, fit → evaluate → predict → explain."""

    def run(*args):
        return subprocess.run([sys.executable, "-m", "sklearn_cnn", *args], capture_output=True,
                              text=True, check=True, timeout=600, cwd=tmp_path)

    run("fit", str(folders[0]), "--out", "model.safetensors", *QUICK)
    assert "precision" in run("evaluate", "model.safetensors", str(folders[1])).stdout
    run("predict", "model.safetensors", str(folders[1]), "--out", "predictions.csv")
    assert (tmp_path / "predictions.csv").read_text().count("\n") == 41
    image = next((folders[1] / "disc").glob("*.png"))
    run("explain", "model.safetensors", str(image), "--out", "cam")
    assert len(list((tmp_path / "cam").glob("*.png"))) == 1


@pytest.mark.slow
def test_python_dash_m_runs_the_demo():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_cnn", "demo"], capture_output=True, text=True,
        check=True, timeout=600,
    )
    assert result.stdout.count("held-out accuracy") == 2
