"""Column names of DataFrame input (``feature_names_in_``), set and checked as scikit-learn does.

Every estimator reads images through ``sklearn_cnn._data.images.read_images``,
which calls scikit-learn's ``validate_data``: a fresh fit sets (or removes)
``feature_names_in_``; predict, transform, explanations and resumed fits
check it.
"""

import warnings

import numpy as np
import pytest
from _transformers import all_transformers
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_dataframe_column_names_consistency

from sklearn_cnn import CNNClassifier
from sklearn_cnn.preprocessing import ChannelStandardizer, ImageFileLoader, Resize

pd = pytest.importorskip("pandas")

TRANSFORMERS = all_transformers()
ids = [type(t).__name__ for t in TRANSFORMERS]

REORDERED = "Feature names must be in the same order as they were in fit"
NO_NAMES = "X does not have valid feature names, but {} was fitted with feature names"
NAMES = "X has feature names, but {} was fitted without feature names"


def frame(X):
    """Flat images as a DataFrame with one named column per pixel."""
    return pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(X.shape[1])])


@pytest.fixture(scope="module")
def flat_digits(digits):
    X, y = digits
    return X[:120].astype(np.float32) / 16, y[:120]


@pytest.fixture(scope="module")
def fitted_on_frame(flat_digits, fast_params):
    """A classifier fitted on a DataFrame of the digits, and that DataFrame."""
    X, y = flat_digits
    df = frame(X)
    return CNNClassifier(**fast_params, image_shape=(8, 8)).fit(df, y), df


# ------------------------------------------------------------ scikit-learn's checks


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=ids)
def test_sklearn_check_on_transformers(transformer):
    check_dataframe_column_names_consistency(type(transformer).__name__, transformer)


def test_sklearn_check_on_classifier(fast_params):
    # Not among parametrize_with_checks' checks (scikit-learn runs it on its
    # own estimators separately); fit, predict*, score and partial_fit.
    clf = CNNClassifier(**{**fast_params, "max_epochs": 2})
    check_dataframe_column_names_consistency("CNNClassifier", clf)


# ------------------------------------------------------------------ transformers


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=ids)
def test_transformer_sets_and_checks_names(transformer, flat_digits):
    X = flat_digits[0]
    df = frame(X)
    transformer = clone(transformer).set_params(image_shape=(8, 8))
    name = type(transformer).__name__
    out = transformer.fit(df).transform(df)
    np.testing.assert_array_equal(transformer.feature_names_in_, df.columns.to_numpy())
    assert transformer.feature_names_in_.dtype == object
    # The DataFrame's values are the pixels, as an array of them would be.
    np.testing.assert_allclose(out, clone(transformer).fit(X).transform(X), atol=1e-6)

    with pytest.raises(ValueError, match=REORDERED):
        transformer.transform(df[df.columns[::-1]])
    with pytest.warns(UserWarning, match=NO_NAMES.format(name)):
        transformer.transform(X)

    transformer.fit(X)  # a refit without names forgets them
    assert not hasattr(transformer, "feature_names_in_")
    with pytest.warns(UserWarning, match=NAMES.format(name)):
        transformer.transform(df)


def test_fit_transform_of_a_frame_does_not_warn(flat_digits):
    df = frame(flat_digits[0])
    with warnings.catch_warnings(action="error"):
        ChannelStandardizer(image_shape=(8, 8)).fit_transform(df)


def test_file_loader_refit_on_paths_forgets_names(flat_digits, tmp_path):
    from PIL import Image

    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(paths[-1])
    loader = ImageFileLoader(image_shape=(8, 8)).fit(frame(flat_digits[0]))
    assert hasattr(loader, "feature_names_in_")
    with pytest.warns(UserWarning, match=NO_NAMES.format("ImageFileLoader")):
        loader.transform(paths)
    loader.fit(paths)
    assert not hasattr(loader, "feature_names_in_")


def test_names_that_are_not_all_strings_are_not_kept(flat_digits):
    # scikit-learn's rule: integer column names (a DataFrame made from an
    # array) are no feature names.
    resize = Resize(4, image_shape=(8, 8)).fit(pd.DataFrame(flat_digits[0]))
    assert not hasattr(resize, "feature_names_in_")


# -------------------------------------------------------------------- classifier


def test_classifier_fit_sets_names_and_predict_checks_them(fitted_on_frame, flat_digits):
    clf, df = fitted_on_frame
    X = flat_digits[0]
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns.to_numpy())
    assert len(clf.feature_names_in_) == clf.n_features_in_
    with warnings.catch_warnings(action="error"):
        from_frame = clf.predict_proba(df)
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba):
        with pytest.raises(ValueError, match=REORDERED):
            method(df[df.columns[::-1]])
    with pytest.warns(UserWarning, match=NO_NAMES.format("CNNClassifier")):
        from_array = clf.predict_proba(X)
    np.testing.assert_array_equal(from_frame, from_array)


def test_classifier_refit_without_names_forgets_them(flat_digits, fast_params):
    X, y = flat_digits
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1}, image_shape=(8, 8))
    clf.fit(frame(X), y).fit(X, y)
    assert not hasattr(clf, "feature_names_in_")
    with pytest.warns(UserWarning, match=NAMES.format("CNNClassifier")):
        clf.predict(frame(X))


def test_partial_fit_sets_names_first_then_checks_them(flat_digits, fast_params):
    X, y = flat_digits
    df = frame(X)
    clf = CNNClassifier(**fast_params, image_shape=(8, 8))
    clf.partial_fit(df, y, classes=np.unique(y))
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns.to_numpy())
    with warnings.catch_warnings(action="error"):
        clf.partial_fit(df, y)
    assert clf.n_iter_ == 2
    with pytest.raises(ValueError, match=REORDERED):
        clf.partial_fit(df[df.columns[::-1]], y)
    with pytest.warns(UserWarning, match=NO_NAMES.format("CNNClassifier")):
        clf.partial_fit(X, y)


def test_warm_start_refit_checks_names(flat_digits, fast_params):
    X, y = flat_digits
    df = frame(X)
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1}, image_shape=(8, 8),
                        warm_start=True).fit(df, y)
    with pytest.raises(ValueError, match=REORDERED):
        clf.fit(df[df.columns[::-1]], y)
    with warnings.catch_warnings(action="error"):
        clf.fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns.to_numpy())


def test_explanations_check_names(fitted_on_frame):
    pytest.importorskip("captum")
    from sklearn_cnn.explain import saliency

    clf, df = fitted_on_frame
    assert saliency(clf, df.iloc[:2]).shape == (2, 8, 8)
    with pytest.raises(ValueError, match=REORDERED):
        saliency(clf, df.iloc[:2, ::-1])
