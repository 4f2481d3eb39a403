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
    assert problems["depth.tif"].startswith("scaled: float gray")
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


def save_with_orientation(path, pixels, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif)


def test_files_read_otherwise_than_stored_are_reported_by_kind(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (8, 8), "red").save(folder / "fine.gif")
    (folder / "broken.gif").write_bytes(b"GIF89a, cut")
    frames = [Image.new("L", (8, 8), 40 * i) for i in range(3)]
    frames[0].save(folder / "moving.gif", save_all=True, append_images=frames[1:])
    Image.fromarray(np.full((8, 8), 40000, np.uint16)).save(folder / "depth.png")
    save_with_orientation(folder / "phone.jpg", np.zeros((6, 10, 3), np.uint8), 6)
    save_with_orientation(folder / "mirror.png", np.zeros((6, 10, 3), np.uint8), 2)
    Image.fromarray(np.zeros((8, 8), np.float32)).save(folder / "depth.tif")
    problems = [(Path(path).name, problem) for path, problem in verify_images(folder)]
    kinds = {(name, problem.split(":")[0]) for name, problem in problems}
    # .gif files are image files: read, and checked.
    assert kinds == {("broken.gif", "unreadable"), ("moving.gif", "animated"),
                     ("depth.png", "scaled"), ("depth.tif", "scaled"), ("phone.jpg", "rotated"),
                     ("mirror.png", "rotated")}
    said = dict(problems)
    assert said["moving.gif"] == "animated: 3 frames, the first is read"
    assert said["depth.png"] == ("scaled: 16-bit gray read as 8 bits "
                                 "(value / 256, rounded down)")
    assert said["depth.tif"].startswith("scaled: float gray read as 8 bits (0 to 1")
    assert said["phone.jpg"] == ("rotated: EXIF orientation 6, read rotated 90° clockwise, "
                                 "as displayed")
    assert said["mirror.png"].startswith("rotated: EXIF orientation 2, read mirrored")


def test_a_file_with_several_problems_has_one_entry_each(tmp_path):
    path = tmp_path / "scan.tif"
    save_with_orientation(path, np.full((6, 10), 1000, np.uint16), 8)
    problems = [problem.split(":")[0] for _, problem in verify_images(path)]
    assert problems == ["scaled", "rotated"]
