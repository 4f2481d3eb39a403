"""What earlier versions wrote, read by this one: the one table of old names and defaults.

Model files and pickles name objects by their stable names (``_names``).
Those written by 0.1.0 before stable names existed name private module
paths; and models of every version may lack what was added since.
Everything this version does to read them is here:

- :data:`OLD_MODULES`: the module paths they name, served as aliases in
  ``sys.modules`` (:func:`register_old_module_paths`, run when
  ``sklearn_cnn`` is imported) whose attributes are the objects' stable
  names. ``sklearn_cnn._training``, once such a path and now a real
  subpackage, serves them the same way (its ``__getattr__``).
- :data:`LATER_PARAMETERS` and :func:`add_missing`: the estimator's
  parameters and fitted attributes added since.
- :data:`LATER_NET_PARAMETERS` and :func:`upgrade_net_state`: the skorch
  net's.
- A ``ConvNet`` saved before batch norm moved after max pooling keeps its
  order: ``ConvNet.pool_first`` defaults to False for its pickles, and a
  model file's state dict says it (``_model.convnet.pooled_last``).

``tests/data/`` holds files of each of these versions (CUDA-trained ones
included); the suite loads them all.
"""

from __future__ import annotations

import sys
import types

from .._names import stable_object

__all__ = ["LATER_NET_PARAMETERS", "LATER_PARAMETERS", "OLD_MODULES", "add_missing",
           "old_name", "register_old_module_paths", "upgrade_net_state"]

#: Module paths named by files and pickles of earlier versions (before their
#: objects had stable names): each name in them is the object's stable name.
OLD_MODULES = (
    # Renamed earlier in 0.1.0, before stable names.
    "sklearn_cnn._net", "sklearn_cnn._network", "sklearn_cnn._lazy",
    # Named by 0.1.0, before stable names (sklearn_cnn._training held optimizers,
    # losses, the schedule and the hold-out before that; it is now a real subpackage).
    "sklearn_cnn._augment", "sklearn_cnn._averaging", "sklearn_cnn._batches",
    "sklearn_cnn._classifier", "sklearn_cnn._convnet", "sklearn_cnn._epoch_log",
    "sklearn_cnn._holdout", "sklearn_cnn._losses", "sklearn_cnn._schedule",
    "sklearn_cnn._skorch_net",
)


def old_name(module: str, name: str):
    """The object a file of an earlier version names ``module.name``.

    Parameters
    ----------
    module : str
        One of :data:`OLD_MODULES`, or ``sklearn_cnn._training``.
    name : str
        The object's name there, which is its stable name.

    Returns
    -------
    obj : class or function
    """
    try:
        return stable_object(name)
    except AttributeError:
        raise AttributeError(f"module {module!r} has no attribute {name!r}") from None


def register_old_module_paths() -> None:
    """Make the paths of :data:`OLD_MODULES` importable (idempotent, imports nothing)."""
    for path in OLD_MODULES:
        if path in sys.modules:
            continue
        alias = types.ModuleType(path, "A module path of an earlier sklearn-cnn version.")
        alias.__getattr__ = lambda name, path=path: old_name(path, name)
        sys.modules[path] = alias


#: Parameters added after the first release, and their defaults: estimators
#: saved or pickled before they existed take these.
LATER_PARAMETERS = {"num_workers": "auto", "precision": "float32", "cuda_graphs": True,
                    "tta": False, "ema": None, "n_jobs": None, "checkpoint": None}


def add_missing(attributes: dict) -> None:
    """Fill in, in place, what an estimator saved or pickled by an earlier version lacks.

    The parameters added since (their defaults); for a fitted estimator, the
    fitted attributes added since: ``multilabel_`` (False), ``pixel_range_``
    (None: unknown), and once it has a
    net, ``precision_`` (the net's), ``cuda_graphs_`` (whether its last
    training run replayed steps, False where it did not record it) and
    ``n_threads_`` (None: not recorded).

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
        attributes.setdefault("n_threads_", None)  # not recorded


#: Parameters of the skorch net added since the first release, and their
#: defaults for nets pickled before.
LATER_NET_PARAMETERS = {"multilabel": False, "n_jobs": None}


def upgrade_net_state(state: dict) -> None:
    """Bring, in place, the pickled state of an earlier version's skorch net up to date.

    Parameters
    ----------
    state : dict
        What the net's ``__setstate__`` receives.
    """
    for name, default in LATER_NET_PARAMETERS.items():
        state.setdefault(name, default)
    if "amp" in state:  # pickled before the precision parameter: bfloat16 or not
        state["precision"] = "bfloat16" if state.pop("amp") else "float32"
    state.pop("batch_hooks_", None)  # a cache of callbacks, no longer kept
