"""Deployment: ONNX files that carry what they need, and predictions from them without torch.

- ``to_onnx(estimator, path, quantize=None, calibration=None)`` writes the
  fitted network, its softmax (or sigmoid, or the regressor's scaling) and
  metadata (classes, input shape and channels, pixel scaling, resizing,
  version) to one file; ``quantize="int8"`` with calibration images writes
  it with int8 weights and activations (ONNX Runtime's static
  quantisation), checked against the float model.
- ``OnnxPredictor(path)`` predicts from such a file on arrays, image paths
  and PIL images, reading them as the estimator does, with ONNX Runtime,
  numpy and Pillow alone.

``to_onnx`` needs the ``export`` extra (onnx, onnxscript, onnxruntime) and
torch; ``OnnxPredictor`` only onnxruntime, numpy and Pillow: importing this
package imports neither torch nor ONNX Runtime (each name is imported on
first use).
"""

import importlib

__all__ = ["OnnxPredictor", "QuantizationWarning", "to_onnx"]

_HOMES = {"OnnxPredictor": "._predictor", "QuantizationWarning": "._quantize",
          "to_onnx": "._writer"}


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
