"""The numeric precision of training: float32, or bfloat16 mixed precision.

``CNNClassifier(precision=...)`` takes one of :data:`PRECISIONS`:

- ``"float32"`` (the default): every operation in float32, as PyTorch runs
  it unless told otherwise;
- ``"bfloat16"``: mixed precision, the forward passes of training under
  ``torch.autocast(dtype=torch.bfloat16)``; weights, gradients, optimizer
  state and the loss stay float32, and bfloat16 needs no loss scaling;
- ``"auto"``: ``"bfloat16"`` where the training device runs it natively
  (:func:`bfloat16_is_fast`), else ``"float32"``.

Only training steps change: validation (loss, accuracy, early stopping's
choice of epoch), ``predict_proba`` and ``score`` run in float32 whatever
the precision, so a validation score is the score ``predict`` would give.
As the precision policies of Lightning (``precision="32-true"``), Keras
(``"float32"``) and Hugging Face (``bf16=False``), reduced precision is a
visible choice, off by default.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = [
    "BFLOAT16_MIN_CAPABILITY",
    "PRECISIONS",
    "bfloat16_is_fast",
    "check_precision",
    "settle_precision",
    "training_autocast",
]

#: The values of the ``precision`` parameter.
PRECISIONS = ("float32", "bfloat16", "auto")

#: Lowest CUDA compute capability with bfloat16 tensor cores, and bfloat16
#: convolutions in cuDNN: 8.0 (Ampere: A100, RTX 30xx). Below it (T4, V100,
#: RTX 20xx) ``torch.cuda.is_bf16_supported()`` still answers True, for
#: bfloat16 emulated in float32 arithmetic.
BFLOAT16_MIN_CAPABILITY = (8, 0)


def bfloat16_is_fast(device: torch.device) -> bool:
    """Whether ``device`` runs bfloat16 natively, which ``precision="auto"`` asks.

    - CUDA: a GPU of compute capability 8.0 or newer (Ampere, Ada, Hopper,
      Blackwell), asked of the device itself, not of the current one. With
      the step replayed from a CUDA graph, bfloat16 trains the built-in
      network and a ResNet-18 faster than float32 (docs/benchmarks.md,
      "CUDA").
    - CPU: a CPU with AMX tiles (Intel Sapphire Rapids and newer), on which
      oneDNN runs bfloat16 convolutions faster than float32
      (docs/benchmarks.md, "Training throughput" and "Precision");
      elsewhere bfloat16 is emulated, and slower.
    - Any other device: False.

    Parameters
    ----------
    device : torch.device
        The training device.

    Returns
    -------
    fast : bool
    """
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device) >= BFLOAT16_MIN_CAPABILITY
    if device.type == "cpu":
        # A private probe, the only one torch has; absent, assume no AMX.
        return bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())
    return False


def settle_precision(precision: str, device: torch.device) -> str:
    """The precision a fit on ``device`` trains in: "float32" or "bfloat16".

    Parameters
    ----------
    precision : {"float32", "bfloat16", "auto"}
        The ``precision`` parameter.
    device : torch.device
        The training device.

    Returns
    -------
    precision : {"float32", "bfloat16"}

    Examples
    --------
    >>> import torch
    >>> from sklearn_cnn._training.precision import settle_precision
    >>> settle_precision("float32", torch.device("cpu"))
    'float32'
    >>> settle_precision("auto", torch.device("meta"))
    'float32'
    """
    if precision == "auto":
        return "bfloat16" if bfloat16_is_fast(device) else "float32"
    return precision


def check_precision(precision: str, device: torch.device) -> None:
    """Raise a ValueError if ``device`` cannot train in ``precision``.

    bfloat16 on a GPU older than compute capability 8.0 is refused: cuDNN
    has no bfloat16 convolutions there (an error, or a fallback many times
    slower than float32). On a CPU without AMX bfloat16 is emulated: slower
    than float32, but it runs, and is allowed.

    Parameters
    ----------
    precision : {"float32", "bfloat16", "auto"}
        The ``precision`` parameter.
    device : torch.device
        The training device.
    """
    if precision != "bfloat16" or device.type != "cuda" or bfloat16_is_fast(device):
        return
    major, minor = torch.cuda.get_device_capability(device)
    need = ".".join(map(str, BFLOAT16_MIN_CAPABILITY))
    raise ValueError(
        f"precision='bfloat16' needs a GPU of compute capability {need} or newer "
        f"(Ampere and later); {device} ({torch.cuda.get_device_name(device)}) has "
        f"{major}.{minor}, where cuDNN has no bfloat16 convolutions. Use "
        "precision='float32', or precision='auto', which picks bfloat16 only where "
        "the device runs it natively."
    )


def training_autocast(precision: str, device: torch.device | str):
    """The context a training forward pass runs in: bfloat16 autocast, or none.

    Without autocast's cast cache, which a CUDA graph may not record.

    Parameters
    ----------
    precision : {"float32", "bfloat16"}
        A resolved precision (:func:`settle_precision`).
    device : torch.device or str
        The training device.

    Returns
    -------
    context : context manager
    """
    if precision != "bfloat16":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16, cache_enabled=False)
