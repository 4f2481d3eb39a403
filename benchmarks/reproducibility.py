"""Reproducibility of CNNClassifier across torch thread counts and a search's n_jobs.

On the CPU, a fit with an int ``random_state`` is bit-identical from run to
run at the same torch intra-op thread counts, but not across thread counts:
oneDNN's convolution weight gradients, channels-last batch norm and the
linear layers' weight gradients add up their partial sums in an order that
depends on how many threads share the work. ``CNNClassifier(n_jobs=None)``
chooses the count per fit (and epoch) from the work, the cores and the load
(``sklearn_cnn._training.threads``); ``n_jobs=k`` pins it. A search's
``n_jobs=2`` runs its fits in joblib's loky workers (each told
``cores // n_jobs`` threads) or, with the threading backend, in threads of
the caller, which share the cores.

Part 0: which layers' results differ between 1 and 2 threads, in both
memory formats. Part 1: the default CNNClassifier on digits, fitted pinned
at 1, 2, ... threads (up to the cores), runs alternating: fit time, and
whether ``predict_proba`` is identical bit for bit to the 1-thread model's
(and the largest difference). Part 2: ``GridSearchCV`` with ``n_jobs=1``,
``n_jobs=2`` (loky) and ``n_jobs=2`` (threading), of ``CNNClassifier`` as
it comes and of ``CNNClassifier(n_jobs=1)``: the threads the refit ran on,
``best_params_`` by accuracy, and whether every split's log loss (finer than
accuracy) is identical to the ``n_jobs=1`` search's.

Run: python benchmarks/reproducibility.py [--runs 3] [--images 1797] [--epochs 30]
"""

import argparse

import numpy as np
import torch
from _common import report, timed
from joblib import parallel_config
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from sklearn_cnn import CNNClassifier
from sklearn_cnn._cpu import usable_cores


def cores() -> int:
    return usable_cores()


def _ops(memory_format) -> dict:
    """Outputs and gradients of the default network's kinds of layer, on a batch of 64."""
    torch.manual_seed(0)
    x = torch.randn(64, 32, 8, 8).contiguous(memory_format=memory_format).requires_grad_()
    conv = torch.nn.Conv2d(32, 64, 3, padding=1).to(memory_format=memory_format)
    norm = torch.nn.BatchNorm2d(64)
    linear = torch.nn.Linear(128, 10)
    h = torch.randn(64, 128, requires_grad=True)
    out = norm(conv(x))
    logits = linear(h)
    (out.square().mean() + logits.square().mean()).backward()
    return {"conv + batch norm forward": out, "conv weight gradient": conv.weight.grad,
            "batch norm weight gradient": norm.weight.grad,
            "linear forward": logits, "linear weight gradient": linear.weight.grad,
            "conv input gradient": x.grad}


def op_table() -> None:
    """Which layer results change between 1 and 2 threads (max |difference|)."""
    for memory_format in (torch.contiguous_format, torch.channels_last):
        results = {}
        for n in (1, 2):
            torch.set_num_threads(n)
            results[n] = _ops(memory_format)
        for name, one in results[1].items():
            diff = (one - results[2][name]).abs().max().item()
            print(f"{str(memory_format)[6:]:<18} {name:<28} "
                  f"1 vs 2 threads: {'identical' if diff == 0 else f'differ by {diff:.2g}'}")


def thread_table(X_train, y_train, X_test, params: dict, runs: int) -> None:
    counts = list(range(1, max(cores(), 2) + 1))
    seconds = {n: [] for n in counts}
    probas = {}
    for _ in range(runs):
        for n in counts:  # alternating, so that load drifts hit every count alike
            clf = CNNClassifier(**params, n_jobs=n)
            seconds[n].append(timed(lambda clf=clf: clf.fit(X_train, y_train), "cpu"))
            probas.setdefault(n, []).append(clf.predict_proba(X_test))
    reference = probas[1][0]
    for n in counts:
        repeat = all(np.array_equal(p, probas[n][0]) for p in probas[n])
        diff = np.abs(probas[n][0] - reference).max()
        flips = int((probas[n][0].argmax(1) != reference.argmax(1)).sum())
        report(f"fit at {n} thread(s): fit time", seconds[n], "s", "{:.2f}")
        print(f"{'':<44} same as 1 thread: {np.array_equal(probas[n][0], reference)}"
              f"   max |d proba| {diff:.3g}   labels changed {flips}"
              f"   repeats identical: {repeat}")


def search_table(X, y, params: dict, folds: int) -> None:
    grid = {"label_smoothing": [0.0, 0.1]}
    cv = StratifiedKFold(folds)
    for label, pinned in (("as they come", None), ("n_jobs=1", 1)):
        reference = None
        for n_jobs, backend in ((1, "loky"), (2, "loky"), (2, "threading")):
            with parallel_config(backend=backend):
                search = GridSearchCV(CNNClassifier(**params, n_jobs=pinned), grid, cv=cv,
                                      n_jobs=n_jobs, scoring=("accuracy", "neg_log_loss"),
                                      refit="accuracy")
                search.fit(X, y)
            scores = np.array([search.cv_results_[f"split{i}_test_neg_log_loss"]
                               for i in range(folds)])
            reference = scores if reference is None else reference
            print(f"{label:<20} n_jobs={n_jobs} {backend:<9} "
                  f"refit on {search.best_estimator_.n_threads_} thread(s)  "
                  f"best {search.best_params_}  score {search.best_score_:.4f}  "
                  f"split log losses identical to n_jobs=1: {np.array_equal(scores, reference)}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--images", type=int, default=1797, help="digits used (of 1,797)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="max_epochs (default: CNNClassifier's)")
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X, y = X[:args.images], y[:args.images]
    params = dict(random_state=0, device="cpu")
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    backend = [line for line in torch.__config__.parallel_info().splitlines()
               if line.startswith("ATen parallel backend")]
    print(f"digits {len(X)}, torch {torch.__version__} ({', '.join(backend)}), "
          f"{cores()} cores, {args.runs} runs, {params}")
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0, stratify=y)
    threads = torch.get_num_threads()
    op_table()  # torch's own layers, on the counts set here
    torch.set_num_threads(threads)
    thread_table(X_train, y_train, X_test, params, args.runs)
    search_table(X, y, params, args.folds)


if __name__ == "__main__":
    main()
