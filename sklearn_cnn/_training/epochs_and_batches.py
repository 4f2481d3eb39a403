"""How long a fit trains when asked for "auto": its batch size and its epochs.
"""

from __future__ import annotations

import math

__all__ = ['settle_batch_size', 'settle_max_epochs']


#: ``batch_size="auto"``: a power of two near a sixteenth of the training set,
#: within these bounds, so that small sets still take enough optimizer steps
#: per epoch and large ones use the throughput of larger batches.
AUTO_BATCH_SIZES = (16, 128)


#: ``max_epochs="auto"``: epochs enough for about this many optimizer steps,
#: within these bounds (measured on the recipe panel, benchmarks/recipe.py).
AUTO_STEPS = 480


AUTO_EPOCHS = (5, 30)


def settle_batch_size(batch_size, n_train: int) -> int:
    """The ``batch_size`` parameter, with "auto" settled for ``n_train`` images.

    Examples
    --------
    >>> [settle_batch_size("auto", n) for n in (50, 600, 1347, 4000, 60000)]
    [16, 32, 64, 128, 128]
    >>> settle_batch_size(100, 4000)
    100
    """
    if batch_size != "auto":
        return batch_size
    low, high = AUTO_BATCH_SIZES
    return min(high, max(low, 2 ** math.floor(math.log2(max(n_train, 1) / 16))))


def settle_max_epochs(max_epochs, steps_per_epoch: int) -> int:
    """The ``max_epochs`` parameter, with "auto" settled for ``steps_per_epoch``.

    Examples
    --------
    >>> [settle_max_epochs("auto", steps) for steps in (4, 22, 32, 469)]
    [30, 22, 15, 5]
    """
    if max_epochs != "auto":
        return max_epochs
    low, high = AUTO_EPOCHS
    return min(high, max(low, math.ceil(AUTO_STEPS / max(steps_per_epoch, 1))))
