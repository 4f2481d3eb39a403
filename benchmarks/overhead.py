"""Small-data overhead: CNNClassifier against the same fits in a hand-written loop.

Two workloads on scikit-learn's 8x8 digits, each timed end to end (wall
clock, median of --runs), for CNNClassifier and for a hand-written PyTorch
loop doing the same work: build the same network (sklearn_cnn.ConvNet with
the classifier's defaults), build Adam at the same learning rate, run the
same epochs over shuffled index slices of a pre-made tensor, and predict.

1. fit, 1 epoch, on 200 digits;
2. a 12-candidate GridSearchCV (kernel_size 3/5 x activation relu/tanh/elu
   x optimizer adam/sgd), cv=2, max_epochs=2, refit=False, on 400 digits:
   24 fits plus their scoring;
3. the cost of a training step where compute is near zero: one 4-filter
   conv block and no dense layer, on all 1,797 digits, batch 64, constant
   learning rate, 20 epochs (580 steps), against ``_common.raw_fit`` on a
   copy of the classifier's module (same fused Adam and loss), runs
   alternating; and how often each reads a tensor's value back to Python
   (``aten::_local_scalar_dense``: skorch's ``loss.item()``, which on a GPU
   waits for the step) per step, with SGD (Adam on the CPU reads every
   parameter's step count, in any loop).

skorch users report up to 37x overhead on toy problems; the target is <= 2x.

Run: python benchmarks/overhead.py [--runs 5]
"""

import argparse
import itertools
import time

import numpy as np
import torch
from _common import fresh_copy, raw_fit, report
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from torch import nn
from torch.profiler import ProfilerActivity, profile

from sklearn_cnn import CNNClassifier, ConvNet
from sklearn_cnn._training.optimizers import make_optimizer

GRID = {"kernel_size": [3, 5], "activation": ["relu", "tanh", "elu"],
        "optimizer": ["adam", "sgd"]}


def raw_fit_predict(X_fit, y_fit, X_eval, *, epochs, seed=0, kernel_size=3,
                    activation="relu", optimizer="adam", batch_size=64):
    """The hand-written equivalent of CNNClassifier(...).fit(X_fit, y_fit).predict(X_eval)."""
    torch.manual_seed(seed)
    X = torch.from_numpy(X_fit.reshape(-1, 1, 8, 8).astype(np.float32))
    y = torch.from_numpy(y_fit)
    module = ConvNet((1, 8, 8), 10, dense_units=(128,), dropout=0.3, kernel_size=kernel_size,
                     activation=activation)
    cls, kwargs = make_optimizer(optimizer, "auto", 0.9, 0.0)
    opt = cls(module.parameters(), **{k: v for k, v in kwargs.items() if k != "fused"})
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    module.train()
    for _ in range(epochs):
        order = torch.randperm(len(X))
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            opt.zero_grad()
            criterion(module(X[idx]), y[idx]).backward()
            opt.step()
    module.eval()
    with torch.inference_mode():
        return module(torch.from_numpy(X_eval.reshape(-1, 1, 8, 8).astype(np.float32))).argmax(1)


def raw_grid(X, y):
    for params in itertools.product(*GRID.values()):
        for train, test in StratifiedKFold(2).split(X, y):
            pred = raw_fit_predict(X[train], y[train], X[test], epochs=2,
                                   **dict(zip(GRID, params, strict=True)))
            float((pred.numpy() == y[test]).mean())


def scalar_reads(fn) -> int:
    """How many times ``fn()`` reads a tensor's value back to Python."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return sum(e.count for e in prof.key_averages() if e.key == "aten::_local_scalar_dense")


def tiny_network_rows(X, y, runs: int) -> None:
    params = dict(conv_channels=(4,), dense_units=(), batch_size=64, max_epochs=20,
                  lr_schedule="constant", augment=None, device="cpu", random_state=0)
    steps = params["max_epochs"] * -(-len(X) // params["batch_size"])
    Xt = torch.from_numpy(X.reshape(-1, 1, 8, 8).astype(np.float32))
    yt = torch.from_numpy(y)
    clf = CNNClassifier(**{**params, "max_epochs": 1}).fit(X, y)
    optimizer = clf.net_.optimizer_
    kwargs = {k: optimizer.defaults[k] for k in ("lr", "betas", "eps", "weight_decay", "fused")}

    def raw(optimizer_cls=torch.optim.Adam, **optimizer_kwargs):
        return raw_fit(fresh_copy(clf.module_), Xt, yt, epochs=params["max_epochs"],
                       batch_size=params["batch_size"], optimizer_cls=optimizer_cls,
                       optimizer_kwargs=optimizer_kwargs or kwargs,
                       criterion=nn.CrossEntropyLoss(label_smoothing=0.1))

    ours, theirs = [], []
    for _ in range(runs):
        ours.append(median_time(lambda: CNNClassifier(**params).fit(X, y), 1)[0])
        theirs.append(raw())
    report("tiny network, per step: CNNClassifier", [t / steps * 1e6 for t in ours], "us")
    report("tiny network, per step: hand-written", [t / steps * 1e6 for t in theirs], "us")
    report("ratio hand-written / CNNClassifier (throughput)",
           [r / o for o, r in zip(ours, theirs, strict=True)], "", "{:.3f}")
    sgd = {**params, "optimizer": "sgd", "max_epochs": 2}
    reads = scalar_reads(lambda: CNNClassifier(**sgd).fit(X, y)) / (steps / 10)
    raw_reads = scalar_reads(lambda: raw(torch.optim.SGD, lr=0.05)) / steps
    print(f"{'scalar reads per step, SGD: CNNClassifier':<44} {reads:.3f}")
    print(f"{'scalar reads per step, SGD: hand-written':<44} {raw_reads:.3f}")


def median_time(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)

    X200, y200 = X[:200], y[:200]
    one_epoch = CNNClassifier(max_epochs=1, augment=None, random_state=0)
    ours = median_time(lambda: one_epoch.fit(X200, y200).predict(X200), args.runs * 4)
    raw = median_time(lambda: raw_fit_predict(X200, y200, X200, epochs=1), args.runs * 4)
    report("fit 1 epoch on 200 digits (+predict): CNNClassifier", [t * 1e3 for t in ours], "ms")
    report("fit 1 epoch on 200 digits (+predict): hand-written", [t * 1e3 for t in raw], "ms")
    report("ratio CNNClassifier / hand-written", [o / r for o, r in zip(ours, raw, strict=True)],
           "", "{:.2f}")

    X400, y400 = X[:400], y[:400]
    search = GridSearchCV(CNNClassifier(max_epochs=2, augment=None, random_state=0), GRID,
                          cv=StratifiedKFold(2), refit=False)
    ours = median_time(lambda: search.fit(X400, y400), args.runs)
    raw = median_time(lambda: raw_grid(X400, y400), args.runs)
    report("12-candidate GridSearchCV, cv=2: CNNClassifier", ours, "s", "{:.2f}")
    report("12-candidate GridSearchCV, cv=2: hand-written", raw, "s", "{:.2f}")
    report("ratio CNNClassifier / hand-written", [o / r for o, r in zip(ours, raw, strict=True)],
           "", "{:.2f}")

    tiny_network_rows(X, y, args.runs)


if __name__ == "__main__":
    main()
