"""sklearn_cnn.datasets: load_image_folder and make_shapes."""

import os
import warnings

import numpy as np
import pytest
from _helpers import write_image
from PIL import Image

from sklearn_cnn import CNNClassifier, ImageSizeWarning
from sklearn_cnn.datasets import SHAPES, load_image_folder, make_shapes

RNG = np.random.default_rng(0)


@pytest.fixture
def photo_folder(tmp_path):
    """Two classes of mixed-size RGB and gray images, nested, with clutter to skip."""
    root = tmp_path / "photos"
    for i in range(4):
        write_image(root / "cat" / f"{i}.png", RNG.integers(0, 256, (16, 20, 3), dtype=np.uint8))
        write_image(root / "dog" / f"{i}.jpg", RNG.integers(0, 256, (16, 20), dtype=np.uint8))
    write_image(root / "dog" / "nested" / "big.png", RNG.integers(0, 256, (40, 30, 3), np.uint8))
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "cat" / ".DS_Store").write_bytes(b"\0\0")
    (root / "cat" / "._0.png").write_bytes(b"macOS metadata")
    write_image(root / "dog" / ".hidden" / "x.png", np.zeros((5, 5), np.uint8))
    write_image(root / ".ipynb_checkpoints" / "x.png", np.zeros((5, 5), np.uint8))
    (root / "README.md").write_text("a file beside the class folders")
    return root


def test_folder_loads_arrays_and_labels(photo_folder):
    with pytest.warns(ImageSizeWarning, match=r"resized to 16x20.*size=\(height, width\)"):
        X, y = load_image_folder(photo_folder)
    assert X.shape == (9, 16, 20, 3) and X.dtype == np.uint8
    assert y.tolist() == ["cat"] * 4 + ["dog"] * 5
    # Gray images are read as RGB with three equal channels beside RGB ones.
    np.testing.assert_array_equal(X[4, ..., 0], X[4, ..., 2])
    cat = np.asarray(Image.open(photo_folder / "cat" / "0.png"))
    np.testing.assert_array_equal(X[0], cat)


def test_folder_loads_paths(photo_folder):
    paths, y = load_image_folder(photo_folder, as_paths=True)
    assert paths.ndim == 1 and len(paths) == 9 and y.tolist()[-1] == "dog"
    assert all(os.path.isfile(p) and not os.path.basename(p).startswith(".") for p in paths)
    assert any(p.endswith(os.path.join("nested", "big.png")) for p in paths)


def test_size_warning_points_at_the_callers_line(tmp_path):
    """Behind scikit-learn's parameter validation, the warning still names this file."""
    for label, size in [("a", (8, 8)), ("b", (8, 8)), ("c", (10, 10))]:
        (tmp_path / label).mkdir()
        Image.new("L", size).save(tmp_path / label / "0.png")
    with pytest.warns(ImageSizeWarning) as caught:
        load_image_folder(tmp_path)
    assert [w.filename for w in caught] == [__file__]


@pytest.mark.parametrize("option", [{"size": (8, 8)}, {"mode": "L"}])
def test_paths_take_no_decoding_options(photo_folder, option):
    """as_paths=True decodes nothing: a size or mode would be silently lost."""
    with pytest.raises(ValueError, match=r"as_paths=True.*decodes nothing.*image_shape"):
        load_image_folder(photo_folder, as_paths=True, **option)


def test_size_and_mode_are_obeyed(photo_folder):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, _ = load_image_folder(photo_folder, size=(8, 10), mode="L")
    assert X.shape == (9, 8, 10, 1)


def test_mixed_folder_trains_with_no_code_written(photo_folder, fast_params):
    for load in ({}, {"as_paths": True}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ImageSizeWarning)
            X, y = load_image_folder(photo_folder, **load)
            clf = CNNClassifier(**{**fast_params, "max_epochs": 1}).fit(X, y)
        assert clf.input_shape_ == (3, 16, 20)
        assert set(clf.predict(X)) <= {"cat", "dog"}


def test_missing_and_file_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such folder"):
        load_image_folder(tmp_path / "nope")
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="one subfolder of images per class"):
        load_image_folder(tmp_path / "a.png")


def test_no_class_folders(tmp_path):
    write_image(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"no class subfolders.*cat"):
        load_image_folder(tmp_path)


def test_every_empty_class_folder_is_named(photo_folder):
    (photo_folder / "bird").mkdir()
    (photo_folder / "emu").mkdir()
    (photo_folder / "emu" / "list.csv").write_text("1,2")
    with pytest.raises(ValueError, match="2 class folder") as info:
        load_image_folder(photo_folder)
    assert str(photo_folder / "bird") in str(info.value)
    assert str(photo_folder / "emu") in str(info.value)


@pytest.mark.parametrize("as_paths", [False, True])
def test_every_corrupt_image_is_named(photo_folder, as_paths):
    corrupt = [photo_folder / "cat" / f"bad{i}.png" for i in range(12)]
    for path in corrupt:
        path.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(ValueError, match="12 image file") as info:
        load_image_folder(photo_folder, as_paths=as_paths)
    assert all(str(path) in str(info.value) for path in corrupt)


def test_progress_bar(photo_folder, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImageSizeWarning)
        load_image_folder(photo_folder, progress=True)
        assert "Decoding images" in capsys.readouterr().err
        load_image_folder(photo_folder)  # a small folder: no bar
        assert capsys.readouterr().err == ""


def test_make_shapes():
    X, y, boxes = make_shapes(50, image_size=20, n_classes=5, return_boxes=True,
                              random_state=0)
    assert X.shape == (50, 20, 20) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 1
    assert np.bincount(y).tolist() == [10] * 5
    top, left, bottom, right = boxes.T
    assert (top >= 0).all() and (left >= 0).all() and (bottom <= 20).all() and (right <= 20).all()
    inside = [X[i, t:b, lo:r].mean() for i, (t, lo, b, r) in enumerate(boxes)]
    assert (np.array(inside) > X.mean(axis=(1, 2))).all()  # the shape is the bright part
    again = make_shapes(50, image_size=20, n_classes=5, random_state=0)
    np.testing.assert_array_equal(again[0], X)
    assert len(SHAPES) == 5
    with pytest.raises(ValueError, match="n_classes"):
        make_shapes(10, n_classes=6)


def test_make_shapes_is_learnable(fast_params):
    X, y = make_shapes(400, image_size=24, random_state=0)
    clf = CNNClassifier(**{**fast_params, "max_epochs": 8}).fit(X[:300], y[:300])
    assert clf.score(X[300:], y[300:]) > 0.8


def test_folder_reads_gif_16_bit_and_rotated_files_as_displayed(tmp_path):
    stored = RNG.integers(0, 256, (6, 10), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # a phone photo: turn 90° clockwise to display
    (tmp_path / "a").mkdir()
    Image.fromarray(stored).save(tmp_path / "a" / "phone.jpg", exif=exif, quality=100)
    (tmp_path / "b").mkdir()
    depth = RNG.integers(0, 65536, (10, 6), dtype=np.uint16)
    Image.fromarray(depth).save(tmp_path / "b" / "depth.png")
    Image.fromarray(stored.T).save(tmp_path / "b" / "plain.gif")
    X, y = load_image_folder(tmp_path, mode="L")  # a GIF is a palette image: RGB by default
    assert y.tolist() == ["a", "b", "b"] and X.shape == (3, 10, 6, 1)
    # JPEG is lossy: within a few levels of the stored pixels, turned.
    assert np.abs(X[0, ..., 0].astype(int) - np.rot90(stored, k=-1)).max() <= 8
    np.testing.assert_array_equal(X[1, ..., 0], depth >> 8)
    np.testing.assert_array_equal(X[2, ..., 0], stored.T)
    paths, _ = load_image_folder(tmp_path, as_paths=True)
    assert [os.path.basename(p) for p in paths] == ["phone.jpg", "depth.png", "plain.gif"]
