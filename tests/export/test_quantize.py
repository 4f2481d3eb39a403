"""int8 files (sklearn_cnn/export/_quantize.py): smaller, checked against the float model."""

import os
import warnings

import numpy as np
import onnx
import pytest
from sklearn.datasets import load_digits

from sklearn_cnn.export import OnnxPredictor, QuantizationWarning, to_onnx


def test_int8_weights_a_third_of_the_size_and_agreement_on_held_out_images(exported):
    _, float_path, int8_path = exported
    assert os.path.getsize(int8_path) < 0.5 * os.path.getsize(float_path)
    model = onnx.load(int8_path)
    ops = {node.op_type for node in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    initializers = {t.name: t for t in model.graph.initializer}
    int8 = [t for t in initializers.values() if t.data_type == onnx.TensorProto.INT8]
    assert int8 and all(len(t.dims) > 1 or t.dims[0] > 1 for t in int8)  # per-channel weights
    X, y = load_digits(return_X_y=True)
    held_out = (X[1300:].reshape(-1, 8, 8) * 15).astype(np.uint8)
    exact, quantised = OnnxPredictor(float_path), OnnxPredictor(int8_path)
    assert (exact.predict(held_out) == quantised.predict(held_out)).mean() >= 0.99
    accuracy = [(p.predict(held_out) == y[1300:]).mean() for p in (exact, quantised)]
    assert accuracy[1] >= accuracy[0] - 0.01
    # The softmax stays float: its input is dequantised.
    softmax = next(n for n in model.graph.node if n.op_type == "Softmax")
    producer = next(n for n in model.graph.node if softmax.input[0] in n.output)
    assert producer.op_type == "DequantizeLinear"


def test_the_check_warns_when_the_calibration_misleads(exported, tmp_path):
    clf = exported[0]
    # 63 faint digits and one white square: the square sets every range, the
    # digits' activations fall into a few of the 256 levels.
    digits = (load_digits().data[:63].reshape(-1, 8, 8) * 15).astype(np.uint8) // 16
    calibration = np.concatenate([digits, np.full((1, 8, 8), 255, np.uint8)])
    with pytest.warns(QuantizationWarning, match=r"agrees with the float model on .*% of the "
                                                  r"64 calibration images"):
        to_onnx(clf, tmp_path / "bad.onnx", quantize="int8", calibration=calibration)
    assert OnnxPredictor(tmp_path / "bad.onnx").deployment_.quantization["agreement"] < 0.99


def test_a_labelled_folder_checks_the_accuracy_too(exported):
    meta = OnnxPredictor(exported[2]).deployment_.quantization
    assert meta["images"] == meta["calibration_images"] == 300
    assert {"float_accuracy", "int8_accuracy", "agreement"} <= set(meta)


def test_a_good_calibration_writes_without_a_warning(exported, tmp_path):
    clf = exported[0]
    X = (load_digits().data[300:800].reshape(-1, 8, 8) * 15).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", QuantizationWarning)
        to_onnx(clf, tmp_path / "good.onnx", quantize="int8", calibration=X)


@pytest.mark.parametrize(("kwargs", "said"), [
    ({"quantize": "int4", "calibration": np.zeros((2, 8, 8))}, "quantize='int4' is not one of"),
    ({"quantize": "int8"}, "needs calibration images"),
])
def test_bad_quantize_arguments_say_what_is_expected(exported, tmp_path, kwargs, said):
    with pytest.raises(ValueError, match=said):
        exported[0].to_onnx(tmp_path / "m.onnx", **kwargs)
