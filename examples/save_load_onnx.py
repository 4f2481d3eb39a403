"""
Save without pickle, load in a fresh process, export to ONNX
============================================================

Train, save without pickle, load in a fresh process, export to ONNX, run
the ONNX file with ONNX Runtime, and predict from it (float32 and int8)
with ``OnnxPredictor``, which needs no PyTorch.

Run: python examples/save_load_onnx.py   (ONNX needs: pip install "sklearn-cnn[export]")
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_cnn import CNNClassifier
from sklearn_cnn.export import OnnxPredictor
from sklearn_cnn.preprocessing import ToImage

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
clf = CNNClassifier(max_epochs=10, random_state=0).fit(X_train, y_train)
print(f"trained on {clf.device_}: held-out accuracy {clf.score(X_test, y_test):.4f}")

folder = Path(tempfile.mkdtemp())
clf.save(folder / "digits.safetensors")  # weights in safetensors, the rest in JSON
np.save(folder / "X_test.npy", X_test)

# A fresh Python process: nothing of this one is shared but the two files.
fresh = subprocess.run(
    [sys.executable, "-c",
     "import sys, numpy as np, sklearn_cnn\n"
     "clf = sklearn_cnn.load(sys.argv[1])\n"
     "np.save(sys.argv[3], clf.predict_proba(np.load(sys.argv[2])))\n"
     "print(type(clf).__name__, clf.input_shape_)",
     str(folder / "digits.safetensors"), str(folder / "X_test.npy"), str(folder / "p.npy")],
    capture_output=True, text=True, check=True,
)
loaded_proba = np.load(folder / "p.npy")
print(f"loaded in a fresh process: {fresh.stdout.strip()}, predict_proba identical: "
      f"{np.array_equal(loaded_proba, clf.predict_proba(X_test))}")

clf.to_onnx(folder / "digits.onnx")
session = onnxruntime.InferenceSession(str(folder / "digits.onnx"),
                                       providers=["CPUExecutionProvider"])
# The ONNX input is what the classifier feeds its network: float32 (N, C, H, W).
images = ToImage().fit_transform(X_test)
onnx_proba = session.run(["probabilities"], {"images": images})[0]
difference = np.abs(onnx_proba - clf.predict_proba(X_test)).max()
print(f"onnxruntime: input {session.get_inputs()[0].shape}, "
      f"max |difference| to predict_proba: {difference:.2e}")

# %%
# The file carries the classes and how to read images: OnnxPredictor needs only
# ONNX Runtime, numpy and Pillow. int8 weights and activations, calibrated on
# training images, make the file a third of the size.
clf.to_onnx(folder / "digits-int8.onnx", quantize="int8", calibration=X_train[:300])
for name in ("digits.onnx", "digits-int8.onnx"):
    predictor = OnnxPredictor(folder / name)
    agreement = (predictor.predict(X_test) == clf.predict(X_test)).mean()
    print(f"{name}: {(folder / name).stat().st_size / 1024:.0f} KiB, classes "
          f"{predictor.classes_.tolist()}, the estimator's labels on {agreement:.1%} of "
          "the held-out digits")
