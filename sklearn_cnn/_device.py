"""Where training runs, and reproducible randomness there."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = [
    "bfloat16_is_fast",
    "draw_seed",
    "place_data",
    "resolve_device",
    "seeded",
]


def resolve_device(device) -> torch.device:
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


def draw_seed(random_state) -> int | None:
    """A torch seed drawn from ``random_state`` (None: leave torch unseeded)."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def seeded(seed: int | None, device: torch.device) -> Iterator[None]:
    """Run the block with torch's random generators seeded, then restore them.

    Weight initialisation, shuffling and dropout then repeat under the same
    ``seed`` without changing the caller's global random state.
    """
    if seed is None:
        yield
        return
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def bfloat16_is_fast(device: torch.device) -> bool:
    """Whether training forward passes should run under bfloat16 autocast.

    On CUDA: where the GPU supports bfloat16 (Ampere and newer), which needs
    no loss scaling. On the CPU: where it has AMX tiles (Intel Sapphire
    Rapids and newer), on which oneDNN runs bfloat16 convolutions 1.3-1.8x
    faster than float32 (docs/benchmarks.md); elsewhere bfloat16 would be
    emulated, and slower.
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        # A private probe, the only one torch has; absent, assume no AMX.
        return bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())
    return False


#: Share of the free memory of a GPU that training data may take there.
DEVICE_DATA_SHARE = 0.25


def place_data(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``images`` on ``device`` when it is a GPU with room for them, else as given.

    Data kept on the GPU is sliced there batch by batch (no host-to-device
    copy per step); data that would take more than ``DEVICE_DATA_SHARE`` of
    the free GPU memory stays on the host and moves one batch at a time.
    """
    if device.type != "cuda":
        return images
    free, _ = torch.cuda.mem_get_info(device)
    if images.element_size() * images.nelement() > DEVICE_DATA_SHARE * free:
        return images
    return images.to(device)
