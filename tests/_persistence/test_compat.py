"""Files and pickles of every earlier version load (sklearn_cnn._persistence.compat).

``tests/data/files/<version>-<commit>/`` holds what each version wrote
(tests/data/make_files.py), ``tests/data/cuda_model.*`` what one wrote on a
GPU (tested in test_format.py).
"""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sklearn_cnn import load
from sklearn_cnn._model.convnet import ConvNet
from sklearn_cnn._persistence.compat import OLD_MODULES
from sklearn_cnn._training.callbacks.lr_scheduler import OneCycleLR
from sklearn_cnn._training.holdout import HoldoutSplit
from sklearn_cnn._training.net import CNNNet

FILES = sorted((Path(__file__).parents[1] / "data" / "files").iterdir())
MODELS = ("classifier", "multilabel", "pipeline")


def test_there_are_files_of_earlier_versions():
    assert FILES and all((folder / "made.json").is_file() for folder in FILES)
    assert json.loads((FILES[0] / "made.json").read_text())["sklearn-cnn"] == "0.1.0"


@pytest.mark.parametrize("folder", FILES, ids=lambda folder: folder.name)
@pytest.mark.parametrize("name", MODELS)
def test_files_and_pickles_of_earlier_versions_predict_as_they_did(folder, name):
    X, y = load_digits(return_X_y=True)
    X_test = X[1000:1100].reshape(-1, 8, 8) if name == "pipeline" else X[1000:1100]
    expected = np.load(folder / "proba.npz")[name]
    pickled = pickle.loads((folder / f"{name}.pkl").read_bytes())
    saved = load(folder / f"{name}.safetensors", device="cpu")
    for model in (pickled, saved):
        np.testing.assert_allclose(model.predict_proba(X_test), expected, atol=1e-5)
    # and train on
    X_fit = X[:200].reshape(-1, 8, 8) if name == "pipeline" else X[:200]
    y_fit = np.stack([y[:200] % 2, y[:200] > 4], axis=1) if name == "multilabel" else y[:200]
    pickled.set_params(**{f"{pickled.steps[-1][0]}__max_epochs" if name == "pipeline"
                          else "max_epochs": 1}).fit(X_fit, y_fit)


@pytest.mark.parametrize(("old", "name", "cls"), [
    ("sklearn_cnn._net", "CNNNet", CNNNet),
    ("sklearn_cnn._network", "ConvNet", ConvNet),
    ("sklearn_cnn._training", "OneCycleLR", OneCycleLR),
    ("sklearn_cnn._training", "HoldoutSplit", HoldoutSplit),
    ("sklearn_cnn._skorch_net", "CNNNet", CNNNet),
    ("sklearn_cnn._convnet", "ConvNet", ConvNet),
])
def test_a_pickle_naming_an_old_module_path_loads(old, name, cls):
    # Protocol 0's GLOBAL opcode: "c<module>\n<name>\n", as an old pickle holds it.
    assert pickle.loads(f"c{old}\n{name}\n.".encode()) is cls


def test_every_name_the_old_files_hold_is_served():
    # What the committed files name, read from their bytes: each old module
    # path among OLD_MODULES (or _training), each name there an object.
    import re

    named = set()
    for path in [*(f for folder in FILES for f in folder.glob("*.pkl")),
                 Path(__file__).parents[1] / "data" / "cuda_model.pkl"]:
        named |= set(re.findall(rb"(sklearn_cnn\._[a-z_]+)", path.read_bytes()))
    assert named, "the pickles hold their module paths as text"
    for module in sorted(m.decode() for m in named):
        assert module in (*OLD_MODULES, "sklearn_cnn._training"), module


def test_an_unknown_name_in_an_old_module_path_says_so():
    import importlib

    with pytest.raises(AttributeError, match=r"'sklearn_cnn\._net' has no attribute 'Nope'"):
        importlib.import_module("sklearn_cnn._net").Nope  # noqa: B018
    with pytest.raises(AttributeError, match="Nope"):
        pickle.loads(b"csklearn_cnn._net\nNope\n.")
