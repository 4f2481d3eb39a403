"""The state of an estimator that owns a skorch net: what is saved, how it is rebuilt.
"""

from __future__ import annotations

import torch
from skorch.history import History

from .._model.convnet import ConvNet, pooled_last
from .._persistence.compat import add_missing
from .._persistence.state import (
    check_input_attributes,
    check_no_tensors,
    check_pixel_range,
    check_tensors,
    fitted_attributes,
)
from .._warnings import warn_user
from .building import NetBuilder

__all__ = ['NetState', 'load_device']


#: The parts of a skorch net whose state dicts are saved.
NET_PARTS = ("module", "criterion")


def load_device(device) -> torch.device:
    """``device`` resolved, or the CPU (with a warning) where it is not available."""
    from .._training.device import settle_device

    try:
        return settle_device(device)
    except ValueError:
        warn_user(f"The model was saved for device={device!r}, which is not available "
                  "here; loading it on the CPU.", UserWarning)
        return torch.device("cpu")


def trained_samples(history: list) -> int:
    """How many images the last epoch of ``history`` trained on (0 for none)."""
    batches = history[-1].get("batches", []) if history else []
    return sum(batch.get("train_batch_size", 0) for batch in batches)


class NetState(NetBuilder):
    """``_get_state``/``_set_state`` of an estimator whose ``net_`` is a skorch net,
    the fitted network and history it holds, and ``save`` and ``to_onnx``.

    The net is saved as its module's and criterion's state dicts and its
    history; loading builds the net again with ``_build_net`` (``NetBuilder``)
    and loads the state dicts into it. What the targets left (``classes_``
    of a classifier) the estimator of a kind of target checks and names
    (``_check_fitted_targets``, ``_output_labels``).
    """

    #: What error messages call the labels of the outputs.
    _outputs_attribute = "outputs"

    def _check_fitted_targets(self) -> None:
        """Raise a ValueError for fitted target attributes that cannot be (none here)."""

    def _output_labels(self):
        """The labels of the network's outputs, as ``_check_targets`` gave them."""
        raise NotImplementedError(f"{type(self).__name__} names no outputs (_output_labels).")

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
        from .._training.randomness import seeded

        history = attributes.pop("history", None)
        vars(self).update(attributes)
        add_missing(vars(self))  # files saved by earlier versions
        if history is None:  # not fitted
            check_no_tensors(self, tensors)
            return
        # What the network does not hold, checked before it is built from it.
        self._validate_params()
        check_input_attributes(self)
        self._check_fitted_targets()
        check_pixel_range(self)
        device = load_device(self.device if device is None else device)
        with seeded(0, device):  # the weights are overwritten; keep the global RNG untouched
            # No labels: the saved state fills the net (class weights too); the
            # history says how many images it trained on, which sizes its
            # batches for training on.
            outputs = self._output_labels()
            net = self._build_net(tuple(self.input_shape_), outputs, None, device, 0,
                                  n_samples=trained_samples(history))
            if isinstance(net.module, type) and issubclass(net.module, ConvNet) \
                    and pooled_last(tensors):
                # A file saved before batch norm moved after max pooling.
                net.set_params(module__pool_first=False)
            net.initialize()
        built_from = (f"the parameters, input_shape_={tuple(self.input_shape_)} and the "
                      f"{len(outputs)} {self._outputs_attribute}")
        unowned = set(tensors)
        for part in NET_PARTS:
            start = f"{part}."
            state = {k[len(start):]: v for k, v in tensors.items() if k.startswith(start)}
            unowned -= {start + key for key in state}
            module = getattr(net, f"{part}_")
            check_tensors(self, f"net_.{part}_", module.state_dict(), state, built_from)
            module.load_state_dict(state, strict=True)
        check_no_tensors(self, unowned, places=" and ".join(f"net_.{p}_" for p in NET_PARTS))
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
        from .._persistence.format import save

        save(self, path)

    def to_onnx(self, path, *, opset_version: int | None = None, quantize: str | None = None,
                calibration=None) -> None:
        """Export the fitted network, its softmax (or sigmoid) and its metadata to ONNX.

        See ``sklearn_cnn.export.to_onnx``; needs the ``export`` extra. The
        file carries the classes, input shape, pixel scaling and resizing;
        ``sklearn_cnn.export.OnnxPredictor`` predicts from it without torch.

        Parameters
        ----------
        path : str or path-like
            The ``.onnx`` file to write.
        opset_version : int, default=None
            ONNX opset; None: the exporter's default.
        quantize : {None, "int8"}, default=None
            "int8": static int8 quantisation, calibrated on ``calibration``.
        calibration : array-like, sequence of paths, or str, default=None
            Images for ``quantize="int8"``: arrays, paths, or a folder.
        """
        from ..export import to_onnx

        to_onnx(self, path, opset_version=opset_version, quantize=quantize,
                calibration=calibration)
