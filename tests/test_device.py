"""Device selection and seeding (sklearn_cnn._device)."""

import pytest
import torch

from sklearn_cnn._device import draw_seed, place_data, resolve_device, seeded


def test_auto_picks_cuda_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_auto_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")


def test_explicit_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_missing_cuda_index_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match="has 1 cuda device"):
        resolve_device("cuda:1")


@pytest.mark.parametrize("device", ["tpu", "gpu", ""])
def test_unknown_device_names(device):
    with pytest.raises(ValueError, match="device"):
        resolve_device(device)


def test_seeded_repeats_and_restores_global_state():
    torch.manual_seed(7)
    outside = torch.rand(2)
    torch.manual_seed(7)
    with seeded(3, torch.device("cpu")):
        first = torch.rand(2)
    with seeded(3, torch.device("cpu")):
        second = torch.rand(2)
    torch.testing.assert_close(first, second)
    torch.testing.assert_close(torch.rand(2), outside)


def test_draw_seed():
    assert draw_seed(None) is None
    assert draw_seed(0) == draw_seed(0)
    assert draw_seed(0) != draw_seed(1)


def test_data_stays_on_the_host_for_the_cpu():
    images = torch.zeros(4, 1, 2, 2)
    assert place_data(images, torch.device("cpu")) is images


def test_data_goes_to_the_gpu_only_when_it_fits(monkeypatch):
    moved = []
    images = torch.zeros(100, 1, 10, 10)  # 40,000 bytes
    monkeypatch.setattr(torch.Tensor, "to", lambda self, device: moved.append(device) or self)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (100_000, 10**9))
    place_data(images, torch.device("cuda"))
    assert moved == []  # 40 kB > 25 % of 100 kB free
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (10**9, 10**9))
    place_data(images, torch.device("cuda"))
    assert moved == [torch.device("cuda")]
