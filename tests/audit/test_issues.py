"""The audit finds planted problems (sklearn_cnn.audit, sklearn_cnn.datasets.add_problems)."""

import subprocess
import sys

import numpy as np
import pytest
from _helpers import write_image
from sklearn.datasets import load_digits

from sklearn_cnn import CNNClassifier
from sklearn_cnn.datasets import add_problems

pytest.importorskip("cleanlab", reason="the audit extra")
from sklearn_cnn.audit import ISSUE_KINDS, find_issues

PARAMS = {"conv_channels": (8, 16), "max_epochs": 8, "random_state": 0, "device": "cpu"}


def noise_images(n, rng):
    """Images of another kind than digits: uniform noise in digits' 0-16."""
    return rng.uniform(0, 16, (n, 64))


@pytest.fixture(scope="module")
def planted():
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    X_train, y_train, X_test, truth = add_problems(
        X[:400], y[:400], X[400:600], label_noise=0.05, n_duplicates=3, n_leaks=4,
        others=noise_images(4, np.random.default_rng(1)), random_state=0)
    issues = find_issues(CNNClassifier(**PARAMS), X_train, y_train, X_test=X_test, cv=3)
    return issues, truth, (X_train, y_train, X_test)


def found(issues, kind):
    return set(issues.loc[issues["issue"] == kind, "index"])


def test_the_table_has_its_columns_and_order(planted):
    issues, _, _ = planted
    assert list(issues.columns) == ["index", "set", "path", "issue", "given_label",
                                    "suggested_label", "score", "duplicate_of"]
    assert list(issues["issue"].cat.categories) == list(ISSUE_KINDS)
    assert issues["score"].between(0, 1).all()
    for _, group in issues.groupby("issue", observed=True):
        assert group["score"].is_monotonic_increasing  # likeliest first


def test_wrong_labels_are_found_with_the_true_label_suggested(planted):
    issues, truth, (_, y_train, _) = planted
    flagged = found(issues, "label")
    hits = flagged & set(truth["label"])
    # A small network trained briefly (fast tests): it also doubts some true
    # labels. Flagging at random would give a precision near 0.05.
    assert len(hits) / len(truth["label"]) >= 0.6  # recall
    assert len(hits) / len(flagged) >= 0.25  # precision
    _, y = load_digits(return_X_y=True)
    original = y[np.random.default_rng(0).permutation(len(y))][:400]
    rows = issues[(issues["issue"] == "label") & issues["index"].isin(hits)]
    assert (rows["suggested_label"].to_numpy() == original[rows["index"]]).mean() >= 0.8
    assert (rows["given_label"].to_numpy() == y_train[rows["index"]]).all()


def test_copies_within_the_training_set_and_into_the_test_set_are_found(planted):
    issues, truth, _ = planted
    assert found(issues, "near_duplicate") == set(truth["near_duplicate"].ravel())
    leaks = issues[issues["issue"] == "leak"]
    assert set(leaks["index"]) == set(truth["leak"][:, 0])
    expected = dict(truth["leak"].tolist())
    assert all(expected[i] in partners
               for i, partners in zip(leaks["index"], leaks["duplicate_of"], strict=True))
    assert (leaks["set"] == "test").all()


def test_images_of_another_kind_are_outliers(planted):
    issues, truth, _ = planted
    outliers = issues[issues["issue"] == "outlier"]
    assert len(set(truth["outlier"]) & set(outliers["index"])) >= len(truth["outlier"]) - 1
    # The planted ones rank among the lowest scores.
    first = set(outliers["index"].iloc[: 2 * len(truth["outlier"])])
    assert len(first & set(truth["outlier"])) >= len(truth["outlier"]) - 1


def test_paths_are_reported_and_the_command_line_writes_them(tmp_path):
    X, y = load_digits(return_X_y=True)
    pixels = (X.reshape(-1, 8, 8) * 255 / 16).astype(np.uint8)
    for i in range(150):
        label = (y[i] + 1) % 10 if i < 6 else y[i]
        write_image(tmp_path / "train" / str(label) / f"{i}.png", pixels[i])
    for i in range(150, 190):
        write_image(tmp_path / "test" / str(y[i]) / f"{i}.png", pixels[i])
    write_image(tmp_path / "test" / str(y[7]) / "copy.png", pixels[7])
    out = tmp_path / "issues.csv"
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_cnn", "audit", str(tmp_path / "train"),
         "--test", str(tmp_path / "test"), "--out", str(out), "--plot",
         str(tmp_path / "issues.png"), "--cv", "3", "--param", "max_epochs=6",
         "--param", "conv_channels=8,16"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "found" in result.stdout and (tmp_path / "issues.png").stat().st_size > 1000
    import csv

    rows = list(csv.DictReader(out.open()))
    leaks = [row for row in rows if row["issue"] == "leak"]
    assert [row["path"].rsplit("/", 1)[-1] for row in leaks] == ["copy.png"]
    assert leaks[0]["duplicate_of"].endswith("/7.png")
    assert any(row["issue"] == "label" for row in rows)


def test_command_line_errors_are_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_cnn", "audit", str(tmp_path / "nope"), "--out",
         str(tmp_path / "x.csv")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("sklearn-cnn audit: error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_display_titles_each_suspect_with_its_finding(planted):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from sklearn_cnn.plotting import AuditDisplay

    issues, _, (X_train, _, X_test) = planted
    display = AuditDisplay.from_issues(issues, X_train, X_test, n_images=8)
    titles = [ax.get_title() for ax in display.axes_.ravel() if ax.get_visible()
              and ax.images]
    assert len(titles) == 8
    assert any(t.startswith("leak: test #") for t in titles)
    assert any(t.startswith("label #") and "suggested" in t for t in titles)
    assert any(t.startswith("duplicate #") for t in titles)


def test_planted_problems_are_where_the_truth_says():
    X, y = load_digits(return_X_y=True)
    X_train, y_train, X_test, truth = add_problems(
        X[:200], y[:200], X[200:300], others=np.zeros((3, 64)), random_state=0)
    assert set(np.flatnonzero(y_train != y[:200])) == set(truth["label"])
    for copy, original in truth["near_duplicate"]:
        np.testing.assert_array_equal(X_train[copy], X_train[original])
    for test, train in truth["leak"]:
        np.testing.assert_array_equal(X_test[test], X_train[train])
    assert (X_train[truth["outlier"]] == 0).all()
    with pytest.raises(ValueError, match="get a problem"):
        add_problems(X[:10], y[:10], X[10:12], random_state=0)
