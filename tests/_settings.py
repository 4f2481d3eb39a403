"""The settings the suite trains with, for the one place fixtures cannot reach.

Tests take them from ``conftest.py``'s fixtures (``test_device``,
``fast_params``). This module holds them for arguments that pytest computes
when it collects the tests, before any fixture exists: the estimator
``test_estimator_checks.py`` hands to ``parametrize_with_checks``. Import it
nowhere else.
"""

import os
from types import MappingProxyType

#: The device the suite trains on: SKLEARN_CNN_TEST_DEVICE ("auto", the
#: default, is CUDA where torch sees a GPU; "cpu", "cuda", "cuda:1" pin one).
#: Tests of CPU behaviour pin device="cpu" themselves; every other test runs
#: here, so the same suite checks a GPU.
TEST_DEVICE = os.environ.get("SKLEARN_CNN_TEST_DEVICE", "auto")

#: A small network and a short fit: enough to learn digits, fast on 2 cores.
#: No augmentation: it pays off only over many epochs (tests of augment="auto"
#: and the presets set it themselves).
_FAST = dict(
    conv_channels=(8, 16), dense_units=(32,), max_epochs=4, batch_size=32, lr=0.01, dropout=0.0,
    validation_fraction=0.0, augment=None, random_state=0, device=TEST_DEVICE,
)

#: What the "estimator_checks" variant changes: the settings the estimator
#: checks ran with before the suite had fast settings, kept so that the
#: checks run the very estimator, and under the test ids, they always did.
#: Dropout and augmentation stay at the estimator's defaults, so the checks
#: also cover the default dropout (augment="auto" is none for their narrow
#: tabular input). Nothing in the checks needs the smaller network: they
#: also pass with the "fit" settings.
_ESTIMATOR_CHECKS = dict(conv_channels=(8,), dense_units=(16,), max_epochs=10, batch_size=16)
_ESTIMATOR_DEFAULTS = ("dropout", "augment")

_VARIANTS = ("fit", "estimator_checks")


def fast_params(variant="fit"):
    """The fast CNNClassifier parameters, read-only.

    Parameters
    ----------
    variant : {"fit", "estimator_checks"}, default="fit"
        "fit": the suite's small network and short fit on digits.
        "estimator_checks": the settings scikit-learn's estimator checks run
        with: one conv block, a smaller dense layer, 10 epochs of batches of
        16, default dropout and augmentation (see ``_ESTIMATOR_CHECKS``).

    Returns
    -------
    params : mapping
        Keyword arguments of CNNClassifier; read-only, so that no test changes
        them for the next (``{**params, "max_epochs": 8}`` makes a changed copy).
    """
    if variant == "fit":
        return MappingProxyType(dict(_FAST))
    if variant == "estimator_checks":
        params = {k: v for k, v in _FAST.items() if k not in _ESTIMATOR_DEFAULTS}
        return MappingProxyType({**params, **_ESTIMATOR_CHECKS})
    raise ValueError(f"variant must be one of {_VARIANTS}, got {variant!r}.")
