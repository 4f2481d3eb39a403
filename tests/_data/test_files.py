"""Image files: ImageFileLoader and sklearn_cnn._data.files."""

import struct
import warnings

import numpy as np
import pytest
from _helpers import write_image
from PIL import Image, ImageOps

from sklearn_cnn import CNNClassifier, ImageSizeWarning
from sklearn_cnn._data.files import decode_images, pil_images_to_array, read_headers
from sklearn_cnn._data.images import is_path_array
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


# Files read as an image viewer shows them (sklearn_cnn._data.decoding).

#: A 16-bit ramp, 0 to 65535, as an 8x8 image.
RAMP16 = np.linspace(0, 65535, 64).round().astype(np.uint16).reshape(8, 8)


def save_oriented(path, pixels, orientation):
    """``pixels`` saved with an EXIF orientation: what a phone writes."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif)
    return path


def read_gray(path):
    """One file's pixels read in mode "L", as (H, W)."""
    return decode_images([str(path)], "L", None)[0, ..., 0]


@pytest.fixture
def sixteen_bit(tmp_path):
    """Three 16-bit gray PNGs (the ramp, flipped, inverted) and their 8-bit values."""
    images = np.stack([RAMP16, RAMP16[::-1], 65535 - RAMP16])
    paths = [str(tmp_path / f"depth{i}.png") for i in range(3)]
    for path, image in zip(paths, images, strict=True):
        Image.fromarray(image).save(path)
    assert Image.open(paths[0]).mode == "I;16"
    # torchvision's to_dtype(uint16 -> uint8, scale=True): the high byte.
    return paths, (images >> 8).astype(np.uint8)


@pytest.fixture
def rotated(tmp_path):
    """RGB files stored 6x10 with EXIF orientation 6, and their pixels as displayed (10x6)."""
    stored = RNG.integers(0, 256, (3, 6, 10, 3), dtype=np.uint8)
    paths = [str(save_oriented(tmp_path / f"phone{i}.png", image, 6))
             for i, image in enumerate(stored)]
    displayed = np.rot90(stored, k=-1, axes=(1, 2))  # orientation 6: turn 90° clockwise
    return paths, displayed


def test_sixteen_bit_gray_is_scaled_not_clipped(sixteen_bit):
    paths, expected = sixteen_bit
    pixels = decode_images(paths, "L", None)[..., 0]
    np.testing.assert_array_equal(pixels, expected)
    # Within one level of value / 257, the nearest 8-bit level.
    assert np.abs(pixels[0].astype(int) - RAMP16 / 257).max() <= 1
    assert pixels[0].min() == 0 and pixels[0].max() == 255 and len(np.unique(pixels[0])) > 60


def test_sixteen_bit_files_load_and_stream_scaled(sixteen_bit):
    paths, expected = sixteen_bit
    eager = ImageFileLoader().fit_transform(paths)
    np.testing.assert_allclose(eager[:, 0], expected / 255, atol=1e-6)
    lazy = ImageFileLoader(lazy=True).fit_transform(paths)
    np.testing.assert_allclose(np.asarray(lazy)[:, 0], expected / 255, atol=1e-6)
    np.testing.assert_allclose(next(lazy.batches(2))[:, 0], expected[:2] / 255, atol=1e-6)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_pillow_applies_it(tmp_path, orientation):
    stored = RNG.integers(0, 256, (6, 10, 3), dtype=np.uint8)
    path = str(save_oriented(tmp_path / "photo.png", stored, orientation))
    displayed = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    assert read_headers([path])[0] == [displayed.shape[:2]]
    np.testing.assert_array_equal(decode_images([path], "RGB", None)[0], displayed)


@pytest.mark.parametrize("compression", [None, "tiff_deflate"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_rotated_tiffs_are_turned_once(tmp_path, compression, dtype):
    # Pillow's TIFF reader applies the orientation itself when it loads (and
    # maps uncompressed files by name at the wrong size): turned once, right.
    stored = RNG.integers(0, 256, (6, 10)).astype(dtype)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "scan.tif", exif=exif, compression=compression)
    path = str(tmp_path / "scan.tif")
    assert read_headers([path])[0] == [(10, 6)]
    expected = np.rot90(stored, k=-1) >> (8 if dtype == np.uint16 else 0)
    np.testing.assert_array_equal(read_gray(path), expected)
    # As PIL images, opened, or loaded (then Pillow has turned it). Pillow
    # garbles an uncompressed one it loads from a path (it maps the file at
    # the turned size): such images come from file objects here.
    with open(path, "rb") as file:
        opened, loaded = Image.open(file), Image.open(file)
        loaded.load()
        for image in (opened, loaded):
            np.testing.assert_array_equal(pil_images_to_array([image])[0, ..., 0], expected)


def test_rotated_jpeg_headers_are_the_displayed_size(tmp_path):
    path = str(tmp_path / "phone.jpg")
    save_oriented(tmp_path / "phone.jpg", np.zeros((6, 10, 3), np.uint8), 6)
    assert read_headers([path]) == ([(10, 6)], ["RGB"])
    assert decode_images([path], "RGB", None).shape == (1, 10, 6, 3)


def test_rotated_files_load_and_stream_as_displayed(rotated):
    paths, displayed = rotated
    expected = displayed.transpose(0, 3, 1, 2) / 255
    loader = ImageFileLoader().fit(paths)
    assert loader.input_shape_ == (3, 10, 6)
    np.testing.assert_allclose(loader.transform(paths), expected, atol=1e-6)
    lazy = ImageFileLoader(lazy=True).fit_transform(paths)
    assert lazy.size == (10, 6)
    np.testing.assert_allclose(np.asarray(lazy), expected, atol=1e-6)


def test_float_and_32_bit_tiffs_are_scaled_by_their_range(tmp_path):
    floats = np.linspace(-0.5, 1.5, 64, dtype=np.float32).reshape(8, 8)
    Image.fromarray(floats).save(tmp_path / "float.tif")
    # [0, 1] as torchvision's to_dtype(float32 -> uint8, scale=True), clipped outside.
    expected = (np.clip(floats, 0, 1) * np.float32(255.999)).astype(np.uint8)
    np.testing.assert_array_equal(read_gray(tmp_path / "float.tif"), expected)
    integers = np.linspace(-2**24, 2**31 - 1, 64).astype(np.int32).reshape(8, 8)
    Image.fromarray(integers).save(tmp_path / "int32.tif")
    assert Image.open(tmp_path / "int32.tif").mode == "I"
    # A signed 32-bit sample keeps 31 value bits: value >> 23, negatives as 0.
    expected = np.clip(integers >> 23, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(read_gray(tmp_path / "int32.tif"), expected)


def test_sixteen_bit_tiff_is_scaled_as_the_png(tmp_path):
    Image.fromarray(RAMP16).save(tmp_path / "depth.tif")
    np.testing.assert_array_equal(read_gray(tmp_path / "depth.tif"), RAMP16 >> 8)


def gray_tiff(path, values, bits):
    """One row of unsigned gray ``values`` as an uncompressed TIFF of ``bits`` per sample.

    Written by hand: Pillow writes neither 12-bit nor unsigned 32-bit TIFFs.
    """
    if bits == 12:  # packed, two samples in three bytes, high bits first
        data = b"".join(bytes([a >> 4, (a & 15) << 4 | b >> 8, b & 255])
                        for a, b in zip(values[::2], values[1::2], strict=True))
    else:
        data = np.asarray(values, dtype=f"<u{bits // 8}").tobytes()
    tags = [(256, len(values)), (257, 1), (258, bits), (259, 1), (262, 1), (273, 8), (277, 1),
            (278, 1), (279, len(data))]  # BitsPerSample 258; no SampleFormat: unsigned
    ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", tag, 4, 1, value)
                                                  for tag, value in tags)
    path.write_bytes(b"II*\0" + struct.pack("<I", 8 + len(data)) + data + ifd + bytes(4))
    return path


def test_tiff_bit_depth_is_the_files(tmp_path):
    # Pillow reads a 12-bit TIFF as "I;16" and an unsigned 32-bit one as
    # int32: their BitsPerSample tells how to scale them.
    twelve = np.array([0, 16, 2048, 4095])
    assert Image.open(gray_tiff(tmp_path / "twelve.tif", twelve, 12)).mode == "I;16"
    np.testing.assert_array_equal(read_gray(tmp_path / "twelve.tif")[0], twelve >> 4)
    unsigned = np.array([0, 2**24, 2**31, 2**32 - 1])
    assert Image.open(gray_tiff(tmp_path / "unsigned.tif", unsigned, 32)).mode == "I"
    np.testing.assert_array_equal(read_gray(tmp_path / "unsigned.tif")[0], unsigned >> 24)


def test_pil_images_are_read_as_files_are(rotated):
    paths, displayed = rotated
    # A PIL image that still carries its EXIF orientation is turned; one
    # already turned (ImageOps.exif_transpose drops the tag) is not turned twice.
    opened = [Image.open(path) for path in paths]
    np.testing.assert_array_equal(pil_images_to_array(opened), displayed)
    turned = [ImageOps.exif_transpose(image) for image in opened]
    np.testing.assert_array_equal(pil_images_to_array(turned), displayed)
    # A 16-bit PIL image is scaled as a 16-bit file.
    np.testing.assert_array_equal(pil_images_to_array([Image.fromarray(RAMP16)])[0, ..., 0],
                                  RAMP16 >> 8)


def test_the_classifier_reads_16_bit_and_rotated_files_as_displayed(sixteen_bit, rotated,
                                                                    fast_params, proba_atol):
    params = {**fast_params, "max_epochs": 1}
    for paths, pixels in (sixteen_bit, rotated):
        y = np.arange(len(paths)) % 2
        on_files = CNNClassifier(**params).fit(paths, y)
        on_pixels = CNNClassifier(**params).fit(pixels, y)
        assert on_files.input_shape_ == on_pixels.input_shape_
        # At fit: the same model as on the displayed pixels; at predict: the same pixels.
        np.testing.assert_allclose(on_files.predict_proba(paths), on_pixels.predict_proba(pixels),
                                   atol=proba_atol())
        np.testing.assert_allclose(on_pixels.predict_proba(paths), on_pixels.predict_proba(pixels),
                                   atol=proba_atol())
