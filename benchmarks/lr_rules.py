"""Which learning-rate finder rule lands nearest the best learning rate, on the recipe panel.

For each set of the recipe panel (``_panel.py``), in one process:

- the default ``CNNClassifier(random_state=0)`` is fitted at each learning
  rate of a grid (its one-cycle peak; ``lr=`` as a user would set it) and
  scored on the set's test split: the best of the grid is the target;
- ``lr_sweep`` runs the range test once on the training split, and each
  rule of ``RULES`` reads a suggestion off the same curve.

Prints, per set, the test accuracy at each grid rate, the best rate, each
rule's suggestion and the accuracy of a fit at it, then each rule's median
distance from the best rate in decades (|log10(suggested / best)|) and its
median accuracy loss against the best rate.

Run: python benchmarks/lr_rules.py [--sets digits textures] [--quick]
"""

import argparse
import time

import numpy as np
from _panel import SETS, subsample
from tabulate import tabulate

from sklearn_cnn import CNNClassifier, lr_sweep
from sklearn_cnn._training.lr_finder import LR_RULES, suggest_lr

GRID = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument("--quick", action="store_true",
                        help="a check of the script: 150 training images a set, 2 epochs")
    args = parser.parse_args()
    params = {"random_state": 0, **({"max_epochs": 2} if args.quick else {})}
    rows, distances, losses = [], {r: [] for r in LR_RULES}, {r: [] for r in LR_RULES}
    for name in args.sets:
        split = SETS[name][0]()
        if args.quick:
            split = subsample(split, 150, 100)
        X_train, X_test, y_train, y_test = split
        start = time.perf_counter()
        scores = {lr: CNNClassifier(lr=lr, **params).fit(X_train, y_train).score(X_test, y_test)
                  for lr in GRID}
        best = max(scores, key=scores.get)
        lrs, curve, _ = lr_sweep(CNNClassifier(**params), X_train, y_train)
        row = [name, " ".join(f"{scores[lr]:.3f}" for lr in GRID), f"{best:.0e}"]
        for rule in LR_RULES:
            lr = suggest_lr(lrs, curve, rule=rule)
            if lr is None:
                row.append("none")
                continue
            score = CNNClassifier(lr=lr, **params).fit(X_train, y_train).score(X_test, y_test)
            distances[rule].append(abs(np.log10(lr / best)))
            losses[rule].append(scores[best] - score)
            row.append(f"{lr:.1e}: {score:.3f}")
        rows.append(row)
        print(f"{name}: done in {time.perf_counter() - start:.0f} s", flush=True)
    print(tabulate(rows, headers=["set", "accuracy at " + " ".join(f"{lr:g}" for lr in GRID),
                                  "best lr", *LR_RULES]))
    print(tabulate([[rule, f"{np.median(distances[rule]):.2f}", f"{np.median(losses[rule]):.3f}",
                     f"{max(losses[rule], default=float('nan')):.3f}"] for rule in LR_RULES],
                   headers=["rule", "median decades from best", "median accuracy loss",
                            "worst accuracy loss"]))


if __name__ == "__main__":
    main()
