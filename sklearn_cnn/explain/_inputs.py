"""The images and target classes of an explanation, as the network takes them."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from .._data.images import read_images

__all__ = ["image_batches", "target_indices"]


def image_batches(clf, X, batch_size: int) -> tuple[int, Iterator[torch.Tensor]]:
    """The number of images in ``X`` and their float32 ``(n, C, H, W)`` batches.

    ``X`` is validated and converted exactly as ``clf.predict`` does it: any
    accepted array layout (uint8 scaled to [0, 1]), or a 1-D array of image
    file paths decoded ``batch_size`` at a time.

    Parameters
    ----------
    clf : CNNClassifier
        A fitted classifier.
    X : array-like
        Images, as for ``clf.predict``.
    batch_size : int
        Images per batch.

    Returns
    -------
    n_images : int
    batches : iterator of Tensor of shape (n, C, H, W)
        On the host, or already on ``clf.device_`` where ``place_images``
        put the images there.
    """
    images = read_images(
        X, image_shape=clf.image_shape, data_format=clf.data_format,
        expected=clf.input_shape_, estimator=clf,
    )
    return len(images), images.batches(batch_size, clf.device_)


def target_indices(clf, target, n_images: int) -> np.ndarray | None:
    """Column of ``clf.classes_`` of each image's target class (None: predicted).

    For a regressor, the output explained (its index; None: the first).

    Parameters
    ----------
    clf : CNNClassifier or CNNRegressor
        A fitted estimator.
    target : label, array-like of labels or None
        One class label (output index) for every image, one per image, or None.
    n_images : int
        Number of images explained.

    Returns
    -------
    indices : ndarray of shape (n_images,), dtype int64, or None

    Raises
    ------
    ValueError
        If a label is not in ``clf.classes_`` or the number of labels is not
        the number of images.
    """
    known = getattr(clf, "classes_", None)
    if known is None:  # a regressor: its outputs, by index; None explains the first
        known = np.arange(clf.n_outputs_)
        if target is None:
            return np.zeros(n_images, dtype=np.int64)
    if target is None:
        return None
    labels = np.asarray(target)
    if labels.ndim == 0:
        labels = np.full(n_images, labels)
    elif labels.ndim != 1 or len(labels) != n_images:
        raise ValueError(
            f"target must be one class label or one label per image ({n_images}); "
            f"got an array of shape {labels.shape}."
        )
    # A dict lookup rather than np.isin: it compares labels of any types
    # (str against int classes) without numpy's casting rules.
    column = {label: i for i, label in enumerate(known.tolist())}
    unknown = sorted({label for label in labels.tolist() if label not in column}, key=repr)
    if unknown:
        raise ValueError(
            f"target contains {unknown}, which the estimator does not know; the "
            f"known {'classes' if known is getattr(clf, 'classes_', None) else 'outputs'} "
            f"are {known.tolist()} (labels, not column indices; a regressor's outputs are "
            "their indices)."
        )
    return np.array([column[label] for label in labels.tolist()], dtype=np.int64)
