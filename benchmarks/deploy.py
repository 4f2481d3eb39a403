"""float32 against int8 ONNX files: latency, size, agreement and accuracy on held-out images.

Four networks, each fitted on one of the panel's sets (``_panel``) with
``random_state=0``:

- the default network on scikit-learn's 8x8 gray digits;
- the default network on 32x32 and on 64x64 colour patches of
  scikit-image's photos (six classes);
- a torchvision ResNet-18 (``backbone="resnet18"``, trained from scratch:
  nothing is downloaded) on 224x224 patches of the same photos.

Each is exported twice, ``to_onnx(path)`` and ``to_onnx(path,
quantize="int8", calibration=...)`` on --calibration training images, and
run with ONNX Runtime on 1 thread at batch 1 and 32 (minimum of --repeats
runs, after a warm-up). Printed per network: the two latencies of each file
and their ratio (float32 / int8: above 1, int8 is faster), the file sizes,
the held-out accuracy of each file and the share of held-out images on which
they agree, and PyTorch's eager ``clf.predict`` on one image beside them
(the per-call cost a web service pays; ``n_jobs=1``, one thread too).

--methods compares MinMax, entropy and percentile calibration on the 64x64
network (the choice ``to_onnx`` makes).

Run: python benchmarks/deploy.py [--repeats 20] [--calibration 256] [--quick] [--methods]
"""

import argparse
import os
import tempfile
import time

import _panel
import numpy as np
import onnxruntime

from sklearn_cnn import CNNClassifier
from sklearn_cnn.export import OnnxPredictor
from sklearn_cnn.preprocessing import ToImage


def photos(side: int, n_train: int, n_test: int):
    """Colour patches of ``side`` pixels from scikit-image's photos (``_panel``)."""
    from skimage import data

    _panel.PATCH = side
    names = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field",
             "immunohistochemistry")
    return _panel._patches({name: getattr(data, name)() for name in names}, n_train, n_test)


def networks(quick: bool) -> list:
    """(name, split, parameters) of each network measured."""
    few = 0.2 if quick else 1.0
    digits = _panel.digits_set()
    if quick:
        digits = _panel.subsample(digits, 300, 100)
    return [
        ("default, 8x8 gray digits", digits, {}),
        ("default, 32x32 colour", photos(32, int(150 * few), int(75 * few)), {}),
        ("default, 64x64 colour", photos(64, int(150 * few), int(75 * few)), {}),
        ("ResNet-18, 224x224 colour", photos(224, int(40 * few), int(20 * few)),
         {"backbone": "resnet18", "max_epochs": 1 if quick else 3, "batch_size": 32}),
    ]


def session(path) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def latency(run, repeats: int) -> float:
    """Minimum seconds of ``run()`` over ``repeats`` calls, after one warm-up."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(name: str, split, params: dict, args, folder: str) -> None:
    X_train, X_test, y_train, y_test = split
    clf = CNNClassifier(random_state=0, **params).fit(X_train, y_train)
    paths = {kind: os.path.join(folder, f"{kind}.onnx") for kind in ("float32", "int8")}
    clf.to_onnx(paths["float32"])
    calibration = X_train[np.random.default_rng(0).permutation(len(X_train))[:args.calibration]]
    clf.to_onnx(paths["int8"], quantize="int8", calibration=calibration)
    images = ToImage().fit_transform(X_test)
    batch32 = np.resize(images, (32, *images.shape[1:]))
    row = {}
    for kind, path in paths.items():
        run = session(path)
        predicted = OnnxPredictor(path).predict(X_test)
        row[kind] = {
            "b1": latency(lambda run=run: run.run(None, {"images": images[:1]}), args.repeats),
            "b32": latency(lambda run=run: run.run(None, {"images": batch32}), args.repeats),
            "size": os.path.getsize(path), "predicted": predicted,
            "accuracy": float((predicted == y_test).mean()),
        }
    clf.set_params(n_jobs=1)  # one thread, as ONNX Runtime here
    eager = latency(lambda: clf.predict(X_test[:1]), args.repeats)
    exact, quantised = row["float32"], row["int8"]
    agreement = float((exact["predicted"] == quantised["predicted"]).mean())
    print(f"{name}: batch 1 {exact['b1'] * 1e3:.3f} / {quantised['b1'] * 1e3:.3f} ms "
          f"(ratio {exact['b1'] / quantised['b1']:.2f}); batch 32 {exact['b32'] * 1e3:.2f} / "
          f"{quantised['b32'] * 1e3:.2f} ms (ratio {exact['b32'] / quantised['b32']:.2f}); "
          f"size {exact['size'] / 2**20:.2f} / {quantised['size'] / 2**20:.2f} MiB; accuracy "
          f"{exact['accuracy']:.4f} / {quantised['accuracy']:.4f} on {len(y_test)} held-out; "
          f"agreement {agreement:.4f}; PyTorch eager predict of 1 image "
          f"{eager * 1e3:.3f} ms", flush=True)


def methods(args, folder: str) -> None:
    """Agreement and accuracy of each calibration method on the 64x64 network."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from sklearn_cnn.export._quantize import QUANTISED

    X_train, X_test, y_train, y_test = photos(64, 150 if not args.quick else 30,
                                              75 if not args.quick else 15)
    clf = CNNClassifier(random_state=0).fit(X_train, y_train)
    exact = os.path.join(folder, "methods-float.onnx")
    clf.to_onnx(exact)
    prepared = os.path.join(folder, "methods-prepared.onnx")
    quant_pre_process(exact, prepared)
    n = min(args.calibration, len(X_train)) // 32 * 32  # entropy and percentile: equal batches
    calibration = ToImage().fit_transform(
        X_train[np.random.default_rng(0).permutation(len(X_train))[:n]])
    test = ToImage().fit_transform(X_test)
    classes = np.searchsorted(clf.classes_, y_test)
    reference = session(exact).run(None, {"images": test})[0].argmax(axis=1)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"images": calibration[i:i + 32]} for i in range(0, n, 32)])

        def get_next(self):
            return next(self.batches, None)

    for method in (CalibrationMethod.MinMax, CalibrationMethod.Entropy,
                   CalibrationMethod.Percentile):
        out = os.path.join(folder, f"methods-{method.name}.onnx")
        quantize_static(prepared, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=method, op_types_to_quantize=QUANTISED)
        predicted = session(out).run(None, {"images": test})[0].argmax(axis=1)
        print(f"calibration {method.name}: accuracy {(predicted == classes).mean():.4f} "
              f"(float32 {(reference == classes).mean():.4f}), agreement "
              f"{(predicted == reference).mean():.4f} on {len(test)} held-out, "
              f"{n} calibration images", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--calibration", type=int, default=256,
                        help="training images to calibrate on")
    parser.add_argument("--quick", action="store_true", help="fewer images, a short ResNet fit")
    parser.add_argument("--methods", action="store_true",
                        help="also compare the calibration methods on the 64x64 network")
    parser.add_argument("--only", help="measure the networks whose name contains this")
    args = parser.parse_args()
    import torch

    print(f"ONNX Runtime {onnxruntime.__version__}, torch {torch.__version__}; latency on 1 "
          f"thread, minimum of {args.repeats}; float32 / int8")
    with tempfile.TemporaryDirectory() as folder:
        for name, split, params in networks(args.quick):
            if args.only is None or args.only in name:
                measure(name, split, params, args, folder)
        if args.methods:
            methods(args, folder)


if __name__ == "__main__":
    main()
