"""Save and load estimators without pickle: tensors in safetensors, the rest in JSON.

A model file is one safetensors file. Its tensors are the numeric state (the
network's weights and buffers, the loss's class weights, fitted arrays of the
transformers); its header metadata holds one JSON document with the
parameters, the other fitted attributes and the library versions. Reading a
file parses JSON and tensors only, so nothing in it runs. Classes named in it
(a custom ``module=``, an optimizer class, callbacks) are imported only from
the modules in ``TRUSTED_MODULES`` or those the caller lists in ``trusted``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import warnings
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import sklearn
import skorch
import torch
from safetensors import safe_open
from sklearn.base import BaseEstimator
from skorch.callbacks import Callback
from skorch.history import History

from ._augment import BatchAugment

#: What a file written by this module says it is, and the layout it has.
FORMAT = "sklearn-cnn"
FORMAT_VERSION = 1

#: Modules a file may name classes from without the caller trusting them.
TRUSTED_MODULES = ("sklearn_cnn", "torch.nn", "torch.optim", "skorch",
                   "torchvision.transforms")


# ---------------------------------------------------------------- values


def _import_path(obj, where: str) -> str:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not module or module == "__main__" or "<locals>" in qualname:
        raise ValueError(
            f"{where}={obj!r} cannot be saved: save() stores classes and functions "
            "by import path, and this one is not importable (defined in a script "
            "or inside a function). Move it to a module, or use pickle."
        )
    return f"{module}:{qualname}"


def encode(value, where: str, unsaved: list[str]):
    """``value`` as JSON-ready data; names of values that cannot be stored go to ``unsaved``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        items = [encode(v, f"{where}[{i}]", unsaved) for i, v in enumerate(value)]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v, f"{where}[{k!r}]", unsaved) for k, v in value.items()}
        return {"__dict__": [[encode(k, where, unsaved), encode(v, f"{where}[{k!r}]", unsaved)]
                             for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        items = value.tolist() if value.dtype.kind != "O" else [
            encode(v, where, unsaved) for v in value.ravel()]
        return {"__array__": items, "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if inspect.isclass(value) or inspect.isroutine(value):
        return {"__import__": _import_path(value, where)}
    if isinstance(value, (BaseEstimator, Callback, BatchAugment)):  # they have get_params
        return {"__object__": _import_path(type(value), where),
                "params": encode(value.get_params(deep=False), where, unsaved)}
    unsaved.append(where)
    return {"__unsaved__": repr(value)}


def _resolve(path: str, trusted: tuple[str, ...]):
    module_name, _, qualname = str(path).partition(":")
    allowed = (*TRUSTED_MODULES, *trusted)
    if not any(module_name == m or module_name.startswith(m + ".") for m in allowed):
        raise ValueError(
            f"The file names {path!r}; its module {module_name!r} is not trusted, so it "
            f"was not imported. If you trust the file, pass trusted=[{module_name!r}] "
            "to load()."
        )
    obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not (inspect.isclass(obj) or inspect.isroutine(obj)):
        raise ValueError(f"The file names {path!r}, which is not a class or function.")
    return obj


def decode(value, trusted: tuple[str, ...]):
    """Inverse of ``encode``: classes come only from trusted modules."""
    if isinstance(value, list):
        return [decode(v, trusted) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(decode(v, trusted) for v in value["__tuple__"])
    if "__dict__" in value:
        return {decode(k, trusted): decode(v, trusted) for k, v in value["__dict__"]}
    if "__array__" in value:
        dtype = np.dtype(value["dtype"])
        items = decode(value["__array__"], trusted) if dtype.kind == "O" else value["__array__"]
        return np.array(items, dtype=dtype).reshape(value["shape"])
    if "__device__" in value:
        return torch.device(value["__device__"])
    if "__import__" in value:
        return _resolve(value["__import__"], trusted)
    if "__object__" in value:
        return _resolve(value["__object__"], trusted)(**decode(value["params"], trusted))
    if "__unsaved__" in value:
        return None
    if any(k.startswith("__") for k in value):
        raise ValueError(f"Unknown entry in the file: {sorted(value)}.")
    return {k: decode(v, trusted) for k, v in value.items()}


# ------------------------------------------------------------ estimators


def _fitted_attributes(estimator) -> dict:
    return {k: v for k, v in vars(estimator).items()
            if k.endswith("_") and not k.startswith("_")}


def _save_estimator(estimator, prefix: str, tensors: dict, unsaved: list[str]) -> dict:
    from ._classifier import CNNClassifier

    cls = type(estimator)
    if not cls.__module__.startswith("sklearn_cnn"):
        raise TypeError(
            f"save() stores sklearn-cnn estimators and pipelines of them; got a "
            f"{cls.__name__}. Use pickle or joblib for other estimators."
        )
    name = cls.__name__
    entry = {"class": _import_path(cls, name),
             "params": encode(estimator.get_params(deep=False), name, unsaved),
             "fitted": {}, "arrays": []}
    fitted = _fitted_attributes(estimator)
    if isinstance(estimator, CNNClassifier) and "net_" in fitted:
        net = fitted.pop("net_")
        for part in ("module", "criterion"):
            for key, tensor in getattr(net, f"{part}_").state_dict().items():
                tensors[f"{prefix}.{part}.{key}"] = tensor.detach().cpu().contiguous().clone()
        entry["fitted"]["history"] = json.loads(json.dumps(net.history.to_list(),
                                                           default=_plain))
    for key, value in fitted.items():
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            tensors[f"{prefix}.{key}"] = torch.from_numpy(np.ascontiguousarray(value).copy())
            entry["arrays"].append(key)
        else:
            entry["fitted"][key] = encode(value, f"{name}.{key}", unsaved)
    return entry


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"history value {value!r} is not JSON data")


def save(estimator, path: str | os.PathLike) -> None:
    """Write a fitted (or unfitted) estimator to ``path``, without pickle.

    Parameters
    ----------
    estimator : CNNClassifier, sklearn-cnn transformer or Pipeline of them
        What to save. Classes it names (``module=``, an optimizer class,
        callbacks) are stored by import path.
    path : str or path-like
        The file to write (conventionally ``*.safetensors``). A new file
        gets the permissions ``open()`` gives (``0o666`` less the umask);
        an existing one is overwritten and keeps its own.

    Warns
    -----
    UserWarning
        For parameters that only shape training and cannot be stored as data
        (e.g. a torchvision transform as ``augment``): they load as None.
    """
    from sklearn.pipeline import Pipeline

    tensors: dict[str, torch.Tensor] = {}
    unsaved: list[str] = []
    header = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "versions": {"sklearn_cnn": _version(), "torch": torch.__version__,
                     "scikit-learn": sklearn.__version__, "skorch": skorch.__version__,
                     "safetensors": safetensors.__version__},
    }
    if isinstance(estimator, Pipeline):
        params = estimator.get_params(deep=False)
        steps = params.pop("steps")
        header["pipeline"] = encode(params, "Pipeline", unsaved)
        header["steps"] = [[name, _save_estimator(step, str(i), tensors, unsaved)]
                           for i, (name, step) in enumerate(steps)]
    else:
        header["estimator"] = _save_estimator(estimator, "0", tensors, unsaved)
    if unsaved:
        warnings.warn(
            f"Not saved (they only shape training, and are not data): {', '.join(unsaved)}. "
            "They load as None; set them again before refitting.", UserWarning, stacklevel=3)
    data = safetensors.torch.save(tensors, metadata={FORMAT: json.dumps(header)})
    # Written by Python's open(), not safetensors' save_file, which creates its
    # files with mode 0600 whatever the umask: a model file gets the
    # permissions of any other file the user writes (0o666 & ~umask).
    with open(path, "wb") as file:
        file.write(data)


def _version() -> str:
    from . import __version__

    return __version__


def _read(path) -> tuple[dict, dict]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No sklearn-cnn model file at {os.fspath(path)!r}.")
    try:
        with safe_open(os.fspath(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except Exception as exc:  # safetensors raises its own error types for bad files
        raise ValueError(
            f"{os.fspath(path)!r} is not a readable sklearn-cnn model file (a safetensors "
            f"file written by sklearn_cnn.save): {exc}"
        ) from exc
    if FORMAT not in metadata:
        raise ValueError(f"{os.fspath(path)!r} is a safetensors file, but not one written by "
                         "sklearn_cnn.save (its header has no sklearn-cnn entry).")
    try:
        header = json.loads(metadata[FORMAT])
        version = int(header["format_version"])
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{os.fspath(path)!r} has a damaged sklearn-cnn header: {exc}") from exc
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} was written in sklearn-cnn file format {version} "
            f"(sklearn-cnn {header.get('versions', {}).get('sklearn_cnn')}); this "
            f"version reads format {FORMAT_VERSION} and older. Upgrade sklearn-cnn."
        )
    return header, tensors


def load(path: str | os.PathLike, *, trusted=(), device=None):
    """Read an estimator written by ``save``; nothing in the file is executed.

    Parameters
    ----------
    path : str or path-like
        A file written by ``save`` or ``CNNClassifier.save``.
    trusted : iterable of str, default=()
        Modules (and their submodules) the file may name classes from, in
        addition to sklearn_cnn, torch.nn, torch.optim, skorch and
        torchvision.transforms; for example the module of a custom
        ``module=`` network. Anything else raises a ValueError.
    device : str or torch.device, default=None
        Where to put the network; None: the saved ``device`` parameter
        ("auto": CUDA when available), the CPU where that is not available.

    Returns
    -------
    estimator : CNNClassifier, transformer or Pipeline
        As saved: fitted if it was fitted.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For a file that is not an sklearn-cnn file, is truncated or
        tampered with, comes from a newer format version, or names classes
        from untrusted modules.
    """
    from sklearn.pipeline import Pipeline

    header, tensors = _read(path)
    trusted = tuple(trusted)
    try:
        if "steps" in header:
            steps = [(name, _load_estimator(entry, str(i), tensors, trusted, device))
                     for i, (name, entry) in enumerate(header["steps"])]
            return Pipeline(steps, **decode(header["pipeline"], trusted))
        return _load_estimator(header["estimator"], "0", tensors, trusted, device)
    except (KeyError, TypeError, RuntimeError) as exc:
        raise ValueError(f"{os.fspath(path)!r} is damaged or was tampered with: "
                         f"{type(exc).__name__}: {exc}") from exc


def _load_estimator(entry: dict, prefix: str, tensors: dict, trusted, device):
    from ._classifier import CNNClassifier

    if not str(entry["class"]).startswith("sklearn_cnn."):
        raise ValueError(f"The file names estimator class {entry['class']!r}, not an "
                         "sklearn-cnn one.")
    cls = _resolve(entry["class"], ())
    params = decode(entry["params"], trusted)
    estimator = cls(**params)
    fitted = {key: decode(value, trusted) for key, value in entry["fitted"].items()
              if key != "history"}  # the history is plain JSON, stored as skorch has it
    history = entry["fitted"].get("history")
    for key in entry["arrays"]:
        fitted[key] = tensors[f"{prefix}.{key}"].numpy()
    vars(estimator).update(fitted)
    if isinstance(estimator, CNNClassifier) and history is not None:
        _restore_net(estimator, prefix, tensors, history, device)
    return estimator


def _restore_net(clf, prefix: str, tensors: dict, history: list, device) -> None:
    from ._device import seeded
    from ._params import check_params
    from ._skorch_net import build_net

    params = clf.get_params(deep=False)
    check_params(params, caller_name=type(clf).__name__)
    device = _load_device(params["device"] if device is None else device)
    with seeded(0, device):  # the weights are overwritten; keep the global RNG untouched
        # The labels only size class weights and the hold-out, which matter
        # when training; the saved class weights are loaded below.
        net = build_net(params, tuple(clf.input_shape_), clf.classes_, clf.classes_, device, 0)
        net.initialize()
    for part in ("module", "criterion"):
        start = f"{prefix}.{part}."
        state = {k[len(start):]: v for k, v in tensors.items() if k.startswith(start)}
        getattr(net, f"{part}_").load_state_dict(state, strict=True)
    net.history = History(history)
    clf.net_ = net
    clf.device_ = str(device)


def _load_device(device) -> torch.device:
    from ._device import resolve_device

    try:
        return resolve_device(device)
    except ValueError:
        warnings.warn(f"The model was saved for device={device!r}, which is not available "
                      "here; loading it on the CPU.", UserWarning, stacklevel=4)
        return torch.device("cpu")
