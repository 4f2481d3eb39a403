"""The stratified hold-out (sklearn_cnn._training.holdout)."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

from sklearn_cnn._training.holdout import HoldoutSplit


def test_holdout_is_stratified_and_seeded():
    y = np.repeat(np.arange(4), 25)
    split = HoldoutSplit(0.2, random_state=0)
    train, valid = split.indices(y)
    assert len(valid) == 20 and len(train) == 80
    assert np.bincount(y[valid]).tolist() == [5, 5, 5, 5]
    np.testing.assert_array_equal(valid, HoldoutSplit(0.2, random_state=0).indices(y)[1])
    assert not np.array_equal(valid, HoldoutSplit(0.2, random_state=1).indices(y)[1])


def test_holdout_falls_back_on_tiny_data():
    # A class with one sample cannot be stratified: plain split instead.
    y = np.array([0, 0, 0, 1, 1, 1, 2, 3, 3, 3])
    train, valid = HoldoutSplit(0.3, random_state=0).indices(y)
    assert len(valid) == 3 and len(train) == 7
    # Too few samples to hold any out: everything trains.
    train, valid = HoldoutSplit(0.5, random_state=0).indices(np.array([0, 1]))
    assert len(valid) == 0 and len(train) == 2


def test_holdout_as_skorch_train_split():
    from skorch.dataset import Dataset

    X = torch.zeros(10, 1)
    y = np.repeat([0, 1], 5)
    train, valid = HoldoutSplit(0.2, random_state=0)(Dataset(X, y), y)
    assert len(train) == 8 and len(valid) == 2
    assert HoldoutSplit(0.5, 0)(Dataset(X[:2], y[:2]), y[:2])[1] is None


def test_holdout_size_matches_the_split():
    split = HoldoutSplit(0.15, random_state=None)
    for n in (2, 3, 10, 57, 400):
        y = np.arange(n) % 3
        assert split.n_valid(n) == len(split.indices(y)[1])


@pytest.mark.parametrize("n, fraction", [(12, 0.25), (57, 0.15), (200, 0.33)])
def test_holdout_is_scikit_learns_seeded_split(n, fraction):
    # The split skorch's ValidSplit draws is train_test_split's, index for index.
    y = np.arange(n) % 3
    split = HoldoutSplit(fraction, random_state=7)
    expected = train_test_split(np.arange(n), test_size=split.n_valid(n), stratify=y,
                                random_state=7)
    for got, want in zip(split.indices(y), expected, strict=True):
        np.testing.assert_array_equal(got, want)
