"""The image transformers (sklearn_cnn.preprocessing): results, layouts, chunks."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F

from sklearn_cnn.preprocessing import (
    CenterCrop,
    ChannelStandardizer,
    Grayscale,
    ImageFileLoader,
    Pad,
    Rescale,
    Resize,
    Rotate,
    ToImage,
    _base,
)

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (6, 10, 12, 3), dtype=np.uint8)  # channels last, like PIL
NCHW = torch.from_numpy(RGB).permute(0, 3, 1, 2).float() / 255


@pytest.mark.parametrize(
    ("transformer", "reference"),
    [
        (ToImage(), lambda x: x),
        (Rescale(scale=2.0, offset=-1.0), lambda x: x * 2 - 1),
        (Resize((5, 7)), lambda x: F.resize(x, [5, 7], antialias=True)),
        (Resize(4, interpolation="nearest"),
         lambda x: F.resize(x, [4, 4], interpolation=InterpolationMode.NEAREST)),
        (CenterCrop((4, 6)), lambda x: F.center_crop(x, [4, 6])),
        (CenterCrop(14), lambda x: F.center_crop(x, [14, 14])),
        (Pad((1, 2), fill=0.5), lambda x: F.pad(x, [1, 2], fill=0.5)),
        (Pad(2, padding_mode="reflect"), lambda x: F.pad(x, [2], padding_mode="reflect")),
        (Rotate(30.0, interpolation="bilinear"),
         lambda x: F.rotate(x, 30.0, interpolation=InterpolationMode.BILINEAR, fill=0.0)),
        (Rotate(90.0, expand=True), lambda x: F.rotate(x, 90.0, expand=True, fill=0.0)),
        (Grayscale(), F.rgb_to_grayscale),
        (Grayscale(num_output_channels=3), lambda x: F.rgb_to_grayscale(x, 3)),
    ],
    ids=lambda v: type(v).__name__ if not callable(v) or hasattr(v, "fit") else "",
)
def test_matches_the_torchvision_op(transformer, reference):
    out = transformer.fit_transform(RGB)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference(NCHW).numpy(), atol=1e-6)


def test_every_layout_gives_the_same_result():
    resize = Resize((5, 5))
    expected = resize.fit_transform(RGB)
    nchw = RGB.transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(Resize((5, 5)).fit_transform(nchw), expected)
    flat = nchw.reshape(len(RGB), -1)
    np.testing.assert_array_equal(Resize((5, 5), image_shape=(3, 10, 12)).fit_transform(flat),
                                  expected)
    np.testing.assert_allclose(Resize((5, 5)).fit_transform(RGB.tolist()), expected * 255,
                               rtol=1e-5)  # lists of ints are not uint8: values kept


def test_chain_feeds_the_next_transformer():
    out = Grayscale().fit_transform(Resize((8, 8)).fit_transform(RGB))
    assert out.shape == (6, 1, 8, 8)


def test_grayscale_drops_alpha_and_passes_gray():
    rgba = np.concatenate([RGB, np.full((*RGB.shape[:3], 1), 255, np.uint8)], axis=3)
    np.testing.assert_allclose(Grayscale().fit_transform(rgba), Grayscale().fit_transform(RGB))
    gray = RGB[..., 0]
    np.testing.assert_allclose(Grayscale().fit_transform(gray), ToImage().fit_transform(gray))
    with pytest.raises(ValueError, match="channels"):
        Grayscale(data_format="channels_first").fit(RNG.random((2, 5, 4, 4)))


def test_channel_standardizer_learns_per_channel_statistics():
    X = RGB.astype(np.float64)
    scaler = ChannelStandardizer().fit(X)
    np.testing.assert_allclose(scaler.mean_, X.mean(axis=(0, 1, 2)))
    np.testing.assert_allclose(scaler.scale_, X.std(axis=(0, 1, 2)))
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=(0, 2, 3)), 1, atol=1e-5)


def test_channel_standardizer_constant_channel_keeps_unit_scale():
    X = np.full((4, 3, 3), 7.0)
    scaler = ChannelStandardizer().fit(X)
    assert scaler.scale_.tolist() == [1.0]
    np.testing.assert_allclose(scaler.transform(X), 0)


def test_chunks_give_the_same_result_as_one_batch(monkeypatch):
    X = RNG.random((37, 3, 9, 9))
    expected_resize = Resize((4, 4)).fit_transform(X)
    expected_scaler = ChannelStandardizer().fit(X)
    monkeypatch.setattr(_base, "CHUNK_BYTES", 4 * 3 * 9 * 9 * 5)  # 5 images a chunk
    seen = []
    resize = Resize((4, 4)).fit(X)
    original = resize._transform_tensor
    resize._transform_tensor = lambda images: seen.append(len(images)) or original(images)
    np.testing.assert_array_equal(resize.transform(X), expected_resize)
    assert seen == [5] * 7 + [2]
    chunked = ChannelStandardizer().fit(X)
    np.testing.assert_allclose(chunked.mean_, expected_scaler.mean_)
    np.testing.assert_allclose(chunked.scale_, expected_scaler.scale_)


def test_transform_checks_the_fitted_shape():
    resize = Resize((4, 4)).fit(RGB)
    with pytest.raises(ValueError, match="channel"):
        resize.transform(RGB[..., :1])
    with pytest.raises(ValueError, match="fitted on"):
        resize.transform(RGB[:, :8])


@pytest.mark.parametrize(
    ("transformer", "match"),
    [
        (Resize(size=(0, 4)), "size"),
        (Resize(size=(2, 3, 4)), "size"),
        (Resize(interpolation="cubic-ish"), "interpolation"),
        (CenterCrop(size=-1), "size"),
        (Pad(padding=(1, 2, 3)), "padding"),
        (Pad(padding=20, padding_mode="reflect"), "reflect"),
        (Pad(padding_mode="wrap"), "padding_mode"),
        (Rotate(angle="left"), "angle"),
        (Grayscale(num_output_channels=2), "num_output_channels"),
        (Rescale(scale="big"), "scale"),
        (ToImage(data_format="nchw"), "data_format"),
        (ToImage(image_shape=(0, 1)), "image_shape"),
        (ImageFileLoader(mode="CMYK"), "mode"),
    ],
)
def test_bad_parameters_are_refused_at_fit(transformer, match):
    with pytest.raises((ValueError, TypeError), match=match):
        transformer.fit(RGB)


def test_clone_pickle_and_set_params():
    resize = Resize((4, 4)).fit(RGB)
    restored = pickle.loads(pickle.dumps(resize))
    np.testing.assert_array_equal(restored.transform(RGB), resize.transform(RGB))
    assert clone(resize).get_params() == resize.get_params()
    assert Resize().set_params(size=(7, 7)).fit_transform(RGB).shape == (6, 3, 7, 7)


@pytest.mark.parametrize("method", ["fit", "transform"])
def test_file_paths_point_to_the_file_loader(method, tmp_path):
    paths = [str(tmp_path / "a.png"), str(tmp_path / "b.png")]
    resize = Resize((4, 4)) if method == "fit" else Resize((4, 4)).fit(RGB)
    with pytest.raises(TypeError, match=r"Resize takes images as pixel arrays, not image "
                                        r"file paths; read the files first with ImageFileLoader"):
        getattr(resize, method)(paths)
