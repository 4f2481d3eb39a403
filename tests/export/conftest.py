"""Fitted models and their ONNX files, shared by the tests of sklearn_cnn/export/."""

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from sklearn_cnn import CNNClassifier

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    """300 digits as PNG files in class subfolders, every third at 12x12 (resized when read),
    and the images' labels, in sorted path order."""
    X, y = load_digits(return_X_y=True)
    root = tmp_path_factory.mktemp("digits")
    paths = []
    for i in range(300):
        image = Image.fromarray((X[i].reshape(8, 8) * 15).astype(np.uint8))
        if i % 3 == 0:
            image = image.resize((12, 12), Image.Resampling.BICUBIC)
        path = root / str(y[i]) / f"{i:03d}.png"
        path.parent.mkdir(exist_ok=True)
        image.save(path)
        paths.append(str(path))
    order = np.argsort(paths)
    return root, np.array(paths)[order], y[:300][order]


@pytest.fixture(scope="module")
def exported(digit_folder, fast_params, tmp_path_factory):
    """The default network fitted on 1,000 digit arrays, its float32 file and its int8 file
    (calibrated on the folder)."""
    X, y = load_digits(return_X_y=True)
    images = (X.reshape(-1, 8, 8) * 15).astype(np.uint8)
    # On the CPU: the tests compare the ONNX file's labels with the estimator's, exactly.
    clf = CNNClassifier(**{**fast_params, "conv_channels": (32, 64), "dense_units": (128,),
                           "max_epochs": 6, "device": "cpu"}).fit(images[300:1300],
                                                                  y[300:1300])
    folder = tmp_path_factory.mktemp("onnx")
    clf.to_onnx(folder / "float.onnx")
    clf.to_onnx(folder / "int8.onnx", quantize="int8", calibration=digit_folder[0])
    return clf, folder / "float.onnx", folder / "int8.onnx"
