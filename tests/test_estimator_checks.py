"""scikit-learn's own estimator checks, every one of them, on CNNClassifier."""

from conftest import TEST_DEVICE
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_cnn import CNNClassifier

# Fast settings: a small network and a short fit. The checks themselves are
# unchanged and all run; none is skipped or expected to fail.
FAST = dict(
    conv_channels=(8,), dense_units=(16,), max_epochs=10, batch_size=16,
    lr=0.01, validation_fraction=0.0, random_state=0, device=TEST_DEVICE,
)


@parametrize_with_checks([CNNClassifier(**FAST)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
