"""``train_acc``: the accuracy on the training batches as they were trained.
"""

from __future__ import annotations

import torch
from skorch.callbacks import Callback
from skorch.dataset import unpack_data

from ..._names import stable_name

__all__ = ['TrainAccuracy']


@stable_name()
class TrainAccuracy(Callback):
    """Record the accuracy on the training batches as they were trained.

    Keras' ``accuracy``: each training batch's predictions, from the forward
    pass that trained on it (augmented, dropout on), against its labels. The
    hits are counted on the training device and read once per epoch, so the
    host never waits for a step. skorch's ``EpochScoring(on_train=True)``
    would keep every batch's predictions (``N x n_classes``) until the epoch
    ends; counting keeps one integer. For multilabel targets (an indicator
    matrix) a sample counts when all its labels are right: the subset
    accuracy of ``score`` and ``valid_acc``. In a fit over several
    processes, the counts of all of them.

    Parameters
    ----------
    name : str, default="train_acc"
        The history key; ``name + "_best"`` marks the best epoch so far, as
        skorch's scorings do.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0, verbose=0,
    ...                     callbacks=[("train_acc", TrainAccuracy())]).fit(X[:200], y[:200])
    >>> 0 <= clf.history_[-1, "train_acc"] <= 1
    True
    """

    def __init__(self, name: str = "train_acc"):
        self.name = name

    def initialize(self):
        self.best_score_ = -float("inf")
        self.hits_, self.seen_ = None, 0
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.hits_, self.seen_ = None, 0

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if not training or not torch.is_tensor(y_pred) or y_pred.dim() != 2:
            return
        _, yi = unpack_data(batch)
        if not torch.is_tensor(yi):
            return
        # Counted right after the step: the next replay of a CUDA graph writes
        # over the graph's outputs (StepGraph hands out copies of them).
        yi = yi.to(y_pred.device, non_blocking=True)
        if yi.dim() == 2:  # multilabel: every label right (a logit above 0 is a yes)
            hits = ((y_pred > 0) == (yi > 0.5)).all(dim=1).sum()
        else:
            hits = (y_pred.argmax(dim=1) == yi).sum()
        self.hits_ = hits if self.hits_ is None else self.hits_.add_(hits)
        self.seen_ += len(yi)

    def on_epoch_end(self, net, **kwargs):
        if not self.seen_:
            return
        if getattr(net, "world_", None) is not None:  # hits and images of every process
            counts = torch.stack([self.hits_.float(), torch.tensor(
                float(self.seen_), device=self.hits_.device)])
            torch.distributed.all_reduce(counts)
            self.hits_, self.seen_ = counts[0], int(counts[1])
        score = self.hits_.item() / self.seen_  # the epoch's one read from the device
        self.hits_ = None  # no device tensor outlives the epoch
        net.history.record(self.name, score)
        net.history.record(self.name + "_best", score > self.best_score_)
        self.best_score_ = max(score, self.best_score_)
