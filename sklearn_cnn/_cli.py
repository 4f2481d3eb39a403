"""The ``sklearn-cnn`` command line (also ``python -m sklearn_cnn``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]


def _timed_score(estimator, X_train, y_train, X_test, y_test) -> tuple[float, float]:
    start = time.perf_counter()
    estimator.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    return estimator.score(X_test, y_test), elapsed


def demo(random_state: int = 0, verbose: int = 0) -> dict[str, float]:
    """Train the default CNNClassifier and an SVC on digits; print both scores.

    Parameters
    ----------
    random_state : int, default=0
        Seed of the split and of the CNN.
    verbose : int, default=0
        Verbosity of the CNN's training.

    Returns
    -------
    scores : dict
        Held-out accuracy of each model, by name.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    from ._classifier import CNNClassifier

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state
    )
    print(
        f"scikit-learn digits: {len(X_train)} training and {len(X_test)} held-out "
        f"8x8 images, {len(set(y))} classes"
    )
    models = {
        "SVC()": SVC(),
        f"CNNClassifier(random_state={random_state})": CNNClassifier(
            random_state=random_state, verbose=verbose
        ),
    }
    scores = {}
    for name, model in models.items():
        score, seconds = _timed_score(model, X_train, y_train, X_test, y_test)
        scores[name] = score
        print(f"{name:<30} held-out accuracy {score:.4f}   fit {seconds:6.1f} s")
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sklearn-cnn`` command."""
    parser = argparse.ArgumentParser(
        prog="sklearn-cnn", description="Convolutional networks as scikit-learn estimators."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo", help="train the default CNNClassifier and an SVC on digits and compare"
    )
    demo_parser.add_argument("--random-state", type=int, default=0)
    demo_parser.add_argument("--verbose", type=int, default=0, choices=(0, 1))
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(random_state=args.random_state, verbose=args.verbose)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
