"""
Cost on small devices: ONNX size and latency
============================================

How big is a trained ``CNNClassifier`` once exported, and how long does it
take to classify one image on one CPU core? This script trains the default
network and a smaller one (``conv_channels=(8, 16)``, ``dense_units=(32,)``)
on the two FAQ tasks (see ``faq_tasks.py``), exports each with
``sklearn_cnn.export.to_onnx``, and measures the ONNX file's size and the
latency of one image (batch 1, one thread) in ONNX Runtime and in PyTorch,
as the median of many calls. The accuracy on held-out images says what the
smaller network costs.

Run: ``python examples/faq_onnx_size.py`` (quick: 2 epochs, 200 calls per
latency; under a minute on two cores) or ``python examples/faq_onnx_size.py
--full`` (the FAQ's table: 30 epochs, 2000 calls; a few minutes).
"""

# %%
# Train, export, measure
# ----------------------
import copy
import tempfile
import timeit
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from faq_tasks import load_tasks, parse_full
from sklearn.model_selection import train_test_split
from tabulate import tabulate

from sklearn_cnn import CNNClassifier
from sklearn_cnn.export import to_onnx
from sklearn_cnn.preprocessing import ToImage

NETWORKS = {"default": {}, "small": {"conv_channels": (8, 16), "dense_units": (32,)}}


def median_ms(call, n_calls):
    """Median wall time of ``call()`` over ``n_calls`` calls, in milliseconds."""
    call()  # a first call allocates what the next ones reuse
    return 1000 * float(np.median(timeit.repeat(call, number=1, repeat=n_calls)))


def latencies(clf, path, image, n_calls):
    """Median milliseconds per image of the ONNX file and of the PyTorch module, one thread."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])
    onnx_ms = median_ms(lambda: session.run(None, {"images": image}), n_calls)
    # A copy on the CPU in inference mode: the classifier's own module stays as it is.
    module, tensor = copy.deepcopy(clf.module_).cpu().eval(), torch.from_numpy(image)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            torch_ms = median_ms(lambda: module(tensor), n_calls)
    finally:
        torch.set_num_threads(threads)
    return onnx_ms, torch_ms


full = parse_full("Cost on small devices: ONNX size and latency")
max_epochs, n_calls = (30, 2000) if full else (2, 200)
folder = Path(tempfile.mkdtemp())
rows = []
for task, (X, y) in load_tasks(full).items():
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0)
    # The ONNX input is what the classifier feeds its network: float32 (N, C, H, W).
    image = ToImage().fit_transform(X_test[:1])
    for network, params in NETWORKS.items():
        clf = CNNClassifier(max_epochs=max_epochs, random_state=0, **params)
        clf.fit(X_train, y_train)
        path = folder / f"{task}_{network}.onnx"
        to_onnx(clf, path)
        n_weights = sum(p.numel() for p in clf.module_.parameters())
        onnx_ms, torch_ms = latencies(clf, path, image, n_calls)
        rows.append([task, network, clf.input_shape_, f"{n_weights:,}",
                     path.stat().st_size / 1024, onnx_ms, torch_ms, clf.score(X_test, y_test)])

print(f"{'full' if full else 'quick'} run: {max_epochs} epochs, median of {n_calls} calls "
      f"of one image, one thread, CPU")
print(tabulate(rows, headers=["task", "network", "input", "weights", "ONNX KiB",
                              "onnxruntime ms", "PyTorch ms", "held-out acc"],
               tablefmt="github", floatfmt=("", "", "", "", ".0f", ".3f", ".3f", ".3f")))

# %%
# On your own model
# -----------------
# Export a fitted classifier and time it where it will run::
#
#     clf.to_onnx("model.onnx")
#     session = onnxruntime.InferenceSession("model.onnx")
#     session.run(None, {"images": ToImage().fit_transform(X[:1])})
#
# A smaller ``conv_channels`` and ``dense_units`` shrink the file and the
# latency; ``GridSearchCV`` over them says what accuracy that costs.
