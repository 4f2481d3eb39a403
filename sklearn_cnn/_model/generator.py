"""Modules that draw their random numbers from a fit's own generator.

``sklearn_cnn._training.randomness`` hands each fit a ``torch.Generator``;
the built-in network's dropout and ``BatchAugment`` draw from it.
"""

from __future__ import annotations

import torch

__all__ = ['DrawsFromGenerator']


class DrawsFromGenerator:
    """Mixin of ``nn.Module`` s that draw their random numbers from ``generator``.

    A fit sets ``generator`` on the network's and the augmentation's modules
    of this kind for its duration (:meth:`FitRandomness.training`); unset,
    they draw from torch's global generator like any module. A network class
    with this mixin promises that its random draws in training mode all go
    through such modules (the built-in ``ConvNet`` does): it may then train
    beside other fits without holding torch's global generators. The
    generator never travels with a pickle or a copy of the module.
    """

    #: The fit's generator while it trains; None: torch's global one.
    generator: torch.Generator | None = None

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("generator", None)
        return state
