"""Label errors, near-duplicates, outliers and train/test leaks, found by cleanlab.

The statistics are cleanlab's (``Datalab``: confident learning for label
errors, nearest neighbours of the features for near-duplicates and
outliers); this module feeds it what a CNN knows of the images: out-of-fold
``predict_proba`` (scikit-learn's ``cross_val_predict``) and the fitted
network's embeddings (``CNNClassifier.embed``).
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

__all__ = ["ISSUE_KINDS", "find_issues"]

#: The kinds of finding, in the order the table lists them.
ISSUE_KINDS = ("leak", "label", "near_duplicate", "outlier")

COLUMNS = ["index", "set", "path", "issue", "given_label", "suggested_label", "score",
           "duplicate_of"]


@contextlib.contextmanager
def _quiet_cleanlab():
    """Without the warnings cleanlab's own code raises (pandas deprecations): not the user's."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"cleanlab\.")
        yield


def _datalab():
    try:
        from cleanlab import Datalab

        Datalab(data={"label": np.array([0, 1])}, label_name="label", verbosity=0)
    except ImportError as exc:
        raise ImportError(
            "sklearn_cnn.audit needs the audit extra (cleanlab and its Datalab), not "
            "installed: pip install 'sklearn-cnn[audit]'"
        ) from exc
    return Datalab


def _paths(X, n: int) -> list:
    """Each image's path where ``X`` is an array of paths, else None."""
    from .._data.images import is_path_array

    if is_path_array(X):
        return [str(p) for p in np.asarray(X, dtype=object).ravel()]
    return [None] * n


def find_issues(estimator, X, y, *, X_test=None, cv=5, random_state=0):
    """Find the images to look at before trusting a score, as a sortable table.

    A clone of ``estimator`` is cross-validated on ``X``, ``y`` to give
    every image an out-of-fold probability of each class, and another one is
    fitted on all of ``X`` to embed the images (``CNNClassifier.embed``).
    cleanlab's ``Datalab`` reads both and finds:

    - ``"label"``: images whose given label is likely wrong (confident
      learning), with the label the network suggests;
    - ``"near_duplicate"``: images whose embedding (nearly) equals another
      training image's, listed in ``duplicate_of``;
    - ``"outlier"``: images unlike the rest (few close neighbours);
    - ``"leak"``, with ``X_test``: test images that are near-duplicates of
      training images, which inflate every score computed on the test set.

    Parameters
    ----------
    estimator : CNNClassifier
        An unfitted classifier (its clones are fitted); one with ``embed``.
    X : array-like, 1-D array of image paths, or LazyImages
        The training images.
    y : array-like of shape (N,)
        Their given labels.
    X_test : array-like, default=None
        Test images, checked for near-duplicates of training images.
    cv : int or cross-validation generator, default=5
        The folds of the out-of-fold probabilities (an int: stratified,
        shuffled with ``random_state``).
    random_state : int, default=0
        Seed of the folds.

    Returns
    -------
    issues : pandas.DataFrame
        One row per finding, columns ``index`` (position in ``X`` or
        ``X_test``), ``set`` ("train" or "test"), ``path`` (for paths, else
        None), ``issue`` (one of ``ISSUE_KINDS``), ``given_label``,
        ``suggested_label`` (for "label"), ``score`` (cleanlab's quality
        score in [0, 1]: the lower, the likelier the issue) and
        ``duplicate_of`` (training indices, for near-duplicates and leaks),
        sorted by issue then score.

    Raises
    ------
    ImportError
        Without the ``audit`` extra (cleanlab).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.audit import find_issues
    >>> X, y = load_digits(return_X_y=True)
    >>> X, y = X[:300], y[:300].copy()
    >>> y[:6] = (y[:6] + 1) % 10                     # six wrong labels
    >>> issues = find_issues(CNNClassifier(max_epochs=8, random_state=0), X, y, cv=3)
    >>> flagged = set(issues.query("issue == 'label'")["index"])
    >>> len(flagged & set(range(6))) >= 2           # wrong labels among the flagged
    True
    >>> list(issues.columns)
    ['index', 'set', 'path', 'issue', 'given_label', 'suggested_label', 'score', 'duplicate_of']
    """
    import pandas as pd

    Datalab = _datalab()
    y = np.asarray(y)
    if isinstance(cv, int):
        cv = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    pred_probs = cross_val_predict(clone(estimator), X, y, cv=cv, method="predict_proba")
    model = clone(estimator).fit(X, y)
    features = model.embed(X)
    lab = Datalab(data={"label": y}, label_name="label", verbosity=0)
    with _quiet_cleanlab():
        lab.find_issues(pred_probs=pred_probs, features=features,
                        issue_types={"label": {}, "near_duplicate": {}, "outlier": {}})
    paths = _paths(X, len(y))
    rows = []
    labels = lab.get_issues("label")
    for i in np.flatnonzero(labels["is_label_issue"]):
        rows.append([i, "train", paths[i], "label", y[i], labels["predicted_label"].iloc[i],
                     labels["label_score"].iloc[i], []])
    duplicates = lab.get_issues("near_duplicate")
    for i in np.flatnonzero(duplicates["is_near_duplicate_issue"]):
        rows.append([i, "train", paths[i], "near_duplicate", y[i], None,
                     duplicates["near_duplicate_score"].iloc[i],
                     sorted(int(j) for j in duplicates["near_duplicate_sets"].iloc[i])])
    outliers = lab.get_issues("outlier")
    for i in np.flatnonzero(outliers["is_outlier_issue"]):
        rows.append([i, "train", paths[i], "outlier", y[i], None,
                     outliers["outlier_score"].iloc[i], []])
    if X_test is not None:
        rows += _leaks(Datalab, features, model.embed(X_test), X_test)
    issues = pd.DataFrame(rows, columns=COLUMNS)
    issues["issue"] = pd.Categorical(issues["issue"], categories=ISSUE_KINDS, ordered=True)
    return issues.sort_values(["issue", "score"], kind="stable").reset_index(drop=True)


def _leaks(Datalab, train: np.ndarray, test: np.ndarray, X_test) -> list:
    """Rows of the test images that are near-duplicates of training images."""
    n_train = len(train)
    both = np.concatenate([train, test])
    lab = Datalab(data={"label": np.zeros(len(both), dtype=int)}, label_name="label",
                  verbosity=0)
    with _quiet_cleanlab():
        lab.find_issues(features=both, issue_types={"near_duplicate": {}})
    duplicates = lab.get_issues("near_duplicate")
    paths = _paths(X_test, len(test))
    rows = []
    for i in np.flatnonzero(duplicates["is_near_duplicate_issue"].to_numpy()[n_train:]):
        partners = sorted(int(j) for j in duplicates["near_duplicate_sets"].iloc[n_train + i]
                          if j < n_train)
        if partners:
            rows.append([i, "test", paths[i], "leak", None, None,
                         duplicates["near_duplicate_score"].iloc[n_train + i], partners])
    return rows
