"""Targets of a classifier: class labels or a multilabel indicator matrix, validated.

``check_targets`` reads ``y`` as scikit-learn's classifiers do (class labels
of any type ``check_classification_targets`` takes; a 0/1 indicator matrix
as ``MLPClassifier`` reads it, through ``LabelBinarizer``) and works out the
classes the model knows, checking them against those of a model it resumes.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.sparse import issparse
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import assert_all_finite, column_or_1d
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_consistent_length

__all__ = ["check_targets"]


def _label_types(y) -> list[str]:
    """The kinds of the values of an object ``y`` ("number", "str", ...); else []."""
    if issparse(y):
        return []
    values = np.asarray(y.astype(object) if hasattr(y, "dtypes") else y)
    if values.dtype != object:
        return []
    return sorted({"number" if isinstance(v, numbers.Number) else
                   "str" if isinstance(v, (str, bytes)) else type(v).__name__
                   for v in values.ravel()})


def check_targets(y, images, *, classes, fitted_classes, fitted_multilabel: bool,
                  class_weight, estimator_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated targets, and the sorted classes the model knows.

    Parameters
    ----------
    y : array-like of shape (N,) or (N, n_labels), or sparse matrix
        Class labels, or a 0/1 indicator matrix of multilabel targets.
    images : array-like or list
        The images, for their number.
    classes : array-like or None
        The ``classes`` argument of ``partial_fit``.
    fitted_classes : ndarray or None
        ``classes_`` of the model a fit resumes; None for a fresh fit.
    fitted_multilabel : bool
        Whether the resumed model was fitted on multilabel targets.
    class_weight : dict, "balanced" or None
        The ``class_weight`` parameter (multilabel targets take none).
    estimator_name : str
        Named in error messages.

    Returns
    -------
    y : ndarray of shape (N,), or float32 of shape (N, n_labels)
        The labels; a multilabel indicator matrix as float32 0/1.
    classes : ndarray
        The sorted class labels; for multilabel targets the column indices.

    Raises
    ------
    ValueError
        If ``y`` is missing or not finite, of another length than the images,
        of a kind no classifier takes, of one class, or inconsistent with
        ``classes`` or the resumed model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn._data.targets import check_targets
    >>> y, classes = check_targets(["b", "a", "b"], np.zeros((3, 4)), classes=None,
    ...                            fitted_classes=None, fitted_multilabel=False,
    ...                            class_weight=None, estimator_name="CNNClassifier")
    >>> classes.tolist()
    ['a', 'b']
    """
    name = estimator_name
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None.")
    assert_all_finite(y, input_name="y", estimator_name=name)
    mixed = _label_types(y)
    if len(mixed) > 1:
        column = " (one column, such as df['label'])" if np.ndim(y) == 2 else ""
        raise ValueError(
            f"{name} takes y as class labels of one type; got labels of mixed types "
            f"({' and '.join(mixed)}) in a y of shape {np.shape(y)}, which cannot be "
            f"sorted. Pass the labels{column} as one type, e.g. y.astype(str)."
        )
    kind = type_of_target(y, input_name="y")
    resume = fitted_classes is not None
    if kind == "multilabel-indicator":
        return _indicator_targets(y, images, classes, fitted_classes, fitted_multilabel,
                                  class_weight, name)
    if kind.endswith("-multioutput"):
        raise ValueError(
            f"{name} takes y as class labels of shape (N,), or for multilabel "
            f"targets as a 0/1 indicator matrix of shape (N, n_labels); got a "
            f"{kind} y of shape {np.shape(y)}, with values other than 0 and 1."
        )
    if fitted_multilabel:
        raise ValueError(
            f"{name} was fitted on multilabel targets (a 0/1 indicator matrix "
            f"of {len(fitted_classes)} columns); y is {kind} class labels. Refit "
            "to change the kind of targets."
        )
    y = column_or_1d(y, warn=True)
    check_consistent_length(images, y)
    check_classification_targets(y)
    if resume:
        known = fitted_classes
        if classes is not None and not np.array_equal(np.unique(classes), known):
            raise ValueError(
                f"classes={list(classes)!r} differs from the classes the model "
                f"was fitted with, {known.tolist()}; refit to change them."
            )
    elif classes is not None:
        known = np.unique(column_or_1d(classes))
    else:
        known = np.unique(y)
    if len(known) < 2:
        raise ValueError(
            f"{name} needs samples of at least 2 classes to train; got only "
            f"one class ({known[0].item()!r})."
        )
    unknown = np.setdiff1d(y, known)
    if len(unknown):
        raise ValueError(
            f"y contains labels {unknown.tolist()} that are not in the classes "
            f"the model knows, {known.tolist()}; pass every label in `classes` "
            "on the first call to partial_fit, or refit."
        )
    return y, known


def _indicator_targets(y, images, classes, fitted_classes, fitted_multilabel: bool,
                       class_weight, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A 0/1 indicator matrix as float32, and its classes (the column indices)."""
    if class_weight is not None:
        raise ValueError(
            f"class_weight={class_weight!r} weighs classes, and multilabel "
            "targets (a 0/1 indicator matrix y) have none; set class_weight=None."
        )
    # MLPClassifier's reader of multilabel targets: it takes lists of lists
    # and sparse matrices, and its classes_ are the column indices.
    binarizer = LabelBinarizer().fit(y)
    y = binarizer.transform(y).astype(np.float32)
    check_consistent_length(images, y)
    known = binarizer.classes_
    if fitted_classes is not None and (
            not fitted_multilabel or len(fitted_classes) != len(known)):
        fitted = (f"multilabel targets of {len(fitted_classes)} labels" if fitted_multilabel
                  else f"class labels {fitted_classes.tolist()}")
        raise ValueError(
            f"y is a multilabel indicator matrix of {len(known)} columns, but "
            f"{name} was fitted on {fitted}. Refit to change the targets."
        )
    if classes is not None and not np.array_equal(np.unique(classes), known):
        raise ValueError(
            f"For multilabel targets (a 0/1 indicator matrix y of {len(known)} "
            f"columns) the classes are the column indices, {known.tolist()}; got "
            f"classes={list(classes)!r}. Leave classes=None."
        )
    return y, known
