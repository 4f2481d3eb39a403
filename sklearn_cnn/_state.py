"""What ``sklearn_cnn.save`` stores of a fitted estimator, and how ``load`` puts it back.

An estimator's state is two dicts: ``tensors`` (name → torch tensor: network
weights and the like) and ``attributes`` (fitted attribute name → value:
arrays, labels, lists, anything ``_codec.encode`` takes). Persistence calls
:func:`get_state` and :func:`set_state` and knows no estimator class: an
estimator with more than plain fitted attributes defines
``_get_state()`` and ``_set_state(tensors, attributes, device)``, as
``NetStateMixin`` does for ``CNNClassifier``; every other one gets the
default, its fitted attributes (those ending in "_") as they are.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from skorch.history import History

from ._convnet import ConvNet, pooled_last

__all__ = ["NetStateMixin", "add_missing", "fitted_attributes", "get_state", "load_device",
           "set_state"]

#: The parts of a skorch net whose state dicts are saved.
NET_PARTS = ("module", "criterion")


#: Parameters added after the first release, and their defaults: estimators
#: saved or pickled before they existed take these.
LATER_PARAMETERS = {"num_workers": "auto", "precision": "float32", "cuda_graphs": True,
                    "tta": False, "ema": None}


def add_missing(attributes: dict) -> None:
    """Fill in, in place, what an estimator saved or pickled by an earlier version lacks.

    The parameters added since (their defaults); for a fitted estimator, the
    fitted attributes added since: ``multilabel_`` (False), ``pixel_range_``
    (None: unknown), and once it has a
    net, ``precision_`` (the net's) and ``cuda_graphs_`` (whether its last
    training run replayed steps, False where it did not record it).

    Parameters
    ----------
    attributes : dict
        The estimator's ``__dict__``, or the state ``__setstate__`` receives.
    """
    for name, default in LATER_PARAMETERS.items():
        attributes.setdefault(name, default)
    if "classes_" in attributes:
        attributes.setdefault("multilabel_", False)
        attributes.setdefault("pixel_range_", None)  # unknown: not checked
    net = attributes.get("net_")
    if net is not None:
        attributes.setdefault("precision_", net.precision)
        attributes.setdefault("cuda_graphs_", getattr(net, "graph_replays_", 0) > 0)


def fitted_attributes(estimator) -> dict:
    """The estimator's fitted attributes: public names that end in "_"."""
    return {k: v for k, v in vars(estimator).items()
            if k.endswith("_") and not k.startswith("_")}


def get_state(estimator) -> tuple[dict, dict]:
    """``(tensors, attributes)`` of ``estimator`` (its ``_get_state`` where it has one)."""
    method = getattr(estimator, "_get_state", None)
    return method() if method is not None else ({}, fitted_attributes(estimator))


def set_state(estimator, tensors: dict, attributes: dict, device=None) -> None:
    """Put back what :func:`get_state` returned (through ``_set_state`` where defined)."""
    method = getattr(estimator, "_set_state", None)
    if method is not None:
        method(tensors, attributes, device)
    else:
        vars(estimator).update(attributes)


def load_device(device) -> torch.device:
    """``device`` resolved, or the CPU (with a warning) where it is not available."""
    from ._device import resolve_device

    try:
        return resolve_device(device)
    except ValueError:
        warnings.warn(f"The model was saved for device={device!r}, which is not available "
                      "here; loading it on the CPU.", UserWarning, stacklevel=5)
        return torch.device("cpu")


class NetStateMixin:
    """``_get_state``/``_set_state`` of an estimator whose ``net_`` is a skorch net,
    the fitted network and history it holds, and ``save`` and ``to_onnx``.

    The net is saved as its module's and criterion's state dicts and its
    history; loading builds the net again with the estimator's own
    ``_build_net`` (``NetBuilderMixin``) and loads the state dicts into it.
    """

    def _get_state(self) -> tuple[dict, dict]:
        attributes = fitted_attributes(self)
        net = attributes.pop("net_", None)
        tensors = {}
        if net is not None:
            for part in NET_PARTS:
                for key, tensor in getattr(net, f"{part}_").state_dict().items():
                    tensors[f"{part}.{key}"] = tensor.detach().cpu().contiguous().clone()
            attributes["history"] = net.history.to_list()
        return tensors, attributes

    def _set_state(self, tensors: dict, attributes: dict, device=None) -> None:
        from ._random import seeded

        history = attributes.pop("history", None)
        vars(self).update(attributes)
        add_missing(vars(self))  # files saved by earlier versions
        if history is None:  # not fitted
            return
        self._validate_params()
        device = load_device(self.device if device is None else device)
        with seeded(0, device):  # the weights are overwritten; keep the global RNG untouched
            # One sample of each class (of each label, for multilabel targets):
            # the labels only size the class weights and the hold-out, which
            # matter when training; the saved class weights are loaded below.
            labels = np.eye(len(self.classes_)) if self.multilabel_ else self.classes_
            net = self._build_net(tuple(self.input_shape_), self.classes_, labels, device, 0)
            if isinstance(net.module, type) and issubclass(net.module, ConvNet) \
                    and pooled_last(tensors):
                # A file saved before batch norm moved after max pooling.
                net.set_params(module__pool_first=False)
            net.initialize()
        for part in NET_PARTS:
            start = f"{part}."
            state = {k[len(start):]: v for k, v in tensors.items() if k.startswith(start)}
            getattr(net, f"{part}_").load_state_dict(state, strict=True)
        net.history = History(history)
        self.net_ = net
        self.device_ = str(device)
        add_missing(vars(self))  # the fitted attributes that come from the net

    # ----------------------------------------------------- derived attributes

    @property
    def module_(self) -> torch.nn.Module:
        """The trained network (``net_.module_``)."""
        return self.net_.module_

    @property
    def history_(self):
        """Per-epoch training history (``net_.history``)."""
        return self.net_.history

    # ---------------------------------------------------- persistence, export

    def save(self, path) -> None:
        """An alias of ``sklearn_cnn.save(self, path)``: the model, without pickle.

        ``sklearn_cnn.save``/``sklearn_cnn.load`` are the one save API, for
        estimators and pipelines alike (as ``skops.io.dump``/``load``).

        Parameters
        ----------
        path : str or path-like
            The file to write, conventionally ``*.safetensors``.
        """
        from ._persistence import save

        save(self, path)

    def to_onnx(self, path, *, opset_version: int | None = None) -> None:
        """Export the fitted network, with its softmax (or sigmoid), to an ONNX file.

        See ``sklearn_cnn.export.to_onnx``; needs the ``export`` extra.

        Parameters
        ----------
        path : str or path-like
            The ``.onnx`` file to write.
        opset_version : int, default=None
            ONNX opset; None: the exporter's default.
        """
        from .export import to_onnx

        to_onnx(self, path, opset_version=opset_version)
