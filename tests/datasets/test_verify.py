"""verify_images: every problem of a folder's image files, in one pass."""

from pathlib import Path

import numpy as np
from PIL import Image

from sklearn_cnn.datasets import load_image_folder, verify_images


def test_every_problem_is_reported_at_once(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        folder = tmp_path / ("cat" if i % 2 else "dog")
        folder.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(
            folder / f"fine{i}.png")
    full = tmp_path / "full.jpg"
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(full)
    (tmp_path / "cat" / "cut.jpg").write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    full.unlink()
    (tmp_path / "dog" / "text.png").write_bytes(b"not an image at all")
    Image.new("CMYK", (8, 8)).save(tmp_path / "dog" / "print.jpg")
    Image.fromarray(np.zeros((8, 8), dtype=np.float32), mode="F").save(
        tmp_path / "cat" / "depth.tif")
    (tmp_path / "dog" / ".hidden.png").write_bytes(b"skipped, as load_image_folder skips it")

    problems = dict((Path(p).name, why) for p, why in verify_images(tmp_path))
    assert set(problems) == {"cut.jpg", "text.png", "print.jpg", "depth.tif"}
    assert problems["cut.jpg"].startswith("truncated")
    assert problems["text.png"].startswith("unreadable")
    assert problems["print.jpg"].startswith("odd mode: CMYK")
    assert problems["depth.tif"].startswith("odd mode: F")
    # The same files as a list, and a missing one.
    paths = [*(tmp_path / "cat").glob("*"), tmp_path / "gone.png"]
    listed = dict((Path(p).name, why) for p, why in verify_images(paths))
    assert set(listed) == {"cut.jpg", "depth.tif", "gone.png"}
    assert listed["gone.png"].startswith("missing")


def test_a_clean_folder_has_no_problems_and_loads(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.new("L", (8, 8), 40).save(tmp_path / name / "1.png")
    assert verify_images(tmp_path) == []
    assert load_image_folder(tmp_path)[0].shape == (2, 8, 8, 1)
