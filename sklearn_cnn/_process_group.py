"""The processes of one fit launched by PyTorch's launcher: which one this is, and their talk.

A leaf (it imports nothing of the package, and torch only where a function
needs it: the command line and the ONNX predictor import it without torch).
``torchrun`` (``python -m torch.distributed.run``) starts N copies of a script, on one machine or
several, and tells each through environment variables who it is:
``RANK`` (0 to N-1), ``WORLD_SIZE`` (N), ``LOCAL_RANK`` and
``LOCAL_WORLD_SIZE`` (on its machine), ``MASTER_ADDR`` and ``MASTER_PORT``
(where the processes meet). PyTorch Lightning and Accelerate find their
process group the same way; so does :func:`join`, the first time a fit
needs it, with torch's ``init_process_group("env://")``. Outside the
launcher (no ``RANK`` and ``WORLD_SIZE``) there is no group and nothing
changes.

While a process group exists (:func:`current_world`),
every fit is one fit over all of them (``_training.data_parallel``), and
only rank 0 prints the epoch table and writes files
(:func:`writes_files`, which ``_persistence.atomic`` asks).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["LAUNCH_VARIABLES", "World", "agree", "current_world", "gather", "join",
           "launch_rank", "launched", "local_processes", "process_device", "writes_files"]

#: What the launcher sets for every process: without them there is no group to join.
LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class World:
    """This process among those of a fit.

    Attributes
    ----------
    rank : int
        0 to ``size - 1``; rank 0 prints and writes.
    size : int
        Processes in all (torch's world size).
    local_rank : int
        This process on its machine: the index of its GPU.
    """

    rank: int
    size: int
    local_rank: int


def launched() -> bool:
    """Whether the launcher started this process (as one of one or more).

    Examples
    --------
    >>> import os
    >>> launched() == all(v in os.environ for v in ("RANK", "WORLD_SIZE", "MASTER_ADDR"))
    True
    """
    return all(v in os.environ for v in LAUNCH_VARIABLES)


def launch_rank() -> int:
    """This process's rank as the launcher set it (0 outside the launcher)."""
    return int(os.environ.get("RANK", "0")) if launched() else 0


def local_processes() -> int:
    """Processes of the launch on this machine (1 outside the launcher): they share its cores."""
    return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1"))) if launched() else 1


def current_world() -> World | None:
    """The process group this one is in, or None.

    A group of one process (``torchrun --nproc_per_node 1``) is a world too:
    its fits take the path of several, which checks that path on one GPU.
    """
    import sys

    if "torch" not in sys.modules:  # no torch imported: no group (the ONNX predictor)
        return None
    import torch

    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return None
    rank = dist.get_rank()
    return World(rank, dist.get_world_size(), int(os.environ.get("LOCAL_RANK", rank)))


def join(device: torch.device) -> World | None:
    """The process group of the launch, joined on first use; None outside the launcher.

    A group the script made itself (``init_process_group``) is used as it
    is. Else the launcher's variables make one: for a fit on the CPU, gloo
    (NCCL is never set up, also on a machine with GPUs); for a fit on CUDA,
    gloo for CPU tensors and NCCL for CUDA ones (one backend per device
    type, ``"cpu:gloo,cuda:nccl"``), each process computing on the GPU of
    its ``LOCAL_RANK``.

    Parameters
    ----------
    device : torch.device
        Where the fit trains.

    Returns
    -------
    world : World or None
    """
    import torch

    world = current_world()
    if world is not None or not launched():
        return world
    if not torch.distributed.is_available():
        raise RuntimeError(
            f"This process was started by torchrun as one of {os.environ['WORLD_SIZE']}, "
            "but this build of torch has no torch.distributed; install a torch build "
            "with it, or run the script with python alone.")
    backend = "gloo"
    if device.type == "cuda" and torch.cuda.is_available():
        backend = "cpu:gloo,cuda:nccl"
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if local_rank < torch.cuda.device_count():
            torch.cuda.set_device(local_rank)
    torch.distributed.init_process_group(backend)
    return current_world()


def process_device(device: torch.device, world: World | None) -> torch.device:
    """Where this process trains: on CUDA, the GPU of its ``local_rank``; else ``device``.

    Raises
    ------
    ValueError
        If the machine has fewer GPUs than the launch put processes on it.
    """
    if world is None or device.type != "cuda":
        return device
    import torch

    count = torch.cuda.device_count()
    if world.local_rank >= count:
        raise ValueError(
            f"torchrun started process {world.local_rank} of this machine, which has {count} "
            f"GPU{'s' * (count != 1)}: a fit over several processes takes one GPU per "
            f"process. Start at most {count} per machine (--nproc_per_node {count}), or "
            "train on the CPU (device='cpu').")
    return torch.device("cuda", world.local_rank)


def agree(value):
    """Rank 0's ``value`` on every process (as is outside a group)."""
    if current_world() is None:
        return value
    import torch

    box = [value]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def gather(value) -> list:
    """Every process's ``value``, in rank order, on every process (``[value]`` outside a group)."""
    world = current_world()
    if world is None:
        return [value]
    import torch

    values = [None] * world.size
    torch.distributed.all_gather_object(values, value)
    return values


def writes_files() -> bool:
    """Whether this process writes the files of a fit: rank 0 of a group, or any process alone."""
    world = current_world()
    return (world.rank == 0) if world is not None else launch_rank() == 0
