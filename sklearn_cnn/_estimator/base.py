"""``BaseCNN``: everything a CNN estimator does that is not about its targets.

scikit-learn's ``BaseMultilayerPerceptron`` serves ``MLPClassifier`` and
``MLPRegressor``; ``BaseCNN`` serves ``CNNClassifier`` and ``CNNRegressor``
the same way. It is
the last of a chain of bases, each using only what the ones before it
define:

- ``NetBuilder`` (``building.py``): the parameters, their constraints, and
  the ``_build_*`` methods that turn them into a skorch net;
- ``NetState`` (``state.py``): what ``save`` and ``load`` exchange, the
  fitted ``module_`` and ``history_``, ``save`` and ``to_onnx``;
- ``NetFitter`` (``fitting.py``): the path of ``fit`` and ``partial_fit``;
- ``BaseCNN`` (here): the network's outputs on any accepted input, batch by
  batch (``_logits``), and ``embed``.

An estimator of a kind of target adds its loss (``_build_criterion``,
``_net_kwargs``), its targets (``_check_targets``, ``_encode_targets``,
``_record_targets``, ``_check_sample_weight``, ``_check_fitted_targets``,
``_output_labels``), its predictions and its tags: ``CNNClassifier`` and
``CNNRegressor`` (``regressor.py``) do, and need no more.

Why predictions do not use skorch's ``net_.predict_proba``: that one serves
the scores of a fit (``valid_acc``, ``EpochScoring``), on the network as it
trains. Prediction runs on ``CNNNet.inference_module()`` instead (batch norm
folded into the convolutions, built once per training run), under
``torch.inference_mode``, through DataLoader workers for files and with the
views of ``tta`` (docs/benchmarks.md, "Prediction").
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._data.images import read_images
from .._model.augment import flips, tta_views
from .._model.embedder import embedder
from .._model.inference import INFERENCE_BATCH_SIZE, predict_logits
from .._model.work import forward_flops
from .._persistence.compat import add_missing
from .._training.threads import ThreadPolicy, prediction_work
from .fitting import NetFitter
from .pixel_range import check_pixel_range

__all__ = ["BaseCNN"]


class BaseCNN(NetFitter):
    """Base of the CNN estimators: all but what is about their targets.

    Not an estimator to use: ``CNNClassifier`` is one (its docstring
    documents the parameters). A subclass changes how the network's outputs
    are computed by overriding ``_predict_logits`` (one batch of images on
    the device) or ``_logits`` (any accepted input). torch's thread count
    follows ``n_jobs`` (``_training.threads``) while it predicts.
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

    def __setstate__(self, state) -> None:
        add_missing(state)  # pickled by an earlier version
        super().__setstate__(state)
        if "net_" in state:
            # skorch maps a CUDA-trained net to the CPU where CUDA is missing.
            self.device_ = str(self.net_.device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
