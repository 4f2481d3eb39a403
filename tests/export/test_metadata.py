"""The metadata of an exported file (sklearn_cnn/export/_metadata.py), as ONNX readers see it."""

import json

import onnxruntime

import sklearn_cnn


def test_the_file_carries_classes_shape_scaling_resizing_and_version(exported):
    clf, float_path, _ = exported
    meta = onnxruntime.InferenceSession(
        str(float_path), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    value = {k.removeprefix("sklearn_cnn."): json.loads(v) for k, v in meta.items()
             if k.startswith("sklearn_cnn.")}
    assert value["outputs"] == clf.classes_.tolist()
    assert value["input_shape"] == [1, 8, 8] and value["mode"] == "L"
    assert value["pixels"]["uint8"] == "multiplied by 1/255"
    assert value["pixels"]["fitted_range"] == list(clf.pixel_range_)
    assert "bilinear" in value["resize"]["resample"]
    assert value["version"] == sklearn_cnn.__version__
    assert value["estimator"] == "CNNClassifier" and value["quantization"] is None
