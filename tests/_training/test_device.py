"""Device selection and data placement (sklearn_cnn._training.device)."""

import numpy as np
import pytest
import torch

from sklearn_cnn._data.layout import ImageLayout, settle_layout
from sklearn_cnn._data.placement import place_images, to_float_nchw, to_float_nchw_tensor
from sklearn_cnn._training.device import settle_device


def test_auto_picks_cuda_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert settle_device("auto") == torch.device("cuda")


def test_auto_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert settle_device("auto") == torch.device("cpu")


def test_explicit_devices():
    assert settle_device("cpu") == torch.device("cpu")
    assert settle_device(torch.device("cpu")) == torch.device("cpu")


def test_missing_cuda_index_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match="has 1 cuda device"):
        settle_device("cuda:1")


@pytest.mark.parametrize("device", ["tpu", "gpu", ""])
def test_unknown_device_names(device):
    with pytest.raises(ValueError, match="device"):
        settle_device(device)


def test_data_stays_on_the_host_for_the_cpu():
    X = np.arange(8, dtype=np.uint8).reshape(2, 2, 2)
    images = place_images(X, ImageLayout("nhw", (1, 2, 2)), torch.device("cpu"))
    assert images.device.type == "cpu" and images.dtype == torch.float32
    np.testing.assert_array_equal(images.numpy(), to_float_nchw(X, ImageLayout("nhw", (1, 2, 2))))


def test_data_goes_to_the_gpu_only_when_it_fits(monkeypatch):
    moved = []
    X = np.zeros((100, 10, 10), dtype=np.uint8)  # 40,000 bytes as float32
    to = torch.Tensor.to

    def fake_to(self, *args, **kwargs):  # records the copies to a device, does the rest
        if isinstance(args[0], torch.device):
            return moved.append((args[0], self.dtype)) or self
        return to(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", fake_to)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (100_000, 10**9))
    layout = ImageLayout("nhw", (1, 10, 10))
    place_images(X, layout, torch.device("cuda"))
    assert moved == []  # 40 kB > 25 % of 100 kB free
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (10**9, 10**9))
    images = place_images(X, layout, torch.device("cuda"))
    assert moved == [(torch.device("cuda"), torch.uint8)]  # copied as uint8, converted there
    assert images.dtype == torch.float32 and images.shape == (100, 1, 10, 10)


@pytest.mark.parametrize("source, shape", [
    ("channels_last", (3, 6, 5, 2)), ("channels_first", (3, 2, 6, 5)), ("flat", (3, 60)),
    ("nhw", (3, 6, 5)),
])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64, np.int16])
def test_images_converted_on_the_device_match_the_host(source, shape, dtype):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=shape).astype(dtype)
    layout = settle_layout(X.shape, image_shape=(2, 6, 5) if source == "flat" else None)
    assert layout.source == source
    on_device = to_float_nchw_tensor(torch.from_numpy(X), layout)
    np.testing.assert_allclose(on_device.numpy(), to_float_nchw(X, layout), rtol=1e-7)
    assert on_device.is_contiguous()
