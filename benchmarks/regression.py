"""The default CNNRegressor on a panel of real image sets, against the regression peers.

Five sets (``_panel.py``'s ``REGRESSION_SETS``), each a number that real
images shipped by an installed package show, with its fixed split: the
angle of turned MNIST digits and of turned LFW faces (test faces unseen),
the zoom of texture patches and the count of blobs in crops (test patches
from the other half of each image), and scikit-learn's digits with
y = 1000 x the digit (a target of a large scale). On each, in the same
process:

- Ridge (alpha) and an RBF SVR (C), each chosen by 3-fold CV, on
  standardised pixels and on standardised HOG descriptors, the target
  standardised too (``TransformedTargetRegressor``); ``MLPRegressor`` with
  its defaults on standardised pixels, the target standardised: the
  classical peers, the best of which is the set's classical baseline;
- the seed tutorial's CNN with one output and ``MSELoss`` in plain skorch
  (10 epochs), fed as skorch users would: float32 ``y`` reshaped to
  ``(N, 1)`` on the raw scale; the same in
  ``TransformedTargetRegressor(transformer=StandardScaler())``; and that
  wrapper given the 1-D ``y``, which the net's ``(N, 1)`` output meets by
  broadcasting in ``MSELoss`` (the pitfall, reported as it comes out);
- ``CNNRegressor(random_state=run)`` with its defaults (or ``--params``).

Prints R², MAE and fit time of every model per set (medians over runs),
then per set the default's R² against the best classical peer and the best
peer, and the worst margin: the default's R² minus the best peer's, the
minimum over the sets.

Run: python benchmarks/regression.py [--runs 3] [--sets "mnist angle" "blobs count"]
     [--params '{"max_epochs": 30}'] [--no-peers] [--device auto] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import numpy as np
import torch
from _panel import (
    REGRESSION_SETS,
    as_tensor,
    hog_features,
    pixel_features,
    seed_cnn_regressor,
    subsample,
)
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR
from tabulate import tabulate

from sklearn_cnn import CNNRegressor

#: The classical peers: name -> (features, estimator, its grid).
CLASSICAL = {
    "Ridge on pixels": (pixel_features, Ridge, {"alpha": [0.1, 1, 10, 100, 1000]}),
    "Ridge on HOG": (hog_features, Ridge, {"alpha": [0.1, 1, 10, 100, 1000]}),
    "SVR on pixels": (pixel_features, SVR, {"C": [1, 10, 100]}),
    "SVR on HOG": (hog_features, SVR, {"C": [1, 10, 100]}),
}

#: The seed CNN's ways of being fed (see the module's docstring).
SEED_VARIANTS = ("seed CNN, y (N, 1)", "seed CNN in TTR, y (N, 1)",
                 "seed CNN in TTR, 1-D y")


def scaled_target(regressor) -> TransformedTargetRegressor:
    return TransformedTargetRegressor(regressor=regressor, transformer=StandardScaler())


def classical_regressor(estimator, grid) -> TransformedTargetRegressor:
    """``estimator`` on standardised features, its parameter chosen by 3-fold CV, the
    target standardised."""
    name = estimator.__name__.lower()
    return scaled_target(GridSearchCV(make_pipeline(StandardScaler(), estimator()),
                                      {f"{name}__{key}": values
                                       for key, values in grid.items()}, cv=3))


def fit_and_score(model, X_fit, y_fit, X_eval, y_eval) -> tuple[float, float, float]:
    """Held-out R², MAE and fit seconds of ``model``."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="Using a target size")  # the pitfall
        model.fit(X_fit, y_fit)
    seconds = time.perf_counter() - start
    prediction = np.asarray(model.predict(X_eval), dtype=np.float64).reshape(len(y_eval))
    return (float(r2_score(y_eval, prediction)),
            float(mean_absolute_error(y_eval, prediction)), seconds)


def classical(split) -> dict[str, tuple[float, float, float]]:
    """R², MAE and fit seconds of each Ridge and SVR peer (deterministic: fit once)."""
    X_train, X_test, y_train, y_test = split
    features = {f: (f(X_train), f(X_test)) for f in {f for f, _, _ in CLASSICAL.values()}}
    return {name: fit_and_score(classical_regressor(estimator, grid), features[f][0],
                                y_train, features[f][1], y_test)
            for name, (f, estimator, grid) in CLASSICAL.items()}


def mlp(split, run: int):
    X_train, X_test, y_train, y_test = split
    model = scaled_target(make_pipeline(StandardScaler(), MLPRegressor(random_state=run)))
    return fit_and_score(model, pixel_features(X_train), y_train, pixel_features(X_test),
                         y_test)


def seed(split, run: int, epochs: int, device: str) -> dict[str, tuple]:
    """The seed CNN in plain skorch, fed each of the three ways."""
    X_train, X_test, y_train, y_test = split
    images, test_images = as_tensor(X_train).numpy(), as_tensor(X_test).numpy()
    column = y_train.astype(np.float32).reshape(-1, 1)
    scores = {}
    for name, wrap, target in zip(SEED_VARIANTS, (False, True, True),
                                  (column, column, y_train.astype(np.float32)), strict=True):
        torch.manual_seed(run)
        model = seed_cnn_regressor(images.shape[1:], epochs).set_params(device=device)
        scores[name] = fit_and_score(scaled_target(model) if wrap else model, images,
                                     target, test_images, y_test)
    return scores


def median_scores(runs: list[tuple]) -> tuple[float, float, float]:
    return tuple(statistics.median(values) for values in zip(*runs, strict=True))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--sets", nargs="+", choices=list(REGRESSION_SETS),
                        default=list(REGRESSION_SETS))
    parser.add_argument("--params", type=json.loads, default={},
                        help="CNNRegressor parameters instead of the defaults, as JSON")
    parser.add_argument("--device", default="cpu",
                        help='the device of the CNNs ("cpu", "cuda", "auto")')
    parser.add_argument("--no-peers", action="store_true",
                        help="fit the CNNRegressor only (to compare variants quickly)")
    parser.add_argument("--quick", action="store_true",
                        help="a check of the script: 150 training images a set, 2 epochs")
    args = parser.parse_args(argv)

    params = dict(args.params)
    seed_epochs = 10
    if args.quick:
        params.setdefault("max_epochs", 2)
        seed_epochs = 2
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    rows, summary, results = [], [], {}
    for name in args.sets:
        loader, target = REGRESSION_SETS[name]
        split = loader()
        if args.quick:
            split = subsample(split, 150, 100)
        X_train, X_test, y_train, y_test = split
        runs: dict[str, list] = {}
        if not args.no_peers:
            for peer, scores in classical(split).items():
                runs[peer] = [scores]
        for run in range(args.runs):
            if not args.no_peers:
                runs.setdefault("MLPRegressor on pixels", []).append(mlp(split, run))
                for peer, scores in seed(split, run, seed_epochs, device).items():
                    runs.setdefault(peer, []).append(scores)
            model = CNNRegressor(**{"random_state": run, "device": args.device, **params})
            runs.setdefault("CNNRegressor", []).append(
                fit_and_score(model, X_train, y_train, X_test, y_test))
            r2, mae, sec = runs["CNNRegressor"][-1]
            print(f"{name} run {run}: CNNRegressor R² {r2:.3f}, MAE {mae:.4g}, {sec:.1f} s",
                  flush=True)
        scores = {model: median_scores(values) for model, values in runs.items()}
        for model, (r2, mae, sec) in scores.items():
            rows.append([name, model, f"{r2:.3f}", f"{mae:.4g}", f"{sec:.1f}"])
        result = {"target": target, "train": len(y_train), "test": len(y_test),
                  "scores": scores, "default": scores["CNNRegressor"][0]}
        line = [name, target, f"{len(y_train)}/{len(y_test)}"]
        if not args.no_peers:
            peers = {model: s for model, s in scores.items() if model != "CNNRegressor"}
            best_classical = max((m for m in peers if not m.startswith("seed")),
                                 key=lambda m: peers[m][0])
            best = max(peers, key=lambda m: peers[m][0])
            result.update(best_classical=best_classical, best_peer=best,
                          margin=result["default"] - peers[best][0],
                          classical_margin=result["default"] - peers[best_classical][0])
            line += [f"{peers[best_classical][0]:.3f} ({best_classical})",
                     f"{peers[best][0]:.3f} ({best})"]
        line.append(f"{result['default']:.3f}")
        if not args.no_peers:
            line += [f"{result['classical_margin']:+.3f}", f"{result['margin']:+.3f}"]
        summary.append(line)
        results[name] = result

    print(f"\nmedians of {args.runs} run(s); {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}, device {args.device}; CNNRegressor parameters: "
          f"{params or 'defaults'}")
    print(tabulate(rows, headers=["set", "model", "R²", "MAE", "fit s"], tablefmt="github"))
    headers = ["set", "y", "train/test"]
    if not args.no_peers:
        headers += ["best classical R²", "best peer R²"]
    headers.append("CNNRegressor R²")
    if not args.no_peers:
        headers += ["margin over classical", "margin over best peer"]
    print()
    print(tabulate(summary, headers=headers, tablefmt="github"))
    if not args.no_peers:
        worst = min(results, key=lambda n: results[n]["margin"])
        worst_classical = min(results, key=lambda n: results[n]["classical_margin"])
        print(f"worst margin: {results[worst]['margin']:+.3f} ({worst}); margin = the "
              "default's R² minus the best peer's (classical or seed CNN); over the best "
              f"classical peer: {results[worst_classical]['classical_margin']:+.3f} "
              f"({worst_classical})")
    return results


if __name__ == "__main__":
    main()
