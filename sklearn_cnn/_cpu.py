"""The CPU cores this process may use, and how many of them other processes keep busy.

Nearly a leaf (it imports only ``_process_group``): the thread policy of training
and prediction (``_training.threads``) and the count of file-decoding
workers (``_data.workers``) read it.

- :func:`usable_cores`: joblib's ``cpu_count``, which scikit-learn's own
  parallelism uses: the CPUs of this process's affinity mask (``taskset``,
  a container's cpuset), capped by a cgroup CPU quota (Docker's ``--cpus``,
  a Kubernetes limit) and ``LOKY_MAX_CPU_COUNT``; physical cores unless
  those restrict it, as torch's default thread count counts them. The
  processes a launcher (``torchrun``) started on one machine share its
  cores: each may use its share.
- :class:`CpuLoad`: how many of the CPUs of the affinity mask other
  processes keep busy, from the idle time the kernel counts for each CPU
  (``/proc/stat``) over a window, less the CPU time this process spent in
  it. Linux only: elsewhere the load is unknown (None), and the policy
  counts every usable core as free.

The kernel counts idle time precisely (to the microsecond, shown in
hundredths of a second), so a window of a few hundredths of a second tells
a free core from a busy one; steal time (a hypervisor running another
machine on the CPU) counts as busy. Hand-written: psutil's
``cpu_percent`` measures the same thing but counts this process's own
threads as busy, and is not a dependency of scikit-learn.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass

from joblib import cpu_count

from ._process_group import local_processes

__all__ = ["CpuLoad", "Snapshot", "affinity", "idle_seconds", "usable_cores"]

#: The kernel's per-CPU time counters, one line per CPU ("cpu0 user nice system idle iowait ...").
PROC_STAT = "/proc/stat"


def affinity() -> list[int]:
    """The CPUs this process may run on (all of them where the OS does not say)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


#: Seconds :func:`usable_cores` keeps its answer: joblib reads the cgroup's
#: files for it, tens of microseconds that a one-image prediction would pay.
CORES_KEPT = 1.0

_cores: dict = {}  # physical -> (when, cores)


def usable_cores(*, physical: bool = True) -> int:
    """How many cores this process may compute on: joblib's ``cpu_count``.

    Asked of joblib at most once every :data:`CORES_KEPT` seconds. Of a
    launch of several processes on this machine (``torchrun
    --nproc_per_node``), each process's share of them.

    Parameters
    ----------
    physical : bool, default=True
        Count physical cores (not the hyperthreads of one core), unless the
        affinity mask or a CPU quota allows fewer CPUs than the machine has.

    Returns
    -------
    cores : int
        At least 1.

    Examples
    --------
    >>> from sklearn_cnn._cpu import usable_cores
    >>> 1 <= usable_cores() <= usable_cores(physical=False)
    True
    """
    now = time.monotonic()
    when, cores = _cores.get(physical, (None, None))
    if when is None or now - when > CORES_KEPT:
        cores = max(1, cpu_count(only_physical_cores=physical))
        _cores[physical] = (now, cores)
    return max(1, cores // local_processes())


def idle_seconds(cpus: list[int], path: str = PROC_STAT) -> float | None:
    """Seconds the kernel counted ``cpus`` idle since boot (idle + iowait), summed.

    None where the file does not exist (not Linux) or lists none of ``cpus``.
    """
    try:
        with open(path) as stat:
            lines = stat.read().splitlines()
    except OSError:
        return None
    wanted, ticks, found = {f"cpu{cpu}" for cpu in cpus}, 0, False
    for line in lines:
        fields = line.split()
        if fields and fields[0] in wanted:
            ticks += int(fields[4]) + int(fields[5])  # idle, iowait
            found = True
    return ticks / os.sysconf("SC_CLK_TCK") if found else None


@dataclass(frozen=True)
class Snapshot:
    """The clocks a load is measured between: wall time, idle time of the CPUs, CPU time."""

    wall: float
    idle: float
    own: float


class CpuLoad:
    """How many CPUs other processes keep busy, measured over a recent window.

    Every measurement keeps a snapshot of the clocks (the last
    :data:`KEPT` of them, for every caller of the process), and measures
    from the newest earlier snapshot that is old enough for a precise
    window and recent enough to be about now: an epoch measures the epoch
    before it, a fit that follows another the time since the other's last
    epoch, without waiting. Busy time is what was not idle; what this
    process spent (its CPU time, every thread of it) is not another
    process's.

    Parameters
    ----------
    cpus : list of int, default=None
        The CPUs to watch; None: this process's affinity mask.
    min_window : float, default=0.05
        The shortest window that gives a load (seconds: a few of the
        kernel's hundredths).
    idle_clock, wall_clock, cpu_clock : callable, default=None
        Where the idle time, wall time and this process's CPU time come
        from (tests give their own); None: ``/proc/stat``,
        ``time.monotonic`` and ``time.process_time``.
    """

    #: Snapshots kept.
    KEPT = 16

    def __init__(self, cpus=None, *, min_window: float = 0.05, idle_clock=None,
                 wall_clock=None, cpu_clock=None) -> None:
        self.cpus = affinity() if cpus is None else list(cpus)
        self.min_window = min_window
        self._idle = idle_clock or (lambda: idle_seconds(self.cpus))
        self._wall = wall_clock or time.monotonic
        self._own = cpu_clock or time.process_time
        self._lock = threading.Lock()
        self._snapshots: deque[Snapshot] = deque(maxlen=self.KEPT)

    @property
    def measurable(self) -> bool:
        """Whether the idle time of the CPUs can be read (Linux)."""
        return self._idle() is not None

    def snapshot(self) -> Snapshot | None:
        """The clocks now; None where idle time cannot be read."""
        idle = self._idle()
        return None if idle is None else Snapshot(self._wall(), idle, self._own())

    def sample(self) -> None:
        """Keep a snapshot of now, for the next measurement to start from."""
        now = self.snapshot()
        if now is not None:
            with self._lock:
                self._snapshots.append(now)

    def busy(self, since: Snapshot, now: Snapshot) -> float:
        """CPUs other processes kept busy between two snapshots, in [0, len(cpus)]."""
        elapsed = now.wall - since.wall
        busy = len(self.cpus) * elapsed - (now.idle - since.idle) - (now.own - since.own)
        return min(max(busy / elapsed, 0.0), float(len(self.cpus)))

    def others(self, *, within: float, wait: bool) -> float | None:
        """CPUs other processes kept busy lately, or None if unknown.

        Parameters
        ----------
        within : float
            The oldest start of the window, in seconds before now.
        wait : bool
            Where no snapshot between ``min_window`` and ``within`` seconds
            old exists, sleep ``min_window`` to measure over (True), or give
            None (False).

        Returns
        -------
        busy : float or None
            In CPUs (2.0: two of them fully busy); None where idle time
            cannot be read, or without ``wait`` where no window gives it.
        """
        now = self.snapshot()
        if now is None:
            return None
        with self._lock:
            since = next((old for old in reversed(self._snapshots)
                          if self.min_window <= now.wall - old.wall <= within), None)
            self._snapshots.append(now)
        if since is not None:
            return self.busy(since, now)
        if not wait:
            return None
        time.sleep(self.min_window)
        return self.others(within=within, wait=False)

    def free(self, usable: int, *, within: float, wait: bool) -> float | None:
        """CPUs free for this process: idle ones of the mask, at most ``usable``.

        None where the load is unknown (see :meth:`others`).
        """
        busy = self.others(within=within, wait=wait)
        return None if busy is None else min(float(usable), len(self.cpus) - busy)
