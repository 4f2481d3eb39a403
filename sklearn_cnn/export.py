"""ONNX export of a fitted ``CNNClassifier`` (needs the ``export`` extra).

The exported graph is the network with batch norm folded in, followed by a
softmax (a sigmoid per label for multilabel targets): its output
``probabilities`` is ``predict_proba``. Its input
``images`` is what the classifier feeds its network: float32
``(N, C, H, W)`` with ``(C, H, W) = clf.input_shape_``, uint8 pixels
already scaled to [0, 1] — exactly what
``sklearn_cnn.preprocessing.ToImage().fit_transform(X)`` returns for the
``X`` you would give ``predict``. The batch size ``N`` is free.

The file is self-contained, weights included, so it can be copied and
loaded on its own; only a network over ONNX's 2 GB protobuf limit has its
weights written next to it, to ``<file name>.data`` (with a warning).
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile

import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._model.inference import class_probabilities, label_probabilities
from ._persistence.atomic import replacing
from ._warnings import warn_user

__all__ = ["to_onnx"]


class _Probabilities(nn.Module):
    """The network followed by the classifier's softmax over classes (sigmoid per label)."""

    def __init__(self, network: nn.Module, multilabel: bool = False) -> None:
        super().__init__()
        self.network = network
        self.multilabel = multilabel

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        probabilities = label_probabilities if self.multilabel else class_probabilities
        return probabilities(self.network(images))


class _Predictions(nn.Module):
    """The network followed by the regressor's scaling back to the targets' scale."""

    def __init__(self, network: nn.Module, mean, scale) -> None:
        super().__init__()
        self.network = network
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.network(images) * self.scale + self.mean


def _graph(estimator, network: nn.Module) -> tuple[nn.Module, str]:
    """What the file computes, and the name of its output."""
    if hasattr(estimator, "y_scale_"):  # a regressor: the targets' scale
        return _Predictions(network, estimator.y_mean_, estimator.y_scale_), "predictions"
    return _Probabilities(network, estimator.multilabel_), "probabilities"


def to_onnx(estimator, path: str | os.PathLike, *, opset_version: int | None = None) -> None:
    """Write ``estimator``'s network and its softmax (or sigmoid) to one ONNX file.

    For a ``CNNRegressor``, the network and the scaling back to the targets'
    scale: its output ``predictions`` is ``(N, n_outputs_)``, as
    ``predict`` gives it before a single output is flattened.

    The weights are stored in the file, so ``path`` alone is the model: it
    can be copied, uploaded or loaded from anywhere. ONNX files are
    protobuf messages, limited to 2 GB: a larger network keeps its graph in
    ``path`` and its weights in ``path`` + ``".data"`` beside it (ONNX's
    external data, found through the relative name), and a warning says so.

    Parameters
    ----------
    estimator : CNNClassifier or CNNRegressor
        A fitted estimator.
    path : str or path-like
        The ``.onnx`` file to write.
    opset_version : int, default=None
        ONNX opset; None: the exporter's default.

    Raises
    ------
    ImportError
        If the ``export`` extra (onnx, onnxscript) is not installed.
    OSError
        Naming ``path``, when it cannot be written. The write is atomic: a
        failed or interrupted export leaves the file already at ``path`` as
        it was.

    Warns
    -----
    UserWarning
        For a network over 2 GB, naming the file its weights went to.

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
    if getattr(estimator, "tta", False):
        warn_user(
            "The ONNX file holds the network alone, without test-time augmentation "
            "(tta=True): its probabilities are those of predict_proba with tta=False. "
            "To average over views, run the file on each view of the images "
            "(sklearn_cnn._model.augment.tta_views) and average the log-probabilities.",
            UserWarning)
    try:
        import onnx
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "ONNX export needs the `export` extra: pip install 'sklearn-cnn[export]' "
            "(onnx, onnxscript, and onnxruntime to run the file)."
        ) from exc
    network = copy.deepcopy(estimator.net_.inference_module()).to("cpu").float()
    # ONNX tensors have no memory format: the exported weights are the
    # standard contiguous ones, whatever CNNNet.memory_format chose.
    network.to(memory_format=torch.contiguous_format)
    example = torch.zeros((2, *estimator.input_shape_))
    options = {} if opset_version is None else {"opset_version": opset_version}
    # torch's own exporter (torch.export-based): a maintained library, not a
    # hand-written graph. Saved by onnx rather than by the exporter, which
    # writes the weights to a second file (external data) from a few kB up.
    graph, output = _graph(estimator, network)
    program = torch.onnx.export(
        graph.eval(), (example,), input_names=["images"], output_names=[output],
        dynamic_shapes=({0: torch.export.Dim("batch")},), dynamo=True, verbose=False,
        **options,
    )
    _save(onnx, program.model_proto, os.fspath(path))


def _save(onnx, model, path: str) -> None:
    """Write ``model`` to ``path`` atomically, weights included while protobuf allows it."""
    # The very test onnx.save_model applies before refusing a message over 2 GB.
    if model.ByteSize() <= onnx.checker.MAXIMUM_PROTOBUF:
        with replacing(path) as temp:
            onnx.save_model(model, os.fspath(temp))
        return
    # onnx writes the weights to ``location`` beside the file it saves, and the
    # graph names it: both go to a hidden folder beside ``path``, then each
    # replaces its target, the weights first.
    data = os.path.basename(path) + ".data"
    folder = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(path)),
                              prefix=f".{os.path.basename(path)}.")
    try:
        onnx.save_model(model, os.path.join(folder, "model.onnx"), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=data)
        for name, target in ((data, path + ".data"), ("model.onnx", path)):
            with replacing(target) as temp:
                os.replace(os.path.join(folder, name), temp)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    warn_user(
        f"The network is larger than ONNX's 2 GB file limit: {path!r} holds its graph "
        f"and {data!r} beside it its weights. Keep the two files together.",
        UserWarning)
