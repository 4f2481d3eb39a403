"""Atomic file writes: a file is either its old self or its complete new self.

Every file the package writes for the user (a model, an ONNX export, a
checkpoint, the CLI's outputs) goes through :func:`replacing`: the bytes go
to a temporary file in the same folder, which is flushed to the disk
(``fsync``) and then renamed over the target (``os.replace``, atomic on
POSIX and Windows within one file system), as PyTorch Lightning saves its
checkpoints and as editors and databases save files. A writer killed half-way
leaves the old file untouched (and a hidden ``.NAME.*.tmp`` file beside it);
a writer that fails (a full disk, a file-size limit) removes its temporary
file and raises an ``OSError`` that names the target.

Of the processes of a fit launched by ``torchrun`` (``_process_group``),
only rank 0 writes: the others write to a temporary folder, which is
removed, so that N processes never race to replace one file.

The standard library has the parts (``tempfile``, ``os.replace``) but no
atomic write; the maintained packages that do it (``atomicwrites``, now
unmaintained, ``safer``) add a dependency for twenty lines.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .._process_group import writes_files

__all__ = ["atomic_write", "replacing"]


def _temporary(path: Path) -> tuple[int, Path]:
    """Create a new hidden file beside ``path``: its descriptor and its path.

    Created by ``os.open`` with mode 0o666, so that the umask applies as it
    does to any file the user writes (``tempfile.mkstemp`` would make it 0o600).
    """
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; Windows has no folder descriptors)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on folders; the rename is still atomic
    finally:
        os.close(descriptor)


def _failure(path: Path, exc: OSError) -> OSError:
    """``exc`` as an ``OSError`` of the same kind that names ``path`` and says it is intact."""
    why = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError) and not path.parent.is_dir():
        why = f"{why} (the folder {os.fspath(path.parent)!r} does not exist)"
    kept = ("the file already there is unchanged" if path.exists()
            else "nothing was written")
    message = f"Could not write {os.fspath(path)!r}: {why}; {kept}."
    # OSError(errno, ...) builds the subclass of that errno (PermissionError, ...).
    return OSError(exc.errno, message) if exc.errno is not None else OSError(message)


@contextlib.contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path``, moved over ``path`` once the block succeeds.

    For writers that take a path (``onnx.save_model``). The block writes the
    temporary file (created empty); on success it is flushed to the disk, given
    the permissions of the file it replaces (or those ``open()`` gives a new
    file), and renamed over ``path``. On any error it is removed, ``path``
    is left as it was, and an ``OSError`` names ``path``.

    Parameters
    ----------
    path : str or path-like
        The file to write.

    Yields
    ------
    temp : pathlib.Path
        Where to write.

    Raises
    ------
    OSError
        Naming ``path``, for any failure to write (its errno kept).
    """
    path = Path(os.path.abspath(os.fspath(path)))
    if not writes_files():  # a process of a fit over several, not rank 0: it writes nothing
        with tempfile.TemporaryDirectory() as folder:
            yield Path(folder) / path.name
        return
    try:
        descriptor, temp = _temporary(path)
    except OSError as exc:
        raise _failure(path, exc) from exc
    os.close(descriptor)
    try:
        yield temp
        with open(temp, "rb+") as file:
            os.fsync(file.fileno())
        if path.exists():
            os.chmod(temp, stat.S_IMODE(path.stat().st_mode))
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.remove(temp)
        if isinstance(exc, OSError):
            raise _failure(path, exc) from exc
        raise
    _sync_folder(path.parent)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **kwargs) -> Iterator:
    """An open file whose content replaces ``path`` atomically when the block ends.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    mode : {"wb", "w"}, default="wb"
        Binary or text.
    **kwargs
        Passed to ``open`` (``encoding``, ``newline``).

    Yields
    ------
    file : file object
        The temporary file, open for writing.

    Raises
    ------
    OSError
        Naming ``path``, for any failure to write; ``path`` is left as it was.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_cnn._persistence.atomic import atomic_write
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
    >>> with atomic_write(path, "w") as file:
    ...     _ = file.write("class,score\\n")
    >>> open(path).read(), os.listdir(os.path.dirname(path))
    ('class,score\\n', ['scores.csv'])
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write writes whole files: mode 'wb' or 'w', not {mode!r}.")
    with replacing(path) as temp, open(temp, mode, **kwargs) as file:
        yield file
