"""``to_onnx``: a fitted estimator's network, and what deploying it needs, in one ONNX file.

The exported graph is the network with batch norm folded in, followed by a
softmax (a sigmoid per label for multilabel targets): its output
``probabilities`` is ``predict_proba``. Its input
``images`` is what the classifier feeds its network: float32
``(N, C, H, W)`` with ``(C, H, W) = clf.input_shape_``, uint8 pixels
already scaled to [0, 1] — exactly what
``sklearn_cnn.preprocessing.ToImage().fit_transform(X)`` returns for the
``X`` you would give ``predict``. The batch size ``N`` is free. The file's
metadata says the rest (``_metadata``: classes, shape, mode, pixel scaling,
resizing, version), and ``quantize="int8"`` writes it with int8 weights
and activations (``_quantize``).

The file is self-contained, weights included, so it can be copied and
loaded on its own; only a network over ONNX's 2 GB protobuf limit has its
weights written next to it, to ``<file name>.data`` (with a warning).
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._data.files import MODES
from .._data.images import read_images
from .._model.inference import class_probabilities, label_probabilities
from .._persistence.atomic import replacing
from .._version import __version__
from .._warnings import warn_user
from ._images import folder_images
from ._metadata import Deployment, write_metadata
from ._quantize import agreement, check, quantize_int8

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


#: What ``quantize`` takes.
QUANTIZE = (None, "int8")


def deployment(estimator, quantization: dict | None = None) -> Deployment:
    """What the file of ``estimator`` says of it (``_metadata``)."""
    if hasattr(estimator, "y_scale_"):
        task, outputs = "regression", [f"output {k}" for k in range(estimator.n_outputs_)]
    else:
        task = "multilabel" if estimator.multilabel_ else "multiclass"
        outputs = np.asarray(estimator.classes_).tolist()
    shape = tuple(int(v) for v in estimator.input_shape_)
    pixels = getattr(estimator, "pixel_range_", None)
    return Deployment(type(estimator).__name__, task, outputs, shape, MODES[shape[0]],
                      None if pixels is None else [float(v) for v in pixels], quantization,
                      __version__)


def to_onnx(estimator, path: str | os.PathLike, *, opset_version: int | None = None,
            quantize: str | None = None, calibration=None) -> None:
    """Write ``estimator``'s network, its softmax (or sigmoid) and its metadata to one ONNX file.

    For a ``CNNRegressor``, the network and the scaling back to the targets'
    scale: its output ``predictions`` is ``(N, n_outputs_)``, as
    ``predict`` gives it before a single output is flattened.

    The file's metadata carries what deploying it needs: the class labels in
    the order of the probabilities, the input shape and channels, how
    pixels are scaled, how images are resized, and the version
    (``sklearn_cnn.export._metadata``; docs/persistence.md, "ONNX").
    ``sklearn_cnn.export.OnnxPredictor`` reads it, and predicts from the
    file with ONNX Runtime, numpy and Pillow alone.

    ``quantize="int8"`` writes int8 weights and activations: ONNX Runtime's
    static quantisation (QDQ, per-channel weights, MinMax ranges),
    calibrated on ``calibration``. Afterwards the int8 model runs beside the
    float one on those images, and a ``QuantizationWarning`` says so where
    they agree on less than 99 % of them, or where (images with labels: a
    folder of class subfolders) the accuracy falls by more than 0.5 points.
    The file's metadata records the agreement.

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
    quantize : {None, "int8"}, default=None
        None: float32 weights, the network's own numbers. "int8": static
        int8 quantisation (smaller, and faster on batches of larger images:
        docs/benchmarks.md, "Deployment: int8 ONNX").
    calibration : array-like, sequence of paths, or str, default=None
        With ``quantize="int8"`` (required): images like those the model
        will see, a few hundred, in any input ``predict`` takes, or the
        path of a folder (of images, or of class subfolders of images,
        whose names then give labels for the accuracy check).

    Raises
    ------
    ImportError
        If the ``export`` extra (onnx, onnxscript, and onnxruntime for
        ``quantize``) is not installed.
    ValueError
        For a ``quantize`` other than None and "int8", or "int8" without
        ``calibration``.
    OSError
        Naming ``path``, when it cannot be written. The write is atomic: a
        failed or interrupted export leaves the file already at ``path`` as
        it was.

    Warns
    -----
    UserWarning
        For a network over 2 GB, naming the file its weights went to.
    QuantizationWarning
        Where the int8 file agrees with the float model on less than 99 % of
        the calibration images, or loses more than 0.5 points of accuracy.

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
    if quantize not in QUANTIZE:
        raise ValueError(f"quantize={quantize!r} is not one of {QUANTIZE}: None writes "
                         "float32 weights, 'int8' static int8 weights and activations.")
    if quantize is not None and calibration is None:
        raise ValueError(
            "quantize='int8' needs calibration images: to_onnx(path, quantize='int8', "
            "calibration=X) with a few hundred images like those the model will see "
            "(arrays, paths, or a folder).")
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
    model = program.model_proto
    write_metadata(model, deployment(estimator))
    if quantize is not None:
        model = _quantized(onnx, estimator, model, calibration)
    _save(onnx, model, os.fspath(path))


def calibration_images(estimator, calibration) -> tuple[np.ndarray, np.ndarray | None]:
    """The calibration images as the graph takes them, and their classes' indices if known.

    A folder of class subfolders whose names are all classes of a
    multiclass ``estimator`` gives labels; any other input none.
    """
    labels = None
    if isinstance(calibration, (str, os.PathLike)) and os.path.isdir(calibration):
        from ..datasets import load_image_folder

        try:
            calibration, names = load_image_folder(calibration, as_paths=True)
        except ValueError:  # no class subfolders: the folder's images themselves
            calibration, names = np.array(folder_images(calibration)), None
        classes = np.asarray(estimator.classes_).astype(str) if hasattr(
            estimator, "classes_") and not estimator.multilabel_ else None
        if names is not None and classes is not None and np.isin(names, classes).all():
            labels = np.searchsorted(classes, np.asarray(names).astype(str))
    images = read_images(calibration, image_shape=estimator.image_shape,
                         data_format=estimator.data_format, expected=estimator.input_shape_,
                         estimator=estimator)
    return images.tensor("cpu").numpy(), labels


def _quantized(onnx, estimator, model, calibration):
    """``model`` with int8 weights and activations, calibrated and checked (``_quantize``)."""
    images, labels = calibration_images(estimator, calibration)
    with tempfile.TemporaryDirectory() as folder:
        exact, quantised = (os.path.join(folder, name) for name in ("float.onnx", "int8.onnx"))
        onnx.save_model(model, exact)
        quantize_int8(exact, quantised, images)
        task = deployment(estimator).task
        result = agreement(exact, quantised, images, task, labels)
        check(result)
        model = onnx.load_model(quantised)
    write_metadata(model, deployment(estimator, {
        "weights": "int8, one scale per output channel", "activations": "uint8",
        "format": "QDQ", "method": "ONNX Runtime quantize_static, MinMax calibration",
        "calibration_images": len(images), **result}))
    return model


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
