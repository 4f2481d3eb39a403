"""The FAQ's examples (examples/faq_*.py) run in their quick mode and measure what they claim.

Each runs as sphinx-gallery runs it: as ``__main__``, with no command-line
arguments (the quick run), importing ``faq_tasks`` from its own folder.
"""

import pathlib
import runpy
import sys

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


@pytest.fixture(autouse=True)
def as_the_gallery_runs_them(monkeypatch):
    """No arguments, the examples' folder importable, figures off-screen and closed after."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def run_example(name, monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", [name, *args])
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return capsys.readouterr().out


def tables(out):
    """Each Markdown table printed in ``out``: a list of ``{header: cell}`` rows."""
    found, lines = [], out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|")):
            headers = [cell.strip() for cell in line.strip("|").split("|")]
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(dict(zip(headers, (c.strip() for c in row.strip("|").split("|")),
                                     strict=True)))
            found.append(rows)
    return found


def mean_and_std(cell):
    return tuple(float(part) for part in cell.split("±"))


def test_make_photo_patches():
    sys.path.insert(0, str(EXAMPLES))
    try:
        from faq_tasks import make_photo_patches
    finally:
        sys.path.remove(str(EXAMPLES))
    X, y = make_photo_patches(5, size=24, random_state=0)
    assert X.shape == (40, 24, 24, 3) and X.dtype == np.uint8
    labels, counts = np.unique(y, return_counts=True)
    assert len(labels) == 8 and set(counts) == {5}
    assert {label.split("/")[0] for label in labels} == {"china", "flower"}
    again, _ = make_photo_patches(5, size=24, random_state=0)
    other, _ = make_photo_patches(5, size=24, random_state=1)
    assert np.array_equal(X, again) and not np.array_equal(X, other)


def test_faq_tasks_example(monkeypatch, capsys):
    out = run_example("faq_tasks.py", monkeypatch, capsys)
    assert "patches: (400, 32, 32, 3) uint8, 8 classes of 50 patches each" in out
    import matplotlib.pyplot as plt

    assert len(plt.get_fignums()) == 1


def check_search_tables(out, param, values):
    """Both tasks searched over ``values``: every cell scored above chance, ranks consistent."""
    digits, photos = tables(out)
    for rows, n_classes in ((digits, 10), (photos, 8)):
        assert [row[param] for row in rows] == [str(v) for v in values]
        scores = [mean_and_std(row["accuracy (mean ± std)"]) for row in rows]
        assert all(np.isfinite(mean) and 0 <= std < 0.5 for mean, std in scores)
        assert max(mean for mean, _ in scores) > 2 / n_classes  # twice chance
        assert all(mean_and_std(row["fit time, s"])[0] > 0 for row in rows)
        best = max(range(len(rows)), key=lambda i: scores[i][0])
        assert rows[best]["rank"] == "1"
    return digits, photos


@pytest.mark.slow
def test_faq_kernel_size_example(monkeypatch, capsys):
    out = run_example("faq_kernel_size.py", monkeypatch, capsys)
    assert out.startswith("quick run")
    digits, photos = check_search_tables(out, "kernel_size", [3, 5, 7])
    assert "digits: 600 images of shape (64,), 10 classes" in out
    assert "photos: 240 images of shape (32, 32, 3), 8 classes" in out
    for rows in (digits, photos):
        assert all(mean_and_std(row["accuracy (mean ± std)"])[0] > 0.2 for row in rows)


@pytest.mark.slow
def test_faq_activation_example(monkeypatch, capsys):
    from sklearn_cnn import CNNClassifier

    accepted = sorted(CNNClassifier._parameter_constraints["activation"][0].options)
    assert {"relu", "tanh", "sigmoid", "gelu"} <= set(accepted)
    out = run_example("faq_activation.py", monkeypatch, capsys)
    digits, photos = check_search_tables(out, "activation", accepted)
    for rows, n_classes in ((digits, 10), (photos, 8)):
        relu = next(row for row in rows if row["activation"] == "relu")
        assert mean_and_std(relu["accuracy (mean ± std)"])[0] > 2 / n_classes


@pytest.mark.slow
def test_faq_overfitting_example(monkeypatch, capsys):
    out = run_example("faq_overfitting.py", monkeypatch, capsys)
    (rows,) = tables(out)
    by_remedy = {row["remedy"]: {k: float(v) for k, v in row.items() if k != "remedy"}
                 for row in rows}
    assert list(by_remedy) == ["none (overfits)", "augment='standard'", "dropout=0.5",
                               "weight_decay=0.01", "early_stopping=True", "library defaults"]
    overfits = by_remedy["none (overfits)"]
    assert overfits["train acc"] > 0.99 and overfits["gap"] > 0.02
    for remedy in ("augment='standard'", "dropout=0.5", "library defaults"):
        assert by_remedy[remedy]["gap"] < overfits["gap"], remedy
    assert by_remedy["early_stopping=True"]["epochs"] < overfits["epochs"] == 40
    for values in by_remedy.values():
        assert values["gap"] == pytest.approx(values["train acc"] - values["valid acc"], abs=2e-3)
        assert values["held-out acc"] > 0.8
    import matplotlib.pyplot as plt

    titles = [plt.figure(n).get_suptitle() for n in plt.get_fignums()]
    assert titles == list(by_remedy)


@pytest.mark.slow
def test_faq_onnx_size_example(monkeypatch, capsys):
    pytest.importorskip("onnxruntime")
    out = run_example("faq_onnx_size.py", monkeypatch, capsys)
    (rows,) = tables(out)
    assert [(row["task"], row["network"]) for row in rows] == [
        ("digits", "default"), ("digits", "small"), ("photos", "default"), ("photos", "small")]
    for row in rows:
        weights = int(row["weights"].replace(",", ""))
        # float32 weights (batch norm folded in) plus the graph: a little over 4 bytes each.
        assert 0.9 * 4 * weights / 1024 < float(row["ONNX KiB"]) < 1.5 * 4 * weights / 1024 + 32
        assert float(row["onnxruntime ms"]) > 0 and float(row["PyTorch ms"]) > 0
    for task in ("digits", "photos"):
        default, small = (row for row in rows if row["task"] == task)
        assert int(small["weights"].replace(",", "")) < int(default["weights"].replace(",", ""))
        assert float(small["ONNX KiB"]) < float(default["ONNX KiB"])
    default_digits = rows[0]
    assert float(default_digits["held-out acc"]) > 0.2  # 10 classes, 2 epochs
