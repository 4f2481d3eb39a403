import os

# scikit-learn's array API estimator check runs only when SciPy's array API
# support is switched on, which must happen before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import sys

import _settings
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from sklearn_cnn._training.device import settle_device

#: Under pytest-xdist (``-n auto``), the workers share the cores instead of
#: each torch taking all of them (oversubscribed, the suite runs slower).
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if WORKERS > 1:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(max(1, (cores or 1) // WORKERS))
TEST_DEVICE = _settings.TEST_DEVICE
DEVICE = settle_device(TEST_DEVICE)


def _proba_atol(device) -> float:
    """How far predict_proba on ``device`` may be from the CPU's or ONNX Runtime's.

    float32 rounding on the CPU; on CUDA, PyTorch's default TF32 convolutions
    (docs/user_guide.md, "CUDA and precision").
    """
    return 1e-5 if str(device) == "cpu" else 2e-3


def pytest_report_header(config):
    return f"sklearn-cnn tests train on: {DEVICE} (SKLEARN_CNN_TEST_DEVICE={TEST_DEVICE!r})"


@pytest.fixture(scope="session")
def test_device():
    """The ``device`` the suite trains on, as SKLEARN_CNN_TEST_DEVICE sets it ("auto")."""
    return TEST_DEVICE


@pytest.fixture(scope="session")
def torch_device():
    """The ``torch.device`` that ``test_device`` resolves to here."""
    return DEVICE


@pytest.fixture(scope="session")
def proba_atol():
    """``proba_atol(device=torch_device)``: ``_proba_atol`` on the suite's device or another."""
    def atol(device=DEVICE):
        return _proba_atol(device)

    return atol


@pytest.fixture(scope="session")
def fast_params():
    """A small network and a short fit: CNNClassifier's parameters, read-only.

    Enough to learn digits, fast on 2 cores; on ``test_device``; no
    augmentation (it pays off only over many epochs). ``{**fast_params, ...}``
    changes a copy. Session-wide, so module-scoped fixtures fit with it too.
    ``tests/_settings.py`` holds them, and their "estimator_checks" variant.
    """
    return _settings.fast_params()


@pytest.fixture
def decode_calls(monkeypatch):
    """How many files each call of ``decode_images`` decoded during the test, in order.

    Wraps ``sklearn_cnn._data.files.decode_images``, where the readers of files
    look it up; a list the test may ``clear()`` between the steps it counts.
    """
    from sklearn_cnn._data import files

    calls = []
    original = files.decode_images

    def counting(paths, *args, **kwargs):
        calls.append(len(paths))
        return original(paths, *args, **kwargs)

    monkeypatch.setattr(files, "decode_images", counting)
    return calls


@pytest.fixture(scope="session")
def digits():
    """400 of scikit-learn's 8x8 digits, flat, and their labels."""
    X, y = load_digits(return_X_y=True)
    return X[:400], y[:400]


@pytest.fixture(scope="session")
def digit_images(digits):
    """The same digits as (N, 8, 8) uint8 images scaled to 0-255."""
    X, y = digits
    return (X.reshape(-1, 8, 8) * 255 / 16).astype(np.uint8), y


@pytest.fixture(scope="session")
def digit_pngs(tmp_path_factory, digit_images):
    """The first 60 digits as 8x8 PNG files: a 1-D array of their paths, and labels."""
    from PIL import Image

    images, y = digit_images
    folder = tmp_path_factory.mktemp("digit_pngs")
    paths = []
    for i, image in enumerate(images[:60]):
        paths.append(str(folder / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    return np.array(paths), y[:60]


@pytest.fixture(autouse=True)
def close_figures():
    """Examples and Displays leave their figures open for a user; tests close them."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
