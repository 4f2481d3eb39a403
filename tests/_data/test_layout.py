"""Input layout detection and conversion (sklearn_cnn._data.layout)."""

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import check_images

from sklearn_cnn._data.layout import settle_layout

RNG = np.random.default_rng(0)
NCHW = RNG.random((5, 3, 6, 7)).astype(np.float32)


@pytest.mark.parametrize(
    ("X", "expected_source"),
    [
        (NCHW, "channels_first"),
        (NCHW.transpose(0, 2, 3, 1), "channels_last"),
    ],
)
def test_four_d_layouts_are_found_and_converted(X, expected_source):
    images, layout = check_images(X)
    assert layout.source == expected_source
    assert layout.image_shape == (3, 6, 7)
    np.testing.assert_array_equal(images, NCHW)


def test_three_d_is_one_channel():
    images, layout = check_images(NCHW[:, 0])
    assert layout.image_shape == (1, 6, 7)
    np.testing.assert_array_equal(images[:, 0], NCHW[:, 0])


def test_flat_perfect_square_becomes_square_image():
    X = RNG.random((4, 64))
    images, _ = check_images(X)
    assert images.shape == (4, 1, 8, 8)
    np.testing.assert_allclose(images.reshape(4, 64), X, rtol=1e-6)


def test_flat_non_square_becomes_one_row_image():
    images, _ = check_images(RNG.random((4, 10)))
    assert images.shape == (4, 1, 1, 10)


@pytest.mark.parametrize(("image_shape", "shape"), [((6, 7), (1, 6, 7)), ((3, 2, 7), (3, 2, 7))])
def test_flat_with_image_shape(image_shape, shape):
    X = RNG.random((4, 42))
    images, layout = check_images(X, image_shape=image_shape)
    assert layout.image_shape == shape
    np.testing.assert_allclose(images.reshape(4, 42), X, rtol=1e-6)


def test_flat_with_wrong_image_shape_names_it():
    with pytest.raises(ValueError, match="image_shape"):
        check_images(RNG.random((4, 42)), image_shape=(5, 5))


def test_flat_input_takes_the_fitted_shape():
    _, layout = check_images(RNG.random((2, 42)), expected=(1, 6, 7))
    assert layout.image_shape == (1, 6, 7)


@pytest.mark.parametrize("shape", [(2, 3, 8, 3), (2, 2, 5, 4), (2, 16, 8, 8)])
def test_ambiguous_four_d_names_data_format(shape):
    with pytest.raises(ValueError, match="data_format"):
        check_images(np.zeros(shape))


def test_data_format_settles_ambiguity():
    X = RNG.random((2, 3, 8, 3))
    first, _ = check_images(X, data_format="channels_first")
    last, _ = check_images(X, data_format="channels_last")
    assert first.shape == (2, 3, 8, 3)
    assert last.shape == (2, 3, 3, 8)


def test_fitted_shape_settles_ambiguity():
    _, layout = check_images(np.zeros((2, 3, 8, 3)), expected=(3, 3, 8))
    assert layout.source == "channels_last"


def test_uint8_is_scaled_to_unit_range():
    X = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    images, _ = check_images(X)
    assert images.dtype == np.float32
    np.testing.assert_allclose(images.ravel(), [0, 1, 0.2, 0.4], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32, bool])
def test_other_dtypes_keep_their_values(dtype):
    X = (RNG.random((3, 4, 4)) * 10).astype(dtype)
    images, _ = check_images(X)
    assert images.dtype == np.float32
    np.testing.assert_allclose(images[:, 0], X.astype(np.float32))


def test_lists_are_accepted():
    images, _ = check_images(NCHW.tolist())
    np.testing.assert_allclose(images, NCHW)


def test_read_only_input_gives_writable_output():
    X = NCHW.copy()
    X.setflags(write=False)
    images, _ = check_images(X)
    assert images.flags.writeable
    assert not np.shares_memory(images, X)


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.array([[np.nan, 1.0]]), ValueError, "NaN"),
        (np.array([[np.inf, 1.0]]), ValueError, "infinity"),
        (np.zeros((0, 4)), ValueError, "0 sample"),
        (np.zeros((3, 0)), ValueError, "0 feature"),
        (np.zeros(5), ValueError, "Reshape your data"),
        (np.zeros((2, 3, 4, 5, 6)), ValueError, "5 dimension"),
        (np.zeros((2, 0, 4)), ValueError, "no pixels"),
        (sp.csr_matrix(np.eye(3)), TypeError, "[Ss]parse"),
        (np.array([[1 + 1j, 2]]), ValueError, "[Cc]omplex"),
        (np.array([["a", "b"]], dtype=object), ValueError, "convert|could not"),
        (np.array([[{"a": 1}, 2]], dtype=object), TypeError, "number"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(X, error, match):
    with pytest.raises(error, match=match):
        check_images(X)


@pytest.mark.parametrize("image_shape", [(0, 4), (2,), (1, 2, 3, 4), ("a", 2), (2.5, 2)])
def test_bad_image_shape(image_shape):
    with pytest.raises(ValueError, match="image_shape"):
        settle_layout((3, 8), image_shape=image_shape)


def test_mismatch_at_predict_is_explained():
    with pytest.raises(ValueError, match="channel"):
        check_images(np.zeros((2, 3, 8, 8)), expected=(1, 8, 8))
    with pytest.raises(ValueError, match="fitted on"):
        check_images(np.zeros((2, 9, 9)), expected=(1, 8, 8))
    with pytest.raises(ValueError, match="X has 10 features, but the estimator is expecting 64"):
        check_images(np.zeros((2, 10)), expected=(1, 8, 8))


def test_fast_path_takes_only_plainly_valid_arrays():
    from sklearn_cnn._data.layout import _plainly_valid

    assert _plainly_valid(np.zeros((2, 8, 8), np.uint8))
    assert _plainly_valid(np.zeros((2, 64)))
    for X in (np.zeros(4), np.zeros((0, 4)), np.array([[np.nan]]), np.array([[1j]]),
              np.zeros((2, 2), dtype=object), [[1.0, 2.0]], np.zeros((1, 1, 1, 1, 1))):
        assert not _plainly_valid(X)
    memmap_like = np.zeros((2, 4)).view(np.recarray)
    assert not _plainly_valid(memmap_like)  # subclasses go through check_array


def test_fast_path_and_check_array_agree():
    X = RNG.random((3, 5, 5)) * 10
    fast, _ = check_images(X)
    slow, _ = check_images(X.tolist())  # a list: check_array's path
    np.testing.assert_array_equal(fast, slow)
