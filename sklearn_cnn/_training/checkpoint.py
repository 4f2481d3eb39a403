"""Checkpoints of a fit, from which the same fit resumes after a crash.

``CNNClassifier(checkpoint=FOLDER)`` keeps, in ``FOLDER``, one file per fit:
``fit-<key>.pt``, where the key is a hash of what makes the fit what it is
(:func:`fit_key`: what the estimator says makes the fit what it is, its
seed, its data). After every epoch the file is replaced atomically
(``_persistence.atomic``) by the fit's whole state: the network's, the
loss's and the optimizer's tensors, the history, the random generators and
the state of the callbacks that decide what comes next (early stopping, the
weight average, the best scores). Running the same fit again reads it back
and trains only the epochs left, with the same numbers an uninterrupted fit
would have drawn; a fit that ended (all its epochs, or stopped early)
returns its model at once. Different fits (a grid search, the folds of a
cross-validation) keep different files in one folder.

The file is ``torch.save``'d and read with ``weights_only=True``: tensors
and plain containers, no pickled objects, so reading one runs no code.
Unlike skorch's ``Checkpoint`` (files written in place, one per part),
one file holds everything, so a crash while it is written leaves the
previous epoch's complete state.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, EpochScoring, PassthroughScoring

from .._persistence.atomic import atomic_write
from .._persistence.codec import decode, encode
from .._process_group import agree, current_world, gather, writes_files
from .._warnings import warn_user
from .callbacks.averaging import WeightAveraging
from .randomness import ITERATOR_GENERATOR, MODULE_GENERATOR, SEED_BOUND

__all__ = ["FitCheckpoint", "fit_key", "open_checkpoint"]

FORMAT = "sklearn-cnn checkpoint"
FORMAT_VERSION = 1

#: The callbacks whose state travels with a checkpoint, and that state: it
#: decides what the epochs left do (when to stop, which weights are best, the
#: weight average, which epoch scored best).
KEPT_STATE = {
    EarlyStopping: ("misses_", "dynamic_threshold_", "best_epoch_", "best_model_weights_"),
    WeightAveraging: ("average_", "n_updates_", "trained_"),
    EpochScoring: ("best_score_",),
    PassthroughScoring: ("best_score_",),
}


def _kept(callback) -> tuple[str, ...]:
    return next((names for cls, names in KEPT_STATE.items() if isinstance(callback, cls)), ())


def _describe(value) -> str:
    """A value as text that is the same in every process (no memory addresses)."""
    unsaved: list[str] = []
    try:
        data = encode(value, "checkpoint", unsaved)
    except ValueError:  # a class defined in a script: named by its qualified name
        data = None
    text = json.dumps(data, sort_keys=True, default=str) if data is not None and not unsaved \
        else repr(value)
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def _hash_data(digest, data) -> None:
    if data is None:
        digest.update(b"none")
    elif isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        digest.update(f"{data.dtype.str}{data.shape}".encode())
        digest.update(np.ascontiguousarray(data).data)
    elif torch.is_tensor(data):
        _hash_data(digest, data.detach().cpu().numpy())
    elif hasattr(data, "paths"):  # LazyImages: its files and the steps it applies
        _hash_data(digest, list(data.paths))
        digest.update(_describe([getattr(data, "mode", None), getattr(data, "size", None),
                                 list(getattr(data, "steps", ()))]).encode())
    else:
        digest.update(_describe([os.fspath(item) if isinstance(item, os.PathLike) else item
                                 for item in data]).encode())


def fit_key(description, seed: int | None, *data) -> str:
    """The hash that names a fit's checkpoint file.

    Parameters
    ----------
    description : dict
        What makes the fit what it is, as the estimator describes it (its
        parameters that change the numbers a fit computes).
    seed : int or None
        The fit's seed where ``random_state`` sets it; None where the fit
        draws one (it is then kept in the checkpoint).
    *data
        The training images (array, tensor, paths, ``LazyImages``), targets
        and sample weights.

    Returns
    -------
    key : str
        16 hexadecimal digits.
    """
    digest = hashlib.blake2b(digest_size=8)
    digest.update(_describe(description).encode())
    digest.update(repr(seed).encode())
    for item in data:
        _hash_data(digest, item)
    return digest.hexdigest()


def _plain(value):
    """``value`` as what ``torch.load(weights_only=True)`` reads, or ``...`` if it cannot be.

    numpy scalars (a learning rate a schedule computed, a best score) become
    Python numbers.
    """
    if isinstance(value, np.generic):  # before float: numpy's float64 is one
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)) or torch.is_tensor(value):
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return ... if any(v is ... for v in items) else type(value)(items)
    if isinstance(value, dict):
        items = {k: _plain(v) for k, v in value.items()}
        ok = all(isinstance(k, (str, int)) for k in items) and all(
            v is not ... for v in items.values())
        return dict(items) if ok else ...
    return ...


def _callback_states(net) -> dict:
    states = {}
    for name, callback in net.callbacks_:
        state = {key: _plain(getattr(callback, key)) for key in _kept(callback)
                 if hasattr(callback, key)}
        if state:
            states[name] = {key: value for key, value in state.items() if value is not ...}
    return states


def _random_state(net) -> dict:
    """The fit's random generators: its own ones, else torch's global ones.

    In a fit over several processes, those of every process, in rank order
    (a collective: every process writes its checkpoint at the same points).
    """
    state = {}
    generator = getattr(net, ITERATOR_GENERATOR, None)
    modules = getattr(net, MODULE_GENERATOR, None)
    if generator is not None:  # the fit's own (training on the CPU), or its shuffling
        state["generator"] = generator.get_state()
    if modules is not None and modules is not generator:
        state["modules"] = modules.get_state()
    if modules is None:  # torch's global generators
        state["cpu"] = torch.get_rng_state()
        if torch.device(net.device).type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(torch.device(net.device))
    if current_world() is not None:
        return {"processes": gather(state)}
    return state


def _set_random_state(net, state: dict) -> None:
    world = current_world()
    if "processes" in state:  # a fit over as many processes (the key counts them)
        if world is None or len(state["processes"]) != world.size:
            return
        state = state["processes"][world.rank]
    generator = getattr(net, ITERATOR_GENERATOR, None)
    modules = getattr(net, MODULE_GENERATOR, None)
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"])
    if modules is not None and modules is not generator and "modules" in state:
        modules.set_state(state["modules"])
    if modules is None and "cpu" in state:
        torch.set_rng_state(state["cpu"])
        if "cuda" in state and torch.device(net.device).type == "cuda":
            torch.cuda.set_rng_state(state["cuda"], torch.device(net.device))
    # Else the fit trained elsewhere (a GPU fit resumed on the CPU, or back):
    # the epochs left draw new numbers from this fit's seed.


class FitCheckpoint:
    """The checkpoint file of one fit, in ``folder``.

    Parameters
    ----------
    folder : str or path-like
        The folder (created if missing).
    key : str
        :func:`fit_key` of the fit.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    state_ : dict or None
        What :meth:`open` found; None before, or when there was nothing.
    seed_ : int
        The fit's seed, once :meth:`open` decided it.
    """

    def __init__(self, folder, key: str) -> None:
        self.path = Path(folder) / f"fit-{key}.pt"
        self.state_ = None
        self.seed_ = None
        self._callbacks_pending = False

    def open(self, seed: int) -> int:
        """Read the saved state, if any; the fit's seed: the saved one, else ``seed``.

        Also removes the temporary files a writer killed half-way left. An
        unreadable file (damaged outside the package's atomic writes) is
        warned about and replaced as the fit goes on.

        In a fit over several processes, the first (rank 0) reads the file
        and hands what it found to the others: they all resume from the same
        state, even while it replaces the file of a fit that just ended, and
        only it removes temporary files (the others' would be its own,
        half-written).

        Raises
        ------
        ValueError
            For a checkpoint written by a newer file format.
        """
        refused = None
        if writes_files():
            try:
                self._read(seed)
            except ValueError as exc:  # said by every process, none left waiting
                refused = str(exc)
        self.state_, self.seed_, refused = agree((self.state_, self.seed_, refused))
        if refused is not None:
            raise ValueError(refused)
        return seed if self.seed_ is None else self.seed_

    def _read(self, seed: int) -> None:
        """:meth:`open`'s reading of the file (on the process that writes it)."""
        with contextlib.suppress(OSError):
            for stray in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                stray.unlink()
        self.seed_ = seed
        if not self.path.is_file():
            return
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
            version = int(state["format_version"])
        except Exception as exc:  # a file damaged outside the package's atomic writes
            why = (str(exc).splitlines() or [""])[0][:100]
            warn_user(f"The checkpoint {os.fspath(self.path)!r} cannot be read "
                      f"({type(exc).__name__}: {why}); the fit starts afresh and "
                      "replaces it.", UserWarning)
            return
        if version > FORMAT_VERSION:
            raise ValueError(
                f"The checkpoint {os.fspath(self.path)!r} was written by sklearn-cnn "
                f"{state.get('sklearn_cnn')} in checkpoint format {version}; this version "
                f"reads format {FORMAT_VERSION}. Upgrade sklearn-cnn to resume it, or pass "
                "another checkpoint folder.")
        self.state_ = state
        self.seed_ = int(state["seed"])

    @property
    def epochs_left(self) -> int | None:
        """0 where the checkpointed fit had ended; else None (``max_epochs`` decides)."""
        return 0 if self.state_ is not None and self.state_["finished"] else None

    def write(self, net, *, finished: bool) -> None:
        """Replace the file, atomically, by the state of ``net`` after its last epoch."""
        from .._version import __version__

        state = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "sklearn_cnn": __version__,
            "seed": self.seed_, "finished": finished,
            "history": json.dumps(encode(net.history.to_list(), "history", [])),
            "module": net.module_.state_dict(), "criterion": net.criterion_.state_dict(),
            "optimizer": _plain(net.optimizer_.state_dict()), "random": _random_state(net),
            "callbacks": _callback_states(net),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.path) as file:
            torch.save(state, file)

    def restore(self, net) -> bool:
        """Put the saved network, optimizer, history and random state into ``net``.

        Called when training begins, before the callbacks; their own state
        follows at :meth:`restore_callbacks`, once they have initialised it.
        Returns whether there was a state to restore.
        """
        from skorch.history import History

        state = self.state_
        if state is None:
            return False
        net.module_.load_state_dict(state["module"])
        net.criterion_.load_state_dict(state["criterion"])
        net.optimizer_.load_state_dict(state["optimizer"])
        net.history = History(decode(json.loads(state["history"]), ()))
        _set_random_state(net, state["random"])
        self._callbacks_pending = True
        return True

    def restore_callbacks(self, net) -> None:
        """Put back the state of the callbacks that decide what comes next (once)."""
        if not self._callbacks_pending:
            return
        self._callbacks_pending = False
        device = torch.device(net.device)
        saved = self.state_["callbacks"]
        for name, callback in net.callbacks_:
            for key, value in saved.get(name, {}).items():
                if key in _kept(callback):
                    setattr(callback, key, _to(value, device))


def _to(value, device: torch.device):
    if torch.is_tensor(value):
        return value.to(device)
    if isinstance(value, (list, tuple)):
        return type(value)(_to(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value


def open_checkpoint(folder, description: dict, seed: int | None, *data) -> FitCheckpoint:
    """The checkpoint of the fit ``description`` says on ``data`` in ``folder``, opened.

    Parameters
    ----------
    folder : str or path-like
        The ``checkpoint`` parameter.
    description : dict
        What makes the fit what it is (:func:`fit_key`).
    seed : int or None
        The seed ``random_state`` gives; None draws one, which the checkpoint
        keeps (a resumed fit splits and shuffles as the first run did).
    *data
        The training images, targets and sample weights.

    Returns
    -------
    checkpoint : FitCheckpoint
        Its ``seed_`` is the fit's seed; its ``state_`` what it resumes from.
    """
    checkpoint = FitCheckpoint(folder, fit_key(description, seed, *data))
    checkpoint.open(secrets.randbelow(SEED_BOUND) if seed is None else seed)
    return checkpoint
