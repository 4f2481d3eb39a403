"""BaseCNN serves an estimator of another kind of target: a stand-in regressor.

It defines only its loss, its target handling and its tags, as the issue
that introduced BaseCNN asks; it goes when the real regressor lands.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import RegressorMixin, clone
from sklearn.datasets import load_digits
from sklearn.utils.validation import check_is_fitted

from sklearn_cnn._estimator.base import BaseCNN
from sklearn_cnn._persistence.state import get_state, set_state


class StandInRegressor(RegressorMixin, BaseCNN):
    """Predicts one number per image; trained with the mean squared error."""

    def _build_criterion(self, outputs, y):
        return torch.nn.MSELoss, {}

    def _check_targets(self, y, images, classes, resume):
        y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
        return y, np.arange(1)

    def _output_labels(self):
        return np.arange(1)

    def predict(self, X):
        return self._logits(X)[:, 0]


@pytest.fixture(scope="module")
def regression():
    """Digits with a number to predict from each image: its ink (standardised)."""
    X, _ = load_digits(return_X_y=True)
    ink = X[:400].mean(axis=1)
    return X[:400], (ink - ink.mean()) / ink.std()


def test_a_regressor_needs_only_its_loss_targets_and_tags(regression):
    X, y = regression
    params = dict(conv_channels=(8,), dense_units=(16,), max_epochs=15, lr=0.01, dropout=0.0,
                  augment=None, random_state=0, device="cpu", n_jobs=1)
    reg = StandInRegressor(**params).fit(X[:300], y[:300])
    check_is_fitted(reg)
    assert reg.predict(X[300:]).shape == (100,) and reg.n_iter_ == 15
    assert reg.score(X[300:], y[300:]) > 0.5  # R^2 of the held-out images
    assert clone(reg).get_params() == reg.get_params()
    assert reg.__sklearn_tags__().estimator_type == "regressor"
    # What save and load exchange comes from the base (save itself stores
    # sklearn-cnn's own classes only), and pickling.
    tensors, attributes = get_state(reg)
    restored = StandInRegressor(**params)
    set_state(restored, tensors, attributes)
    for copy in (restored, pickle.loads(pickle.dumps(reg))):
        np.testing.assert_allclose(copy.predict(X[300:]), reg.predict(X[300:]), atol=1e-6)
    assert reg.embed(X[:5]).shape == (5, 16)
