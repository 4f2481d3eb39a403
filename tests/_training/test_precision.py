"""The precision of training: float32 by default, bfloat16 by choice (_training.precision).

The AMX probe is patched both ways, so that the policy is tested on CPUs with
and without AMX tiles whatever CPU runs the suite.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_cnn import CNNClassifier
from sklearn_cnn._estimator import fitting as fitting_module
from sklearn_cnn._training.holdout import HoldoutSplit
from sklearn_cnn._training.net import CNNNet
from sklearn_cnn._training.precision import bfloat16_is_fast, check_precision, settle_precision
from sklearn_cnn._training.randomness import draw_seed
from sklearn_cnn.preprocessing import ToImage


@pytest.fixture(params=[False, True], ids=["no-amx", "amx"])
def amx(request, monkeypatch):
    """The CPU has AMX tiles (True) or not, whatever the CPU running the suite."""
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: request.param)
    return request.param


@pytest.fixture
def gpus(monkeypatch):
    """Two stand-in GPUs: cuda:0 a T4 (compute capability 7.5), cuda:1 an A100 (8.0).

    Records the devices asked about. ``torch.cuda.is_bf16_supported`` answers
    True for both, as it does for a T4 (bfloat16 emulated).
    """
    capability = {0: (7, 5), 1: (8, 0)}
    asked = []

    def get_device_capability(device=None):
        asked.append(torch.device(device))
        return capability[torch.device(device).index]

    monkeypatch.setattr(torch.cuda, "get_device_capability", get_device_capability)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    return asked


def test_bfloat16_is_decided_by_the_capability_of_the_fits_device(gpus):
    assert not bfloat16_is_fast(torch.device("cuda:0"))
    assert bfloat16_is_fast(torch.device("cuda:1"))
    assert gpus == [torch.device("cuda:0"), torch.device("cuda:1")]  # not the current one
    assert settle_precision("auto", torch.device("cuda:0")) == "float32"
    assert settle_precision("auto", torch.device("cuda:1")) == "bfloat16"
    assert not bfloat16_is_fast(torch.device("meta"))


def test_bfloat16_is_refused_on_gpus_older_than_ampere(gpus, monkeypatch, digits):
    with pytest.raises(ValueError, match=r"compute capability 8\.0 or newer.*T4.*7\.5"):
        check_precision("bfloat16", torch.device("cuda:0"))
    check_precision("bfloat16", torch.device("cuda:1"))
    for precision in ("float32", "auto"):
        check_precision(precision, torch.device("cuda:0"))
    # Through fit, before anything reaches the (stand-in) GPU.
    monkeypatch.setattr(fitting_module, "settle_device", lambda device: torch.device(device))
    X, y = digits
    with pytest.raises(ValueError, match="precision='float32'"):
        CNNClassifier(device="cuda:0", precision="bfloat16").fit(X, y)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_a_precision_named_is_the_precision_trained_in(amx, precision):
    assert settle_precision(precision, torch.device("cpu")) == precision


def test_auto_is_bfloat16_exactly_where_the_cpu_has_amx(amx, digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 1,
                           "precision": "auto"}).fit(X, y)
    expected = "bfloat16" if amx else "float32"
    assert clf.precision_ == expected and clf.net_.precision == expected


def test_the_default_trains_in_float32_on_any_cpu(amx, digits, fast_params):
    X, y = digits
    calls = []
    autocast = torch.autocast

    def recorded(*args, **kwargs):
        calls.append(kwargs.get("dtype"))
        return autocast(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch, "autocast", recorded)
        clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 2}).fit(X, y)
    assert clf.precision == "float32" and clf.precision_ == "float32"
    assert torch.bfloat16 not in calls
    images = ToImage().fit_transform(X[:50])
    np.testing.assert_allclose(clf.net_.predict_proba(images), clf.predict_proba(X[:50]),
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_validation_runs_in_the_precision_of_prediction(digits, fast_params, precision):
    X, y = digits
    # One batch holds the whole hold-out: its loss and accuracy are the hold-out's.
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "precision": precision,
                           "validation_fraction": 0.25, "batch_size": 512,
                           "max_epochs": 2}).fit(X, y)
    assert clf.precision_ == precision
    _, valid = HoldoutSplit(0.25, draw_seed(0)).indices(y)
    module = clf.net_.module_.eval()
    images = torch.from_numpy(ToImage().fit_transform(X[valid]))
    with torch.no_grad():
        logits = module(images.contiguous(memory_format=clf.net_.memory_format))
    target = torch.as_tensor(np.searchsorted(clf.classes_, y[valid]))
    expected = clf.net_.criterion_(logits, target).item()
    assert clf.history_[-1, "valid_loss"] == pytest.approx(expected, rel=1e-5)
    assert clf.history_[-1, "valid_acc"] == pytest.approx(clf.score(X[valid], y[valid]))
    np.testing.assert_allclose(clf.net_.predict_proba(images.numpy()),
                               clf.predict_proba(X[valid]), rtol=0, atol=1e-6)


def test_bfloat16_training_gives_float32_logits_and_learns(digits):
    X, y = digits
    net = CNNNet(
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)),
        criterion=torch.nn.CrossEntropyLoss, precision="bfloat16", max_epochs=20, lr=0.1,
        train_split=None, verbose=0,
    )
    Xt = torch.from_numpy(X.astype(np.float32))
    net.fit(Xt, y)
    assert net.infer(Xt[:4]).dtype == torch.float32
    assert (net.predict(Xt) == y).mean() > 0.8


def test_bfloat16_and_float32_fits_learn_alike(digits, fast_params):
    X, y = digits
    params = {**fast_params, "max_epochs": 8, "device": "cpu"}
    scores = {p: CNNClassifier(**params, precision=p).fit(X[:300], y[:300]).score(X[300:], y[300:])
              for p in ("float32", "bfloat16")}
    assert min(scores.values()) > 0.85
    assert abs(scores["float32"] - scores["bfloat16"]) < 0.08


def test_precision_is_a_parameter_that_clones_and_searches(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 1})
    assert clf.get_params()["precision"] == "float32" and clf.get_params()["cuda_graphs"]
    assert "precision='bfloat16'" in repr(clf.set_params(precision="bfloat16"))
    assert clone(clf).precision == "bfloat16"
    search = GridSearchCV(clf, {"precision": ["float32", "bfloat16"]}, cv=2).fit(X[:200], y[:200])
    assert list(search.cv_results_["param_precision"]) == ["float32", "bfloat16"]
    with pytest.raises(ValueError, match="precision"):
        clf.set_params(precision="float16").fit(X, y)


def test_partial_fit_trains_in_the_precision_set_between_calls(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 1}).fit(X, y)
    assert clf.precision_ == "float32"
    clf.set_params(precision="bfloat16").partial_fit(X, y)
    assert clf.precision_ == "bfloat16" and clf.net_.precision == "bfloat16"


def test_a_net_pickled_with_the_older_amp_flag_loads_with_its_precision(digits, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 1}).fit(X, y)
    for amp, precision in ((True, "bfloat16"), (False, "float32")):
        state = clf.__getstate__()
        net_state = state["net_"].__getstate__()
        del net_state["precision"]
        net_state["amp"] = amp  # as pickled before the precision parameter
        old_net = CNNNet.__new__(CNNNet)
        old_net.__setstate__(net_state)
        for key in ("precision", "precision_", "cuda_graphs", "cuda_graphs_"):
            state.pop(key)
        state["net_"] = old_net
        old = CNNClassifier.__new__(CNNClassifier)
        old.__setstate__(state)
        assert old.precision == "float32" and old.cuda_graphs  # the parameters' defaults
        assert old.precision_ == precision and old.net_.precision == precision
        twin = pickle.loads(pickle.dumps(old))
        np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))


def test_saved_models_keep_their_precision(digits, fast_params, tmp_path):
    from sklearn_cnn import load, save

    X, y = digits
    clf = CNNClassifier(**{**fast_params, "device": "cpu", "max_epochs": 1,
                           "precision": "bfloat16", "cuda_graphs": False}).fit(X, y)
    save(clf, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    assert (loaded.precision, loaded.precision_, loaded.cuda_graphs) == ("bfloat16", "bfloat16",
                                                                          False)
    assert loaded.net_.precision == "bfloat16"
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)
