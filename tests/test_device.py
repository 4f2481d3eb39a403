"""Device selection and seeding (sklearn_cnn._device)."""

import pytest
import torch

from sklearn_cnn._device import draw_seed, resolve_device, seeded


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
