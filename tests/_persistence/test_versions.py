"""Files of another sklearn-cnn version: what load says, and when (_persistence.format).

A file written by a newer version that this one cannot read names both
versions and the upgrade; the same content in a file of this version is
damaged or tampered with; a newer file that loads warns.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import make_pipeline
from test_format import read_header, rewrite

import sklearn_cnn
from sklearn_cnn import CNNClassifier, load, save
from sklearn_cnn._persistence import format as model_format
from sklearn_cnn._persistence.format import NewerVersionWarning
from sklearn_cnn.preprocessing import ChannelStandardizer, Resize

NEWER = "99.0.0"


@pytest.fixture(scope="module")
def saved(digit_images, fast_params, tmp_path_factory):
    """A fitted pipeline's file, and its predictions."""
    X, y = digit_images
    pipe = make_pipeline(Resize((12, 12)), ChannelStandardizer(),
                         CNNClassifier(**{**fast_params, "max_epochs": 1}))
    pipe.fit(X[:200], y[:200])
    path = tmp_path_factory.mktemp("versions") / "model.safetensors"
    save(pipe, path)
    return path, pipe.predict_proba(X[200:])


def edited(saved, tmp_path, version, edit=None):
    """A copy of the saved file, written by ``version``, with ``edit(header, tensors)`` done."""
    header, tensors = read_header(saved[0])
    header["versions"]["sklearn_cnn"] = version
    if edit is not None:
        edit(header, tensors)
    path = tmp_path / "model.safetensors"
    rewrite(path, header, tensors)
    return path


def classifier(header):
    return header["steps"][2][1]


def unknown_parameter(header, tensors):
    classifier(header)["params"]["foo"] = 1


def unknown_class(header, tensors):
    header["steps"][1][1]["class"] = "sklearn_cnn.preprocessing:Solarize"


def unknown_module(header, tensors):
    header["steps"][1][1]["class"] = "sklearn_cnn.vision:Solarize"


def unknown_entry(header, tensors):
    classifier(header)["fitted"]["n_iter_"] = {"__fraction__": [3, 2]}


def unknown_value(header, tensors):
    classifier(header)["params"]["optimizer"] = "lion"


def extra_tensor(header, tensors):
    key = next(k for k in tensors if k.startswith("2.module.") and k.endswith(".bias"))
    tensors[key.replace(".bias", ".gain")] = torch.ones_like(tensors[key])


EDITS = {
    "parameter": (unknown_parameter, "the parameter 'foo' of CNNClassifier is unknown here"),
    "class": (unknown_class, "'sklearn_cnn.preprocessing:Solarize'"),
    "module": (unknown_module, "there is no module 'sklearn_cnn.vision'"),
    "entry": (unknown_entry, "Unknown entry in the file: ['__fraction__']"),
    "value": (unknown_value, "'optimizer' parameter of CNNClassifier"),
    "tensor": (extra_tensor, ".gain"),
}


@pytest.mark.parametrize("edit, cause", EDITS.values(), ids=EDITS)
def test_a_newer_file_this_version_cannot_read_names_both_versions_and_the_upgrade(
        saved, tmp_path, edit, cause):
    path = edited(saved, tmp_path, NEWER, edit)
    with pytest.raises(ValueError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{str(path)!r} was written by sklearn-cnn {NEWER}; this is "
                              f"{sklearn_cnn.__version__}, which cannot read it (")
    assert cause in message
    assert message.endswith("upgrade sklearn-cnn (pip install -U sklearn-cnn) to load it.")
    assert "damaged" not in message
    assert caught.value.__cause__ is not None  # what stopped the reading, chained


@pytest.mark.parametrize("edit, cause", EDITS.values(), ids=EDITS)
def test_the_same_content_in_a_file_of_this_version_is_damaged(saved, tmp_path, edit, cause):
    path = edited(saved, tmp_path, sklearn_cnn.__version__, edit)
    with pytest.raises(ValueError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{str(path)!r} is damaged or was tampered with (")
    assert cause in message
    assert message.endswith("Save the model again, or use an intact copy of the file.")
    assert "upgrade" not in message
    assert caught.value.__cause__ is not None


def test_the_step_that_could_not_be_read_is_named(saved, tmp_path):
    path = edited(saved, tmp_path, NEWER, unknown_class)
    with pytest.raises(ValueError, match=r"cannot read it \(step 'channelstandardizer': "):
        load(path)


def test_an_untrusted_module_in_a_newer_file_is_refused_as_untrusted(saved, tmp_path):
    # Upgrading would not make the module trusted: the message says what does.
    def untrusted(header, tensors):
        classifier(header)["params"]["module"] = {"__import__": "my_project.nets:Net"}
        unknown_parameter(header, tensors)

    path = edited(saved, tmp_path, NEWER, untrusted)
    with pytest.raises(ValueError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{str(path)!r}: The file names 'my_project.nets:Net'")
    assert "trusted=['my_project.nets']" in str(caught.value)
    assert "upgrade" not in str(caught.value)
    # Without it, the unknown parameter is the cause, and upgrading the remedy.
    path = edited(saved, tmp_path, NEWER, unknown_parameter)
    with pytest.raises(ValueError, match=rf"sklearn-cnn {NEWER}.*'foo'.*upgrade"):
        load(path)


def test_a_newer_file_that_loads_warns_and_predicts_as_saved(saved, digit_images, tmp_path):
    path = edited(saved, tmp_path, NEWER)
    with pytest.warns(NewerVersionWarning) as caught:
        pipe = load(path)
    warning = caught[0].message
    assert isinstance(warning, InconsistentVersionWarning)  # scikit-learn's filter applies
    assert str(warning).startswith(f"{str(path)!r} was written by sklearn-cnn {NEWER}; this "
                                   f"is {sklearn_cnn.__version__}. Its Pipeline loaded")
    assert "pip install -U sklearn-cnn" in str(warning)
    assert (warning.file_version, warning.current_version) == (NEWER, sklearn_cnn.__version__)
    assert warning.original_sklearn_version == read_header(path)[0]["versions"]["scikit-learn"]
    np.testing.assert_array_equal(pipe.predict_proba(digit_images[0][200:]), saved[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=InconsistentVersionWarning)
        load(path)


@pytest.mark.parametrize("current, written, newer", [
    ("0.1.0", "0.1.1", True),
    ("0.1.0", "0.2.0.dev3+g1a2b3c", True),  # a development build of a later release
    ("0.1.0.dev0+abc", "0.1.0", True),  # the release after this development build
    ("0.1.0", "0.1.0.dev0+abc", False),
    ("0.1.0", "0.1.0+local.7", False),  # a local build of this very release
    ("0.1.0+abc", "0.1.0+abd", False),
    ("0.2.0", "0.1.9", False),
    ("0.1.0", "not a version", False),
    ("0.1.0", None, False),
])
def test_newer_is_by_public_version(saved, tmp_path, monkeypatch, current, written, newer):
    path = edited(saved, tmp_path, written)
    monkeypatch.setattr(model_format, "_version", lambda: current)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load(path)
    assert any(isinstance(w.message, NewerVersionWarning) for w in caught) == newer
    with pytest.raises(ValueError) as refused:
        load(edited(saved, tmp_path, written, unknown_parameter))
    cause = "(step 'cnnclassifier': the parameter 'foo' of CNNClassifier is unknown here)"
    said = (f"was written by sklearn-cnn {written}; this is {current}, which cannot read it "
            if newer else "is damaged or was tampered with ")
    assert said + cause in str(refused.value)
