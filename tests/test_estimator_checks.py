"""scikit-learn's own estimator checks, every one of them, on CNNClassifier."""

from _settings import fast_params
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_cnn import CNNClassifier


# The fast settings' estimator-checks variant (tests/_settings.py says how and
# why it differs). parametrize_with_checks needs the estimator when pytest
# collects the tests, before fixtures exist: hence the import, not the fixture.
# The checks themselves are unchanged and all run; none is expected to fail.
# scikit-learn skips one itself: the multilabel check of decision_function,
# which CNNClassifier, like MLPClassifier, does not have.
@parametrize_with_checks([CNNClassifier(**fast_params("estimator_checks"))])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
