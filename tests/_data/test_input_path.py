"""The path of ``X`` through ``sklearn_cnn._data``, call by call (issue 32, item 3).

"Follow X through fit, call by call: each file is entered once, with at most
5 files before the net." A profiler (``sys.setprofile``) follows ``X``:

- a *step* of the path is a call into ``sklearn_cnn/_data/`` from outside it
  (the estimator, a transformer, this test) that is handed ``X`` or what
  reading it gave: ``read_images(X)``, ``check_targets(y, images.data)``,
  ``images.training_data(...)``, the resumed batch generators;
- what a step gives is followed in turn: the ``ImageInput`` that
  ``read_images`` returns (and its fields), what the read images' methods
  return, the batches their generators yield;
- every file of the package entered inside a step is recorded (an entry: a
  call from another file of the package), consecutive repeats collapsed (a
  loop over the images, or several calls in a row, is one visit);
- the path ends at the net: the first call into skorch,
  ``sklearn_cnn/_training/`` or ``sklearn_cnn/_model/`` handed what ``X``
  became.

Each ``_data`` file is entered once on that path (never again once left), and
reading ``X`` (the ``read_images`` step) takes at most 5 files.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import sklearn_cnn
from sklearn_cnn import CNNClassifier
from sklearn_cnn._data.images import ImageInput, read_images
from sklearn_cnn.preprocessing import ImageFileLoader, Rescale

PACKAGE = Path(sklearn_cnn.__file__).parent
DATA = PACKAGE / "_data"
NET = (str(PACKAGE / "_training") + os.sep, str(PACKAGE / "_model") + os.sep,
       str(Path(sys.modules["skorch"].__file__).parent) + os.sep)
#: The most files reading X may take (issue 32).
MAX_READ_FILES = 5
SCALARS = (type(None), bool, int, float, complex, str, bytes, torch.dtype, torch.device)

RNG = np.random.default_rng(0)
N = 8
PIXELS = RNG.integers(0, 256, (N, 6, 6), dtype=np.uint8)
Y = np.arange(N) % 2
SMALL = {"max_epochs": 1, "conv_channels": (4,), "dense_units": (8,), "batch_size": 4,
         "device": "cpu", "random_state": 0}


class XPath:
    """The ``_data`` files ``X`` enters, in order, until the net (see the module docstring)."""

    def __init__(self, X):
        self.steps: list[tuple[str, list[str]]] = []  # (function called, files entered)
        self._kept = []  # what is followed, kept alive so that ids stay unique
        self._followed: set[int] = set()
        self._step = None  # the frame of the step running
        self._done = False
        self._follow(X)

    @property
    def files(self) -> list[str]:
        """The files entered, over all steps, consecutive repeats collapsed."""
        files = []
        for _, entered in self.steps:
            files.extend(f for f in entered if not files or f != files[-1])
        return files

    def read_files(self) -> set[str]:
        return {f for name, entered in self.steps if name == "read_images" for f in entered}

    def run(self, function):
        sys.setprofile(self._profile)
        try:
            return function()
        finally:
            sys.setprofile(None)

    def _follow(self, value):
        if isinstance(value, tuple):
            for item in value:
                self._follow(item)
            return
        if isinstance(value, SCALARS) or id(value) in self._followed:
            return
        self._kept.append(value)
        self._followed.add(id(value))
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                self._follow(getattr(value, field.name))

    def _handed(self, frame) -> bool:
        """Whether ``frame`` was called with something followed among its arguments."""
        code = frame.f_code
        n = code.co_argcount + code.co_kwonlyargcount
        n += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)  # *args, **kwargs
        for name in code.co_varnames[:n]:
            value = frame.f_locals.get(name)
            values = value.values() if isinstance(value, dict) else (
                value if isinstance(value, tuple) else (value,))
            if any(id(v) in self._followed for v in values):
                return True
        return False

    @staticmethod
    def _caller_file(frame) -> str | None:
        frame = frame.f_back
        while frame is not None and not frame.f_code.co_filename.startswith(str(PACKAGE)):
            frame = frame.f_back
        return None if frame is None else frame.f_code.co_filename

    def _profile(self, frame, event, arg):
        if self._done or event not in ("call", "return"):
            return
        file = frame.f_code.co_filename
        if event == "return":
            if frame is self._step:
                self._end_step(frame, arg)
            return
        if self._step is None and file.startswith(NET) and self._handed(frame):
            self._done = True  # the net: X has been handed over
            sys.setprofile(None)
            return
        if not file.startswith(str(PACKAGE)):
            return
        caller = self._caller_file(frame)
        if self._step is None:
            if not file.startswith(str(DATA)) or (caller or "").startswith(str(DATA)):
                return
            if not self._handed(frame):
                return
            self._step = frame
            self.steps.append((frame.f_code.co_name, []))
        if file != caller and file.startswith(str(DATA)):
            entered = self.steps[-1][1]
            name = os.path.relpath(file, PACKAGE)
            if not entered or entered[-1] != name:
                entered.append(name)

    def _end_step(self, frame, value):
        """Follow what the step gave when it is what X became."""
        self._step = None
        self_ = frame.f_locals.get("self")
        generator = frame.f_code.co_flags & 0x20
        if isinstance(value, ImageInput) or generator or id(self_) in self._followed:
            self._follow(value)


def x_path(X, function) -> XPath:
    path = XPath(X)
    path.run(function)
    return path


def check_path(path: XPath) -> None:
    files = path.files
    again = sorted({f for i, f in enumerate(files) if f in files[:i]})
    assert not again, f"X enters {again} again after leaving: {files}"
    read = path.read_files()
    assert len(read) <= MAX_READ_FILES, f"reading X takes {len(read)} files: {sorted(read)}"


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pngs")
    written = []
    for i, image in enumerate(PIXELS):
        written.append(str(folder / f"{i}.png"))
        Image.fromarray(image).save(written[-1])
    return written


@pytest.fixture(scope="module")
def inputs(paths):
    """Each kind of input ``read_images`` tells apart, with its ``read_images`` arguments."""
    return {
        "array": (PIXELS, {}),
        "flat array": (PIXELS.reshape(N, -1), {"image_shape": (6, 6)}),
        "channels-last array": (PIXELS[..., None].repeat(3, axis=3), {}),
        "paths": (paths, {}),
        "DataFrame column of paths": (pd.DataFrame({"path": paths}), {}),
        "PIL images": ([Image.open(p) for p in paths], {}),
        "LazyImages": (ImageFileLoader(lazy=True).fit_transform(paths), {}),
    }


KINDS = ["array", "flat array", "channels-last array", "paths", "DataFrame column of paths",
         "PIL images", "LazyImages"]


@pytest.mark.parametrize("kind", KINDS)
def test_reading_then_training_data_enters_each_file_once(inputs, kind):
    X, kwargs = inputs[kind]
    path = x_path(X, lambda: read_images(X, check_files=True, **kwargs).training_data(Y, None))
    check_path(path)
    assert path.read_files() and path.files[0] == "_data/images.py"


@pytest.mark.parametrize("kind", KINDS)
def test_reading_at_a_fitted_shape_then_a_batch_enters_each_file_once(inputs, kind):
    X, kwargs = inputs[kind]
    expected = read_images(X, **kwargs).image_shape
    # The net takes the first batch there: the path ends (the next batches go the same way).
    path = x_path(X, lambda: next(read_images(X, expected=expected, **kwargs).batches(3)))
    check_path(path)


@pytest.mark.parametrize("kind", ["array", "flat array", "paths", "PIL images", "LazyImages"])
def test_fit_then_predict_enter_each_file_once(inputs, kind):
    X, kwargs = inputs[kind]
    clf = CNNClassifier(**SMALL, **kwargs)
    fit = x_path(X, lambda: clf.fit(X, Y))
    check_path(fit)
    assert fit._done, "the path never reached the net"
    predict = x_path(X, lambda: clf.predict(X))
    check_path(predict)
    assert predict._done, "the path never reached the net"


@pytest.mark.parametrize(("kind", "transformer"), [
    ("array", ImageFileLoader()), ("paths", ImageFileLoader()),
    ("LazyImages", ImageFileLoader()), ("array", Rescale()), ("LazyImages", Rescale()),
], ids=lambda value: value if isinstance(value, str) else type(value).__name__)
def test_transformers_enter_each_file_once(inputs, kind, transformer):
    X, _ = inputs[kind]
    check_path(x_path(X, lambda: transformer.fit(X)))
    check_path(x_path(X, lambda: transformer.transform(X)))


def test_the_check_fails_on_a_file_entered_again():
    """A path that leaves a file and comes back to it is refused."""
    from sklearn_cnn._data import layout, sizes

    image_shape, heights_widths = [4, 4], [(4, 4), (4, 4)]
    path = XPath(image_shape)
    path._follow(heights_widths)
    path.run(lambda: (layout.normalize_image_shape(image_shape),
                      sizes.choose_size(heights_widths),
                      layout.normalize_image_shape(image_shape)))
    assert path.files == ["_data/layout.py", "_data/sizes.py", "_data/layout.py"]
    with pytest.raises(AssertionError, match=r"enters \['_data/layout.py'\] again"):
        check_path(path)
