"""The default recipe on a panel of real image sets, against each field's peers.

Six sets of four kinds (digits, faces, textures, photos: ``_panel.py``),
each with its fixed split. On each, in the same process:

- the classical recipes (RBF SVC on pixels, on HOG, on LBP histograms; the
  best of them is the set's classical baseline);
- the seed tutorial's CNN in plain skorch (10 epochs);
- ``CNNClassifier(random_state=run)`` with its defaults (or with the
  parameters given by ``--params``).

Prints accuracy and fit time per set and run, then a table of medians with
the margins of the default over the best classical recipe and over the seed
CNN, the worst margin of all, and the fit-time ratio of the default to the
seed CNN.

Run: python benchmarks/recipe.py [--runs 3] [--sets digits textures]
     [--params '{"augment": "light"}'] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
from _panel import CLASSICAL, SETS, as_tensor, classical_svc, seed_cnn, subsample
from sklearn.preprocessing import LabelEncoder
from tabulate import tabulate

from sklearn_cnn import CNNClassifier


def fit_and_score(model, X_fit, y_fit, X_eval, y_eval) -> tuple[float, float]:
    """Held-out accuracy and fit seconds of ``model``."""
    start = time.perf_counter()
    model.fit(X_fit, y_fit)
    seconds = time.perf_counter() - start
    return float(np.mean(model.predict(X_eval) == y_eval)), seconds


def classical(split) -> dict[str, float]:
    """Held-out accuracy of each classical recipe."""
    X_train, X_test, y_train, y_test = split
    scores = {}
    for name, features in CLASSICAL.items():
        scores[name] = fit_and_score(classical_svc(), features(X_train), y_train,
                                     features(X_test), y_test)[0]
    return scores


def seed(split, run: int, epochs: int) -> tuple[float, float]:
    """Held-out accuracy and fit seconds of the seed CNN in plain skorch."""
    X_train, X_test, y_train, y_test = split
    encoder = LabelEncoder().fit(y_train)
    images = as_tensor(X_train)
    torch.manual_seed(run)
    model = seed_cnn(tuple(images.shape[1:]), len(encoder.classes_), epochs)
    return fit_and_score(model, images, encoder.transform(y_train).astype(np.int64),
                         as_tensor(X_test), encoder.transform(y_test))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument("--params", type=json.loads, default={},
                        help="CNNClassifier parameters instead of the defaults, as JSON")
    parser.add_argument("--no-baselines", action="store_true",
                        help="fit the CNNClassifier only (to compare variants quickly)")
    parser.add_argument("--quick", action="store_true",
                        help="a check of the script: 150 training images a set, 2 epochs")
    args = parser.parse_args(argv)

    params = dict(args.params)
    seed_epochs = 10
    if args.quick:
        params.setdefault("max_epochs", 2)
        seed_epochs = 2
    rows, results = [], {}
    for name in args.sets:
        loader, kind = SETS[name]
        split = loader()
        if args.quick:
            split = subsample(split, 150, 100)
        X_train, X_test, y_train, y_test = split
        baselines = {} if args.no_baselines else classical(split)
        ours, peers = [], []
        for run in range(args.runs):
            if not args.no_baselines:
                peers.append(seed(split, run, seed_epochs))
            ours.append(fit_and_score(CNNClassifier(**{"random_state": run, **params}),
                                      X_train, y_train, X_test, y_test))
            print(f"{name} run {run}: default {ours[-1][0]:.3f} in {ours[-1][1]:.1f} s"
                  + (f", seed CNN {peers[-1][0]:.3f} in {peers[-1][1]:.1f} s" if peers else ""),
                  flush=True)
        acc = statistics.median(a for a, _ in ours)
        sec = statistics.median(s for _, s in ours)
        result = {"kind": kind, "train": len(y_train), "test": len(y_test),
                  "default": acc, "default_s": sec}
        row = [name, kind, f"{len(y_train)}/{len(y_test)}"]
        if baselines:
            best = max(baselines, key=baselines.get)
            seed_acc = statistics.median(a for a, _ in peers)
            seed_sec = statistics.median(s for _, s in peers)
            result.update(classical=baselines, best_classical=best, seed=seed_acc,
                          seed_s=seed_sec)
            row += [f"{baselines[best]:.3f} ({best})", f"{seed_acc:.3f}", f"{seed_sec:.1f}"]
        row += [f"{acc:.3f}", f"{sec:.1f}"]
        if baselines:
            margin = acc - max(baselines[best], seed_acc)
            result["margin"] = margin
            row += [f"{margin:+.3f}", f"{sec / seed_sec:.2f}"]
        rows.append(row)
        results[name] = result

    headers = ["set", "kind", "train/test"]
    if not args.no_baselines:
        headers += ["best classical", "seed CNN", "seed s"]
    headers += ["default", "default s"]
    if not args.no_baselines:
        headers += ["margin", "time ratio"]
    print(f"\nmedians of {args.runs} runs; {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}; CNNClassifier parameters: {params or 'defaults'}")
    print(tabulate(rows, headers=headers, tablefmt="github"))
    if not args.no_baselines:
        worst = min(results, key=lambda n: results[n]["margin"])
        print(f"worst margin: {results[worst]['margin']:+.3f} ({worst}); margin = default "
              "minus the better of the best classical recipe and the seed CNN")
    return results


if __name__ == "__main__":
    main()
