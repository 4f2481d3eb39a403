"""Sample weights: their validation, and how they travel with the images.

A weighted fit hands skorch its documented dict input (skorch's FAQ, "How do
I apply sample weights?"): ``{"X": images, "sample_weight": weights}``.
skorch indexes, splits and batches the two together, so each batch (training
and validation) carries its samples' weights to ``CNNNet.get_loss``, which
weighs the loss with ``_model.losses.weighted_loss``.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import _check_sample_weight

__all__ = ["IMAGES", "SAMPLE_WEIGHT", "check_sample_weight", "split_weighted", "weighted"]

#: The keys of weighted input.
IMAGES, SAMPLE_WEIGHT = "X", "sample_weight"


def check_sample_weight(sample_weight, y: np.ndarray, *, estimator_name: str,
                        needs_two_classes: bool) -> np.ndarray | None:
    """Validated float32 sample weights, or None where they change nothing.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        The weights passed to ``fit`` or ``partial_fit``.
    y : ndarray of shape (n_samples,) or (n_samples, n_labels)
        The validated targets (for their length and, in ``fit``, the classes
        left with weight).
    estimator_name : str
        Named in error messages.
    needs_two_classes : bool
        Whether at least two classes must keep a non-zero weight (``fit``;
        one ``partial_fit`` chunk may hold a single class).

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,), dtype float32, or None
        None for None and for all-equal weights: the weighted loss is then
        the unweighted one, so the model is the same as without them.

    Raises
    ------
    ValueError
        If the weights are not finite, negative, of another length than
        ``y``, all zero, or (with ``needs_two_classes``) leave one class.
    """
    if sample_weight is None:
        return None
    # scikit-learn's own check: length, NaN/inf, negative values, with its messages.
    weights = _check_sample_weight(sample_weight, y, ensure_non_negative=True)
    if not weights.any():
        raise ValueError(
            f"sample_weight is zero for every sample: {estimator_name} needs at least "
            "one sample of non-zero weight to train."
        )
    if needs_two_classes and y.ndim == 1:
        weighted_classes = np.unique(y[weights > 0])
        if len(weighted_classes) < 2:
            raise ValueError(
                f"{estimator_name} needs samples of at least 2 classes with non-zero "
                f"sample_weight to train; only class {weighted_classes[0]!r} has any."
            )
    if np.all(weights == weights[0]):
        return None
    return weights.astype(np.float32)


def weighted(images, sample_weight):
    """skorch's dict input for images with weights; the images alone without."""
    if sample_weight is None:
        return images
    return {IMAGES: images, SAMPLE_WEIGHT: sample_weight}


def split_weighted(X):
    """``(images, sample_weight)`` of weighted input, ``(X, None)`` of any other."""
    if isinstance(X, dict) and SAMPLE_WEIGHT in X:
        return X[IMAGES], X[SAMPLE_WEIGHT]
    return X, None
