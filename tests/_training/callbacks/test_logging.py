"""What verbose=1 prints: plain lines, skorch's bar on a terminal.

(sklearn_cnn._training.callbacks.logging)
"""

import io
import re
import sys

import numpy as np
import pytest
from _helpers import ReadsBatchLoss, scalar_reads
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochScoring, ProgressBar
from torch import nn

from sklearn_cnn import CNNClassifier
from sklearn_cnn._training.callbacks.logging import EpochLog, is_terminal, verbose_callbacks
from sklearn_cnn._training.callbacks.scoring import TrainAccuracy
from sklearn_cnn._training.epoch import reads_batch_losses


class FakeTerminal(io.StringIO):
    """A stream that says it is an interactive terminal."""

    def isatty(self):
        return True


@pytest.fixture
def fit_verbose(fast_params):
    """``fit_verbose(X, y, **params)``: a CNNClassifier printing its epoch log, fitted."""

    def fit(X, y, **params):
        return CNNClassifier(**{**fast_params, "verbose": 1, **params}).fit(X, y)

    return fit


def table_rows(out):
    """The epoch rows of a printed table: lines that start with ``k/N``."""
    return [line for line in out.splitlines() if re.match(r"\s*\d+/\d+\s", line)]


def test_log_file_gets_one_plain_line_per_epoch(digits, capsys, fit_verbose):
    X, y = digits
    clf = fit_verbose(X[:200], y[:200], max_epochs=3, validation_fraction=0.2)
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert "\x1b[" not in printed and "\r" not in printed
    header, rule, *rows = captured.out.splitlines()
    assert header.split() == ["epoch", "train_acc", "train_loss", "valid_acc", "valid_loss",
                              "lr", "dur"]
    assert set(rule) == {"-", " "}
    assert [row.split()[0] for row in rows] == ["1/3", "2/3", "3/3"]
    assert "progress_bar" not in dict(clf.net_.callbacks_)
    # The printed values are the history's.
    for row, epoch in zip(rows, clf.history_, strict=True):
        cells = row.split()
        assert float(cells[1]) == pytest.approx(epoch["train_acc"], abs=1e-4)
        assert float(cells[5]) == pytest.approx(epoch["event_lr"], rel=1e-2)
        assert cells[6] == f"{epoch['dur']:.2f}"  # seconds to the hundredth


def test_terminal_gets_skorch_progress_bar_and_colours(digits, monkeypatch, fit_verbose):
    X, y = digits
    stdout, stderr = FakeTerminal(), FakeTerminal()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    clf = fit_verbose(X[:200], y[:200], max_epochs=2)
    assert isinstance(dict(clf.net_.callbacks_)["progress_bar"], ProgressBar)
    assert "\r" in stderr.getvalue()  # tqdm redraws its bar
    assert "\x1b[" in stdout.getvalue()  # skorch's colour for the best values
    assert [row.split()[0] for row in table_rows(stdout.getvalue())] == ["1/2", "2/2"]


def test_bar_follows_stderr_and_colours_follow_stdout(digits, monkeypatch, capsys, fit_verbose):
    X, y = digits
    monkeypatch.setattr(sys, "stderr", FakeTerminal())  # e.g. python train.py > log
    clf = fit_verbose(X[:100], y[:100], max_epochs=1)
    assert "progress_bar" in dict(clf.net_.callbacks_)
    assert "\x1b[" not in capsys.readouterr().out


def test_notebooks_get_skorch_notebook_bar(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # as a notebook's: not a terminal
    assert "progress_bar" not in dict(verbose_callbacks(1))
    monkeypatch.setattr(ProgressBar, "in_ipynb", lambda self: True)
    assert isinstance(dict(verbose_callbacks(1))["progress_bar"], ProgressBar)
    assert verbose_callbacks(0) == []


def test_train_acc_is_the_accuracy_of_the_batches_as_trained(digits, fit_verbose):
    X, y = digits
    # skorch's own count, from the same predictions: it keeps them all.
    reference = EpochScoring("accuracy", on_train=True, name="reference", lower_is_better=False)
    clf = fit_verbose(X, y, max_epochs=4, callbacks=[reference])
    acc = clf.history_[:, "train_acc"]
    np.testing.assert_allclose(acc, clf.history_[:, "reference"])
    assert all(0 <= a <= 1 for a in acc) and acc[-1] > acc[0] + 0.2
    assert clf.history_[:, "train_acc_best"][0] is True


def test_train_acc_reads_the_device_once_per_epoch(digits, capsys, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 2, "optimizer": "sgd", "device": "cpu",
                           "verbose": 1})
    steps = 2 * len(X) // fast_params["batch_size"]
    # One read of the batch losses and one of train_acc per epoch, not one per step.
    assert scalar_reads(lambda: clf.fit(X, y)) <= 2 * 2 < steps
    assert not reads_batch_losses(TrainAccuracy())


def test_silent_fits_record_no_train_acc_but_every_lr(digits, fast_params):
    X, y = digits
    params = {**fast_params, "lr_schedule": "constant", "lr": 0.02}
    history = CNNClassifier(**params).fit(X[:100], y[:100]).history_
    assert "train_acc" not in history[-1]
    assert history[:, "event_lr"] == [0.02] * fast_params["max_epochs"]


def test_callbacks_that_read_batch_losses_still_get_them(digits, capsys, fit_verbose):
    X, y = digits
    reader = ReadsBatchLoss()
    clf = fit_verbose(X[:200], y[:200], max_epochs=2, callbacks=[reader, ProgressBar()])
    seen = dict(clf.net_.callbacks_)["ReadsBatchLoss"].seen
    assert len(seen) == 2 * clf.history_[-1, "train_batch_count"]
    np.testing.assert_allclose(seen, clf.history_[:, "batches", :, "train_loss"][0]
                               + clf.history_[:, "batches", :, "train_loss"][1], rtol=1e-6)
    assert isinstance(dict(clf.net_.callbacks_)["ProgressBar"], ProgressBar)  # the user's
    assert 0 <= clf.history_[-1, "train_acc"] <= 1


@pytest.mark.parametrize("schedule", ["constant", "onecycle", "cosine"])
def test_lr_column_is_the_rate_of_the_epoch(digits, capsys, schedule, fast_params, fit_verbose):
    X, y = digits
    clf = fit_verbose(X[:100], y[:100], max_epochs=2, lr_schedule=schedule)
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header.count("lr") == 1
    lr = clf.history_[:, "event_lr"]
    if schedule == "constant":
        assert lr == [fast_params["lr"], fast_params["lr"]]
    elif schedule == "onecycle":  # the rate of each epoch's last batch
        assert lr == [epoch["batches"][-1]["event_lr"] for epoch in clf.history_]
    else:
        assert lr[0] == fast_params["lr"] and lr[1] < lr[0]


def test_epochs_count_from_one_in_each_fit(digits, capsys, fit_verbose):
    X, y = digits
    clf = fit_verbose(X[:100], y[:100], max_epochs=2, warm_start=True)
    clf.fit(X[:100], y[:100])
    assert [row.split()[0] for row in table_rows(capsys.readouterr().out)] == [
        "1/2", "2/2", "1/2", "2/2"]
    assert clf.history_[:, "epoch"] == [1, 2, 3, 4]
    clf.partial_fit(X[:100], y[:100])
    assert [row.split()[0] for row in table_rows(capsys.readouterr().out)] == ["1/1"]


def test_k_of_n_is_padded_to_keep_columns_aligned(digits, capsys, fit_verbose):
    X, y = digits
    fit_verbose(X[:64], y[:64], max_epochs=10, batch_size=64)
    rows = table_rows(capsys.readouterr().out)
    assert rows[0].split()[0] == "1/10" and rows[-1].split()[0] == "10/10"
    assert len({len(row) for row in rows}) == 1


def plain_net(sink, max_epochs):
    return NeuralNetClassifier(
        nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), max_epochs=max_epochs, lr=0.1,
        verbose=0, train_split=None, callbacks=[("train_acc", TrainAccuracy())],
        callbacks__print_log=EpochLog(sink=sink),
    )


def test_epoch_log_on_a_plain_skorch_net(digits):
    X, y = digits
    X = X.astype(np.float32)
    lines = []
    net = plain_net(lines.append, max_epochs=3).fit(X, y)
    assert [line.split()[0] for line in lines[2:]] == ["1/3", "2/3", "3/3"]
    assert "train_acc" in lines[0] and not any("\x1b[" in line for line in lines)
    net.partial_fit(X, y)  # k/N of the epochs after those in the history
    assert [line.split()[0] for line in lines[5:]] == ["1/3", "2/3", "3/3"]
    terminal = FakeTerminal()
    plain_net(terminal.write, max_epochs=1).fit(X, y)
    assert "\x1b[" in terminal.getvalue() and "1/1" in terminal.getvalue()


def test_is_terminal():
    closed = io.StringIO()
    closed.close()
    assert is_terminal(FakeTerminal())
    assert not is_terminal(io.StringIO()) and not is_terminal(closed)
    assert not is_terminal(None)
