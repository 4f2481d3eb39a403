"""Image files: ImageFileLoader and sklearn_cnn._data.files."""

import warnings

import numpy as np
import pytest
from _helpers import write_image
from PIL import Image

from sklearn_cnn import ImageSizeWarning
from sklearn_cnn._data.files import is_path_array
from sklearn_cnn.preprocessing import ImageFileLoader

RNG = np.random.default_rng(0)


@pytest.fixture
def gray_files(tmp_path):
    images = RNG.integers(0, 256, (5, 12, 10), dtype=np.uint8)
    return [write_image(tmp_path / f"g{i}.png", im) for i, im in enumerate(images)], images


def test_gray_files_load_as_unit_range_pixels(gray_files):
    paths, images = gray_files
    loader = ImageFileLoader().fit(paths)
    assert loader.mode_ == "L" and loader.input_shape_ == (1, 12, 10)
    out = loader.transform(paths)
    assert out.dtype == np.float32 and out.shape == (5, 1, 12, 10)
    np.testing.assert_allclose(out[:, 0], images / 255, atol=1e-6)


def test_strings_and_pathlib_paths_are_both_paths(gray_files):
    paths, _ = gray_files
    as_str = np.array([str(p) for p in paths])
    assert is_path_array(paths) and is_path_array(as_str) and is_path_array(list(as_str))
    assert not is_path_array(np.zeros((3, 4))) and not is_path_array("a.png")
    np.testing.assert_array_equal(ImageFileLoader().fit_transform(as_str),
                                  ImageFileLoader().fit_transform(paths))


def test_rgb_and_mixed_modes(tmp_path, gray_files):
    paths, _ = gray_files
    rgb = write_image(tmp_path / "c.png", RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8))
    rgba = write_image(tmp_path / "a.png", RNG.integers(0, 256, (12, 10, 4), dtype=np.uint8))
    loader = ImageFileLoader().fit([*paths, rgb, rgba])
    assert loader.mode_ == "RGB"
    out = loader.transform([rgb, paths[0]])
    np.testing.assert_allclose(out[0], np.asarray(Image.open(rgb)).transpose(2, 0, 1) / 255,
                               atol=1e-6)
    # A gray file read as RGB repeats its channel.
    np.testing.assert_allclose(out[1, 0], out[1, 2])
    assert ImageFileLoader(mode="RGBA").fit([rgba]).transform([rgba]).shape == (1, 4, 12, 10)


def test_mixed_sizes_follow_the_size_rule(tmp_path, gray_files):
    paths, _ = gray_files
    big = write_image(tmp_path / "big.png", np.full((30, 40), 200, np.uint8))
    # No size: the most common one (12x10, though the first file is 30x40), named.
    with pytest.warns(ImageSizeWarning, match=r"resized to 12x10.*size=\(height, width\)"):
        loader = ImageFileLoader().fit([big, *paths])
    assert loader.input_shape_ == (1, 12, 10)
    out = loader.transform([big, paths[0]])
    assert out.shape == (2, 1, 12, 10)
    np.testing.assert_allclose(out[0], 200 / 255, atol=1e-6)  # resized, not cropped
    # A size is obeyed silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ImageFileLoader(size=(16, 16)).fit_transform([*paths, big])
    assert out.shape == (6, 1, 16, 16)
    # Fitted on one size, a file of another size at transform is read at the fitted size.
    assert ImageFileLoader().fit(paths).transform([paths[0], big]).shape == (2, 1, 12, 10)


def test_unreadable_files_are_listed(tmp_path, gray_files):
    paths, _ = gray_files
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    text = tmp_path / "notes.png"
    text.write_text("hello")
    missing = tmp_path / "missing.png"
    with pytest.raises(ValueError) as info:
        ImageFileLoader().fit([paths[0], corrupt, text, missing])
    message = str(info.value)
    assert "3 image file(s)" in message
    assert all(name in message for name in ("corrupt.png", "notes.png", "missing.png"))
    assert "g0.png" not in message


def test_truncated_file_is_named_at_transform(tmp_path, gray_files):
    paths, _ = gray_files
    data = paths[1].read_bytes()
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(data[: len(data) // 2])
    loader = ImageFileLoader().fit(paths)
    with pytest.raises(ValueError, match=r"truncated\.png"):
        loader.transform([paths[0], truncated])


def test_arrays_pass_through_and_are_resized():
    X = RNG.random((4, 8, 8))
    np.testing.assert_allclose(ImageFileLoader().fit_transform(X)[:, 0], X, rtol=1e-6)
    assert ImageFileLoader(size=5).fit_transform(X).shape == (4, 1, 5, 5)
