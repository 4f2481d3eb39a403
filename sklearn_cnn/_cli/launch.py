"""``sklearn-cnn fit --nproc N``: the same command again, as N processes under torchrun.

The command line starts PyTorch's own launcher (``python -m
torch.distributed.run``, which ``torchrun`` names) with the command it was
given, less the options that say how to launch; the N processes then fit
one model together (``_training.data_parallel``), and only rank 0 prints
and writes. No launcher of the package's own: ``--nnodes`` and
``--rdzv-endpoint`` go to torchrun as they are, for a fit across machines.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

from .._cpu import usable_cores

__all__ = ["LAUNCH_OPTIONS", "launch", "torchrun_command", "without_launch_options"]

#: The ``fit`` options that say how to launch, each with a value.
LAUNCH_OPTIONS = ("--nproc", "--nnodes", "--rdzv-endpoint")


def without_launch_options(argv: Sequence[str]) -> list[str]:
    """``argv`` less :data:`LAUNCH_OPTIONS` and their values (``--opt V`` or ``--opt=V``).

    Examples
    --------
    >>> without_launch_options(["fit", "data", "--nproc", "2", "--out=m", "--nnodes=1"])
    ['fit', 'data', '--out=m']
    """
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in LAUNCH_OPTIONS:
            skip = True
        elif not arg.startswith(tuple(f"{option}=" for option in LAUNCH_OPTIONS)):
            kept.append(arg)
    return kept


def torchrun_command(argv: Sequence[str], nproc: int, nnodes: str | None = None,
                     rdzv_endpoint: str | None = None) -> list[str]:
    """The torchrun command line that runs ``sklearn-cnn argv`` as ``nproc`` processes per machine.

    One machine (no ``nnodes`` or ``rdzv_endpoint``): torchrun's
    ``--standalone``, which finds a free port itself. Several: its c10d
    rendezvous at ``rdzv_endpoint`` (``HOST:PORT`` of one of them), the
    same command on every machine.

    Examples
    --------
    >>> torchrun_command(["fit", "data", "--out", "m"], 2)[3:]
    ['--nproc_per_node=2', '--standalone', '-m', 'sklearn_cnn', 'fit', 'data', '--out', 'm']
    """
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}"]
    if nnodes is not None:
        command.append(f"--nnodes={nnodes}")
    if rdzv_endpoint is not None:
        command += ["--rdzv-backend=c10d", f"--rdzv-endpoint={rdzv_endpoint}"]
    else:
        command.append("--standalone")
    return [*command, "-m", "sklearn_cnn", *argv]


def launch(argv: Sequence[str], nproc: int, nnodes: str | None = None,
           rdzv_endpoint: str | None = None) -> int:
    """Run ``sklearn-cnn argv`` under torchrun; its exit code.

    Each process gets its share of this machine's cores as its thread
    count (``OMP_NUM_THREADS``, unless set: torchrun would set 1).
    """
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, usable_cores() // nproc)))
    command = torchrun_command(without_launch_options(argv), nproc, nnodes, rdzv_endpoint)
    return subprocess.call(command, env=env)
