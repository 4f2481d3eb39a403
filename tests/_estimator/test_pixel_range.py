"""The pixel scale of prediction input against the training pixels.

(sklearn_cnn._estimator.pixel_range)
"""

import pickle
import warnings

import numpy as np
import pytest

from sklearn_cnn import CNNClassifier, PixelRangeWarning, load


@pytest.fixture(scope="module")
def uint8_digits(digits):
    X, y = digits
    return (X / 16 * 255).astype(np.uint8), y


@pytest.fixture(scope="module")
def fitted_uint8(uint8_digits, fast_params):
    X, y = uint8_digits
    return CNNClassifier(**{**fast_params, "max_epochs": 1}).fit(X[:200], y[:200])


def no_warning(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PixelRangeWarning)
        return call()


def test_fit_records_the_scaled_range(fitted_uint8, uint8_digits):
    assert fitted_uint8.pixel_range_ == (0.0, 1.0)
    X = uint8_digits[0][:200].astype(np.float32)
    clf = CNNClassifier(max_epochs=1, augment=None).fit(X, uint8_digits[1][:200])
    assert clf.pixel_range_ == (0.0, 255.0)


def test_float_pixels_in_0_255_on_a_uint8_model_warn(fitted_uint8, uint8_digits):
    X = uint8_digits[0][200:260]
    no_warning(lambda: fitted_uint8.predict(X))
    no_warning(lambda: fitted_uint8.predict(X / np.float32(255)))  # the same scale
    with pytest.warns(PixelRangeWarning, match=r"\[0, 255\], far outside \[0, 1\].*uint8"):
        fitted_uint8.predict(X.astype(np.float32))
    with pytest.warns(PixelRangeWarning):
        fitted_uint8.predict_proba(X.astype(np.float32))


def test_uint8_pixels_on_a_model_fitted_on_0_255_floats_warn(uint8_digits, fast_params):
    X, y = uint8_digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1}).fit(X[:200].astype(np.float32),
                                                                 y[:200])
    no_warning(lambda: clf.predict(X[200:260].astype(np.float32)))
    with pytest.warns(PixelRangeWarning, match=r"in a sliver of \[0, 255\]"):
        clf.score(X[200:260], y[200:260])


def test_blank_and_dark_images_do_not_warn(fitted_uint8):
    no_warning(lambda: fitted_uint8.predict(np.zeros((1, 8, 8), dtype=np.uint8)))
    dark = np.zeros((2, 8, 8), dtype=np.uint8)
    dark[0, 0, 0] = 40  # a sixth of the range
    no_warning(lambda: fitted_uint8.predict(dark))


def test_partial_fit_widens_the_range(uint8_digits, fast_params):
    X, y = uint8_digits
    clf = CNNClassifier(**fast_params).partial_fit(X[:100] // 2, y[:100], classes=np.arange(10))
    assert clf.pixel_range_ == (0.0, 127 / 255)
    clf.partial_fit(X[100:200], y[100:200])
    assert clf.pixel_range_ == (0.0, 1.0)


def test_saved_and_pickled_models_keep_it_and_older_ones_check_nothing(fitted_uint8,
                                                                        uint8_digits, tmp_path):
    fitted_uint8.save(tmp_path / "m.safetensors")
    assert tuple(load(tmp_path / "m.safetensors").pixel_range_) == (0.0, 1.0)
    state = pickle.loads(pickle.dumps(fitted_uint8))
    del state.__dict__["pixel_range_"]  # as an earlier version pickled it
    old = pickle.loads(pickle.dumps(state))
    assert old.pixel_range_ is None
    no_warning(lambda: old.predict(uint8_digits[0][:10].astype(np.float32)))


def test_a_few_outlying_pixels_do_not_warn(digits, fast_params):
    # StandardScaler before the network: a pixel that is almost always 0 in
    # the training fold becomes a large value on new images. Most pixels
    # stay where they were: no warning (it came at max 156 against 14).
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = digits
    pipe = make_pipeline(StandardScaler(), CNNClassifier(**{**fast_params, "max_epochs": 1}))
    pipe.fit(X[:150], y[:150])
    outliers = StandardScaler().fit(X[:150]).transform(X[150:])
    assert outliers.max() > 10 * np.percentile(outliers, 99)  # the outliers are there
    no_warning(lambda: pipe.predict(X[150:]))
