"""``set_output`` on the image transformers and on pipelines of them.

Their output is an ``(N, C, H, W)`` image array: "default" (and None) is
accepted, "pandas" and "polars" raise a ValueError that says why.
"""

import numpy as np
import pytest
from _transformers import all_transformers
from sklearn import config_context
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_set_output_transform

from sklearn_cnn import CNNClassifier
from sklearn_cnn.preprocessing import ChannelStandardizer, Rescale, Resize

TRANSFORMERS = all_transformers()
ids = [type(t).__name__ for t in TRANSFORMERS]
IMAGES = np.random.default_rng(0).integers(0, 256, (5, 6, 7, 3), dtype=np.uint8)


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=ids)
def test_sklearn_check_set_output_default(transformer):
    # Not among parametrize_with_checks' checks: scikit-learn runs it on its
    # own transformers that have set_output.
    check_set_output_transform(type(transformer).__name__, transformer)


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=ids)
@pytest.mark.parametrize("transform", ["default", None])
def test_default_and_none_change_nothing(transformer, transform):
    expected = clone(transformer).fit_transform(IMAGES)
    configured = clone(transformer)
    assert configured.set_output(transform=transform) is configured
    out = configured.fit_transform(IMAGES)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, expected)
    # clone keeps the setting, as for scikit-learn's transformers
    np.testing.assert_array_equal(clone(configured).fit(IMAGES).transform(IMAGES), expected)


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=ids)
@pytest.mark.parametrize("transform", ["pandas", "polars"])
def test_dataframe_output_is_refused_with_the_reason(transformer, transform):
    name = type(transformer).__name__
    with pytest.raises(ValueError, match=(
        rf"{name} cannot output a {transform} DataFrame: its output is an "
        r"\(N, C, H, W\) image array.*set_output\(transform='default'\)"
    )):
        clone(transformer).set_output(transform=transform)


def test_unknown_container_is_refused():
    with pytest.raises(ValueError, match="transform must be one of 'default', 'pandas', "
                                         "'polars' or None; got 'numpy'"):
        Resize().set_output(transform="numpy")


def test_pipeline_set_output_default(digit_images, fast_params):
    X, y = (a[:120] for a in digit_images)
    pipe = make_pipeline(Resize((10, 10)), ChannelStandardizer(),
                         CNNClassifier(**{**fast_params, "max_epochs": 2}))
    assert pipe.set_output(transform="default") is pipe
    assert pipe.fit(X, y).predict(X).shape == (120,)
    assert pipe[:-1].transform(X).shape == (120, 1, 10, 10)


def test_pipeline_set_output_pandas_names_the_transformer():
    pipe = make_pipeline(Rescale(), Resize((10, 10)), CNNClassifier())
    with pytest.raises(ValueError, match=r"Rescale cannot output a pandas DataFrame"):
        pipe.set_output(transform="pandas")


def test_global_pandas_output_leaves_image_arrays():
    # As for scikit-learn's transformers without get_feature_names_out, the
    # global setting does not apply: an image array cannot be a DataFrame.
    with config_context(transform_output="pandas"):
        out = make_pipeline(Rescale(), Resize((10, 10))).fit_transform(IMAGES)
    assert type(out) is np.ndarray and out.shape == (5, 3, 10, 10)
