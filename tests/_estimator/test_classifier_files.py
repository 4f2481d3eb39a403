"""CNNClassifier on image files: paths in, decoded lazily, batch by batch."""

import numpy as np
import pytest
from _helpers import image_files

from sklearn_cnn import CNNClassifier, ImageSizeWarning
from sklearn_cnn.preprocessing import ImageFileLoader


@pytest.fixture
def digit_files(tmp_path, digit_images):
    images, y = digit_images
    return image_files(tmp_path, images[:200], sizes=(12, 8, 8)), y[:200]


def test_fit_and_predict_on_paths(digit_files, fast_params):
    paths, y = digit_files
    with pytest.warns(ImageSizeWarning, match=r"resized to 8x8 .*most common.*image_shape="):
        clf = CNNClassifier(**{**fast_params, "max_epochs": 8}).fit(paths[:150], y[:150])
    assert clf.input_shape_ == (1, 8, 8)  # the most common size; the others resized
    assert clf.score(paths[150:], y[150:]) > 0.7
    # The same images as an array give the same probabilities.
    pixels = ImageFileLoader(size=(8, 8)).fit_transform(paths[150:])
    np.testing.assert_allclose(clf.predict_proba(paths[150:]), clf.predict_proba(pixels),
                               atol=1e-6)


def test_image_shape_sets_the_size_and_channels(digit_files, fast_params):
    paths, y = digit_files
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1, "image_shape": (3, 16, 16)})
    clf.fit(paths[:64], y[:64])
    assert clf.input_shape_ == (3, 16, 16)
    assert clf.predict(paths[:5]).shape == (5,)


def test_files_are_decoded_lazily_one_batch_at_a_time(digit_files, decode_calls, fast_params):
    paths, y = digit_files
    calls = decode_calls
    CNNClassifier(**{**fast_params, "max_epochs": 2, "image_shape": (8, 8),
                     "batch_size": 16}).fit(paths[:64], y[:64])
    assert calls == [16] * 8  # every file once an epoch, a batch at a time, never all at once


def test_missing_files_are_named_before_training(digit_files, tmp_path, fast_params):
    paths, y = digit_files
    broken = paths[:20].tolist()
    broken[3] = str(tmp_path / "gone.png")
    with pytest.raises(ValueError, match=r"gone\.png"):
        CNNClassifier(**fast_params).fit(broken, y[:20])


def test_a_pandas_series_or_one_column_frame_of_paths_is_paths(digit_files, fast_params):
    pd = pytest.importorskip("pandas")  # in the test extras: the "CSV of path,label" case
    paths, y = digit_files
    table = pd.DataFrame({"path": paths, "label": y})
    params = {**fast_params, "max_epochs": 1, "image_shape": (8, 8)}
    reference = CNNClassifier(**params).fit(paths[:150], y[:150])
    expected = reference.predict_proba(paths[150:])
    by_series = CNNClassifier(**params).fit(table["path"][:150], table["label"][:150])
    np.testing.assert_allclose(by_series.predict_proba(table["path"][150:]), expected,
                               atol=1e-6)
    by_frame = CNNClassifier(**params).fit(table[["path"]][:150], table["label"][:150])
    assert list(by_frame.feature_names_in_) == ["path"]
    np.testing.assert_allclose(by_frame.predict_proba(table[["path"]][150:]), expected,
                               atol=1e-6)
    loader = ImageFileLoader(size=(8, 8)).fit(table[["path"]])
    assert loader.transform(table[["path"]]).shape == (200, 1, 8, 8)
