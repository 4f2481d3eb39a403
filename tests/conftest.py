import os

# scikit-learn's array API estimator check runs only when SciPy's array API
# support is switched on, which must happen before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
from sklearn.datasets import load_digits

#: A small network and a short fit: enough to learn digits, fast on 2 cores.
#: No augmentation: it pays off only over many epochs (tests of augment="auto"
#: and the presets set it themselves).
FAST = dict(
    conv_channels=(8, 16), dense_units=(32,), max_epochs=4, batch_size=32, lr=0.01, dropout=0.0,
    validation_fraction=0.0, augment=None, random_state=0,
)


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
