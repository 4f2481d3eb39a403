"""scikit-learn's estimator checks, every one, on every image transformer."""

from _transformers import all_transformers
from sklearn.utils.estimator_checks import parametrize_with_checks

TRANSFORMERS = all_transformers()


@parametrize_with_checks(TRANSFORMERS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
