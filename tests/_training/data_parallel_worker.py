"""One process of ``torchrun --nproc_per_node N`` for tests/_training/test_data_parallel.py.

Run as ``torchrun ... data_parallel_worker.py OUT IMAGES`` (IMAGES: a folder of
:func:`write_images`, written if missing): every process fits
the same estimators, as a user's script would, and writes what the tests
check to ``OUT/rank-<k>.pt`` (plain ``torch.save``: the package's own writes
are what is tested). Each image's index is written into three pixels of its
left column (``encode``/``decode``), so that a callback can tell which images
a process trained and evaluated on. Not a test module: pytest imports it
(doctests) and finds nothing to run.
"""

import hashlib
import io
import os
import pickle
import sys
from pathlib import Path

import numpy as np

#: The pixels of the left column of an 8x8 digit that hold its index, base 17
#: (digits' pixels are 0 to 16; this column is blank in nearly all of them).
INDEX_PIXELS = (0, 8, 16)


def encode(X: np.ndarray) -> np.ndarray:
    """Digits ``(N, 64)`` in [0, 16], each row's index in :data:`INDEX_PIXELS`, over 16."""
    X = X.astype(np.float32).copy()
    for i in range(len(X)):
        X[i, list(INDEX_PIXELS)] = [i // 289, i // 17 % 17, i % 17]
    return X / 16


def decode(images) -> list[int]:
    """The indices :func:`encode` wrote in images ``(n, 1, 8, 8)`` (or rows ``(n, 64)``)."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    digits = np.rint(flat[:, list(INDEX_PIXELS)] * 16).astype(int)
    return (digits[:, 0] * 289 + digits[:, 1] * 17 + digits[:, 2]).tolist()


def weights_digest(estimator) -> str:
    """SHA-1 of the bytes of every tensor of the fitted network (buffers too)."""
    digest = hashlib.sha1()
    for name, tensor in estimator.module_.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def history_rows(estimator) -> list[dict]:
    """The history without what differs between processes by nature (times, threads)."""
    rows = []
    for row in estimator.history_:
        row = {k: v for k, v in row.items() if k not in ("dur", "threads")}
        row["batches"] = [dict(b) for b in row.get("batches", [])]
        rows.append(row)
    return rows


def write_images(folder: Path, n: int = 96) -> None:
    """The first ``n`` digits as 8x8 PNGs ``<index>-<label>.png`` in ``folder``."""
    from PIL import Image
    from sklearn.datasets import load_digits

    folder.mkdir(parents=True, exist_ok=True)
    X, y = load_digits(return_X_y=True)
    for i in range(n):
        Image.fromarray((X[i].reshape(8, 8) * 15).astype(np.uint8)).save(
            folder / f"{i:03d}-{y[i]}.png")


def main(out: Path, images: Path) -> None:
    import torch
    from sklearn.datasets import load_digits
    from skorch.callbacks import Callback

    import sklearn_cnn
    from sklearn_cnn import CNNClassifier
    from sklearn_cnn._data.workers import ImageFileDataset
    from sklearn_cnn.preprocessing import LazyImages

    rank = int(os.environ["RANK"])
    if not images.is_dir():  # run by hand (benchmarks/cuda_run.sh): this process's own copy
        images = out / f"images-{rank}"
        write_images(images)
    stdout = io.StringIO()
    sys.stdout = stdout  # what each process printed
    result = {}

    class Seen(Callback):
        """Which images each batch held, and the fit's generators' seeds."""

        def initialize(self):
            self.train_, self.valid_, self.seeds_ = [], [], None
            return self

        def on_epoch_begin(self, net, **kwargs):
            self.train_.append([])
            self.valid_.append([])

        def on_train_begin(self, net, **kwargs):
            modules = getattr(net, "draws_generator_", None)
            shuffle = getattr(net, "iterator_train__generator", None)
            self.seeds_ = (None if modules is None else modules.initial_seed(),
                           None if shuffle is None else shuffle.initial_seed())

        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            X = batch[0]
            X = X["X"] if isinstance(X, dict) else X
            (self.train_ if training else self.valid_)[-1].append(decode(X.cpu()))

    X, y = load_digits(return_X_y=True)
    X, y = encode(X[:300]), y[:300]
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    # DATA_PARALLEL_DEVICE=cuda: one GPU per process, NCCL (benchmarks/cuda_run.sh).
    device = os.environ.get("DATA_PARALLEL_DEVICE", "cpu")
    common = dict(device=device, random_state=0, conv_channels=(8, 16), dense_units=(32,))

    # 1. Shares, validation, early stopping, EMA, augmentation, sample weights, tta.
    def fit_full(callbacks):
        clf = CNNClassifier(**common, max_epochs=6, batch_size=25, validation_fraction=0.2,
                            early_stopping=True, patience=1, ema=0.9, augment="shift",
                            tta=True, verbose=1, callbacks=callbacks)
        return clf.fit(X, y, sample_weight=weights)

    clf = fit_full([("seen", Seen())])
    seen = dict(clf.net_.callbacks_)["seen"]  # the fit's copy
    again = fit_full(None)  # watched by nobody: a model to save and pickle
    result["full"] = {
        "digest": weights_digest(clf), "again": weights_digest(again),
        "history": history_rows(clf), "n_iter": clf.n_iter_, "best_epoch": clf.best_epoch_,
        "train": seen.train_, "valid": seen.valid_, "seeds": seen.seeds_,
        "proba": clf.predict_proba(X), "score": clf.score(X, y),
        "batch_size": clf.net_.batch_size, "lr": clf.net_.lr,
        "max_epochs": clf.net_.max_epochs, "device": clf.device_,
    }
    again.save(out / f"model-{rank}.safetensors")  # rank 0 alone writes
    if rank == 0:
        result["full"]["pickle"] = pickle.dumps(again)

    # 2. The same gradient as one process: no batch norm, dropout or augmentation.
    plain = CNNClassifier(**common, batch_norm=False, dropout=0.0, augment=None,
                          optimizer="sgd", lr=0.05, lr_schedule="constant", batch_size=25,
                          max_epochs=2)
    plain.fit(X, y)
    result["plain"] = {k: v.detach().cpu() for k, v in plain.module_.state_dict().items()}

    # 3. A checkpointed fit: rank 0 writes its file; run again, it resumes with 0 epochs.
    folder = out / "checkpoints"
    for run in ("first", "again"):
        resumed = CNNClassifier(**common, max_epochs=2, checkpoint=folder).fit(X, y)
        result[f"checkpoint_{run}"] = (weights_digest(resumed),
                                       [len(row["batches"]) for row in resumed.history_])

    # 4. Image files, as paths and as LazyImages: each process decodes its share only.
    paths = sorted(str(p) for p in images.glob("*.png"))
    labels = [int(Path(p).stem.split("-")[1]) for p in paths]
    read = []
    several = ImageFileDataset.__getitems__  # __getitem__ calls it too

    def counting(self, indices):
        read.extend(indices)
        return several(self, indices)

    ImageFileDataset.__getitems__ = counting
    try:
        for kind, inputs in (("paths", np.array(paths)), ("lazy", LazyImages(paths, "L", (8, 8)))):
            read.clear()
            CNNClassifier(**common, max_epochs=2, batch_size=16, validation_fraction=0.25,
                          num_workers=0).fit(inputs, labels)
            result[f"files_{kind}"] = list(read)
    finally:
        ImageFileDataset.__getitems__ = several

    result["stdout"] = stdout.getvalue()
    result["version"] = sklearn_cnn.__version__
    torch.save(result, out / f"rank-{rank}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
