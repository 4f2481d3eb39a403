"""The randomness of one fit: its seed, its own generator, and torch's global ones.

A fit draws random numbers for weight initialisation, shuffling, the
hold-out, augmentation and dropout. torch's global generators are shared by
every thread of the process, so a fit that draws from them while another fit
runs in another thread (joblib's threading backend, a web app training in
threads) would get numbers the other one was meant to have. Hence:

- Each fit has its own ``torch.Generator`` (:class:`FitRandomness`), which
  the modules and iterators that take one draw from while it trains:
  shuffling (``TensorBatches`` and the ``DataLoader`` of image files), the
  built-in network's dropout and ``BatchAugment`` (subclasses of
  :class:`DrawsFromGenerator`). Such a fit runs beside any other.
- What draws from the global generators (torch's layers initialising their
  weights; a custom or torchvision network, a torchvision transform, or the
  step on a GPU, replayed from a CUDA graph, while training) does it within
  :func:`seeded`: a fit with a seed has them to itself, seeded, and puts
  their state back afterwards; fits without a seed share them with each
  other, never with a seeded one.

The hold-out split is drawn by numpy from the same seed (``HoldoutSplit``)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn

from .._model.generator import DrawsFromGenerator

__all__ = ['FitRandomness', 'draw_seed', 'seeded']


#: Highest seed drawn (exclusive): torch takes any 64-bit seed, numpy 32-bit ones.
SEED_BOUND = np.iinfo(np.int32).max


def draw_seed(random_state) -> int | None:
    """A torch seed drawn from ``random_state`` (None: leave torch unseeded)."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(SEED_BOUND))


class SharedLock:
    """A readers-writer lock: one exclusive holder, or any number of shared ones.

    Exclusive holders are preferred: once one waits, new shared holders wait
    too, so that a stream of unseeded fits cannot hold a seeded one off
    forever. Reentrant for a thread that already holds it (in either mode):
    a fit that loads a model while it trains (a callback calling
    ``sklearn_cnn.load``) proceeds instead of waiting for itself.
    Hand-written: the standard library has no readers-writer lock.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0  # exclusive holders waiting
        self._held = threading.local()  # this thread's depth of holding

    @contextlib.contextmanager
    def _holding(self, exclusive: bool) -> Iterator[None]:
        depth = getattr(self._held, "depth", 0)
        if depth:
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth = depth
            return
        with self._condition:
            if exclusive:
                self._waiting += 1
                self._condition.wait_for(lambda: not (self._exclusive or self._shared))
                self._waiting -= 1
                self._exclusive = True
            else:
                self._condition.wait_for(lambda: not (self._exclusive or self._waiting))
                self._shared += 1
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            with self._condition:
                if exclusive:
                    self._exclusive = False
                else:
                    self._shared -= 1
                self._condition.notify_all()

    def shared(self) -> contextlib.AbstractContextManager[None]:
        """Hold the lock beside other shared holders."""
        return self._holding(exclusive=False)

    def exclusive(self) -> contextlib.AbstractContextManager[None]:
        """Hold the lock alone."""
        return self._holding(exclusive=True)


#: Who may draw from torch's global generators (see the module docstring).
GLOBAL_GENERATORS = SharedLock()


@contextlib.contextmanager
def seeded(seed: int | None, device: torch.device) -> Iterator[None]:
    """Run the block with torch's global generators, seeded when ``seed`` is given.

    With a seed, the block has the generators (the CPU's, and ``device``'s
    when it is a GPU) to itself, seeded with ``seed``, and their state is put
    back afterwards: weight initialisation, shuffling and dropout repeat
    under the same seed, whatever other fits run in other threads, and the
    caller's random state is untouched. Without one, the block draws from
    them as they are, beside other unseeded blocks but never beside a
    seeded one.

    Parameters
    ----------
    seed : int or None
        The seed, or None to draw unseeded.
    device : torch.device
        Where the block computes.
    """
    if seed is None:
        with GLOBAL_GENERATORS.shared():
            yield
        return
    devices = [device] if device.type == "cuda" else []
    with GLOBAL_GENERATORS.exclusive(), torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _modules(net) -> list[nn.Module]:
    """The network of a skorch net and its augmentation module, if any."""
    return [m for m in (net.module_, getattr(net, "augment_", None)) if m is not None]


def draws_from_own_generator(net) -> bool:
    """Whether every random draw of training ``net`` can come from a fit's generator.

    On the CPU, for networks and augmentation modules that are
    ``DrawsFromGenerator`` and hold no other dropout (a pickled model of an
    earlier version holds ``nn.Dropout``). On a GPU the step may be replayed
    from a CUDA graph, which records the global CUDA generator only.
    """
    if torch.device(net.device).type != "cpu":
        return False
    modules = _modules(net)
    return all(isinstance(m, DrawsFromGenerator) for m in modules) and not any(
        isinstance(sub, nn.modules.dropout._DropoutNd)
        and not isinstance(sub, DrawsFromGenerator)
        for m in modules for sub in m.modules()
    )


#: The attribute of a skorch net holding its training iterator's generator.
ITERATOR_GENERATOR = "iterator_train__generator"

#: The attribute of a skorch net holding the generator its modules draw from
#: while it trains, where it is the fit's own (else torch's global ones). Not
#: "module..._": skorch pickles every attribute named so with the network.
MODULE_GENERATOR = "draws_generator_"


@contextlib.contextmanager
def _generator_set(net, generator: torch.Generator | None,
                   shuffle: torch.Generator | None = None) -> Iterator[None]:
    """Let ``net``'s random modules draw from ``generator``, its training iterator from ``shuffle``.

    ``shuffle=None``: the iterator draws from ``generator`` too; ``generator=None``:
    the modules draw from torch's global generators.
    """
    users = [] if generator is None else [
        sub for m in _modules(net) for sub in m.modules() if isinstance(sub, DrawsFromGenerator)]
    for user in users:
        user.generator = generator
    # What set_params(iterator_train__generator=...) sets, without registering
    # a parameter that would outlive the fit.
    setattr(net, ITERATOR_GENERATOR, generator if shuffle is None else shuffle)
    setattr(net, MODULE_GENERATOR, generator)
    try:
        yield
    finally:
        vars(net).pop(ITERATOR_GENERATOR, None)
        vars(net).pop(MODULE_GENERATOR, None)
        for user in users:
            user.generator = None


class FitRandomness:
    """The random numbers of one fit, reproducible beside concurrent fits.

    Parameters
    ----------
    seed : int or None
        The fit's seed (``draw_seed(random_state)``); None draws one from
        torch's global generator, which ``torch.manual_seed`` then governs.
    device : torch.device
        Where the fit trains.
    rank : int, default=None
        This process's rank in a fit over several processes, which then
        agree on ``seed`` (not None); None: a fit in one process.

    Examples
    --------
    >>> import torch
    >>> from sklearn_cnn._training.randomness import FitRandomness
    >>> randomness = FitRandomness(0, torch.device("cpu"))
    >>> with randomness.initialising():
    ...     layer = torch.nn.Linear(2, 1)
    >>> with randomness.initialising():
    ...     torch.equal(torch.nn.Linear(2, 1).weight, layer.weight)
    True
    """

    #: Stream of the seed's ``numpy.random.SeedSequence`` that seeds training:
    #: other numbers than the initialisation's, which come from the seed itself.
    TRAINING_STREAM = 1

    #: Stream of the seed that seeds a process's own draws in a fit over
    #: several processes (its rank follows): augmentation and dropout.
    PROCESS_STREAM = 2

    def __init__(self, seed: int | None, device: torch.device, rank: int | None = None) -> None:
        self.seed = seed
        self.device = device
        self.rank = rank

    def initialising(self) -> contextlib.AbstractContextManager[None]:
        """Build and initialise the network in the block (torch's layers draw globally)."""
        return seeded(self.seed, self.device)

    def _training_seed(self) -> int:
        if self.seed is None:
            with GLOBAL_GENERATORS.shared():
                return int(torch.randint(SEED_BOUND, ()))
        sequence = np.random.SeedSequence([self.seed, self.TRAINING_STREAM])
        return int(sequence.generate_state(1)[0])

    @contextlib.contextmanager
    def training(self, net) -> Iterator[None]:
        """Train the initialised skorch ``net`` in the block.

        From a generator of the fit's own where the net can take one
        (:func:`draws_from_own_generator`): beside any other fit. Otherwise
        from torch's global generators (:func:`seeded`): a seeded fit then
        has them to itself for the whole block, and waits for the fits that
        draw from them.
        """
        seed = self._training_seed()
        if self.rank is not None:
            yield from self._training_process(net, seed)
        elif draws_from_own_generator(net):
            with _generator_set(net, torch.Generator().manual_seed(seed)):
                yield
        else:
            with seeded(None if self.seed is None else seed, self.device):
                yield

    def _training_process(self, net, seed: int) -> Iterator[None]:
        """:meth:`training` of one process of a fit over several (``_training.data_parallel``).

        Every process shuffles alike, from a CPU generator of the training
        seed: they share out the same order. Augmentation and dropout draw
        from a seed of the process's own (its rank's stream), so that the
        processes augment their images differently: from the fit's own
        generator where the net can take one, else from torch's global
        generators, seeded with it.
        """
        shuffle = torch.Generator().manual_seed(seed)
        own = int(np.random.SeedSequence(
            [self.seed, self.PROCESS_STREAM, self.rank]).generate_state(1)[0])
        if draws_from_own_generator(net):
            with _generator_set(net, torch.Generator().manual_seed(own), shuffle=shuffle):
                yield
        else:
            with seeded(own, self.device), _generator_set(net, None, shuffle=shuffle):
                yield
