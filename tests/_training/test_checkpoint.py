"""The checkpoint file of a fit: its key, what it keeps, how it is read."""

import numpy as np
import pytest
import torch

from sklearn_cnn import CNNClassifier
from sklearn_cnn._training.checkpoint import FORMAT_VERSION, FitCheckpoint, fit_key


def _params(**changed):
    return CNNClassifier(**changed).get_params(deep=False)


def test_the_key_follows_the_description_the_seed_and_the_data():
    X, y = np.zeros((4, 8, 8), np.float32), np.arange(4)
    key = fit_key(_params(), 0, X, y, None)
    assert key == fit_key(_params(), 0, X.copy(), y.copy(), None)  # same in every process
    assert len(key) == 16 and int(key, 16) >= 0
    for other in (fit_key(_params(lr=0.1), 0, X, y, None), fit_key(_params(), 1, X, y, None),
                  fit_key(_params(), 0, X + 1, y, None), fit_key(_params(), 0, X, y[::-1], None),
                  fit_key(_params(), 0, X, y, np.ones(4)),
                  fit_key(_params(), 0, ["a.png", "b.png"], y, None)):
        assert other != key


def test_the_estimator_leaves_out_what_only_says_where_and_how_fast():
    key = CNNClassifier()._checkpoint_key_params()
    same = CNNClassifier(device="cuda", n_jobs=3, verbose=1, num_workers=2, cuda_graphs=False,
                         checkpoint="elsewhere")._checkpoint_key_params()
    assert same == key and "lr" in key


def test_the_key_of_objects_holds_no_memory_address():
    class Local(torch.nn.Module):  # defined in a function: no import path
        pass

    params = _params(module=Local)
    assert fit_key(params, 0, [1], None) == fit_key(dict(params), 0, [1], None)


def test_opening_removes_what_a_killed_writer_left_and_keeps_other_files(tmp_path):
    checkpoint = FitCheckpoint(tmp_path, "0123456789abcdef")
    stray = tmp_path / f".{checkpoint.path.name}.1a2b3c4d.tmp"
    stray.write_bytes(b"half")
    other = tmp_path / ".fit-fedcba9876543210.pt.1a2b3c4d.tmp"  # another fit's writer
    other.write_bytes(b"half")
    assert checkpoint.open(seed=7) == 7 and checkpoint.state_ is None
    assert not stray.exists() and other.exists()


def test_a_checkpoint_of_a_newer_format_is_refused_not_replaced(tmp_path):
    checkpoint = FitCheckpoint(tmp_path, "0123456789abcdef")
    torch.save({"format_version": FORMAT_VERSION + 1, "sklearn_cnn": "9.0.0"}, checkpoint.path)
    with pytest.raises(ValueError, match=r"written by sklearn-cnn 9\.0\.0.*Upgrade"):
        checkpoint.open(seed=0)
    assert torch.load(checkpoint.path, weights_only=True)["sklearn_cnn"] == "9.0.0"


def test_the_file_holds_tensors_and_plain_values_only(digits, tmp_path, fast_params):
    X, y = digits
    CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 2, "validation_fraction": 0.25,
                     "early_stopping": True, "ema": 0.9, "checkpoint": tmp_path}).fit(X, y)
    (path,) = tmp_path.glob("fit-*.pt")
    state = torch.load(path, weights_only=True)  # no pickled object: refused otherwise
    assert state["finished"] is True and isinstance(state["seed"], int)
    assert len(state["history"]) > 0 and set(state["random"]) == {"generator"}
    assert set(state["callbacks"]) >= {"early_stopping", "weight_averaging", "valid_loss"}
    assert set(state["callbacks"]["weight_averaging"]) == {"average_", "n_updates_", "trained_"}


def test_over_several_processes_only_the_writer_reads_and_cleans(tmp_path, monkeypatch):
    """The other processes take rank 0's state (``agree``), and leave its temporary files:
    one of them may be the file rank 0 is writing (a race seen with two launches at once)."""
    from sklearn_cnn._training import checkpoint as module

    checkpoint = module.FitCheckpoint(tmp_path, "key")
    stray = tmp_path / f".{checkpoint.path.name}.1234abcd.tmp"
    stray.write_bytes(b"half")
    told = {"format": "told by rank 0"}
    monkeypatch.setattr(module, "writes_files", lambda: False)
    monkeypatch.setattr(module, "agree", lambda value: (told, 7, None))
    assert checkpoint.open(seed=1) == 7
    assert checkpoint.state_ is told and stray.exists()
    monkeypatch.setattr(module, "agree", lambda value: (None, None, "newer format"))
    with pytest.raises(ValueError, match="newer format"):  # raised by every process
        module.FitCheckpoint(tmp_path, "key").open(seed=1)
