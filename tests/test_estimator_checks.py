"""scikit-learn's own estimator checks, every one of them, on CNNClassifier."""

from _settings import fast_params
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_cnn import CNNClassifier

#: The one check expected to fail, for the reason scikit-learn gives for its
#: own minibatch learners (SGDClassifier; MLPClassifier passes it only with
#: its full-batch lbfgs solver): with shuffled minibatches and batch
#: statistics, weight k is not bit-for-bit k copies of a sample. What weights
#: do mean is tested in tests/_estimator/test_sample_weight.py (zero weight = left out,
#: integer weights ~ repetition, all-equal = none).
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
}


# The fast settings' estimator-checks variant (tests/_settings.py says how and
# why it differs). parametrize_with_checks needs the estimator when pytest
# collects the tests, before fixtures exist: hence the import, not the fixture.
# Every check runs; only the one above is expected to fail. scikit-learn
# skips one itself: the multilabel check of decision_function, which
# CNNClassifier, like MLPClassifier, does not have.
@parametrize_with_checks([CNNClassifier(**fast_params("estimator_checks"))],
                         expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_a_two_epoch_default_fit_learns_class_weights():
    # Short fits must learn: batch_size="auto" gives the check's 50 samples
    # batches of 16 (4 steps an epoch), where a fixed 64 left one step per
    # epoch, all of it in the one-cycle warm-up.
    from sklearn.utils.estimator_checks import check_class_weight_classifiers

    check_class_weight_classifiers("CNNClassifier", CNNClassifier(max_epochs=2, device="cpu"))
