"""Batched, gradient-free forward passes for prediction."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["INFERENCE_BATCH_SIZE", "predict_logits"]

#: Images per forward pass at predict time (fewer when fewer are given).
INFERENCE_BATCH_SIZE = 256


@torch.inference_mode()
def predict_logits(
    module: nn.Module,
    images: torch.Tensor,
    device: torch.device | str,
    batch_size: int = INFERENCE_BATCH_SIZE,
    memory_format: torch.memory_format = torch.contiguous_format,
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

    Returns
    -------
    logits : ndarray of shape (N, n_outputs), dtype float64
    """
    module.eval()
    n = len(images)
    step = min(batch_size, n)
    outputs = []
    for start in range(0, n, step):
        batch = images[start:start + step].to(device, non_blocking=True)
        n_real = len(batch)
        if n_real < step:
            pad = batch.new_zeros((step - n_real, *batch.shape[1:]))
            batch = torch.cat([batch, pad])
        batch = batch.contiguous(memory_format=memory_format)
        outputs.append(module(batch)[:n_real].float().cpu())
    return torch.cat(outputs).numpy().astype(np.float64)
