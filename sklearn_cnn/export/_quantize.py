"""int8 weights and activations for an exported network: ONNX Runtime's static quantisation.

Static quantisation (``onnxruntime.quantization.quantize_static``) measures
the range of every activation on calibration images once, and writes the
file with int8 weights (one scale per output channel) and uint8
activations as QDQ pairs (QuantizeLinear/DequantizeLinear around each
operator), which ONNX Runtime fuses into integer kernels on any CPU.
Dynamic quantisation, which the FAQ used to suggest, measures the
activations at every call instead and quantises only matrix products: it
was 3 to 6 times slower than float32 on every CNN measured (issue 35), so
it is not offered.

The choices, each measured (docs/benchmarks.md, "Deployment: int8 ONNX"):

- **MinMax calibration**: the activation ranges as seen. Entropy and
  percentile calibration gave the same agreement or worse on the panel's
  64x64 photos, and need calibration batches of equal size.
- **The model is prepared first** (``quant_pre_process``: shape inference
  and ONNX Runtime's graph optimisations), as ONNX Runtime's documentation
  advises.
- **The softmax, sigmoid and the regressor's scaling stay float**: only
  the network's own operators are quantised (:data:`QUANTISED`).

Then the file is checked: the int8 model runs beside the float one on the
calibration images, and a ``QuantizationWarning`` says how far they agree
when it is less than :data:`MIN_AGREEMENT` (or the accuracy falls by more
than :data:`MAX_ACCURACY_DROP`, where the images have labels).

No torch here: ONNX Runtime and numpy.
"""

from __future__ import annotations

import os
import tempfile
import warnings

import numpy as np

from .._warnings import warn_user

__all__ = ["MAX_ACCURACY_DROP", "MIN_AGREEMENT", "QUANTISED", "QuantizationWarning",
           "agreement", "check", "quantize_int8", "session"]

#: The operators quantised: those of the networks (convolutions, dense layers,
#: pooling and the activations between them). Softmax, Sigmoid and the
#: regressor's Mul and Add stay float.
QUANTISED = ["Conv", "Gemm", "MatMul", "Relu", "LeakyRelu", "Clip", "MaxPool",
             "AveragePool", "GlobalAveragePool", "Add", "Flatten", "Reshape", "Concat"]

#: Least share of calibration images whose prediction the int8 file must keep.
MIN_AGREEMENT = 0.99

#: Most accuracy (a share) the int8 file may lose on labelled calibration images.
MAX_ACCURACY_DROP = 0.005

#: Calibration images run at once (each batch's activation ranges are merged
#: into the running ones, so memory does not grow with their number).
CALIBRATION_BATCH = 32


class QuantizationWarning(UserWarning):
    """The int8 file disagrees with the float model more than it should.

    Raised by ``to_onnx(..., quantize="int8")`` when, on the calibration
    images, the int8 file's predictions agree with the float model's on
    less than 99 % of them, or its accuracy is more than 0.5 points lower.
    The file is written all the same: calibrate on more (or more typical)
    images, or keep the float32 file.

    See Also
    --------
    sklearn_cnn.export.to_onnx : Writes the int8 file, and checks it.

    Examples
    --------
    Make a disagreeing int8 file an error rather than a warning:

    >>> import warnings
    >>> from sklearn_cnn.export import QuantizationWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", QuantizationWarning)
    """


def session(path, threads: int | None = None):
    """An ONNX Runtime CPU session of the file at ``path`` (``threads``: its intra-op threads)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(os.fspath(path), options,
                                        providers=["CPUExecutionProvider"])


def _outputs(path, images: np.ndarray) -> np.ndarray:
    run = session(path)
    name = run.get_inputs()[0].name
    return np.concatenate([run.run(None, {name: images[i:i + 256]})[0]
                           for i in range(0, len(images), 256)])


def quantize_int8(float_path, out_path, images: np.ndarray) -> None:
    """Write the int8 model of the float ONNX file ``float_path`` to ``out_path``.

    Parameters
    ----------
    float_path, out_path : path-like
        The float32 file (written by ``to_onnx``), and where to write.
    images : ndarray of shape (N, C, H, W), float32
        Calibration images, as the graph takes them.
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Calibration(CalibrationDataReader):
        """The images in batches; ``set_range`` picks those of one pass of the calibrator."""

        def __init__(self, name: str) -> None:
            self.batches = [{name: images[i:i + CALIBRATION_BATCH]}
                            for i in range(0, len(images), CALIBRATION_BATCH)]
            self.set_range(0, len(self.batches))

        def __len__(self) -> int:
            return len(self.batches)

        def set_range(self, start_index: int, end_index: int) -> None:
            self.pending = iter(self.batches[start_index:end_index])

        def get_next(self):
            return next(self.pending, None)

    name = session(float_path).get_inputs()[0].name
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ONNX Runtime's advice on pre-processing, done here
        prepared = os.path.join(folder, "prepared.onnx")
        quant_pre_process(os.fspath(float_path), prepared)
        quantize_static(
            prepared, os.fspath(out_path), Calibration(name), quant_format=QuantFormat.QDQ,
            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax, op_types_to_quantize=QUANTISED,
            # One batch per pass, the ranges merged after each: the calibrator
            # keeps every activation of a pass, which for a ResNet at 224 x 224
            # is megabytes per image.
            extra_options={"CalibStridedMinMax": 1})


def agreement(float_path, int8_path, images: np.ndarray, task: str,
              labels: np.ndarray | None = None) -> dict:
    """How far the int8 file's predictions agree with the float file's on ``images``.

    Parameters
    ----------
    float_path, int8_path : path-like
        The two files.
    images : ndarray (N, C, H, W), float32
        As the graphs take them.
    task : {"multiclass", "multilabel", "regression"}
        What the outputs are.
    labels : ndarray of shape (N,), default=None
        The classes' indices of ``images`` (multiclass), for the accuracies.

    Returns
    -------
    agreement : dict
        ``agreement``: the share of images with the same prediction (the same
        class; the same set of labels; for a regressor the R² of the int8
        predictions against the float ones); with ``labels``, the two
        accuracies ``float_accuracy`` and ``int8_accuracy``.
    """
    exact, quantised = _outputs(float_path, images), _outputs(int8_path, images)
    result = {"images": len(images)}
    if task == "regression":
        residual = ((quantised - exact) ** 2).sum()
        total = ((exact - exact.mean(axis=0)) ** 2).sum()
        result["agreement"] = float(1 - residual / total) if total > 0 else float(residual == 0)
        return result
    if task == "multilabel":
        same = ((exact > 0.5) == (quantised > 0.5)).all(axis=1)
    else:
        same = exact.argmax(axis=1) == quantised.argmax(axis=1)
    result["agreement"] = float(same.mean())
    if labels is not None and task == "multiclass":
        result["float_accuracy"] = float((exact.argmax(axis=1) == labels).mean())
        result["int8_accuracy"] = float((quantised.argmax(axis=1) == labels).mean())
    return result


def check(result: dict) -> None:
    """Warn (:class:`QuantizationWarning`) where ``result`` (:func:`agreement`) falls short."""
    drop = result.get("float_accuracy", 0) - result.get("int8_accuracy", 0)
    if result["agreement"] >= MIN_AGREEMENT and drop <= MAX_ACCURACY_DROP + 1e-9:
        return  # (1e-9: 0.930 - 0.925 is a hair above 0.005 in floats)
    said = f"agrees with the float model on {result['agreement']:.1%} of the " \
           f"{result['images']} calibration images"
    if "int8_accuracy" in result:
        said += (f"; accuracy {result['float_accuracy']:.1%} (float) against "
                 f"{result['int8_accuracy']:.1%} (int8)")
    warn_user(
        f"The int8 ONNX file {said}, where at least {MIN_AGREEMENT:.0%} agreement and at "
        f"most {MAX_ACCURACY_DROP * 100:.1f} points of accuracy lost are expected. Calibrate "
        "on more images, or on images more like those it will see, or keep the float32 "
        "file (quantize=None).", QuantizationWarning)
