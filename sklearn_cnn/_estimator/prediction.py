"""``PredictionMixin``: the classifier's ``predict``, ``predict_proba`` and ``predict_log_proba``.

The fitted network's forward passes are ``_model.inference``'s; this module reads
the images as the fitted estimator expects them (arrays at once, files batch
by batch) and turns logits into labels or probabilities.

Why not skorch's ``net_.predict_proba``: that one serves the scores of a fit
(``valid_acc``, ``EpochScoring``), on the network as it trains. Prediction
runs on ``CNNNet.inference_module()`` instead (batch norm folded into the
convolutions, built once per training run), under ``torch.inference_mode``,
through DataLoader workers for files and with the views of ``tta``: 1.26x the
raw module's throughput (docs/benchmarks.md, "Prediction"). Both end in the
same softmax (``_model.inference.class_probabilities``).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._data.images import read_images
from .._model.augment import flips, tta_views
from .._model.embedding import embedder
from .._model.inference import (
    INFERENCE_BATCH_SIZE,
    class_probabilities,
    label_probabilities,
    predict_logits,
)
from .._model.work import forward_flops
from .._training.threads import ThreadPolicy, prediction_work
from .pixel_range import check_pixel_range

__all__ = ["PredictionMixin"]


class PredictionMixin:
    """Prediction methods of ``CNNClassifier``.

    Needs the fitted attributes ``net_``, ``device_``, ``input_shape_``,
    ``classes_`` and ``multilabel_``, and the parameters ``image_shape``,
    ``data_format``, ``num_workers`` and ``n_jobs``. A subclass changes how
    logits are computed by overriding ``_predict_logits`` (one batch of
    images on the device) or ``_logits`` (any accepted input). torch's
    thread count follows ``n_jobs`` (``_training.threads``) while it predicts.
    """

    def _logits(self, X) -> np.ndarray:
        return self._batched(X, self._predict_logits)

    def _batched(self, X, forward) -> np.ndarray:
        """``forward`` over the images of ``X``, batch by batch for files, concatenated."""
        check_is_fitted(self)
        images = read_images(
            X, image_shape=self.image_shape, data_format=self.data_format,
            expected=self.input_shape_, estimator=self,
        )
        check_pixel_range(getattr(self, "pixel_range_", None), images, type(self).__name__)
        with ThreadPolicy(getattr(self, "n_jobs", None), self.device_) as threads:
            work, wait = prediction_work(self._image_flops(), len(images), INFERENCE_BATCH_SIZE)
            threads.apply(work, wait=wait)
            if images.is_files:  # decoded batch by batch, never all at once
                batches = images.batches(INFERENCE_BATCH_SIZE, self.device_,
                                         num_workers=self.num_workers)
                return np.concatenate([forward(batch) for batch in batches])
            return forward(images.tensor(self.device_))

    def _image_flops(self) -> int | None:
        """Operations of a forward pass on one image, on the CPU (None elsewhere)."""
        cache = self.net_.inference_cache_
        if "flops" not in cache and torch.device(self.device_).type == "cpu":
            image = torch.zeros((1, *self.input_shape_)).contiguous(
                memory_format=self.net_.memory_format)
            cache["flops"] = forward_flops(self.net_.module_, image)
        return cache.get("flops")

    def _predict_logits(self, images: torch.Tensor) -> np.ndarray:
        views = None
        if getattr(self, "tta", False):  # averaged over label-safe variants
            views = functools.partial(tta_views, flip=flips(self.net_.augment_))
        return predict_logits(self.net_.inference_module(), images, self.device_,
                              memory_format=self.net_.memory_format, views=views)

    def _predict_embedding(self, images: torch.Tensor) -> np.ndarray:
        return predict_logits(embedder(self.net_.module_), images, self.device_,
                              memory_format=self.net_.memory_format)

    def embed(self, X) -> np.ndarray:
        """The fitted network's features of each image: its embedding.

        The input of the network's last linear layer: for the built-in
        network, its last hidden dense layer (the flattened convolutional
        features with ``dense_units=()``); for a torchvision ``backbone``,
        its pooled features; a ``module=`` network defines ``embed(x)``
        (``sklearn_cnn.ConvNet.embed`` shows the contract). Computed batch
        by batch on the fit's device, in evaluation mode, for arrays, file
        paths and ``LazyImages``. For a transformer of a Pipeline, see
        ``sklearn_cnn.CNNEmbedding``.

        Parameters
        ----------
        X : array-like
            Images, in the layout used for ``fit``.

        Returns
        -------
        embedding : ndarray of shape (N, n_features), dtype float64
            One row of features per image.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn_cnn import CNNClassifier
        >>> X, y = load_digits(return_X_y=True)
        >>> clf = CNNClassifier(dense_units=(32,), max_epochs=2, random_state=0).fit(X, y)
        >>> clf.embed(X[:5]).shape
        (5, 32)
        """
        return self._batched(X, self._predict_embedding)

    def _log_probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Log-softmax of ``logits``, or their log-sigmoid for multilabel targets."""
        probabilities = label_probabilities if self.multilabel_ else class_probabilities
        return probabilities(torch.from_numpy(logits), log=True).numpy()

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of the class (or label) probabilities of each image.

        Parameters
        ----------
        X : array-like
            Images, in the layout used for ``fit``.

        Returns
        -------
        log_proba : ndarray of shape (N, n_classes)
            Log-probabilities, columns ordered as ``classes_``.
        """
        return self._log_probabilities(self._logits(X))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of each image, columns ordered as ``classes_``.

        For multilabel targets, the probability of each label on its own
        (a sigmoid per label: a row need not sum to 1), as ``MLPClassifier``.

        Parameters
        ----------
        X : array-like
            Images, in the layout used for ``fit``.

        Returns
        -------
        proba : ndarray of shape (N, n_classes)
            Probabilities, columns ordered as ``classes_``; each row sums to
            1, except for multilabel targets.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        """Most probable class of each image, or its labels for multilabel targets.

        Parameters
        ----------
        X : array-like
            Images, in the layout used for ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (N,) or (N, n_labels)
            Labels from ``classes_``; for multilabel targets, as
            ``MLPClassifier``, an int64 0/1 indicator matrix: 1 where
            ``predict_proba`` is above 0.5.
        """
        logits = self._logits(X)  # first: it checks that the model is fitted
        if self.multilabel_:
            return (np.exp(self._log_probabilities(logits)) > 0.5).astype(np.int64)
        # The largest logit: the softmax keeps the order, so it needs none.
        return self.classes_[np.argmax(logits, axis=1)]
