"""The skorch net behind CNNClassifier (sklearn_cnn._net)."""

import numpy as np
import pytest
import torch
from conftest import FAST

from sklearn_cnn import CNNClassifier
from sklearn_cnn._device import bfloat16_is_fast
from sklearn_cnn._net import CNNNet


def test_builtin_network_trains_channels_last_on_the_cpu(digits):
    X, y = digits
    clf = CNNClassifier(**{**FAST, "device": "cpu"}).fit(X, y)
    assert clf.net_.channels_last and clf.net_.memory_format is torch.channels_last
    conv = clf.module_.features[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert clf.net_.optimizer_.defaults["fused"] is True


def test_custom_module_keeps_the_default_memory_format(digits):
    from test_classifier import TinyNet

    X, y = digits
    clf = CNNClassifier(**FAST, module=TinyNet).fit(X, y)
    assert not clf.net_.channels_last


def test_bfloat16_autocast_path_gives_float32_logits_and_learns(digits):
    X, y = digits
    net = CNNNet(
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)),
        criterion=torch.nn.CrossEntropyLoss, amp=True, max_epochs=20, lr=0.1,
        train_split=None, verbose=0,
    )
    Xt = torch.from_numpy(X.astype(np.float32))
    net.fit(Xt, y)
    assert net.infer(Xt[:4]).dtype == torch.float32
    assert (net.predict(Xt) == y).mean() > 0.8


def test_bfloat16_only_where_it_is_fast(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert not bfloat16_is_fast(torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert bfloat16_is_fast(torch.device("cuda"))
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert not bfloat16_is_fast(torch.device("cpu"))
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert bfloat16_is_fast(torch.device("cpu"))
    assert not bfloat16_is_fast(torch.device("meta"))


@pytest.mark.parametrize("amx", [False, True])
def test_fits_agree_with_and_without_bfloat16(digits, monkeypatch, amx):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    X, y = digits
    clf = CNNClassifier(**{**FAST, "max_epochs": 8, "device": "cpu"}).fit(X[:300], y[:300])
    assert clf.net_.amp is amx
    assert clf.score(X[300:], y[300:]) > 0.85
