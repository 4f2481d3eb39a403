"""Files and pickles name objects by stable, public names (sklearn_cnn._names)."""

import contextlib
import importlib
import io
import json
import pickle
import re

import numpy as np
import pytest
from safetensors import safe_open
from sklearn.pipeline import make_pipeline

import sklearn_cnn
import sklearn_cnn.preprocessing
from sklearn_cnn import CNNClassifier, save
from sklearn_cnn._names import INTERNAL, PUBLIC
from sklearn_cnn._persistence.format import FORMAT
from sklearn_cnn.preprocessing import Rescale, Resize

SMALL = {"conv_channels": (4, 8), "dense_units": (16,), "max_epochs": 1, "random_state": 0,
         "device": "cpu"}

#: Fitted models holding every kind of internal object: EMA, hold-out,
#: dropout, early stopping, the losses, a backbone, verbose logging.
MODELS = {
    "ema": lambda: CNNClassifier(**SMALL, ema=0.9, validation_fraction=0.2, dropout=0.2),
    "mse": lambda: CNNClassifier(**SMALL, loss="mse", lr_schedule="cosine", verbose=1),
    "backbone": lambda: CNNClassifier(**SMALL, backbone="resnet18", image_shape=(8, 8)),
    "multilabel": lambda: CNNClassifier(**SMALL, label_smoothing=0.1),
    "multilabel-mse": lambda: CNNClassifier(**SMALL, loss="mse"),
    "early-stopping": lambda: CNNClassifier(**SMALL, early_stopping=True,
                                            validation_fraction=0.2, class_weight="balanced"),
    "pipeline": lambda: make_pipeline(Rescale(scale=1 / 16), Resize((12, 12)),
                                      CNNClassifier(**SMALL)),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def fitted(request, digits):
    X, y = digits
    X, y = X[:200], y[:200]
    if request.param.startswith("multilabel"):
        y = np.stack([y % 2, y > 4], axis=1)
    if request.param == "pipeline":
        X = X.reshape(-1, 8, 8)
    with contextlib.redirect_stdout(io.StringIO()):
        return MODELS[request.param]().fit(X, y)


def test_a_pickle_names_public_paths_only(fitted):
    # skorch pickles the net's modules and callbacks through torch.save,
    # inside the pickle: the bytes hold every module path, nested ones too.
    named = set(re.findall(rb"sklearn_cnn[._A-Za-z]*", pickle.dumps(fitted)))
    assert named <= {b"sklearn_cnn", b"sklearn_cnn.preprocessing"}, named


def test_a_model_file_names_public_paths_only(fitted, tmp_path):
    save(fitted, tmp_path / "m.safetensors")
    with safe_open(str(tmp_path / "m.safetensors"), framework="pt") as f:
        header = f.metadata()[FORMAT]
    paths = re.findall(r'"(sklearn_cnn[^":]*):', header)
    assert paths and set(paths) <= {"sklearn_cnn", "sklearn_cnn.preprocessing"}, paths
    assert json.loads(header)


@pytest.mark.parametrize("name", sorted({**PUBLIC, **INTERNAL}))
def test_each_stable_name_is_where_the_table_says(name):
    home = {**PUBLIC, **INTERNAL}[name]
    obj = getattr(importlib.import_module(home), name)
    stable = importlib.import_module(obj.__module__)
    assert getattr(stable, name) is obj  # what pickle does to load it
    assert obj.__module__ in ("sklearn_cnn", "sklearn_cnn.preprocessing")


def test_internal_names_are_served_but_not_exported():
    assert sklearn_cnn.CNNNet.__name__ == "CNNNet"
    assert "CNNNet" not in sklearn_cnn.__all__ and "CNNNet" not in dir(sklearn_cnn)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        sklearn_cnn.nope  # noqa: B018


def test_public_classes_are_named_by_their_public_module():
    for module in (sklearn_cnn, sklearn_cnn.preprocessing):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and not issubclass(obj, Warning):
                assert obj.__module__ == module.__name__, name


def test_docstring_examples_of_renamed_objects_still_run():
    # stable_name keeps them in their defining module's __test__ (doctests).
    from sklearn_cnn._training.callbacks import lr_scheduler

    assert lr_scheduler.__test__["EpochLR"] is lr_scheduler.EpochLR
