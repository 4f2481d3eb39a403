"""``CNNEmbedding``: images to a CNN's features, as a scikit-learn transformer.

A transformer, not only a method, because features feed other scikit-learn
estimators (nearest neighbours, clustering, a linear model, t-SNE) and a
Pipeline is how scikit-learn chains them; it wraps a ``CNNClassifier``
(fitted in ``fit``, or already fitted with ``prefit=True``, as
``SelectFromModel`` does) or a pretrained torchvision backbone, which needs
no labels. ``CNNClassifier.embed`` is the method underneath.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from .._data.images import read_images
from .._model.backbone import Backbone, check_backbone
from .._model.embedder import PretrainedInput, embedder
from .._model.inference import INFERENCE_BATCH_SIZE, predict_logits
from .._model.work import forward_flops
from .._names import stable_name
from .._training.device import settle_device
from .._training.threads import ThreadPolicy, prediction_work

__all__ = ["CNNEmbedding"]


@stable_name()
class CNNEmbedding(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Images to the features of a CNN: a ``CNNClassifier``'s or a pretrained backbone's.

    With ``estimator``, ``transform`` returns ``estimator.embed(X)``: the
    fitted network's last hidden layer (see ``CNNClassifier.embed``). With
    ``backbone``, the pooled features of a torchvision model with
    ``weights``, untrained here: images are read at their own size, gray
    ones repeated to three channels, and normalised with ImageNet's mean
    and standard deviation, as those weights expect.

    Parameters
    ----------
    estimator : CNNClassifier, default=None
        The classifier whose network gives the features.
    prefit : bool, default=False
        Use ``estimator`` as it is, already fitted; False fits a clone of it
        on ``fit``'s ``X`` and ``y``.
    backbone : str, default=None
        A torchvision classification model name ("resnet18"), instead of
        ``estimator``.
    weights : str or os.PathLike, default=None
        The backbone's weights: a torchvision weights name ("DEFAULT") or a
        local state-dict file. None: random weights (features of no use
        but for tests).
    device : str or torch.device, default="auto"
        Where the backbone runs ("auto": CUDA when available). With
        ``estimator``, the estimator's device is used.

    Attributes
    ----------
    estimator_ : CNNClassifier
        The fitted classifier (with ``estimator``).
    module_ : torch.nn.Module
        The backbone in evaluation mode (with ``backbone``).
    input_shape_ : tuple of int
        ``(C, H, W)`` the images are read at.
    n_features_in_ : int
        Number of values per image seen in ``fit``.

    See Also
    --------
    CNNClassifier.embed : The same features, as a method.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_cnn import CNNClassifier, CNNEmbedding
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(dense_units=(32,), max_epochs=2, random_state=0).fit(X, y)
    >>> knn = make_pipeline(CNNEmbedding(clf, prefit=True), KNeighborsClassifier())
    >>> knn.fit(X[:1000], y[:1000]).predict(X[1000:1005]).shape
    (5,)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "embed"]), None],
        "prefit": ["boolean"],
        "backbone": [str, None],
        "weights": [str, os.PathLike, None],
        "device": [str, torch.device],
    }

    def __init__(self, estimator=None, *, prefit=False, backbone=None, weights=None,
                 device="auto"):
        self.estimator = estimator
        self.prefit = prefit
        self.backbone = backbone
        self.weights = weights
        self.device = device

    def fit(self, X, y=None):
        """Fit the classifier (unless ``prefit``), or build the backbone.

        Parameters
        ----------
        X : array-like, 1-D array of image paths, or LazyImages
            Images in any layout ``CNNClassifier`` takes.
        y : array-like of shape (N,), default=None
            Labels, for fitting ``estimator``; ignored otherwise.

        Returns
        -------
        self : CNNEmbedding
            The fitted transformer.
        """
        self._validate_params()
        if (self.estimator is None) == (self.backbone is None):
            raise ValueError("CNNEmbedding takes an estimator or a backbone, one of the two; "
                             f"got estimator={self.estimator!r}, backbone={self.backbone!r}.")
        if self.estimator is not None:
            if self.prefit:
                check_is_fitted(self.estimator)
                self.estimator_ = self.estimator
            else:
                if y is None:
                    raise ValueError("CNNEmbedding fits its estimator on X and y: pass y, "
                                     "or prefit=True with a fitted estimator.")
                self.estimator_ = clone(self.estimator).fit(X, y)
            self.input_shape_ = tuple(self.estimator_.input_shape_)
            self._n_features_out = self.estimator_.embed(_first(X)).shape[1]
        else:
            check_backbone(self.backbone)
            images = read_images(X, estimator=self)
            self.input_shape_ = tuple(images.image_shape)
            device = settle_device(self.device)
            backbone = Backbone(self.backbone, (3, *self.input_shape_[1:]), 1, self.weights)
            self.module_ = torch.nn.Sequential(PretrainedInput(), backbone).to(device).eval()
            self.device_ = str(device)
            first = images.tensor(device)[:1]
            prepare, network = self.module_
            self._image_flops = (forward_flops(network, prepare(first))
                                 if device.type == "cpu" else None)
            self._n_features_out = self._backbone_features(first).shape[1]
        self.n_features_in_ = int(np.prod(self.input_shape_))
        return self

    def transform(self, X):
        """The features of each image.

        Parameters
        ----------
        X : array-like, 1-D array of image paths, or LazyImages
            Images in the layout used for ``fit``.

        Returns
        -------
        features : ndarray of shape (N, n_features), dtype float64
            One row of features per image.
        """
        check_is_fitted(self, "input_shape_")
        if self.estimator is not None:
            return self.estimator_.embed(X)
        images = read_images(X, expected=self.input_shape_, estimator=self)
        with ThreadPolicy(device=self.device_) as threads:  # _training.threads
            work, wait = prediction_work(getattr(self, "_image_flops", None), len(images),
                                         INFERENCE_BATCH_SIZE)
            threads.apply(work, wait=wait)
            if images.is_files:
                batches = images.batches(INFERENCE_BATCH_SIZE, self.device_)
                return np.concatenate([self._backbone_features(b) for b in batches])
            return self._backbone_features(images.tensor(self.device_))

    def _backbone_features(self, images: torch.Tensor) -> np.ndarray:
        prepare, backbone = self.module_
        return predict_logits(torch.nn.Sequential(prepare, embedder(backbone)), images,
                              self.device_)


def _first(X):
    """The first image of ``X`` (arrays, paths, LazyImages), to size the features."""
    return X[:1] if hasattr(X, "__getitem__") else X

