"""Does augment="standard" raise accuracy on a small training set, and at what cost?

Trains the default CNNClassifier on 300 of scikit-learn's digits (stratified,
a new split per run), with augment=None and augment="standard" at the same
number of epochs, and scores both on the other 1,497 digits. Prints one line
per run and system, then the medians, the accuracy gain and the throughput
ratio (training images per second, standard / None). Both systems run in the
same process, one after the other, on the same split.

Run: python benchmarks/augmentation.py [--runs 5] [--epochs 60]
"""

import argparse
import statistics
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_cnn import CNNClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--train-size", type=int, default=300)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    results = {None: ([], []), "standard": ([], [])}
    for run in range(args.runs):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, train_size=args.train_size, stratify=y, random_state=run
        )
        for augment, (scores, speeds) in results.items():
            clf = CNNClassifier(augment=augment, max_epochs=args.epochs, random_state=run)
            start = time.perf_counter()
            clf.fit(X_train, y_train)
            seconds = time.perf_counter() - start
            scores.append(clf.score(X_test, y_test))
            speeds.append(len(X_train) * args.epochs / seconds)
            print(f"run {run}  augment={augment!s:<9} accuracy {scores[-1]:.4f}  "
                  f"{speeds[-1]:8.0f} train images/s")

    (none_acc, none_speed), (std_acc, std_speed) = results[None], results["standard"]
    print(f"\n{args.train_size} training digits, {args.epochs} epochs, median of {args.runs} runs")
    print(f"augment=None       accuracy {statistics.median(none_acc):.4f}  "
          f"{statistics.median(none_speed):8.0f} images/s")
    print(f"augment='standard' accuracy {statistics.median(std_acc):.4f}  "
          f"{statistics.median(std_speed):8.0f} images/s")
    gains = [s - n for s, n in zip(std_acc, none_acc, strict=True)]
    ratios = [s / n for s, n in zip(std_speed, none_speed, strict=True)]
    print(f"accuracy gain (standard - None): median {statistics.median(gains):+.4f}, "
          f"better in {sum(g > 0 for g in gains)} of {len(gains)} runs")
    print(f"throughput ratio (standard / None): median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
