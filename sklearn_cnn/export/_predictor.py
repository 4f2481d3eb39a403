"""``OnnxPredictor``: predictions from an exported file with ONNX Runtime, numpy and Pillow.

No torch, torchvision, skorch or scikit-learn: a deployment installs
``onnxruntime``, ``numpy`` and ``Pillow`` and sklearn-cnn without its
dependencies (README, "Deploying without PyTorch"). The file's metadata
(``_metadata``) says the classes and how to read images; ``_images`` reads
them as the estimator does.
"""

from __future__ import annotations

import os

import numpy as np

from ._images import batches
from ._metadata import read_metadata
from ._quantize import session

__all__ = ["OnnxPredictor"]


class OnnxPredictor:
    """Predict with an ONNX file written by ``to_onnx``, without PyTorch.

    Takes what the estimator's ``predict`` takes, read the same way: arrays
    of images, image file paths (a folder too) and PIL images; files and PIL
    images of another size are resized as the estimator resizes them.

    Parameters
    ----------
    path : str or path-like
        An ``.onnx`` file of ``CNNClassifier.to_onnx`` or
        ``CNNRegressor.to_onnx`` (float32 or int8).
    n_threads : int, default=None
        ONNX Runtime's intra-op threads; None: its default (the cores).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, in the order of ``predict_proba``'s columns
        (classifiers only).
    input_shape_ : tuple of int
        ``(C, H, W)`` of the images the network takes.
    deployment_ : Deployment
        Everything the file's metadata says (``sklearn_cnn.export._metadata``).

    See Also
    --------
    sklearn_cnn.export.to_onnx : Writes the files it reads.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.export import OnnxPredictor
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0).fit(X[:200], y[:200])
    >>> path = os.path.join(tempfile.mkdtemp(), "digits.onnx")
    >>> clf.to_onnx(path)
    >>> predictor = OnnxPredictor(path)
    >>> bool((predictor.predict(X[200:260]) == clf.predict(X[200:260])).all())
    True
    >>> predictor.classes_[:3], predictor.input_shape_
    (array([0, 1, 2]), (1, 8, 8))
    """

    def __init__(self, path: str | os.PathLike, *, n_threads: int | None = None) -> None:
        self.path = path
        self.n_threads = n_threads
        self.session_ = session(path, n_threads)
        self.deployment_ = read_metadata(self.session_.get_modelmeta().custom_metadata_map)
        self.input_shape_ = self.deployment_.input_shape
        self._input = self.session_.get_inputs()[0].name
        if self.deployment_.task != "regression":
            self.classes_ = np.asarray(self.deployment_.outputs)

    def _outputs(self, X) -> np.ndarray:
        """The file's output for every image of ``X``."""
        outputs = [self.session_.run(None, {self._input: images})[0]
                   for images in batches(X, self.input_shape_, self.deployment_.mode)]
        return np.concatenate(outputs)

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each class (of each label, for multilabel targets).

        Parameters
        ----------
        X : array-like, path, sequence of paths or of PIL images
            Images, as the estimator's ``predict_proba`` takes them.

        Returns
        -------
        proba : ndarray of shape (N, n_classes), float32
            Columns in the order of ``classes_``; a sigmoid per label for
            multilabel targets.
        """
        if self.deployment_.task == "regression":
            raise AttributeError("A CNNRegressor's file predicts numbers: use predict.")
        return self._outputs(X)

    def predict(self, X) -> np.ndarray:
        """The class (the labels; the numbers for a regressor) of each image.

        Parameters
        ----------
        X : array-like, path, sequence of paths or of PIL images
            Images, as the estimator's ``predict`` takes them.

        Returns
        -------
        y : ndarray of shape (N,), or (N, n_labels) / (N, n_outputs)
            As the estimator's ``predict`` returns them.
        """
        outputs = self._outputs(X)
        task = self.deployment_.task
        if task == "regression":
            return outputs.ravel() if outputs.shape[1] == 1 else outputs
        if task == "multilabel":
            return (outputs > 0.5).astype(np.int64)
        return self.classes_[outputs.argmax(axis=1)]

    def __repr__(self) -> str:
        kind = "int8" if self.deployment_.quantization else "float32"
        return (f"OnnxPredictor({os.fspath(self.path)!r}: {self.deployment_.estimator}, "
                f"{kind}, input {self.input_shape_})")
