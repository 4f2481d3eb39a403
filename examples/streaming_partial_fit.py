"""
Streaming training data from disk with partial_fit
==================================================

Stream training data from disk in chunks with ``partial_fit``.

The digits are written to an ``np.memmap`` file and read back one chunk at
a time: each ``partial_fit`` call trains one epoch on its chunk, so memory
holds a chunk, never the whole file. A skorch ``LRScheduler`` with a
closed-form ``LambdaLR`` decays the learning rate over the calls (each call
alone trains at a constant rate). See docs/streaming.md.
"""

import pathlib
import tempfile

import numpy as np
import torch
from sklearn.datasets import load_digits
from skorch.callbacks import LRScheduler

from sklearn_cnn import CNNClassifier

X, y = load_digits(return_X_y=True)
images = (X.reshape(-1, 8, 8) * 255 / 16).astype(np.uint8)
n_train, chunk, passes = 1500, 250, 5

with tempfile.TemporaryDirectory() as folder:
    path = pathlib.Path(folder) / "digits.u8"
    images[:n_train].tofile(path)  # stands for a file larger than memory
    stream = np.memmap(path, dtype=np.uint8, mode="r", shape=(n_train, 8, 8))

    # lr * 0.95 ** k at the k-th partial_fit call: a closed form, so it resumes
    # at every call (see "A schedule over the stream" in docs/streaming.md).
    decay = LRScheduler(torch.optim.lr_scheduler.LambdaLR, lr_lambda=lambda k: 0.95 ** k,
                        step_every="epoch")
    clf = CNNClassifier(conv_channels=(16, 32), dense_units=(64,), lr=0.005,
                        callbacks=[("decay", decay)], device="cpu", random_state=0)
    for _ in range(passes):
        for start in range(0, n_train, chunk):
            clf.partial_fit(stream[start:start + chunk], y[start:start + chunk],
                            classes=np.arange(10))
    del stream  # close the file before its folder goes

print(f"partial_fit calls: {clf.n_iter_}")
rates = clf.history_[:, "event_lr"][::n_train // chunk]  # at the start of each pass
print("learning rates:", " ".join(f"{lr:.5f}" for lr in rates))
print(f"accuracy: {clf.score(images[n_train:], y[n_train:]):.3f}")
