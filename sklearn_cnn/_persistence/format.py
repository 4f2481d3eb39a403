"""Save and load estimators without pickle: tensors in safetensors, the rest in JSON.

A model file is one safetensors file. Its tensors are the numeric state (the
network's weights and buffers, the loss's class weights, fitted arrays of the
transformers); its header metadata holds one JSON document with the
parameters, the other fitted attributes and the library versions. Reading a
file parses JSON and tensors only, so nothing in it runs. Classes named in it
(a custom ``module=``, an optimizer class, callbacks) are imported only from
the modules in ``TRUSTED_MODULES`` or those the caller lists in ``trusted``.

Versions: files of earlier versions load (``compat``); a file this version
cannot read is refused naming the file and the cause, and where a newer
sklearn-cnn wrote it, both versions and the upgrade that reads it; a newer
file that loads all the same warns (``NewerVersionWarning``). Every array
and tensor is checked against the parameters before the estimator is
returned (``state``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import sklearn
import skorch
import torch
from safetensors import safe_open
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.utils.fixes import parse_version

from .._warnings import warn_user
from .atomic import atomic_write
from .codec import UntrustedModuleError, decode, encode, import_path, resolve
from .state import get_state, set_state

__all__ = ["FORMAT", "FORMAT_VERSION", "NewerVersionWarning", "load", "save"]

#: PEP 440 versions: packaging's ``Version``, as scikit-learn vendors it (its
#: ``parse_version`` gives one for a valid version; this refuses the others).
_Version = type(parse_version("0"))
#: What a file written by this module says it is, and the layout it has.
FORMAT = "sklearn-cnn"
FORMAT_VERSION = 1
#: How compressed joblib pickles start (zlib, gzip, bz2, xz, lz4); plain
#: pickles start with the protocol byte 0x80.
PICKLE_STARTS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda", b"\x1f\x8b",
                 b"BZh", b"\xfd7zXZ", b"\x04\x22\x4d\x18")

# ------------------------------------------------------------ estimators


def _save_estimator(estimator, prefix: str, tensors: dict, unsaved: list[str]) -> dict:
    cls = type(estimator)
    if not cls.__module__.startswith("sklearn_cnn"):
        raise TypeError(
            f"save() stores sklearn-cnn estimators and pipelines of them; got a "
            f"{cls.__name__}. Use pickle or joblib for other estimators."
        )
    name = cls.__name__
    entry = {"class": import_path(cls, name),
             "params": encode(estimator.get_params(deep=False), name, unsaved),
             "fitted": {}, "arrays": []}
    state_tensors, attributes = get_state(estimator)
    for key, tensor in state_tensors.items():
        tensors[f"{prefix}.{key}"] = tensor
    for key, value in attributes.items():
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            tensors[f"{prefix}.{key}"] = torch.from_numpy(np.ascontiguousarray(value).copy())
            entry["arrays"].append(key)
        else:
            entry["fitted"][key] = encode(value, f"{name}.{key}", unsaved)
    return entry


def save(estimator, path: str | os.PathLike) -> None:
    """Write a fitted (or unfitted) estimator to ``path``, without pickle.

    Parameters
    ----------
    estimator : CNNClassifier, sklearn-cnn transformer or Pipeline of them
        What to save. Classes it names (``module=``, an optimizer class,
        callbacks) are stored by import path.
    path : str or path-like
        The file to write (conventionally ``*.safetensors``). A new file
        gets the permissions ``open()`` gives (``0o666`` less the umask);
        an existing one is replaced and keeps its own. The write is atomic:
        the file is written beside ``path``, flushed to the disk and renamed
        over it, so a save that fails or is killed half-way leaves the file
        already at ``path`` as it was.

    Raises
    ------
    OSError
        Naming ``path``, when it cannot be written (a missing folder, a
        full disk, a file-size limit); the file already there is unchanged.

    Warns
    -----
    UserWarning
        For parameters that only shape training and cannot be stored as data
        (e.g. a torchvision transform as ``augment``): they load as None.

    See Also
    --------
    load : Read an estimator written by ``save``.
    sklearn_cnn.CNNClassifier.save : The same, as a method.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier, load, save
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0).fit(X[:200], y[:200])
    >>> path = os.path.join(tempfile.mkdtemp(), "digits.safetensors")
    >>> save(clf, path)
    >>> bool((load(path).predict(X[:50]) == clf.predict(X[:50])).all())
    True
    """
    from sklearn.pipeline import Pipeline

    tensors: dict[str, torch.Tensor] = {}
    unsaved: list[str] = []
    header = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "versions": {"sklearn_cnn": _version(), "torch": torch.__version__,
                     "scikit-learn": sklearn.__version__, "skorch": skorch.__version__,
                     "safetensors": safetensors.__version__},
    }
    if isinstance(estimator, Pipeline):
        params = estimator.get_params(deep=False)
        steps = params.pop("steps")
        header["pipeline"] = encode(params, "Pipeline", unsaved)
        header["steps"] = [[name, _save_estimator(step, str(i), tensors, unsaved)]
                           for i, (name, step) in enumerate(steps)]
    else:
        header["estimator"] = _save_estimator(estimator, "0", tensors, unsaved)
    if unsaved:
        warn_user(
            f"Not saved (they only shape training, and are not data): {', '.join(unsaved)}. "
            "They load as None; set them again before refitting.", UserWarning)
    data = safetensors.torch.save(tensors, metadata={FORMAT: json.dumps(header)})
    # Written atomically (a failed or killed save leaves the file already at
    # ``path`` intact), not by safetensors' save_file, which writes in place
    # with mode 0600 whatever the umask: a model file gets the permissions of
    # any other file the user writes (0o666 & ~umask), or keeps its own.
    with atomic_write(path) as file:
        file.write(data)


def _version() -> str:
    from .._version import __version__

    return __version__


def _read(path) -> tuple[dict, dict]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No sklearn-cnn model file at {os.fspath(path)!r}.")
    try:
        with safe_open(os.fspath(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except Exception as exc:  # safetensors raises its own error types for bad files
        # Sniffed only once safetensors has refused the file: a safetensors
        # file starts with its header's length, whose first byte can be any
        # of the pickle starts below.
        with open(path, "rb") as file:
            start = file.read(6)
        if start[:1] == b"\x80" or start.startswith(PICKLE_STARTS):
            raise ValueError(
                f"{os.fspath(path)!r} is a pickle (as pickle.dump or joblib.dump write it), "
                "not a model file written by sklearn_cnn.save: open it with "
                "joblib.load(path), and only if you trust where it comes from (loading a "
                "pickle runs code)."
            ) from None
        raise ValueError(
            f"{os.fspath(path)!r} is not a readable sklearn-cnn model file (a safetensors "
            f"file written by sklearn_cnn.save): {exc}"
        ) from exc
    if FORMAT not in metadata:
        raise ValueError(f"{os.fspath(path)!r} is a safetensors file, but not one written by "
                         "sklearn_cnn.save (its header has no sklearn-cnn entry).")
    try:
        header = json.loads(metadata[FORMAT])
        version = int(header["format_version"])
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{os.fspath(path)!r} has a damaged sklearn-cnn header: {exc}") from exc
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} was written in sklearn-cnn file format {version} "
            f"(sklearn-cnn {header.get('versions', {}).get('sklearn_cnn')}); this "
            f"version reads format {FORMAT_VERSION} and older. Upgrade sklearn-cnn."
        )
    return header, tensors


def load(path: str | os.PathLike, *, trusted=(), device=None):
    """Read an estimator written by ``save``; nothing in the file is executed.

    Parameters
    ----------
    path : str or path-like
        A file written by ``save`` or ``CNNClassifier.save``.
    trusted : iterable of str, default=()
        Modules (and their submodules) the file may name classes from, in
        addition to sklearn_cnn, torch.nn, torch.optim, skorch and
        torchvision.transforms; for example the module of a custom
        ``module=`` network. Anything else raises a ValueError.
    device : str or torch.device, default=None
        Where to put the network; None: the saved ``device`` parameter
        ("auto": CUDA when available), the CPU where that is not available.

    Returns
    -------
    estimator : CNNClassifier, transformer or Pipeline
        As saved: fitted if it was fitted.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming ``path``: for a file that is not an sklearn-cnn file, is
        truncated, comes from a newer format version, or names classes from
        untrusted modules (the ``trusted=`` to pass); for a file whose
        content this version cannot read (a parameter, class or entry it
        does not know, invalid parameters, arrays or tensors that do not fit
        the parameters and each other, named with what was expected): when
        a newer sklearn-cnn wrote the file, a message naming both versions
        and ``pip install -U sklearn-cnn``, else that the file is damaged or
        was tampered with. The error that stopped the reading is chained
        (``__cause__``).

    Warns
    -----
    NewerVersionWarning
        When a newer sklearn-cnn wrote the file and it loads all the same: a
        subclass of scikit-learn's ``InconsistentVersionWarning``, whose
        filters apply to it. Files of earlier versions load without a warning.

    See Also
    --------
    save : Write an estimator to a file, without pickle.

    Examples
    --------
    A pipeline, fitted or not, loads as it was saved, here onto the CPU:

    >>> import os, tempfile
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_cnn import CNNClassifier, load, save
    >>> from sklearn_cnn.preprocessing import Rescale
    >>> path = os.path.join(tempfile.mkdtemp(), "pipeline.safetensors")
    >>> save(make_pipeline(Rescale(scale=1 / 16), CNNClassifier(conv_channels=(8,))), path)
    >>> pipeline = load(path, device="cpu")
    >>> [name for name, _ in pipeline.steps], pipeline[-1].conv_channels
    (['rescale', 'cnnclassifier'], (8,))
    """
    from sklearn.pipeline import Pipeline

    header, tensors = _read(path)
    trusted = tuple(trusted)
    step = None  # the pipeline step being read, for the message
    try:
        if "steps" in header:
            steps = []
            for i, (name, entry) in enumerate(header["steps"]):
                step = f"step {name!r}"
                steps.append((name, _load_estimator(entry, str(i), tensors, trusted, device)))
            step, params = None, decode(header["pipeline"], trusted)
            _check_parameters(Pipeline, params)
            estimator, owners = Pipeline(steps, **params), len(steps)
        else:
            estimator = _load_estimator(header["estimator"], "0", tensors, trusted, device)
            owners = 1
        prefixes = {str(i) for i in range(owners)}
        if unowned := sorted(k for k in tensors if k.partition(".")[0] not in prefixes):
            raise ValueError(f"the tensors {unowned[:5]} belong to no estimator in it")
    except UntrustedModuleError as exc:
        # Names the module and the trusted= to pass, whoever wrote the file.
        raise UntrustedModuleError(f"{os.fspath(path)!r}: {exc}") from None
    except (KeyError, TypeError, ValueError, RuntimeError, ImportError, AttributeError,
            IndexError) as exc:
        raise _unreadable(path, header, step, exc) from exc
    newer = _newer_writer(header)
    if newer is not None:
        warn_user(NewerVersionWarning(
            path=os.fspath(path), estimator_name=type(estimator).__name__,
            file_version=newer, current_version=_version(),
            original_sklearn_version=_written_versions(header).get("scikit-learn")),
            NewerVersionWarning)
    return estimator


def _load_estimator(entry: dict, prefix: str, tensors: dict, trusted, device):
    module = str(entry["class"]).partition(":")[0]
    if module != "sklearn_cnn" and not module.startswith("sklearn_cnn."):
        raise ValueError(f"The file names estimator class {entry['class']!r}, not an "
                         "sklearn-cnn one.")
    cls = resolve(entry["class"], ())
    params = decode(entry["params"], trusted)
    _check_parameters(cls, params)
    estimator = cls(**params)
    start = f"{prefix}."
    state_tensors = {k[len(start):]: v for k, v in tensors.items() if k.startswith(start)}
    attributes = {key: decode(value, trusted) for key, value in entry["fitted"].items()}
    for key in entry["arrays"]:
        attributes[key] = state_tensors.pop(key).numpy()
    set_state(estimator, state_tensors, attributes, device)
    return estimator


def _check_parameters(cls, params) -> None:
    """Raise a ValueError naming the parameters in ``params`` that ``cls`` does not take."""
    known = getattr(cls, "_get_param_names", None)
    unknown = sorted(set(params) - set(known())) if known is not None else []
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise ValueError(f"the parameter{'s' if len(unknown) > 1 else ''} {names} of "
                         f"{cls.__name__} {'are' if len(unknown) > 1 else 'is'} unknown here")


# --------------------------------------------------------------- versions


class NewerVersionWarning(InconsistentVersionWarning):
    """A model file written by a newer sklearn-cnn than this one loaded.

    It loaded: this version knows every parameter, class and entry in it,
    and its arrays and tensors fit. The newer version may still compute
    differently from this one with them (a default, a layer); upgrading
    sklearn-cnn is the way to predict exactly as where it was saved. A
    subclass of scikit-learn's ``InconsistentVersionWarning`` (a
    ``UserWarning``), so that the filter for that one applies::

        warnings.filterwarnings("ignore", category=InconsistentVersionWarning)

    Parameters
    ----------
    path : str
        The file.
    estimator_name : str
        The class of what it holds, such as ``"Pipeline"``.
    file_version : str
        The sklearn-cnn version that wrote it.
    current_version : str
        This sklearn-cnn version.
    original_sklearn_version : str or None
        The scikit-learn version that wrote it, as the file says; the
        scikit-learn version here is ``current_sklearn_version``.

    See Also
    --------
    load : Warns with it.
    sklearn.exceptions.InconsistentVersionWarning : Its base class.

    Examples
    --------
    Silence it, and scikit-learn's own version warnings, as one:

    >>> import warnings
    >>> from sklearn.exceptions import InconsistentVersionWarning
    >>> from sklearn_cnn import NewerVersionWarning
    >>> issubclass(NewerVersionWarning, InconsistentVersionWarning)
    True
    >>> with warnings.catch_warnings():
    ...     warnings.filterwarnings("ignore", category=InconsistentVersionWarning)
    """

    def __init__(self, *, path, estimator_name, file_version, current_version,
                 original_sklearn_version):
        super().__init__(estimator_name=estimator_name,
                         current_sklearn_version=sklearn.__version__,
                         original_sklearn_version=original_sklearn_version)
        self.path = path
        self.file_version = file_version
        self.current_version = current_version

    def __str__(self):
        return (
            f"{self.path!r} was written by sklearn-cnn {self.file_version}; this is "
            f"{self.current_version}. Its {self.estimator_name} loaded, but the newer "
            "version may compute differently with it: upgrade sklearn-cnn (pip install -U "
            "sklearn-cnn) to predict exactly as where it was saved."
        )


def _written_versions(header: dict) -> dict:
    versions = header.get("versions")
    return versions if isinstance(versions, dict) else {}


def _newer_writer(header: dict) -> str | None:
    """The sklearn-cnn version that wrote the file, if newer than this one; else None.

    PEP 440 order of the public versions: a development release comes
    before its release ("0.2.0.dev1" < "0.2.0"), and local labels, which
    mark builds of one public version, are ignored ("0.1.0+abc" is
    "0.1.0"). A missing or unparsable version is not newer.
    """
    written = _written_versions(header).get("sklearn_cnn")
    if not isinstance(written, str):
        return None
    try:
        newer = _Version(_Version(written).public) > _Version(_Version(_version()).public)
    except ValueError:  # InvalidVersion
        return None
    return written if newer else None


def _unreadable(path, header: dict, step: str | None, exc: BaseException) -> ValueError:
    """The error for a file ``load`` could not read, naming its writer where newer."""
    if isinstance(exc, KeyError):
        cause = f"{exc.args[0]!r} is missing" if exc.args else "an entry is missing"
    elif isinstance(exc, ImportError) and exc.name:
        cause = f"there is no module {exc.name!r}"
    else:
        cause = " ".join(str(exc).split()).rstrip(".")
        if not isinstance(exc, ValueError):
            cause = f"{type(exc).__name__}: {cause}"
    if len(cause) > 400:
        cause = cause[:400] + "..."
    if step is not None:
        cause = f"{step}: {cause}"
    newer = _newer_writer(header)
    if newer is not None:
        return ValueError(
            f"{os.fspath(path)!r} was written by sklearn-cnn {newer}; this is {_version()}, "
            f"which cannot read it ({cause}): upgrade sklearn-cnn (pip install -U "
            "sklearn-cnn) to load it."
        )
    return ValueError(f"{os.fspath(path)!r} is damaged or was tampered with ({cause}). "
                      "Save the model again, or use an intact copy of the file.")
