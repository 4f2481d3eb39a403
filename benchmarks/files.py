"""Training from a folder of JPEG files against the same images in memory.

Images of ``sklearn_cnn.datasets.make_shapes``, colored, saved by Pillow as
JPEG (quality 90) in a temporary folder:

- speed: images/s of ``fit`` on the same images as a uint8 array, on the
  file paths decoded by --num-workers DataLoader workers, and on them
  decoded in the main process (``num_workers=0``), the default network on
  the CPU, same epochs, runs alternating, at each size of --sizes; the
  ratios files / memory (target >= 0.8). A fit on files includes reading
  every file's header (the size rule) and decoding them every epoch;
- memory: peak resident memory of a fit on --memory-images files and on 4
  times as many, each fit in a fresh child process, measured by the
  operating system (``resource.getrusage``: the child's own peak plus the
  largest of its DataLoader workers'); the ratio 4N / N (target <= 1.2).

Run: python benchmarks/files.py [--runs 3] [--images 1000] [--epochs 2]
     [--sizes 32 128] [--num-workers auto] [--memory-images 2000]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from _common import median, report
from PIL import Image

from sklearn_cnn import CNNClassifier
from sklearn_cnn._data.workers import settle_num_workers
from sklearn_cnn.datasets import make_shapes


def write_jpegs(folder: str, n: int, size: int, seed: int = 0):
    """``n`` colored shape images of ``size`` pixels as JPEGs: their paths, pixels and labels."""
    X, y = make_shapes(n, image_size=size, random_state=seed)
    tint = np.array([1.0, 0.7, 0.4], dtype=np.float32)
    pixels = (np.clip(X[..., None] * tint, 0, 1) * 255).astype(np.uint8)
    paths = []
    for i, image in enumerate(pixels):
        path = os.path.join(folder, f"{size}_{i:06d}.jpg")
        Image.fromarray(image).save(path, quality=90)
        paths.append(path)
    # What the files hold (JPEG is lossy): the in-memory fit gets the same pixels.
    decoded = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])
    return np.array(paths), decoded, y


def fit_rate(X, y, epochs: int, num_workers) -> float:
    """Images per second of one fit."""
    clf = CNNClassifier(max_epochs=epochs, num_workers=num_workers, device="cpu",
                        random_state=0)
    start = time.perf_counter()
    clf.fit(X, y)
    return len(y) * epochs / (time.perf_counter() - start)


def peak_rss_mb(folder: str, n: int, size: int, num_workers) -> float:
    """Peak RSS (MB) of a child process fitting one epoch on ``n`` files of ``folder``."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", folder, str(n), str(size), str(num_workers)],
        capture_output=True, text=True, check=True, cwd=os.path.dirname(__file__))
    return float(out.stdout.split()[-1])


def child(folder: str, n: int, size: int, num_workers) -> None:
    """Fit on the first ``n`` files of ``folder``; print the peak RSS in MB."""
    paths = np.array(sorted(os.path.join(folder, f) for f in os.listdir(folder)
                            if f.startswith(f"{size}_"))[:n])
    y = np.arange(n) % 3
    workers = num_workers if num_workers == "auto" else int(num_workers)
    CNNClassifier(max_epochs=1, num_workers=workers, device="cpu",
                  random_state=0).fit(paths, y)
    # ru_maxrss is in kB on Linux; RUSAGE_CHILDREN: the largest reaped worker.
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(peak / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--num-workers", default="auto")
    parser.add_argument("--memory-images", type=int, default=2000)
    parser.add_argument("--memory-size", type=int, default=64)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder, n, size, workers = args.child
        child(folder, int(n), int(size), workers)
        return
    workers = args.num_workers if args.num_workers == "auto" else int(args.num_workers)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            paths, pixels, y = write_jpegs(folder, args.images, size)
            memory, files, main = [], [], []
            for _ in range(args.runs):
                memory.append(fit_rate(pixels, y, args.epochs, workers))
                files.append(fit_rate(paths, y, args.epochs, workers))
                main.append(fit_rate(paths, y, args.epochs, 0))
            ratios = [f / m for f, m in zip(files, memory, strict=True)]
            main_ratios = [f / m for f, m in zip(main, memory, strict=True)]
            name = f"{size}x{size}: "
            report(name + "fit on uint8 array", memory, "images/s", "{:.0f}")
            report(name + f"fit on JPEG files, num_workers={args.num_workers}", files,
                   "images/s", "{:.0f}")
            report(name + "fit on JPEG files, num_workers=0", main, "images/s", "{:.0f}")
            report(name + f"ratio files (num_workers={args.num_workers}) / memory", ratios, "",
                   "{:.2f}")
            report(name + "ratio files (num_workers=0) / memory", main_ratios, "", "{:.2f}")
            rows.append((f"{size}x{size}", median(memory), median(files), median(ratios),
                         median(main), median(main_ratios)))

        n = args.memory_images
        # One number of workers for both fits: the one of 4N files.
        rss_workers = settle_num_workers(workers, 4 * n)
        write_jpegs(folder, 4 * n, args.memory_size, seed=1)
        peaks = {k: peak_rss_mb(folder, k, args.memory_size, rss_workers) for k in (n, 4 * n)}
    print()
    print(f"{args.images} images, {args.epochs} epochs, median of {args.runs} runs; "
          f"num_workers={args.num_workers} is {settle_num_workers(workers, args.images)} here")
    print(f"{'size':<10}{'memory img/s':>14}{'files img/s':>14}{'ratio':>8}"
          f"{'files, 0 workers':>18}{'ratio':>8}")
    for size, memory, files, ratio, main, main_ratio in rows:
        print(f"{size:<10}{memory:>14.0f}{files:>14.0f}{ratio:>8.2f}{main:>18.0f}"
              f"{main_ratio:>8.2f}")
    print(f"peak RSS of a 1-epoch fit on {args.memory_size}x{args.memory_size} JPEGs, "
          f"num_workers={rss_workers}: N={n}: {peaks[n]:.0f} MB, 4N={4 * n}: "
          f"{peaks[4 * n]:.0f} MB, ratio 4N / N {peaks[4 * n] / peaks[n]:.2f}")


if __name__ == "__main__":
    main()
