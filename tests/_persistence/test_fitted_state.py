"""Every array a saved estimator holds is checked at load (_persistence.state).

A file whose arrays do not fit the parameters they came from, or each
other, is refused by ``load``, naming the file, the step and the array and
what was expected, rather than loading and failing (or predicting) later.
"""

import re

import numpy as np
import pytest
import torch
from _transformers import all_transformers
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from test_format import read_header, rewrite

from sklearn_cnn import CNNClassifier, load, save
from sklearn_cnn.preprocessing import ChannelStandardizer, ImageFileLoader, Resize


@pytest.fixture(scope="module")
def saved(digit_images, fast_params, tmp_path_factory):
    """The file of a pipeline fitted on 1-channel 8x8 images."""
    X, y = digit_images
    pipe = make_pipeline(Resize((12, 12)), ChannelStandardizer(),
                         CNNClassifier(**{**fast_params, "max_epochs": 1}))
    path = tmp_path_factory.mktemp("fitted_state") / "pipe.safetensors"
    save(pipe.fit(X[:200], y[:200]), path)
    return path


def refused(saved, tmp_path, edit):
    """The message ``load`` refuses the saved file with, once ``edit(header, tensors)``."""
    header, tensors = read_header(saved)
    edit(header, tensors)
    path = tmp_path / "edited.safetensors"
    rewrite(path, header, tensors)
    with pytest.raises(ValueError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{str(path)!r} is damaged or was tampered with (")
    return message


def tensor(name, value, dtype=torch.float64):
    def edit(header, tensors):
        tensors[name] = torch.tensor(value, dtype=dtype)
    return edit


def fitted(step, name, value):
    def edit(header, tensors):
        header["steps"][step][1]["fitted"][name] = value
    return edit


def shape(*dims):
    return {"__tuple__": list(dims)}


PER_CHANNEL = "expected a floating-point array of shape (1,), one value per channel of " \
              "input_shape_=(1, 12, 12)"


@pytest.mark.parametrize("edit, expected", [
    (tensor("1.mean_", [0.1, 0.2, 0.3]), f"ChannelStandardizer.mean_ has shape (3,); "
                                         f"{PER_CHANNEL}"),
    (tensor("1.mean_", []), f"ChannelStandardizer.mean_ has shape (0,); {PER_CHANNEL}"),
    (tensor("1.mean_", [[0.1]]), f"ChannelStandardizer.mean_ has shape (1, 1); {PER_CHANNEL}"),
    (tensor("1.mean_", [1], torch.int64), "ChannelStandardizer.mean_ has dtype int64"),
    (tensor("1.mean_", [float("nan")]), "ChannelStandardizer.mean_ holds non-finite values "
                                        "([nan]); expected finite numbers"),
    (tensor("1.scale_", [float("inf")]), "ChannelStandardizer.scale_ holds non-finite"),
    (tensor("1.scale_", [0.0]), "ChannelStandardizer.scale_ holds values <= 0 ([0.0]); "
                                "expected values > 0"),
    (tensor("1.scale_", [-2.0]), "ChannelStandardizer.scale_ holds values <= 0 ([-2.0])"),
    (tensor("1.scale_", [0.5, 0.5, 0.5]), "ChannelStandardizer.scale_ has shape (3,)"),
], ids=["3-channels", "empty", "2-d", "int", "nan", "inf-scale", "zero-scale",
        "negative-scale", "3-channel-scale"])
def test_bad_channel_statistics_are_refused(saved, tmp_path, edit, expected):
    message = refused(saved, tmp_path, edit)
    assert f"(step 'channelstandardizer': {expected}" in message


def test_channel_statistics_for_another_channel_count_are_refused(saved, tmp_path):
    # input_shape_ edited to match mean_ still contradicts scale_.
    def three_channels(header, tensors):
        fitted(1, "input_shape_", shape(3, 12, 12))(header, tensors)
        fitted(1, "n_features_in_", 3 * 144)(header, tensors)
        tensor("1.mean_", [0.1, 0.2, 0.3])(header, tensors)

    message = refused(saved, tmp_path, three_channels)
    assert "ChannelStandardizer.scale_ has shape (1,); expected a floating-point array of " \
           "shape (3,), one value per channel of input_shape_=(3, 12, 12)" in message


def test_missing_channel_statistics_are_refused(saved, tmp_path):
    def drop_mean(header, tensors):
        del tensors["1.mean_"]
        header["steps"][1][1]["arrays"].remove("mean_")

    message = refused(saved, tmp_path, drop_mean)
    assert "ChannelStandardizer has no mean_; expected a floating-point array" in message


def extra_tensor(name):
    def edit(header, tensors):
        tensors[name] = torch.zeros(2)
    return edit


@pytest.mark.parametrize("edit, expected", [
    (fitted(0, "input_shape_", shape(1, 8)), "step 'resize': Resize.input_shape_ is (1, 8); "
                                             "expected (C, H, W)"),
    (fitted(0, "input_shape_", shape(0, 8, 8)), "Resize.input_shape_ is (0, 8, 8)"),
    (fitted(0, "n_features_in_", 65), "step 'resize': Resize.n_features_in_ is 65; expected "
                                      "64, the values of one image of input_shape_=(1, 8, 8)"),
    (fitted(0, "feature_names_in_", {"__array__": ["a", "b"], "dtype": "|O", "shape": [2]}),
     "Resize.feature_names_in_ has shape (2,); expected (64,)"),
    (lambda header, tensors: header["steps"][0][1]["params"].update(size="big"),
     "step 'resize': The 'size' parameter of Resize must be"),
    (extra_tensor("0.weight"), "step 'resize': Resize holds no tensors; got 'weight'"),
    (extra_tensor("7.weight"), "the tensors ['7.weight'] belong to no estimator in it"),
], ids=["input-shape-2d", "input-shape-zero", "n-features", "feature-names", "parameter",
        "tensor", "tensor-of-no-step"])
def test_transformer_state_that_does_not_fit_together_is_refused(saved, tmp_path, edit,
                                                                 expected):
    assert expected in refused(saved, tmp_path, edit)


CLASSIFIER = "step 'cnnclassifier': CNNClassifier"


@pytest.mark.parametrize("edit, expected", [
    (tensor("2.classes_", [0, 1, 2], torch.int64),
     f"{CLASSIFIER}'s net_.module_ does not fit the tensors saved for it: "),
    (tensor("2.classes_", list(range(9, -1, -1)), torch.int64),
     f"{CLASSIFIER}.classes_ is [9, 8, 7, 6, 5, 4, ... (10 in all)]; expected a 1-D array "
     "of at least 2 sorted, unique labels"),
    (tensor("2.classes_", [0, 0, 1, 2, 3, 4, 5, 6, 7, 8], torch.int64),
     f"{CLASSIFIER}.classes_ is [0, 0, 1, 2, 3, 4, ... (10 in all)]"),
    (fitted(2, "input_shape_", shape(1, 12)), f"{CLASSIFIER}.input_shape_ is (1, 12)"),
    (fitted(2, "n_features_in_", 64), f"{CLASSIFIER}.n_features_in_ is 64; expected 144"),
    (fitted(2, "pixel_range_", shape(float("nan"), 1.0)),
     f"{CLASSIFIER}.pixel_range_ is (nan, 1.0); expected None or (low, high)"),
    (fitted(2, "pixel_range_", shape(2.0, 1.0)), f"{CLASSIFIER}.pixel_range_ is (2.0, 1.0)"),
    (extra_tensor("2.optimizer.state"),
     f"{CLASSIFIER} holds tensors in net_.module_ and net_.criterion_ only; got "
     "'optimizer.state'"),
], ids=["3-classes", "unsorted-classes", "repeated-classes", "input-shape", "n-features",
        "nan-pixel-range", "reversed-pixel-range", "optimizer-tensor"])
def test_classifier_state_the_network_does_not_hold_is_checked(saved, tmp_path, edit,
                                                               expected):
    message = refused(saved, tmp_path, edit)
    assert expected in message
    if "does not fit" in expected:  # the last layer's tensors, and where that comes from
        assert re.search(r"'(classifier\.\d+)\.bias' has shape \(10,\), expected \(3,\); "
                         r"'\1\.weight' has shape \(10, (\d+)\), expected \(3, \2\)\.",
                         message)
        assert "The expected shapes come from the parameters, input_shape_=(1, 12, 12) and " \
               "the 3 classes_" in message


@pytest.fixture(scope="module")
def loader_file(digit_pngs, tmp_path_factory):
    path = tmp_path_factory.mktemp("loader") / "loader.safetensors"
    save(ImageFileLoader(size=(8, 8)).fit(digit_pngs[0]), path)
    return path


@pytest.mark.parametrize("name, value, expected", [
    ("mode_", "RGB", "ImageFileLoader.mode_ is 'RGB'; expected 'L', the mode of the images of "
                     "input_shape_=(1, 8, 8)"),
    ("input_shape_", shape(1, 9, 9), "ImageFileLoader.input_shape_ is (1, 9, 9); expected "
                                     "(1, 8, 8): files are read at size=(8, 8)"),
])
def test_file_loader_state_is_checked(loader_file, tmp_path, name, value, expected):
    header, tensors = read_header(loader_file)
    header["estimator"]["fitted"][name] = value
    rewrite(tmp_path / "edited.safetensors", header, tensors)
    with pytest.raises(ValueError, match="is damaged or was tampered with") as caught:
        load(tmp_path / "edited.safetensors")
    assert expected in str(caught.value)


@pytest.mark.parametrize("transformer", all_transformers(), ids=lambda t: type(t).__name__)
def test_every_transformer_loads_as_saved_and_is_checked(transformer, tmp_path):
    X = np.random.default_rng(0).integers(0, 255, (6, 8, 8, 3), dtype=np.uint8)
    transformer = clone(transformer).fit(X)
    path = tmp_path / "t.safetensors"
    save(transformer, path)
    np.testing.assert_array_equal(load(path).transform(X), transformer.transform(X))
    header, tensors = read_header(path)
    header["estimator"]["fitted"]["n_features_in_"] += 1
    rewrite(path, header, tensors)
    with pytest.raises(ValueError, match=rf"\({type(transformer).__name__}\.n_features_in_ "
                                         r"is 193; expected 192"):
        load(path)
