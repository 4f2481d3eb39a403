"""Where training runs, and how it runs fastest there."""

from __future__ import annotations

import torch

from .._model.backbone import Backbone
from .._model.convnet import ConvNet

__all__ = ['channels_last_is_fast', 'settle_device']


def settle_device(device) -> torch.device:
    """Turn the ``device`` parameter into an available ``torch.device``.

    Parameters
    ----------
    device : "auto", str or torch.device
        "auto" is CUDA when available, else the CPU; anything else is what
        ``torch.device`` accepts ("cpu", "cuda", "cuda:1", "mps", ...).

    Returns
    -------
    device : torch.device

    Raises
    ------
    ValueError
        If the device is unknown or not available on this machine.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a device torch knows; use 'auto', 'cpu', "
            "'cuda' or 'cuda:N'."
        ) from exc
    if resolved.type == "cpu":
        return resolved
    backend = getattr(torch, resolved.type, None)
    if resolved.type == "mps":
        backend = getattr(torch.backends, "mps", None)
    if backend is None or not backend.is_available():
        raise ValueError(
            f"device={device!r} was asked for but no {resolved.type} device is "
            "available on this machine; use device='auto' to fall back to the "
            "CPU, or device='cpu'."
        )
    count = getattr(backend, "device_count", lambda: 1)()
    if resolved.index is not None and resolved.index >= count:
        raise ValueError(
            f"device={device!r} does not exist: this machine has {count} "
            f"{resolved.type} device(s), numbered from 0."
        )
    return resolved


#: Fewest filters in a conv block for channels-last to pay on the CPU.
CHANNELS_LAST_MIN_FILTERS = 8


def channels_last_is_fast(device: torch.device, module: type, module_kwargs: dict) -> bool:
    """Whether to train the network in channels-last memory format.

    Only the built-in and torchvision networks: a custom module may reshape
    with ``.view()``, which channels-last input would break. On CUDA, cuDNN's
    channels-last kernels train both faster than NCHW; on the CPU, oneDNN's
    are faster from ``CHANNELS_LAST_MIN_FILTERS`` filters per block up and
    slower below (the measurements: docs/benchmarks.md, "CUDA" and
    "Small-data overhead").

    Parameters
    ----------
    device : torch.device
        Where training runs.
    module : type
        The network class.
    module_kwargs : dict
        Its keyword arguments (``conv_channels`` for the built-in network).

    Returns
    -------
    channels_last : bool
    """
    if device.type not in ("cpu", "cuda") or module not in (ConvNet, Backbone):
        return False
    if device.type == "cpu" and module is ConvNet:
        return min(module_kwargs["conv_channels"], default=0) >= CHANNELS_LAST_MIN_FILTERS
    return True
