"""Prediction speed: single-image latency against SVC, batch throughput against raw.

On scikit-learn's digits (1,347 train / 450 test):

- latency: one ``predict`` call on one image, median over --calls calls, for
  the default CNNClassifier and for SVC() (both fitted on the same data);
- throughput: ``predict_proba`` on the 450 test images repeated to 9,000,
  against the raw ``module_`` forward over the same batches under
  ``torch.inference_mode`` (input already a float32 tensor on the
  classifier's device, no checks; logits copied back to the host).

Run: python benchmarks/predict.py [--runs 5] [--calls 300]
"""

import argparse
import time

import numpy as np
import torch
from _common import report
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from sklearn_cnn import CNNClassifier
from sklearn_cnn._model.inference import INFERENCE_BATCH_SIZE


def latency(model, X, calls):
    times = []
    for i in range(calls):
        one = X[i % len(X)][None]
        start = time.perf_counter()
        model.predict(one)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, stratify=y,
                                                   random_state=0)
    clf = CNNClassifier(random_state=0).fit(X_train, y_train)
    svc = SVC().fit(X_train, y_train)

    ours = [latency(clf, X_test, args.calls) * 1e6 for _ in range(args.runs)]
    theirs = [latency(svc, X_test, args.calls) * 1e6 for _ in range(args.runs)]
    report("single-image predict latency: CNNClassifier", ours, "us", "{:.0f}")
    report("single-image predict latency: SVC", theirs, "us", "{:.0f}")
    report("latency ratio CNNClassifier / SVC", [o / t for o, t in zip(ours, theirs, strict=True)],
           "", "{:.2f}")

    big = np.tile(X_test, (20, 1))
    tensor = torch.from_numpy(big.reshape(-1, 1, 8, 8).astype(np.float32)).to(clf.device_)
    module = clf.module_.eval()
    fmt = clf.net_.memory_format

    def raw():
        with torch.inference_mode():
            out = [module(tensor[i:i + INFERENCE_BATCH_SIZE].contiguous(memory_format=fmt))
                   for i in range(0, len(tensor), INFERENCE_BATCH_SIZE)]
            torch.cat(out).cpu()

    ours_rate, raw_rate = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        clf.predict_proba(big)
        ours_rate.append(len(big) / (time.perf_counter() - start))
        start = time.perf_counter()
        raw()  # ends with the copy to the host: timed to completion on a GPU too
        raw_rate.append(len(big) / (time.perf_counter() - start))
    report("batch predict_proba: CNNClassifier", ours_rate, "images/s", "{:.0f}")
    report("batch forward: raw module_ under inference_mode", raw_rate, "images/s", "{:.0f}")
    report("throughput ratio CNNClassifier / raw",
           [o / r for o, r in zip(ours_rate, raw_rate, strict=True)], "", "{:.3f}")


if __name__ == "__main__":
    main()
