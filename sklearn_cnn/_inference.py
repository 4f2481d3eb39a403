"""Batched, gradient-free forward passes for prediction."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ._convnet import ConvNet

__all__ = ["INFERENCE_BATCH_SIZE", "fold_batch_norm", "log_softmax", "predict_logits"]

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
    if module.training:
        module.eval()  # recursing over every submodule costs ~0.1 ms: only when needed
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
        outputs.append(module(batch)[:n_real].float())
    return torch.cat(outputs).cpu().numpy().astype(np.float64)  # one copy back from a GPU


def fold_batch_norm(module: nn.Module) -> nn.Module:
    """An evaluation copy of ``module`` with each BatchNorm folded into its conv.

    Every ``Conv2d`` directly followed by a ``BatchNorm2d`` in an
    ``nn.Sequential`` becomes one ``Conv2d`` (torch's ``fuse_conv_bn_eval``),
    the BatchNorm an ``Identity``: the same function in evaluation mode, one
    pass over the feature map fewer. The built-in ``ConvNet`` becomes one flat
    ``nn.Sequential`` without its identities and dropouts (each module call
    costs microseconds that one-image predictions feel). A module with no
    such pair is returned as it is, not copied.
    """
    pairs = [
        (seq, i) for seq in module.modules() if isinstance(seq, nn.Sequential)
        for i in range(len(seq) - 1)
        if isinstance(seq[i], nn.Conv2d) and isinstance(seq[i + 1], nn.BatchNorm2d)
    ]
    if not pairs:
        return module
    paths = {id(m): name for name, m in module.named_modules()}
    folded = copy.deepcopy(module).eval()
    for seq, i in pairs:
        target = folded.get_submodule(paths[id(seq)]) if paths[id(seq)] else folded
        fused = fuse_conv_bn_eval(target[i], target[i + 1])
        memory_format = (torch.channels_last
                         if target[i].weight.is_contiguous(memory_format=torch.channels_last)
                         else torch.contiguous_format)
        target[i] = fused.to(memory_format=memory_format)
        target[i + 1] = nn.Identity()
    if isinstance(folded, ConvNet):
        layers = [*folded.features, *folded.classifier]
        folded = nn.Sequential(*(m for m in layers if not isinstance(m, (nn.Identity,
                                                                       nn.Dropout))))
    return folded.requires_grad_(False)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in numpy.

    Written out because scipy's ``log_softmax`` costs ~80 us per call in
    array-API dispatch, half of a one-image prediction.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
