"""
A folder of real photos, one subfolder per class
================================================

Write a folder of real photos, one subfolder per class, to try the command line on.

scikit-learn ships two photos (``load_sample_images``: a Chinese temple and a
flower). This script cuts pieces out of each, at several sizes, saves a third
of them in grayscale, and writes them as JPEG files the way a camera folder
looks::

    FOLDER/train/china/000.jpg ...   FOLDER/train/flower/...
    FOLDER/test/china/...            FOLDER/test/flower/...

The class of a piece is the photo it comes from. Then::

    sklearn-cnn fit FOLDER/train --out model.safetensors

Run: ``python examples/photo_folder.py photos`` (with no folder named, a new
temporary one).
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_images

#: Sizes (height, width) of the pieces: most are 48x48, as in a folder where
#: most photos come from one camera, and the rest are other sizes.
SIZES = [(48, 48)] * 6 + [(40, 56), (64, 64), (56, 40)]


def write_photo_folder(folder, n_train=120, n_test=40, random_state=0):
    """Cut ``n_train + n_test`` pieces of each sample photo into ``folder``; return it."""
    rng = np.random.default_rng(random_state)
    folder = Path(folder)
    photos = load_sample_images()
    for name, photo in zip(["china", "flower"], photos.images, strict=True):
        for i in range(n_train + n_test):
            height, width = SIZES[rng.integers(len(SIZES))]
            scale = rng.uniform(1.0, 2.5)  # cut a larger area and shrink it: zoomed out
            cut_h, cut_w = int(height * scale), int(width * scale)
            top = rng.integers(photo.shape[0] - cut_h)
            left = rng.integers(photo.shape[1] - cut_w)
            piece = Image.fromarray(photo[top:top + cut_h, left:left + cut_w])
            piece = piece.resize((width, height), Image.Resampling.BILINEAR)
            if i % 3 == 0:
                piece = piece.convert("L")
            split = "train" if i < n_train else "test"
            (folder / split / name).mkdir(parents=True, exist_ok=True)
            piece.save(folder / split / name / f"{i:03d}.jpg", quality=90)
    return folder


if __name__ == "__main__":
    target = write_photo_folder(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
    counts = {split: len(list((target / split).rglob("*.jpg"))) for split in ("train", "test")}
    print(f"wrote {counts['train']} training and {counts['test']} test photos under {target}/")
