"""Training images on the training device: moved once, laid out and scaled there.
"""

from __future__ import annotations

import numpy as np
import torch

from .layout import ImageLayout, to_float_nchw, to_float_nchw_tensor

__all__ = ['place_images']


#: Share of the free memory of a GPU that training data may take there.
DEVICE_DATA_SHARE = 0.25


def place_images(X: np.ndarray, layout: ImageLayout, device: torch.device) -> torch.Tensor:
    """Validated images as a float32 ``(N, C, H, W)`` tensor for training on ``device``.

    On a GPU with room for them (``DEVICE_DATA_SHARE`` of its free memory) the
    images are moved there once and sliced there batch by batch: no
    host-to-device copy per step. They travel as they came when uint8 or
    float32 (uint8: a quarter of the bytes) and are laid out and scaled on the
    GPU. Anywhere else they stay on the host, converted there.

    Parameters
    ----------
    X : ndarray
        Images as :func:`~sklearn_cnn._data.layout.validate_images` returns them.
    layout : ImageLayout
        How ``X`` holds them.
    device : torch.device
        Where training runs.

    Returns
    -------
    images : Tensor of shape (N, C, H, W), dtype float32
    """
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if 4 * X.size <= DEVICE_DATA_SHARE * free:
            if X.dtype not in (np.uint8, np.float32):
                X = X.astype(np.float32)  # e.g. float64: halve the bytes before the copy
            elif not (X.flags.writeable and X.flags.c_contiguous):
                X = np.array(X, order="C")  # torch.from_numpy wants writable memory
            return to_float_nchw_tensor(torch.from_numpy(X).to(device), layout)
    return torch.from_numpy(to_float_nchw(X, layout))
