"""Module paths of earlier versions, for the pickles that name them.

A pickle stores each class by module path. Modules renamed since a model was
pickled stay importable under their old names, as aliases registered in
``sys.modules`` when ``sklearn_cnn`` is imported (no files with the old,
colliding names): ``_net`` is ``_skorch_net``, ``_network`` is ``_convnet``,
and ``_training`` gathers what ``_optimizers``, ``_losses``, ``_schedule``
and ``_holdout`` now hold. ``tests/data/cuda_model.pkl`` (written by an
earlier version on a GPU) is loaded by the suite through them.
"""

from __future__ import annotations

import sys
import types

from . import _convnet, _holdout, _losses, _optimizers, _schedule, _skorch_net

__all__ = ["register_old_module_paths"]


def register_old_module_paths() -> None:
    """Make the old module paths importable (idempotent)."""
    sys.modules.setdefault(f"{__package__}._net", _skorch_net)
    sys.modules.setdefault(f"{__package__}._network", _convnet)
    training = types.ModuleType(f"{__package__}._training",
                                "Old home of _optimizers, _losses, _schedule, _holdout.")
    for module in (_optimizers, _losses, _schedule, _holdout):
        training.__dict__.update({name: getattr(module, name) for name in module.__all__})
    sys.modules.setdefault(training.__name__, training)
