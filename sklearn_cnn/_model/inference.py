"""Prediction: batched, gradient-free forward passes, and class or label probabilities.

The network predicts with is ``CNNNet.inference_module()`` (batch norm folded
in: ``sklearn_cnn._model.folding``), in the memory format ``CNNNet.memory_format``
decides for training and prediction alike.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["INFERENCE_BATCH_SIZE", "class_probabilities", "label_probabilities",
           "predict_logits"]

#: Images per forward pass at predict time (fewer when fewer are given).
INFERENCE_BATCH_SIZE = 256


@torch.inference_mode()
def predict_logits(
    module: nn.Module,
    images: torch.Tensor,
    device: torch.device | str,
    batch_size: int = INFERENCE_BATCH_SIZE,
    memory_format: torch.memory_format = torch.contiguous_format,
    views: Callable[[torch.Tensor], list[torch.Tensor]] | None = None,
) -> np.ndarray:
    """Logits of ``module`` on ``images``, in evaluation mode, as float64.

    Every forward pass of one call has the same batch size: the last batch
    is padded with zeros. A BLAS matrix product may round a row differently
    depending on how many rows it is given; with one shape per call, an
    image gets the same logits wherever it sits in ``images``.

    Parameters
    ----------
    module : torch.nn.Module
        The network, already on ``device``.
    images : Tensor of shape (N, C, H, W)
        Float32 images, on any device.
    device : torch.device or str
        Where ``module`` is.
    batch_size : int, default=INFERENCE_BATCH_SIZE
        Images per forward pass.
    memory_format : torch.memory_format, default=torch.contiguous_format
        Memory format ``module`` expects its input in.
    views : callable, default=None
        Test-time augmentation: takes a batch, returns it and its variants
        (``_model.augment.tta_views``); the logits are averaged over them.

    Returns
    -------
    logits : ndarray of shape (N, n_outputs), dtype float64
    """
    if module.training:  # eval() recurses over every submodule, at a cost: only when needed
        module.eval()  # (docs/benchmarks.md, "Prediction")
    n = len(images)
    step = min(batch_size, n)
    outputs = []
    for start in range(0, n, step):
        batch = images[start:start + step].to(device, non_blocking=True)
        n_real = len(batch)
        if n_real < step:
            pad = batch.new_zeros((step - n_real, *batch.shape[1:]))
            batch = torch.cat([batch, pad])
        if views is None:
            logits = module(batch.contiguous(memory_format=memory_format)).float()
        else:
            logits = torch.stack([module(view.contiguous(memory_format=memory_format)).float()
                                  for view in views(batch)]).mean(0)
        outputs.append(logits[:n_real])
    return torch.cat(outputs).cpu().numpy().astype(np.float64)  # one copy back from a GPU


def class_probabilities(logits: torch.Tensor, *, log: bool = False) -> torch.Tensor:
    """Softmax of ``logits`` over the classes, or its logarithm.

    The one softmax of prediction: ``predict_proba`` and
    ``predict_log_proba``, the skorch net's ``predict_nonlinearity`` and the
    graph ``to_onnx`` writes all take their probabilities from here.

    Parameters
    ----------
    logits : Tensor of shape (N, n_classes)
        Class scores. Computed in their own dtype, or in float32 when that
        is narrower (a bfloat16 network's scores are widened first).
    log : bool, default=False
        Return log-probabilities (``torch.log_softmax``: accurate where the
        probabilities underflow) instead of probabilities.

    Returns
    -------
    proba : Tensor of shape (N, n_classes)
        Each row sums to 1 (or its exponentials do, for ``log=True``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_cnn._model.inference import class_probabilities
    >>> class_probabilities(torch.tensor([[0.0, 0.0], [0.0, 800.0]]))
    tensor([[0.5000, 0.5000],
            [0.0000, 1.0000]])
    >>> class_probabilities(torch.tensor([[0.0, 800.0]]), log=True)
    tensor([[-800.,    0.]])
    """
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    return torch.log_softmax(logits, dim=1) if log else torch.softmax(logits, dim=1)


def label_probabilities(logits: torch.Tensor, *, log: bool = False) -> torch.Tensor:
    """Sigmoid of each of ``logits``, or its logarithm: multilabel probabilities.

    The counterpart of :func:`class_probabilities` for multilabel targets,
    where every label is a yes/no question of its own (as the logistic
    output of scikit-learn's ``MLPClassifier``): ``predict_proba`` and
    ``predict_log_proba``, the skorch net's ``predict_nonlinearity`` and the
    graph ``to_onnx`` writes take their probabilities from here.

    Parameters
    ----------
    logits : Tensor of shape (N, n_labels)
        Label scores, widened to float32 as in :func:`class_probabilities`.
    log : bool, default=False
        Return log-probabilities (``F.logsigmoid``: accurate where the
        probabilities underflow) instead of probabilities.

    Returns
    -------
    proba : Tensor of shape (N, n_labels)
        The probability of each label, each in [0, 1] on its own.

    Examples
    --------
    >>> import torch
    >>> from sklearn_cnn._model.inference import label_probabilities
    >>> label_probabilities(torch.tensor([[0.0, 800.0]]))
    tensor([[0.5000, 1.0000]])
    >>> label_probabilities(torch.tensor([[-800.0, 800.0]]), log=True)
    tensor([[-800.,    0.]])
    """
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    return F.logsigmoid(logits) if log else torch.sigmoid(logits)
