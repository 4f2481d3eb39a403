"""Reading the user's input as images: sklearn_cnn._data.images.read_images."""

import functools
import warnings

import numpy as np
import pytest
import torch
from _helpers import check_images
from PIL import Image

from sklearn_cnn import ImageSizeWarning
from sklearn_cnn._data.files import decode_tensor, iter_file_batches
from sklearn_cnn._data.images import read_images
from sklearn_cnn._data.workers import ImageFileDataset

RNG = np.random.default_rng(0)


@pytest.fixture
def rgb_files(tmp_path):
    pixels = RNG.integers(0, 256, (5, 9, 7, 3), dtype=np.uint8)
    paths = []
    for i, image in enumerate(pixels):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(image).save(paths[-1])
    return paths, pixels


def test_paths_are_read_lazily(rgb_files, decode_calls):
    paths, _ = rgb_files
    images = read_images(paths)
    assert images.is_files and images.layout is None and len(images) == 5
    assert images.data == [str(p) for p in paths]
    assert images.image_shape == (3, 9, 7) and images.mode == "RGB"
    assert decode_calls == []
    batches = images.batches(2)
    assert decode_calls == []
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert decode_calls == [2, 2, 1]


def test_files_and_their_pixels_read_the_same(rgb_files):
    paths, pixels = rgb_files
    from_array = check_images(pixels)[0]
    files = read_images(paths)
    np.testing.assert_array_equal(files.to_array(), from_array)
    np.testing.assert_array_equal(torch.cat(list(files.batches(3))).numpy(), from_array)
    np.testing.assert_array_equal(read_images(pixels).tensor().numpy(), from_array)
    dataset = ImageFileDataset(files.data, np.arange(5),
                               functools.partial(decode_tensor, mode="RGB", size=(9, 7)))
    np.testing.assert_array_equal(torch.stack([dataset[i][0] for i in range(5)]).numpy(),
                                  from_array)
    np.testing.assert_array_equal(
        next(iter_file_batches(files.data, "RGB", (9, 7), 5)).numpy(), from_array)


def test_arrays_are_validated_not_converted():
    X = RNG.integers(0, 256, (4, 6, 6, 3), dtype=np.uint8)
    images = read_images(X)
    assert not images.is_files and images.data.dtype == np.uint8
    assert images.layout.source == "channels_last" and images.image_shape == (3, 6, 6)
    np.testing.assert_array_equal(images.to_array(), check_images(X)[0])
    assert [len(b) for b in images.batches(3)] == [3, 1]
    with pytest.raises(ValueError, match="features, but the estimator is expecting 9"):
        read_images(np.zeros((2, 10)), expected=(1, 3, 3))


def test_fitted_shape_reads_files_without_opening_them(rgb_files, tmp_path):
    paths, _ = rgb_files
    missing = [*paths, tmp_path / "missing.png"]
    images = read_images(missing, expected=(1, 4, 4))
    assert images.image_shape == (1, 4, 4) and images.mode == "L"
    with pytest.raises(ValueError, match="Could not decode 1 image file"):
        images.to_array()
    # check_files opens them now, before any work.
    with pytest.raises(ValueError, match=r"Could not open 1 image file(?s:.*)no such file"):
        read_images(missing, expected=(1, 4, 4), check_files=True)
    assert read_images(paths, expected=(1, 4, 4)).to_array().shape == (5, 1, 4, 4)


def test_size_mode_and_the_warning_name_the_caller(rgb_files, tmp_path):
    paths, _ = rgb_files
    Image.fromarray(np.zeros((20, 20), dtype=np.uint8)).save(tmp_path / "big.png")
    mixed = [*paths, tmp_path / "big.png"]
    with pytest.warns(ImageSizeWarning, match=r"Pass size=\(height, width\)"):
        images = read_images(mixed, size_parameter="size")
    assert images.image_shape == (3, 9, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        images = read_images(mixed, image_shape=(5, 6), mode="RGBA")
    assert images.image_shape == (4, 5, 6) and images.to_array().shape == (6, 4, 5, 6)
    assert read_images(mixed, image_shape=(1, 5, 6)).mode == "L"
