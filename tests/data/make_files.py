"""Write model files and pickles as this version of sklearn-cnn writes them.

Each run writes one folder that the suite keeps reading
(tests/_persistence/test_compat.py), named VERSION-COMMIT: the version, and
the commit that tells two folders of one version apart (``0.1.0-7abf640/``
holds 0.1.0, before stable names). A classifier (EMA,
a hold-out, a callback from skorch), a multilabel one and a pipeline with
transformers, each pickled and saved with ``sklearn_cnn.save``, and their
``predict_proba`` on digits 1,000-1,099.

Run: python tests/data/make_files.py tests/data/files/VERSION-COMMIT
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
from sklearn.pipeline import make_pipeline
from skorch.callbacks import EpochScoring

import sklearn_cnn
from sklearn_cnn import CNNClassifier, save
from sklearn_cnn.preprocessing import Rescale, Resize

SMALL = {"conv_channels": (4, 8), "dense_units": (16,), "max_epochs": 3, "random_state": 0,
         "device": "cpu"}


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    X, y = load_digits(return_X_y=True)
    X, y, test = X[:400], y[:400], X[1000:1100]
    models = {
        "classifier": CNNClassifier(**SMALL, ema=0.9, validation_fraction=0.2, callbacks=[
            ("f1", EpochScoring("f1_macro", name="valid_f1"))]).fit(X, y),
        "multilabel": CNNClassifier(**SMALL).fit(X, np.stack([y % 2, y > 4], axis=1)),
        "pipeline": make_pipeline(Rescale(scale=1 / 16), Resize((12, 12)),
                                  CNNClassifier(**SMALL)).fit(X.reshape(-1, 8, 8), y),
    }
    proba = {}
    for name, model in models.items():
        with open(folder / f"{name}.pkl", "wb") as file:
            pickle.dump(model, file)
        save(model, folder / f"{name}.safetensors")
        images = test.reshape(-1, 8, 8) if name == "pipeline" else test
        proba[name] = model.predict_proba(images)
    np.savez(folder / "proba.npz", **proba)
    (folder / "made.json").write_text(json.dumps({
        "python": platform.python_version(), "torch": torch.__version__,
        "skorch": skorch.__version__, "scikit-learn": sklearn.__version__,
        "sklearn-cnn": sklearn_cnn.__version__, "device": "cpu",
    }, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
