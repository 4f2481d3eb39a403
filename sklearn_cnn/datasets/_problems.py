"""``add_problems``: a labelled image set with known problems, to test an audit on."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["add_problems"]


def add_problems(X, y, X_test, *, label_noise=0.05, n_duplicates=5, n_leaks=10,
                 others=None, random_state=None):
    """Plant the problems a real folder has, where they are known: to measure an audit.

    Each problem goes to its own images: wrong labels (another class, drawn
    at random), near-duplicates (a training image copied over another),
    leaks (a training image copied over a test image) and images of
    another kind (``others``, put in place of training images, with the
    label they replace).

    Parameters
    ----------
    X : ndarray of shape (N, ...)
        Training images (any layout; copied, not changed).
    y : array-like of shape (N,)
        Their labels.
    X_test : ndarray of shape (M, ...)
        Test images of the same layout.
    label_noise : float, default=0.05
        Share of training labels to change.
    n_duplicates : int, default=5
        Training images overwritten by a copy of another training image.
    n_leaks : int, default=10
        Test images overwritten by a copy of a training image.
    others : ndarray of shape (K, ...), default=None
        Images of another kind, in the layout of ``X``, put in place of K
        training images.
    random_state : int, RandomState instance or None, default=None
        Which images get which problem.

    Returns
    -------
    X, y, X_test : ndarrays
        The sets with their problems.
    truth : dict
        The affected indices: ``"label"`` (training images with a changed
        label), ``"near_duplicate"`` (pairs ``(copy, original)``), ``"leak"``
        (pairs ``(test index, training index)``) and ``"outlier"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn.datasets import add_problems
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, y_train, X_test, truth = add_problems(X[:1000], y[:1000], X[1000:],
    ...                                                random_state=0)
    >>> len(truth["label"]), len(truth["leak"]), int((y_train != y[:1000]).sum())
    (50, 10, 50)
    """
    rng = check_random_state(random_state)
    X, X_test = np.array(X, copy=True), np.array(X_test, copy=True)
    y = np.array(y, copy=True)
    others = np.zeros((0, *X.shape[1:]), X.dtype) if others is None else np.asarray(others)
    n_labels = round(label_noise * len(y))
    needed = n_labels + 2 * n_duplicates + n_leaks + len(others)
    if needed > len(y) or n_leaks > len(X_test):
        raise ValueError(f"{needed} training and {n_leaks} test images get a problem; "
                         f"there are {len(y)} and {len(X_test)}.")
    order = rng.permutation(len(y))
    flipped, order = order[:n_labels], order[n_labels:]
    copies, originals, order = (order[:n_duplicates], order[n_duplicates:2 * n_duplicates],
                                order[2 * n_duplicates:])
    leaked, order = order[:n_leaks], order[n_leaks:]
    strange = order[:len(others)]
    classes = np.unique(y)
    for i in flipped:
        y[i] = rng.choice(classes[classes != y[i]])
    X[copies] = X[originals]
    test_positions = rng.choice(len(X_test), n_leaks, replace=False)
    X_test[test_positions] = X[leaked]
    X[strange] = others
    truth = {
        "label": np.sort(flipped),
        "near_duplicate": np.stack([copies, originals], axis=1),
        "leak": np.stack([test_positions, leaked], axis=1),
        "outlier": np.sort(strange),
    }
    return X, y, X_test, truth
