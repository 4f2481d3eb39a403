import os

# scikit-learn's array API estimator check runs only when SciPy's array API
# support is switched on, which must happen before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from sklearn_cnn._device import resolve_device

#: The device the suite trains on: SKLEARN_CNN_TEST_DEVICE ("auto", the
#: default, is CUDA where torch sees a GPU; "cpu", "cuda", "cuda:1" pin one).
#: Tests of CPU behaviour pin device="cpu" themselves; every other test runs
#: here, so the same suite checks a GPU.
TEST_DEVICE = os.environ.get("SKLEARN_CNN_TEST_DEVICE", "auto")

#: Under pytest-xdist (``-n auto``), the workers share the cores instead of
#: each torch taking all of them (oversubscribed, the suite runs slower).
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if WORKERS > 1:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(max(1, (cores or 1) // WORKERS))
DEVICE = resolve_device(TEST_DEVICE)



def proba_atol(device) -> float:
    """How far predict_proba on ``device`` may be from the CPU's or ONNX Runtime's.

    float32 rounding on the CPU; on CUDA, PyTorch's default TF32 convolutions
    (docs/user_guide.md, "CUDA and precision").
    """
    return 1e-5 if str(device) == "cpu" else 2e-3


PROBA_ATOL = proba_atol(DEVICE)

#: A small network and a short fit: enough to learn digits, fast on 2 cores.
#: No augmentation: it pays off only over many epochs (tests of augment="auto"
#: and the presets set it themselves).
FAST = dict(
    conv_channels=(8, 16), dense_units=(32,), max_epochs=4, batch_size=32, lr=0.01, dropout=0.0,
    validation_fraction=0.0, augment=None, random_state=0, device=TEST_DEVICE,
)


def pytest_report_header(config):
    return f"sklearn-cnn tests train on: {DEVICE} (SKLEARN_CNN_TEST_DEVICE={TEST_DEVICE!r})"


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
