"""Parameters and fitted attributes as JSON data, and back, importing only what is trusted.

``encode`` turns a value into JSON-ready data: plain values as they are,
paths as text, tuples, dicts, numpy arrays, devices, classes and functions (by import
path), and objects with ``get_params`` (estimators, skorch callbacks,
``BatchAugment``) by class and parameters. ``decode`` inverts it and imports
classes only from ``TRUSTED_MODULES`` or the modules the caller trusts.
The file format that holds the result is ``_persistence``'s.
"""

from __future__ import annotations

import importlib
import inspect
import os

import numpy as np
import torch

__all__ = ["TRUSTED_MODULES", "UntrustedModuleError", "decode", "encode", "import_path",
           "resolve"]

#: Modules a file may name classes from without the caller trusting them.
TRUSTED_MODULES = ("sklearn_cnn", "torch.nn", "torch.optim", "skorch",
                   "torchvision.transforms")


class UntrustedModuleError(ValueError):
    """A file names a class or function of a module that is not trusted.

    Raised before the module is imported. ``load`` passes it on, with the
    file's path, whatever version wrote the file: its message names the
    module and the ``trusted=`` argument to pass, a decision for the caller
    that no upgrade changes.
    """


def import_path(obj, where: str) -> str:
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
    if isinstance(value, os.PathLike):  # a checkpoint folder: a path is its text
        return os.fspath(value)
    if inspect.isclass(value) or inspect.isroutine(value):
        return {"__import__": import_path(value, where)}
    if _has_sklearn_params(value):  # estimators, skorch callbacks, BatchAugment
        return {"__object__": import_path(type(value), where),
                "params": encode(value.get_params(deep=False), where, unsaved)}
    unsaved.append(where)
    return {"__unsaved__": repr(value)}


def _has_sklearn_params(value) -> bool:
    """Whether ``value`` describes itself by scikit-learn's ``get_params(deep=...)``."""
    get_params = getattr(value, "get_params", None)
    if inspect.isclass(value) or not callable(get_params):
        return False
    try:
        return "deep" in inspect.signature(get_params).parameters
    except (TypeError, ValueError):
        return False


def resolve(path: str, trusted: tuple[str, ...]):
    module_name, _, qualname = str(path).partition(":")
    allowed = (*TRUSTED_MODULES, *trusted)
    if not any(module_name == m or module_name.startswith(m + ".") for m in allowed):
        raise UntrustedModuleError(
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
        return resolve(value["__import__"], trusted)
    if "__object__" in value:
        return resolve(value["__object__"], trusted)(**decode(value["params"], trusted))
    if "__unsaved__" in value:
        return None
    if any(k.startswith("__") for k in value):
        raise ValueError(f"Unknown entry in the file: {sorted(value)}.")
    return {k: decode(v, trusted) for k, v in value.items()}
