"""Weight averaging: an exponential moving average of the weights, for evaluation.

``WeightAveraging`` is a skorch callback. After every training step it folds
the network's weights (and batch-norm statistics) into their moving
average; at the end of each epoch's training batches the network shows the
average (validation, early stopping, checkpoints and, after the fit,
prediction, saving and export all see it), and the next epoch trains on from
the weights the steps left. Values are copied in place, so the optimizer and
a CUDA graph keep stepping the same tensors.

Hand-written rather than torch's ``torch.optim.swa_utils.AveragedModel``:
that one compares its step count, a device tensor, with 0 at every update (a
host synchronisation per step on a GPU, which also rules out the CUDA graph
step), and its ``get_ema_multi_avg_fn`` has no warm-up (below).
"""

from __future__ import annotations

import torch
from skorch.callbacks import Callback

from ..._names import stable_name

__all__ = ["WeightAveraging", "ema_weight"]


def ema_weight(decay: float, n_updates: int) -> float:
    """Weight of the current weights in update ``n_updates`` of the average (update 0 copies them).

    ``1 - min(decay, (1 + n) / (10 + n))``, TensorFlow's
    ``ExponentialMovingAverage(num_updates=...)``: a fixed ``decay`` would keep
    ``decay ** k`` of the random initial weights after ``k`` steps (45 % after
    80 steps at 0.99), so a short fit would predict with weights near their
    start; the warm-up forgets the start within a few dozen steps.

    Examples
    --------
    >>> round(ema_weight(0.999, 0), 3), round(ema_weight(0.999, 10 ** 6), 3)
    (0.9, 0.001)
    """
    return 1 - min(decay, (1 + n_updates) / (10 + n_updates))


def _tensors(module: torch.nn.Module) -> list[torch.Tensor]:
    return [t.detach() for t in (*module.parameters(), *module.buffers())]


@stable_name()
class WeightAveraging(Callback):
    """Keep an exponential moving average of the weights; evaluate and predict with it.

    Parameters
    ----------
    decay : float, default=0.999
        Weight of the average in each update, ``average = decay * average +
        (1 - decay) * weights`` after every optimizer step (less during a
        warm-up: ``ema_weight``). The average spans about ``1 / (1 - decay)``
        steps.

    Attributes
    ----------
    average_ : list of Tensor or None
        The average of each parameter and buffer of the network, from the
        first training step of the fit on (integer buffers, such as batch
        norm's step count, are the current ones).
    n_updates_ : int
        Steps averaged so far.
    trained_ : list of Tensor or None
        The weights the training steps left, while the network shows the
        average (from the end of an epoch's training batches until the next
        training batch), else None.
    """

    #: The batch hooks read no loss (``_training.epoch.reads_batch_losses``).
    reads_batch_losses = False

    def __init__(self, decay: float = 0.999) -> None:
        self.decay = decay

    def initialize(self):
        self.average_ = None
        self.n_updates_ = 0
        self.trained_ = None
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self._show_trained(net)
        else:  # validation sees the average
            self._show_average(net)

    @torch.no_grad()
    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        weights = _tensors(net.module_)
        if self.average_ is None:
            self.average_ = [t.clone() for t in weights]
        else:
            weight = ema_weight(self.decay, self.n_updates_)
            for average, current in zip(self.average_, weights, strict=True):
                if average.is_floating_point():
                    average.lerp_(current, weight)
                else:
                    average.copy_(current)
        self.n_updates_ += 1

    def on_epoch_end(self, net, **kwargs):
        # This callback comes first: early stopping and checkpoints read the average.
        self._show_average(net)

    def on_train_end(self, net, **kwargs):
        self._show_average(net)

    @torch.no_grad()
    def _show_average(self, net) -> None:
        if self.average_ is None or self.trained_ is not None:
            return
        weights = _tensors(net.module_)
        self.trained_ = [t.clone() for t in weights]
        for weight, average in zip(weights, self.average_, strict=True):
            weight.copy_(average)

    @torch.no_grad()
    def _show_trained(self, net) -> None:
        if self.trained_ is None:
            return
        for weight, trained in zip(_tensors(net.module_), self.trained_, strict=True):
            weight.copy_(trained)
        self.trained_ = None
