"""What each ``sklearn-cnn`` command does, as plain functions (``_cli`` parses)."""

from __future__ import annotations

import ast
import csv
import difflib
import os
import re
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from torchvision.datasets.folder import IMG_EXTENSIONS
from tqdm.auto import tqdm

from ._files import is_image_file, mode_for_channels
from ._sizes import ImageSizeWarning

__all__ = ["demo", "evaluate", "explain", "fit", "image_paths", "parse_params", "predict"]

#: Images predicted (and decoded) per step of ``predict``'s progress bar.
PREDICT_CHUNK = 256


def _timed_score(estimator, X_train, y_train, X_test, y_test) -> tuple[float, float]:
    start = time.perf_counter()
    estimator.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    return estimator.score(X_test, y_test), elapsed


def demo(random_state: int = 0, verbose: int = 0) -> dict[str, float]:
    """Train the default CNNClassifier and an SVC on digits; print both scores.

    Parameters
    ----------
    random_state : int, default=0
        Seed of the split and of the CNN.
    verbose : int, default=0
        Verbosity of the CNN's training.

    Returns
    -------
    scores : dict
        Held-out accuracy of each model, by name.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    from ._classifier import CNNClassifier

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state
    )
    print(
        f"scikit-learn digits: {len(X_train)} training and {len(X_test)} held-out "
        f"8x8 images, {len(set(y))} classes"
    )
    models = {
        "SVC()": SVC(),
        f"CNNClassifier(random_state={random_state})": CNNClassifier(
            random_state=random_state, verbose=verbose
        ),
    }
    scores = {}
    for name, model in models.items():
        score, seconds = _timed_score(model, X_train, y_train, X_test, y_test)
        scores[name] = score
        print(f"{name:<30} held-out accuracy {score:.4f}   fit {seconds:6.1f} s")
    return scores


def parse_params(pairs: Sequence[str], known: Sequence[str]) -> dict:
    """``["key=value", ...]`` as a dict, values read as Python literals when they are.

    ``lr=0.01`` is a float, ``conv_channels=16,32`` a tuple, ``augment=None``
    None, ``optimizer=sgd`` the string "sgd".

    Raises
    ------
    ValueError
        For an item without "=", or a key not in ``known`` (with the
        closest known names).
    """
    params = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--param expects key=value, such as lr=0.01; got {pair!r}.")
        if key not in known:
            close = difflib.get_close_matches(key, known, n=3)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise ValueError(f"unknown parameter {key!r} for CNNClassifier; {hint}"
                             "`sklearn-cnn fit --help` lists them.")
        try:
            params[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key] = text
    return params


def image_paths(inputs: Sequence[str]) -> np.ndarray:
    """Image files named in ``inputs``: files as given, folders searched (recursively, sorted).

    Hidden files and folders, and files that are not images by extension, are
    skipped inside folders.
    """
    paths = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and is_image_file(p, path))
            if not found:
                raise ValueError(f"no image files ({', '.join(IMG_EXTENSIONS)}) in '{path}'.")
            paths.extend(os.fspath(p) for p in found)
        elif path.exists():
            paths.append(os.fspath(path))
        else:
            raise FileNotFoundError(f"no such file or folder: '{path}'.")
    return np.array(paths)


def fit(folder, out, params: dict, *, lazy: bool = False, verbose: int = 1):
    """Train a CNNClassifier on an image folder (one subfolder per class); save it.

    Returns the fitted classifier.
    """
    from ._classifier import CNNClassifier
    from ._params import check_param_rules
    from .datasets import load_image_folder

    clf = CNNClassifier(**{"verbose": verbose, **params})
    clf._validate_params()  # before reading the folder: a bad value fails fast
    check_param_rules(clf.get_params(deep=False))
    shape = clf.image_shape
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ImageSizeWarning)
        X, y = load_image_folder(
            folder, as_paths=lazy, size=None if shape is None else tuple(shape)[-2:],
            mode=mode_for_channels(shape[0]) if shape is not None and len(shape) == 3 else None,
        )
    for warning in caught:  # in the command line's words
        warnings.warn(str(warning.message).replace("size=(height, width)",
                                                    "--param image_shape=H,W"),
                      warning.category, stacklevel=2)
    classes, counts = np.unique(y, return_counts=True)
    shown = ", ".join(f"{c} ({n})" for c, n in zip(classes, counts, strict=True))
    print(f"{len(y)} images of {len(classes)} classes: {shown}")
    start = time.perf_counter()
    clf.fit(X, y)
    history = clf.history_[-1]
    valid = f", valid_acc {history['valid_acc']:.4f}" if "valid_acc" in history else ""
    epochs = f"{clf.n_iter_} epoch" + "s" * (clf.n_iter_ != 1)
    print(f"trained {epochs} in {time.perf_counter() - start:.1f} s on "
          f"{clf.device_}, images {clf.input_shape_}{valid}")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    clf.save(out)
    print(f"saved to {out}")
    return clf


def _load_model(path):
    from ._classifier import CNNClassifier
    from ._persistence import load

    model = load(path)
    if not isinstance(model, CNNClassifier) or not hasattr(model, "net_"):
        raise ValueError(f"'{path}' holds no fitted CNNClassifier.")
    return model


def _predict_proba(model, paths: np.ndarray) -> np.ndarray:
    """Probabilities of image files, chunk by chunk behind a progress bar (on a terminal)."""
    chunks = range(0, len(paths), PREDICT_CHUNK)
    bar = tqdm(chunks, desc="Predicting", unit="chunk", disable=None if len(chunks) > 1
               else True, leave=False)
    return np.concatenate([model.predict_proba(paths[i:i + PREDICT_CHUNK]) for i in bar])


def evaluate(model_path, folder, *, plot=None) -> float:
    """Print the classification report and confusion matrix of a model on a folder.

    Returns the accuracy.
    """
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

    from .datasets import load_image_folder

    model = _load_model(model_path)
    paths, y = load_image_folder(folder, as_paths=True)
    unknown = np.setdiff1d(y, model.classes_)
    known = ", ".join(map(str, model.classes_))
    if len(unknown) == len(np.unique(y)):
        raise ValueError(
            f"None of the classes of {folder} ({', '.join(map(str, np.unique(y)))}) is a "
            f"class of the model ({known}): the subfolder names must be the class names "
            "the model was fitted on."
        )
    if len(unknown):
        n_unknown = int(np.isin(y, unknown).sum())
        warnings.warn(
            f"{n_unknown} of the {len(y)} images are of classes the model was never fitted "
            f"on ({', '.join(map(str, unknown))}; it knows {known}): they count as errors.",
            UserWarning, stacklevel=2)
    proba = _predict_proba(model, paths)
    y_pred = model.classes_[proba.argmax(axis=1)]
    labels = np.union1d(model.classes_, y)
    report = classification_report(y, y_pred, labels=labels, zero_division=0)
    # scikit-learn prints supports as floats ("30.0") once a label has none.
    print(re.sub(r"(?m)(\d+)\.0$", r"\1", report))
    matrix = confusion_matrix(y, y_pred, labels=labels)
    width = max(max(len(str(label)) for label in labels), *(len(str(v)) for v in matrix.flat))
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + "  " + "  ".join(f"{label!s:>{width}}" for label in labels))
    for label, row in zip(labels, matrix, strict=True):
        print(f"{label!s:>{width}}  " + "  ".join(f"{v:>{width}}" for v in row))
    if plot is not None:
        _plot_confusion_matrix(y, y_pred, labels, plot)
        print(f"confusion matrix plotted to {plot}")
    return accuracy_score(y, y_pred)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, no display needed
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install 'sklearn-cnn[plot]'") from exc
    return plt


def _plot_confusion_matrix(y, y_pred, labels, path) -> None:
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = _pyplot()
    display = ConfusionMatrixDisplay.from_predictions(y, y_pred, labels=labels,
                                                      xticks_rotation="vertical")
    display.figure_.tight_layout()
    display.figure_.savefig(path, dpi=120)
    plt.close(display.figure_)


def predict(model_path, inputs: Sequence[str], *, out=None) -> None:
    """Write path, predicted label and one probability per class as CSV."""
    model = _load_model(model_path)
    paths = image_paths(inputs)
    proba = _predict_proba(model, paths)
    labels = model.classes_[proba.argmax(axis=1)]
    stream = open(out, "w", newline="") if out is not None else sys.stdout
    try:
        writer = csv.writer(stream)
        writer.writerow(["path", "label", *(f"proba_{c}" for c in model.classes_)])
        for path, label, row in zip(paths, labels, proba, strict=True):
            writer.writerow([path, label, *(f"{p:.6f}" for p in row)])
    finally:
        if out is not None:
            stream.close()
    if out is not None:
        print(f"{len(paths)} predictions written to {out}")


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """A heat map over a uint8 ``(H, W, C)`` image, as uint8 RGB of the image's size.

    The map is scaled to a peak of 1, resized to the image (bilinear) and coloured with matplotlib's
    "jet" colour map, as in the Grad-CAM paper's figures.
    """
    from PIL import Image

    plt = _pyplot()
    peak = float(heat.max())
    heat = heat / peak if peak > 0 else heat
    height, width = image.shape[:2]
    heat = np.asarray(Image.fromarray(heat.astype(np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR))
    coloured = plt.get_cmap("jet")(np.clip(heat, 0, 1))[..., :3] * 255
    rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3]
    return ((1 - alpha) * rgb + alpha * coloured).round().astype(np.uint8)


def explain(model_path, images: Sequence[str], out, *, alpha: float = 0.5) -> list[str]:
    """Write a Grad-CAM overlay PNG per image into ``out``; returns their paths."""
    from PIL import Image

    from .explain import grad_cam

    model = _load_model(model_path)
    paths = image_paths(images)
    _pyplot()  # fail now, not after the maps, when matplotlib is missing
    maps = grad_cam(model, paths)
    predicted = model.classes_[_predict_proba(model, paths).argmax(axis=1)]
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path, heat, label in zip(paths, maps, predicted, strict=True):
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
        target = folder / f"{Path(path).stem}_gradcam_{label}.png"
        Image.fromarray(overlay(pixels, heat, alpha)).save(target)
        written.append(os.fspath(target))
        print(f"{path}: predicted {label}, Grad-CAM in {target}")
    return written
