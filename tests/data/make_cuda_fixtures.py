"""Write the CUDA-trained fixtures of tests/_persistence/test_format.py (on a GPU machine).

A small CNNClassifier, otherwise default (Adam, one-cycle schedule, augmentation),
trained on CUDA on the first 1,000 of scikit-learn's digits, then pickled and saved
with ``sklearn_cnn.save``; with its ``predict_proba`` on digits 1,000-1,199 computed
on the GPU and a note of where it was made.

Run: python tests/data/make_cuda_fixtures.py OUTPUT_FOLDER
"""

import json
import pickle
import platform
import sys
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch
from sklearn.datasets import load_digits

import sklearn_cnn
from sklearn_cnn import CNNClassifier


def main(folder: Path) -> None:
    X, y = load_digits(return_X_y=True)
    clf = CNNClassifier(conv_channels=(8, 16), dense_units=(32,), max_epochs=5,
                        random_state=0, device="cuda").fit(X[:1000], y[:1000])
    assert clf.device_ == "cuda"
    with open(folder / "cuda_model.pkl", "wb") as f:
        pickle.dump(clf, f)
    clf.save(folder / "cuda_model.safetensors")
    np.save(folder / "cuda_proba.npy", clf.predict_proba(X[1000:1200]))
    (folder / "cuda_model.json").write_text(json.dumps({
        "gpu": torch.cuda.get_device_name(), "python": platform.python_version(),
        "torch": torch.__version__, "skorch": skorch.__version__,
        "scikit-learn": sklearn.__version__, "sklearn-cnn": sklearn_cnn.__version__,
    }, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
