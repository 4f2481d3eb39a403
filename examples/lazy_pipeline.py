"""
A Pipeline on a folder of image files never loaded whole
========================================================

A Pipeline on a folder of image files that is never loaded into memory whole.

``ImageFileLoader(lazy=True)`` returns a ``LazyImages`` (the paths, and the
mode and size to decode them at) instead of an array. ``Resize`` and
``ChannelStandardizer`` append themselves to it (the standardizer's ``fit``
streams the files once, in chunks, for its means and spreads), and
``CNNClassifier`` decodes and transforms one image at a time while training
and one batch at a time while predicting. Memory stays flat however many
files the folder holds. The same pipeline with ``lazy=False`` decodes every
file into one array, and warns when that would exceed ``max_bytes``.

Here the folder is scikit-learn's 8x8 digits, written as PNG files.

Run: ``python examples/lazy_pipeline.py``
"""

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_cnn import CNNClassifier
from sklearn_cnn.preprocessing import ChannelStandardizer, ImageFileLoader, Resize


def write_digit_files(folder, n=300):
    """The first ``n`` digits as 8x8 gray PNG files in ``folder``; their paths and labels."""
    digits = load_digits()
    paths = []
    for i, image in enumerate(digits.images[:n]):
        paths.append(str(Path(folder) / f"{digits.target[i]}_{i:04d}.png"))
        Image.fromarray((image * 255 / 16).astype(np.uint8)).save(paths[-1])
    return np.array(paths), digits.target[:n]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        paths, y = write_digit_files(folder)
        paths_train, paths_test, y_train, y_test = train_test_split(
            paths, y, test_size=0.25, stratify=y, random_state=0)

        pipe = make_pipeline(
            ImageFileLoader(lazy=True),
            Resize((16, 16)),
            ChannelStandardizer(),
            CNNClassifier(conv_channels=(8, 16), max_epochs=12, random_state=0),
        )
        pipe.fit(paths_train, y_train)
        print(f"what the classifier was given: {pipe[:-1].transform(paths_test)}")
        print(f"learned mean {pipe[2].mean_.round(3)}, scale {pipe[2].scale_.round(3)}")
        print(f"held-out accuracy: {pipe.score(paths_test, y_test):.4f}")
