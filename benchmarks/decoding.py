"""Decoding image files: Pillow (the package's reader) against torchvision.io.decode_image.

Pieces of the two photos scikit-learn ships, resized to each of --sizes,
saved as PNG and as JPEG (quality 90), RGB and gray, every file with EXIF
orientation 6 (a phone photo held upright), --images files per kind. Each
file is read to uint8 pixels as displayed (the orientation applied), in its
own mode (RGB or gray):

- Pillow: ``sklearn_cnn._data.decoding.open_image(path).convert(mode)``, as
  ``decode_images`` reads a file before resizing;
- torchvision: ``torchvision.io.decode_image(path, mode,
  apply_exif_orientation=True)``.

Runs alternate between the two readers (Pillow first in even runs); the
time is microseconds per image, the median of --runs; the ratio is
torchvision / Pillow (below 1: torchvision is faster). The largest pixel
difference between the two readers is shown too. torchvision turns the
image with torch operations, which run on torch's threads: --threads sets
them (default: torch's own, the cores; a DataLoader worker has 1).

Run: python benchmarks/decoding.py [--runs 7] [--images 200] [--sizes 32 224]
     [--threads N]
"""

import argparse
import os
import tempfile
import time

import numpy as np
import torch
from _common import median
from PIL import Image
from sklearn.datasets import load_sample_images
from torchvision.io import ImageReadMode, decode_image

from sklearn_cnn._data.decoding import open_image

KINDS = [("PNG", "RGB"), ("PNG", "L"), ("JPEG", "RGB"), ("JPEG", "L")]


def write_files(folder: str, n: int, size: int, fmt: str, mode: str) -> list[str]:
    """``n`` pieces of the sample photos as ``fmt`` files in ``mode``, with EXIF orientation 6."""
    rng = np.random.default_rng(size)
    photos = load_sample_images().images
    exif = Image.Exif()
    exif[0x0112] = 6
    paths = []
    for i in range(n):
        photo = photos[i % len(photos)]
        side = min(photo.shape[:2]) // 2
        top, left = rng.integers(photo.shape[0] - side), rng.integers(photo.shape[1] - side)
        piece = Image.fromarray(photo[top:top + side, left:left + side]).convert(mode)
        piece = piece.resize((size, size), Image.Resampling.BILINEAR)
        path = os.path.join(folder, f"{size}_{fmt}_{mode}_{i:04d}.{fmt.lower()}")
        piece.save(path, exif=exif, **({"quality": 90} if fmt == "JPEG" else {}))
        paths.append(path)
    return paths


def read_pillow(paths: list[str], mode: str) -> list[np.ndarray]:
    return [np.asarray(open_image(path).convert(mode)) for path in paths]


def read_torchvision(paths: list[str], mode: str) -> list[np.ndarray]:
    read_mode = ImageReadMode.GRAY if mode == "L" else ImageReadMode.RGB
    return [decode_image(path, read_mode, apply_exif_orientation=True).permute(1, 2, 0).numpy()
            for path in paths]


def per_image_us(reader, paths: list[str], mode: str) -> float:
    start = time.perf_counter()
    reader(paths, mode)
    return (time.perf_counter() - start) / len(paths) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 224])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            for fmt, mode in KINDS:
                paths = write_files(folder, args.images, size, fmt, mode)
                pillow, vision = read_pillow(paths, mode), read_torchvision(paths, mode)
                differ = max(int(np.abs(a.reshape(b.shape).astype(int) - b).max())
                             for a, b in zip(pillow, vision, strict=True))
                assert pillow[0].shape[:2] == vision[0].shape[:2] == (size, size)
                times = {"pillow": [], "torchvision": []}
                for run in range(args.runs):
                    order = [("pillow", read_pillow), ("torchvision", read_torchvision)]
                    for name, reader in order if run % 2 == 0 else order[::-1]:
                        times[name].append(per_image_us(reader, paths, mode))
                ratios = [v / p for v, p in zip(times["torchvision"], times["pillow"],
                                                strict=True)]
                rows.append((f"{size}x{size}", fmt, "RGB" if mode == "RGB" else "gray",
                             median(times["pillow"]), median(times["torchvision"]),
                             median(ratios), differ))
    print(f"{args.images} files per kind, EXIF orientation 6, median of {args.runs} "
          f"alternated runs, {torch.get_num_threads()} torch threads; us per image")
    print(f"{'size':<9}{'format':<7}{'mode':<6}{'Pillow us':>11}{'torchvision us':>16}"
          f"{'ratio tv/Pillow':>17}{'max |diff|':>12}")
    for size, fmt, mode, pillow, vision, ratio, differ in rows:
        print(f"{size:<9}{fmt:<7}{mode:<6}{pillow:>11.1f}{vision:>16.1f}{ratio:>17.2f}"
              f"{differ:>12}")
    print(f"median ratio torchvision / Pillow: {median([row[5] for row in rows]):.2f}")


if __name__ == "__main__":
    main()
