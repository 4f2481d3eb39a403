"""cross_val_score of the default CNNClassifier on scikit-learn's digits, against SVC.

Both are scored with the same 5 folds (scikit-learn's default StratifiedKFold
for classifiers) of all 1,797 8x8 digits.

Run: python benchmarks/cv_digits.py
"""

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.svm import SVC

from sklearn_cnn import CNNClassifier


def main() -> None:
    X, y = load_digits(return_X_y=True)
    folds = StratifiedKFold(n_splits=5)
    for name, model in (("SVC()", SVC()),
                        ("CNNClassifier(random_state=0)", CNNClassifier(random_state=0))):
        start = time.perf_counter()
        scores = cross_val_score(model, X, y, cv=folds)
        print(f"{name:<32} mean {scores.mean():.4f}  folds {np.round(scores, 4).tolist()}  "
              f"({time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
