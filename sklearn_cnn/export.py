"""ONNX export of a fitted ``CNNClassifier`` (needs the ``export`` extra).

The exported graph is the network with batch norm folded in, followed by a
softmax: its output ``probabilities`` is ``predict_proba``. Its input
``images`` is what the classifier feeds its network: float32
``(N, C, H, W)`` with ``(C, H, W) = clf.input_shape_``, uint8 pixels
already scaled to [0, 1] — exactly what
``sklearn_cnn.preprocessing.ToImage().fit_transform(X)`` returns for the
``X`` you would give ``predict``. The batch size ``N`` is free.
"""

from __future__ import annotations

import copy
import os

import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

__all__ = ["to_onnx"]


class _Probabilities(nn.Module):
    """The network followed by a softmax over classes."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.network(images).float(), dim=1)


def to_onnx(estimator, path: str | os.PathLike, *, opset_version: int | None = None) -> None:
    """Write ``estimator``'s network and a softmax to an ONNX file.

    Parameters
    ----------
    estimator : CNNClassifier
        A fitted classifier.
    path : str or path-like
        The ``.onnx`` file to write.
    opset_version : int, default=None
        ONNX opset; None: the exporter's default.

    Raises
    ------
    ImportError
        If the ``export`` extra (onnx, onnxscript) is not installed.

    Examples
    --------
    >>> import numpy as np, onnxruntime, tempfile, os
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.preprocessing import ToImage
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0).fit(X[:200], y[:200])
    >>> path = os.path.join(tempfile.mkdtemp(), "digits.onnx")
    >>> clf.to_onnx(path)
    >>> session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> images = ToImage().fit_transform(X[200:210])
    >>> proba = session.run(None, {"images": images})[0]
    >>> bool(np.allclose(proba, clf.predict_proba(X[200:210]), atol=1e-5))
    True
    """
    check_is_fitted(estimator)
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "ONNX export needs the `export` extra: pip install 'sklearn-cnn[export]' "
            "(onnx, onnxscript, and onnxruntime to run the file)."
        ) from exc
    network = copy.deepcopy(estimator.net_.inference_module()).to("cpu").float()
    network.to(memory_format=torch.contiguous_format)
    example = torch.zeros((2, *estimator.input_shape_))
    options = {} if opset_version is None else {"opset_version": opset_version}
    # torch's own exporter (torch.export-based): a maintained library, not a
    # hand-written graph.
    torch.onnx.export(
        _Probabilities(network).eval(), (example,), os.fspath(path),
        input_names=["images"], output_names=["probabilities"],
        dynamic_shapes=({0: torch.export.Dim("batch")},), dynamo=True, verbose=False,
        **options,
    )
