"""How many threads torch computes on, in each fit and each prediction.

torch splits every operator over its intra-op threads, and the operator
ends when the slowest thread does. On small images an operator takes tens
of microseconds; when another process holds one of those threads off its
core for a time slice (milliseconds), every operator waits for it. On 2
cores busy with two other processes, the default fit on digits took several
times as long on torch's 2 threads as on 1 (docs/benchmarks.md, "Speed on a
shared CPU"). One thread never waits for another; on an idle machine, more
threads pay once a step has enough work to split.

The rule (``n_jobs=None``), in :class:`ThreadPolicy`:

1. The caller's own setting wins: ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``
   in the environment (joblib's loky workers get ``cores // n_jobs`` there),
   or a count set with ``torch.set_num_threads`` (:func:`caller_threads`).
2. On the CPU, no more threads than the work feeds: one per
   :data:`FLOPS_PER_THREAD` of a step (:func:`work_threads`; a training step
   is about three forward passes of its batch: ``_model.work``).
3. No more than the cores this process may use that other processes leave
   free (``sklearn_cnn._cpu``: affinity, cgroup quota, load), shared evenly
   among the fits and predictions running in threads of this process; a
   core counts as free when at least ``1 - ROUND_UP`` of it is.

An int ``n_jobs`` pins the count; -1 is every usable core, -2 all but one
(joblib's convention). A fit applies the rule before its first step and
again at every epoch (``CNNNet``), from the load measured over the epoch
that ended, so it follows a machine that gets busy or quiet. The model then
depends on the counts it ran on (docs/reproducibility.md): a pinned
``n_jobs`` repeats bit for bit.

The count is set with ``torch.set_num_threads`` in the thread that computes
and put back afterwards. With torch's OpenMP backend (its builds for Linux,
Windows and macOS), it is that thread's own (OpenMP's per-thread setting,
MKL's local one): fits in other threads keep theirs. torch also keeps the
last count set for threads that start computing later, so a thread that
first computes while a fit runs elsewhere starts with that fit's count:
:func:`caller_threads` tells it from a caller's own, and such a thread gets
torch's default back afterwards.
"""

from __future__ import annotations

import math
import os
import threading
from collections import Counter
from pathlib import Path

import torch
from torch import nn

from .._cpu import CpuLoad, usable_cores
from .._model.work import forward_flops

__all__ = ["FLOPS_PER_THREAD", "THREADS_KEY", "ThreadPolicy", "caller_threads",
           "choose_threads", "prediction_work", "settle_n_jobs", "step_work",
           "torch_default_threads", "work_threads"]

#: Floating-point operations of a step per thread below which one more
#: thread does not pay (docs/benchmarks.md, "Speed on a shared CPU", part 1).
FLOPS_PER_THREAD = 50e6

#: Share of a core that may be busy while it still counts as free.
ROUND_UP = 0.3

#: Forward passes' worth of work in a training step: the backward pass
#: computes two products (input and weight gradients) per forward one.
TRAINING_PASSES = 3

#: Seconds before now where the load's window may start, for the first step
#: of a fit and a long prediction (which wait for a window of their own
#: where none is that recent), and for a short prediction (which does not).
#: An epoch measures the whole epoch before it.
RECENT = 1.0
PAST = 10.0

#: The history key of each epoch's thread count.
THREADS_KEY = "threads"

#: Variables that set the thread count of OpenMP and MKL, hence torch's default.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _physical_cores() -> int | None:
    """Cores of the machine as torch counts them (hyperthreads of a core as one); Linux."""
    siblings = {path.read_text().strip() for path in
                Path("/sys/devices/system/cpu").glob("cpu[0-9]*/topology/thread_siblings_list")}
    return len(siblings) or None


def torch_default_threads() -> int:
    """The intra-op thread count torch starts a process with.

    ``OMP_NUM_THREADS`` (or ``MKL_NUM_THREADS``) where set, else the
    machine's physical cores (torch counts them with cpuinfo, whatever the
    affinity mask says); where those cannot be read, the count this thread
    has now.
    """
    for variable in THREAD_VARIABLES:
        value = os.environ.get(variable, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return _physical_cores() or torch.get_num_threads()


#: torch's default as this module found it: a count already changed when
#: sklearn_cnn was imported (or one torch counts otherwise than
#: :func:`torch_default_threads`) makes every count the caller's own.
_DEFAULT = torch_default_threads()
_SET_BEFORE_IMPORT = torch.get_num_threads() != _DEFAULT

#: The load of other processes, measured for every policy of the process.
LOAD = CpuLoad()

_lock = threading.Lock()
_computing: Counter = Counter()  # thread ident -> policies it holds open
_counts_set: Counter = Counter()  # counts the open policies have set
_local = threading.local()  # this thread's open policies


def caller_threads() -> int | None:
    """The thread count the caller chose for this thread, or None for torch's default.

    Chosen: in the environment (:data:`THREAD_VARIABLES`), or with
    ``torch.set_num_threads`` (a count other than torch's default, and other
    than one a policy open in another thread has set).
    """
    current = torch.get_num_threads()
    if _SET_BEFORE_IMPORT or any(os.environ.get(v) for v in THREAD_VARIABLES):
        return current
    if current == _DEFAULT:
        return None
    with _lock:
        borrowed = _counts_set[current] > 0 and not getattr(_local, "depth", 0)
    return None if borrowed else current


def settle_n_jobs(n_jobs: int | None, usable: int) -> int | None:
    """The thread count an int ``n_jobs`` pins (joblib's convention), None for the policy.

    Examples
    --------
    >>> from sklearn_cnn._training.threads import settle_n_jobs
    >>> settle_n_jobs(None, 8), settle_n_jobs(3, 8), settle_n_jobs(-1, 8), settle_n_jobs(-2, 8)
    (None, 3, 8, 7)
    """
    if n_jobs is None:
        return None
    return int(n_jobs) if n_jobs > 0 else max(1, usable + 1 + int(n_jobs))


def work_threads(flops: float | None) -> int | None:
    """Threads a step of ``flops`` floating-point operations feeds (None: unknown).

    Examples
    --------
    >>> from sklearn_cnn._training.threads import work_threads
    >>> work_threads(30e6), work_threads(130e6), work_threads(3e9), work_threads(None)
    (1, 2, 60, None)
    """
    return None if flops is None else max(1, int(flops // FLOPS_PER_THREAD))


#: Floating-point operations of a prediction above which measuring the load
#: (a short sleep, ``_cpu.CpuLoad.min_window``) pays: about a second of one core.
LONG_PREDICTION = 1000 * FLOPS_PER_THREAD


def prediction_work(flops_per_image: int | None, n_images: int,
                    batch_size: int) -> tuple[int | None, bool]:
    """Threads the forward passes of a prediction feed, and whether to wait for the load.

    Parameters
    ----------
    flops_per_image : int or None
        Floating-point operations of the network's forward pass on one
        image (``_model.work.forward_flops``); None: unknown.
    n_images : int
        Images to predict.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    work : int or None
        :func:`work_threads` of one forward pass.
    wait : bool
        Whether the whole prediction is long enough (:data:`LONG_PREDICTION`)
        to measure the load before it, where no recent measurement tells it.

    Examples
    --------
    >>> from sklearn_cnn._training.threads import prediction_work
    >>> prediction_work(700_000, 10, 256), prediction_work(8_500_000, 60_000, 256)
    ((1, False), (43, True))
    """
    if flops_per_image is None:
        return None, False
    return (work_threads(flops_per_image * min(n_images, batch_size)),
            flops_per_image * n_images >= LONG_PREDICTION)


def step_work(module: nn.Module, images: torch.Tensor, *, training: bool) -> int | None:
    """Threads one step of ``module`` on the batch ``images`` feeds (None: unknown).

    Parameters
    ----------
    module : torch.nn.Module
        The network, on the device of ``images``.
    images : Tensor of shape (N, C, H, W)
        The batch, in the network's memory format.
    training : bool
        A training step (forward and backward passes) or a forward pass.

    Returns
    -------
    work : int or None
        :func:`work_threads` of the step's floating-point operations.
    """
    flops = forward_flops(module, images[:1])
    passes = TRAINING_PASSES if training else 1
    return None if flops is None else work_threads(flops * passes * len(images))


def choose_threads(*, work: int | None, usable: int, free: float | None,
                   sharing: int = 1) -> int:
    """Rules 2 and 3 of the module docstring: the thread count of one fit or prediction.

    Parameters
    ----------
    work : int or None
        Threads the work feeds (:func:`work_threads`); None: no limit.
    usable : int
        Cores this process may use (``_cpu.usable_cores``).
    free : float or None
        Of those, the cores other processes leave free; None: unknown, all.
    sharing : int, default=1
        Fits and predictions computing in threads of this process, this one
        included, which share the free cores.

    Returns
    -------
    threads : int
        At least 1.

    Examples
    --------
    >>> from sklearn_cnn._training.threads import choose_threads
    >>> choose_threads(work=None, usable=2, free=1.97)  # idle
    2
    >>> choose_threads(work=None, usable=2, free=0.0)  # two busy processes
    1
    >>> choose_threads(work=None, usable=2, free=1.33)  # one, beside two threads of ours
    1
    >>> choose_threads(work=None, usable=8, free=8.0, sharing=2), choose_threads(
    ...     work=1, usable=8, free=8.0)
    (4, 1)
    """
    available = float(usable) if free is None else min(float(usable), max(free, 0.0))
    threads = math.floor(available / sharing + ROUND_UP)
    return max(1, min(threads, usable, work if work is not None else usable))


class ThreadPolicy:
    """The torch thread count of one fit or prediction, while it runs.

    Use it as a context manager around the computation, in the thread that
    computes; :meth:`apply` sets a count (at the start, and again whenever
    the work or the load may have changed). On leaving, the thread gets its
    count back.

    Parameters
    ----------
    n_jobs : int or None, default=None
        The estimator's ``n_jobs``: None for the policy, an int to pin it.
    device : str or torch.device, default="cpu"
        Where the network computes: on a GPU the work does not limit the
        host's threads.

    Attributes
    ----------
    threads_ : int or None
        The count set last; None before :meth:`apply`.

    Examples
    --------
    >>> import torch
    >>> from sklearn_cnn._training.threads import ThreadPolicy
    >>> before = torch.get_num_threads()
    >>> with ThreadPolicy(n_jobs=1) as policy:
    ...     policy.apply(work=None), torch.get_num_threads()
    (1, 1)
    >>> torch.get_num_threads() == before
    True
    """

    def __init__(self, n_jobs: int | None = None, device="cpu") -> None:
        self.n_jobs = n_jobs
        self.device = torch.device(device)
        self.threads_ = None
        self._measured = False

    def __enter__(self) -> ThreadPolicy:
        nested = getattr(_local, "depth", 0) > 0
        caller = caller_threads()
        self._pinned = caller if self.n_jobs is None else settle_n_jobs(
            self.n_jobs, usable_cores())
        # What the thread gets back: its own count, or torch's default where
        # its count was only one another thread's policy had set.
        self._restore = torch.get_num_threads() if nested or caller is not None else _DEFAULT
        with _lock:
            _computing[threading.get_ident()] += 1
        _local.depth = getattr(_local, "depth", 0) + 1
        return self

    def __exit__(self, *exc) -> None:
        _local.depth -= 1
        with _lock:
            ident = threading.get_ident()
            _computing[ident] -= 1
            if not _computing[ident]:
                del _computing[ident]
            if self.threads_ is not None:
                _counts_set[self.threads_] -= 1
        torch.set_num_threads(self._restore)
        if self._measured:
            LOAD.sample()  # the next fit or prediction measures from here

    def choose(self, work: int | None, *, wait: bool = True,
               within: float | None = None) -> int | None:
        """The count for work that feeds ``work`` threads (None: no limit).

        The load is measured over a window that starts at most ``within``
        seconds ago (None: :data:`RECENT` with ``wait``, :data:`PAST`
        without; ``_cpu.CpuLoad.others``). Without ``wait``, where no window
        gives it: None once a count is set (keep it), else the count for an
        idle machine.
        """
        if self._pinned is not None:
            return self._pinned
        if work == 1 and self.device.type == "cpu":
            return 1  # whatever the load: nothing to measure
        usable = usable_cores()
        within = (RECENT if wait else PAST) if within is None else within
        self._measured = True
        free = LOAD.free(usable, within=within, wait=wait)
        if free is None and not wait and self.threads_ is not None and LOAD.measurable:
            return None
        with _lock:
            sharing = len(_computing)
        return choose_threads(work=work if self.device.type == "cpu" else None,
                              usable=usable, free=free, sharing=sharing)

    def apply(self, work: int | None, *, wait: bool = True, within: float | None = None) -> int:
        """Choose the count (:meth:`choose`) and set it in this thread; return it."""
        threads = self.choose(work, wait=wait, within=within)
        if threads is None:
            return self.threads_
        if threads != self.threads_:
            with _lock:
                if self.threads_ is not None:
                    _counts_set[self.threads_] -= 1
                _counts_set[threads] += 1
            self.threads_ = threads
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        return threads
