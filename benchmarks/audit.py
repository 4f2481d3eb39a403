"""Recall and precision of sklearn_cnn.audit.find_issues on digits with planted problems.

1,000 training and 500 test digits (shuffled), with 5 % of the training labels
changed, 5 training images copied over others, 10 training images copied into the
test set and 10 patches of scikit-learn's two sample photos (8x8, gray) put in
place of training digits (``sklearn_cnn.datasets.add_problems``). The default
CNNClassifier, 5-fold out-of-fold probabilities. For each kind of finding:
recall (planted problems found) and precision (findings that are planted), per
seed of the planting, and their medians.

Run: python benchmarks/audit.py [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from sklearn.datasets import load_digits, load_sample_images

from sklearn_cnn import CNNClassifier
from sklearn_cnn.audit import ISSUE_KINDS, find_issues
from sklearn_cnn.datasets import add_problems


def photo_patches(n: int, rng) -> np.ndarray:
    """``n`` random 8x8 gray patches of scikit-learn's sample photos, in digits' 0-16."""
    from PIL import Image

    photos = [np.asarray(Image.fromarray(p).convert("L")) for p in load_sample_images().images]
    patches = []
    for _ in range(n):
        photo = photos[rng.integers(len(photos))]
        top, left = rng.integers(0, photo.shape[0] - 64), rng.integers(0, photo.shape[1] - 64)
        patch = Image.fromarray(photo[top:top + 64, left:left + 64]).resize((8, 8))
        patches.append(np.asarray(patch, dtype=float).ravel() * 16 / 255)
    return np.array(patches)


def scores(issues, truth) -> dict[str, tuple[float, float, float]]:
    """Recall, precision and precision among the first findings (as many as planted)."""
    found = {kind: set(issues.loc[issues["issue"] == kind, "index"]) for kind in ISSUE_KINDS}
    planted = {
        "label": set(truth["label"]),
        "near_duplicate": set(truth["near_duplicate"].ravel()),
        "leak": set(truth["leak"][:, 0]),
        "outlier": set(truth["outlier"]),
    }
    first = {kind: set(issues.loc[issues["issue"] == kind, "index"].iloc[:len(planted[kind])])
             for kind in ISSUE_KINDS}
    return {kind: (len(found[kind] & planted[kind]) / max(len(planted[kind]), 1),
                   len(found[kind] & planted[kind]) / max(len(found[kind]), 1),
                   len(first[kind] & planted[kind]) / max(len(planted[kind]), 1))
            for kind in ISSUE_KINDS}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="400 digits, 4 epochs, 3 folds")
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    n_train, n_test = (400, 200) if args.quick else (1000, 500)
    params = {"random_state": 0}
    if args.quick:
        params.update(max_epochs=4, conv_channels=(8, 16))
    results = []
    for seed in range(args.runs):
        rng = np.random.default_rng(seed)
        X_train, y_train, X_test, truth = add_problems(
            X[:n_train], y[:n_train], X[n_train:n_train + n_test], others=photo_patches(10, rng),
            random_state=seed)
        issues = find_issues(CNNClassifier(**params), X_train, y_train, X_test=X_test,
                             cv=3 if args.quick else 5)
        results.append(scores(issues, truth))
        print(f"seed {seed}: " + "; ".join(
            f"{kind} recall {r:.2f} precision {p:.2f} first {f:.2f}"
            for kind, (r, p, f) in results[-1].items()))
    print("finding         median recall, precision, precision of the first k (k planted)")
    for kind in ISSUE_KINDS:
        medians = [statistics.median(run[kind][j] for run in results) for j in range(3)]
        print(f"{kind:<16}{medians[0]:.2f}  {medians[1]:.2f}  {medians[2]:.2f}")


if __name__ == "__main__":
    main()
