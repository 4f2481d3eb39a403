"""Streaming training: ``partial_fit`` over chunks of data larger than one call.

docs/streaming.md is the recipe these tests check: chunks of an
``np.memmap`` and of a path list, one plain epoch per call at the base
learning rate (with augmentation), a schedule over the stream from a
closed-form skorch ``LRScheduler``, and dask-ml's ``Incremental`` wrapper.
"""

import pathlib
import runpy
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from skorch.callbacks import LRScheduler

from sklearn_cnn import CNNClassifier

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def chunks(n, size):
    """``slice`` objects that cover ``range(n)`` in pieces of ``size``."""
    return [slice(start, start + size) for start in range(0, n, size)]


@pytest.fixture
def digit_memmap(tmp_path, digit_images):
    """The 400 digit images written to an ``np.memmap`` file, opened read-only."""
    images, y = digit_images
    path = tmp_path / "digits.u8"
    images.tofile(path)
    return np.memmap(path, dtype=np.uint8, mode="r", shape=images.shape), y


def test_partial_fit_learns_from_chunks_of_a_memmap(digit_memmap, fast_params):
    images, y = digit_memmap
    clf = CNNClassifier(**fast_params)
    for _ in range(5):  # passes over the first 300 images, 100 at a time
        for part in chunks(300, 100):
            clf.partial_fit(images[part], y[part], classes=np.arange(10))
    assert clf.n_iter_ == 15  # one epoch per call
    assert clf.input_shape_ == (1, 8, 8)
    assert clf.score(images[300:], y[300:]) > 0.6  # unseen digits; chance is 0.1


def test_partial_fit_learns_from_chunks_of_a_path_list(digit_pngs, fast_params):
    paths, y = digit_pngs
    clf = CNNClassifier(**fast_params)
    for _ in range(8):
        for part in chunks(len(paths), 20):
            clf.partial_fit(paths[part], y[part], classes=np.arange(10))
    assert clf.n_iter_ == 24
    assert sum(clf.history_[-1, "batches", :, "train_batch_size"]) == 20
    assert clf.score(paths, y) > 0.6


#: Run in a child process: its memory holds nothing of the test runner's.
STREAM_MEMMAP = textwrap.dedent("""
    import sys
    import numpy as np
    import psutil  # a dependency of dask.distributed (the dask extra)
    from sklearn_cnn import CNNClassifier

    def rss():  # the pages of the memmap that were read count too
        return psutil.Process().memory_info().rss

    path, n = sys.argv[1], int(sys.argv[2])
    images = np.memmap(path, dtype=np.uint8, mode="r", shape=(n, 8, 8))
    y = np.arange(n) % 10
    clf = CNNClassifier(conv_channels=(4,), dense_units=(8,), augment=None, device="cpu",
                        random_state=0)
    clf.partial_fit(images[:256], y[:256], classes=np.arange(10))  # warm-up
    before = rss()
    for start in (n // 3, n // 2, n - 256):  # chunks from all over the file
        clf.partial_fit(images[start:start + 256], y[start:start + 256])
    streamed = rss()
    whole = np.array(images)  # the control: what reading all of it costs
    print(streamed - before, rss() - streamed)
""")


def test_partial_fit_on_memmap_chunks_reads_only_the_chunk(tmp_path, digit_images):
    images = np.resize(digit_images[0], (500_000, 8, 8))  # 32 MB on disk
    path = tmp_path / "big.u8"
    images.tofile(path)
    size = images.nbytes
    del images
    result = subprocess.run(
        [sys.executable, "-c", STREAM_MEMMAP, str(path), "500000"],
        capture_output=True, text=True, timeout=300, check=True)
    streamed, whole = map(int, result.stdout.split())
    assert whole > 0.9 * size  # the measure sees a full read
    assert streamed < 0.25 * size, streamed  # streaming three chunks did not do one


def test_chunk_missing_classes_trains_with_classes_given_first(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params)
    clf.partial_fit(X[y < 5], y[y < 5], classes=np.arange(10))  # classes 0-4 only
    assert clf.classes_.tolist() == list(range(10))
    clf.partial_fit(X[y >= 5], y[y >= 5])  # then 5-9 only
    clf.partial_fit(X[y == 3], y[y == 3])  # and a chunk of one class
    assert clf.n_iter_ == 3
    assert clf.predict_proba(X[:5]).shape == (5, 10)


def test_partial_fit_trains_at_the_base_lr_after_a_scheduled_fit(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "lr_schedule": "onecycle"}).fit(X, y)
    assert clf.history_[-1, "event_lr"] < fast_params["lr"] / 100  # one-cycle's end
    clf.partial_fit(X[:100], y[:100])
    clf.partial_fit(X[100:200], y[100:200])
    assert clf.history_[-2:, "event_lr"] == [fast_params["lr"]] * 2
    assert [group["lr"] for group in clf.net_.optimizer_.param_groups] == [fast_params["lr"]]


def test_partial_fit_has_no_holdout_and_no_early_stopping(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "validation_fraction": 0.25, "early_stopping": True,
                           "patience": 1})
    for _ in range(3):
        clf.partial_fit(X[:100], y[:100], classes=np.arange(10))
    assert clf.n_iter_ == 3
    assert sum(clf.history_[-1, "batches", :, "train_batch_size"]) == 100  # all of them
    assert "valid_loss" not in clf.history_[-1]
    assert clf.best_epoch_ is None


def test_partial_fit_augments_every_training_image(digits, fast_params, monkeypatch):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "augment": "light", "device": "cpu"})
    clf.partial_fit(X[:100], y[:100], classes=np.arange(10))
    augment, seen = clf.net_.augment_, []
    assert augment is not None

    def spy(images):
        seen.append(len(images))
        return augment(images)

    monkeypatch.setattr(clf.net_, "augment_", spy)
    clf.partial_fit(X[100:200], y[100:200])
    assert sum(seen) == 100  # each image of the chunk, once
    seen.clear()
    clf.predict(X[:50])
    assert seen == []  # never at prediction


def test_partial_fit_follows_a_closed_form_schedule_over_the_stream(digits, fast_params):
    X, y = digits
    halve = LRScheduler(torch.optim.lr_scheduler.LambdaLR, lr_lambda=lambda call: 0.5 ** call,
                        step_every="epoch")
    clf = CNNClassifier(**{**fast_params, "callbacks": [("halve", halve)]})
    for part in chunks(400, 100):
        clf.partial_fit(X[part], y[part], classes=np.arange(10))
    lr = fast_params["lr"]
    assert clf.history_[:, "event_lr"] == pytest.approx([lr, lr / 2, lr / 4, lr / 8])


def test_partial_fit_takes_a_new_lr_from_set_params(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**fast_params).partial_fit(X[:100], y[:100], classes=np.arange(10))
    clf.set_params(lr=fast_params["lr"] / 10).partial_fit(X[100:200], y[100:200])
    assert clf.history_[:, "event_lr"] == pytest.approx([fast_params["lr"],
                                                         fast_params["lr"] / 10])


def test_dask_ml_incremental_streams_dask_array_blocks(digits, fast_params):
    # dask-ml is in the dev extra: this runs wherever the suite does.
    import dask.array as da
    from dask_ml.wrappers import Incremental

    X, y = digits
    X_train, y_train = da.from_array(X[:300], chunks=100), da.from_array(y[:300], chunks=100)
    search = Incremental(CNNClassifier(**fast_params), scoring="accuracy")
    for _ in range(4):
        search.partial_fit(X_train, y_train, classes=np.arange(10))
    assert search.estimator_.n_iter_ == 12  # one partial_fit per block, per pass
    assert search.score(da.from_array(X[300:], chunks=50), da.from_array(y[300:], chunks=50)) > 0.6


def test_streaming_example(capsys):
    runpy.run_path(str(EXAMPLES / "streaming_partial_fit.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "partial_fit calls: 30" in out
    lrs = [float(v) for v in out.split("learning rates:", 1)[1].split("\n", 1)[0].split()]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] > lrs[-1]
    assert float(out.rsplit("accuracy:", 1)[1]) > 0.85
