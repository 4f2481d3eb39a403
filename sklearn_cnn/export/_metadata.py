"""What an ONNX file of sklearn-cnn carries besides its graph: what deployment needs.

ONNX files hold string key-value pairs (``metadata_props``), which ONNX
Runtime reads back (``InferenceSession.get_modelmeta().custom_metadata_map``)
and Netron shows. A file written by ``to_onnx`` has these keys, each value
JSON:

- ``sklearn_cnn.estimator``: "CNNClassifier" or "CNNRegressor";
- ``sklearn_cnn.task``: "multiclass", "multilabel" or "regression";
- ``sklearn_cnn.outputs``: the class labels, in the order of the
  probabilities (the outputs' indices for multilabel targets; for a
  regressor, one name per output);
- ``sklearn_cnn.input_shape``: ``[C, H, W]`` of the graph's input;
- ``sklearn_cnn.mode``: the Pillow mode image files are read in ("L",
  "LA", "RGB", "RGBA"), which gives the channels;
- ``sklearn_cnn.pixels``: how pixels become the input: uint8 times 1/255,
  floats as they are, and the range the model was fitted on;
- ``sklearn_cnn.resize``: how files and PIL images of another size are
  brought to ``H x W``: orientation from EXIF, Pillow's bilinear resize
  (antialiased), the estimator's own way;
- ``sklearn_cnn.quantization``: null for float32 weights, else how the
  file was quantised and how far it agreed with the float model;
- ``sklearn_cnn.version``: the version that wrote the file.

A leaf of the export package: json alone, no torch (the predictor reads it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["PREFIX", "Deployment", "read_metadata", "write_metadata"]

#: The namespace of the keys.
PREFIX = "sklearn_cnn."

#: Channels of each Pillow mode images are read in.
CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}

PIXELS = {"uint8": "multiplied by 1/255", "float": "taken as they are"}

RESIZE = {"orientation": "EXIF orientation applied, as a viewer shows the image",
          "resample": "Pillow's Image.resize, bilinear (antialiased)",
          "when": "files and PIL images of another size than input_shape's H x W; "
                  "arrays must have the size already"}


@dataclass(frozen=True)
class Deployment:
    """What a file says of the model it holds (:func:`read_metadata`).

    Attributes
    ----------
    estimator : str
    task : {"multiclass", "multilabel", "regression"}
    outputs : list
        Class labels (classifiers) or output names (regressors).
    input_shape : tuple of int
        ``(C, H, W)``.
    mode : str
        Pillow mode of files, one of :data:`CHANNELS`.
    pixel_range : list of float or None
        The 1st and 99th percentile of the training pixels, as fitted.
    quantization : dict or None
    version : str
    """

    estimator: str
    task: str
    outputs: list
    input_shape: tuple
    mode: str
    pixel_range: list | None
    quantization: dict | None
    version: str


def write_metadata(model, deployment: Deployment) -> None:
    """Set ``deployment``'s keys in the ``metadata_props`` of ONNX ``model`` (in place)."""
    values = {
        "estimator": deployment.estimator, "task": deployment.task,
        "outputs": deployment.outputs, "input_shape": list(deployment.input_shape),
        "mode": deployment.mode,
        "pixels": {**PIXELS, "fitted_range": deployment.pixel_range},
        "resize": RESIZE, "quantization": deployment.quantization,
        "version": deployment.version,
    }
    kept = [p for p in model.metadata_props if not p.key.startswith(PREFIX)]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in values.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = PREFIX + key, json.dumps(value)


def read_metadata(props: dict) -> Deployment:
    """The :class:`Deployment` of a file's metadata (``custom_metadata_map``).

    Raises
    ------
    ValueError
        If the file was not written by sklearn-cnn's ``to_onnx`` (or by a
        version before its metadata), naming what is missing.
    """
    try:
        value = {key: json.loads(props[PREFIX + key]) for key in (
            "estimator", "task", "outputs", "input_shape", "mode", "pixels", "quantization",
            "version")}
    except KeyError as exc:
        raise ValueError(
            f"The ONNX file has no {exc.args[0]!r} metadata: it was not written by "
            "sklearn-cnn's to_onnx (0.1 or later). Export the model again with "
            "clf.to_onnx(path) or `sklearn-cnn export MODEL OUT.onnx`.") from None
    return Deployment(value["estimator"], value["task"], value["outputs"],
                      tuple(value["input_shape"]), value["mode"],
                      value["pixels"].get("fitted_range"), value["quantization"],
                      value["version"])
