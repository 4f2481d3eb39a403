"""What each ``sklearn-cnn`` command does, as plain functions (``_cli`` parses)."""

from __future__ import annotations

import contextlib
import csv
import os
import re
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .._data.files import IMAGE_EXTENSIONS, is_image_file, mode_for_channels
from .._data.sizes import ImageSizeWarning
from .._persistence.atomic import atomic_write
from .._process_group import current_world
from .._training.interrupts import FitInterruptedWarning
from .figures import (
    explain_figure,
    plot_confusion_matrix,
    plot_prediction_error,
    plot_suspects,
    pyplot,
)
from .target_table import choose_task, is_target_table, read_target_table

__all__ = ["audit", "demo", "evaluate", "explain", "fit", "image_paths", "predict"]

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

    from .._estimator.classifier import CNNClassifier

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
                raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in '{path}'.")
            paths.extend(os.fspath(p) for p in found)
        elif path.exists():
            paths.append(os.fspath(path))
        else:
            raise FileNotFoundError(f"no such file or folder: '{path}'.")
    return np.array(paths)


def _check_source(source) -> None:
    """Raise FileNotFoundError where ``source`` is neither a folder nor a file."""
    if not Path(source).exists():
        raise FileNotFoundError(f"No such folder or CSV file: '{source}'.")


def _decode(paths: np.ndarray, shape) -> np.ndarray:
    """Image files decoded at once, as ``load_image_folder`` decodes a folder's."""
    from .._data.files import common_mode, decode_images, read_headers
    from .._data.sizes import choose_size
    from ..datasets._folder import PROGRESS_MIN_IMAGES

    sizes, modes = read_headers(list(paths))
    mode = (mode_for_channels(shape[0]) if shape is not None and len(shape) == 3
            else common_mode(modes))
    size = choose_size(sizes, None if shape is None else tuple(shape)[-2:], parameter="size")
    return decode_images(list(paths), mode, size,
                         progress=None if len(paths) >= PROGRESS_MIN_IMAGES else False)


def _describe_targets(y: np.ndarray, names) -> str:
    """One line on numeric targets: each column's name, range and mean."""
    columns = y.reshape(len(y), -1)
    return ", ".join(f"{name} from {column.min():g} to {column.max():g} (mean {column.mean():g})"
                     for name, column in zip(names, columns.T, strict=True))


def fit(source, out, params: dict, *, task: str = "auto", lazy: bool = False,
        verbose: int = 1):
    """Train a CNNClassifier or CNNRegressor on a folder or a CSV of paths and targets; save it.

    Parameters
    ----------
    source : str or path-like
        A folder with one subfolder of images per class, or a CSV of
        ``path,target[,target...]`` with a header row (``_cli.target_table``).
    out : str or path-like
        The model file to write.
    params : dict
        Parameters of the estimator.
    task : {"auto", "classify", "regress"}, default="auto"
        "auto" regresses a CSV whose targets are all numbers and classifies
        anything else; the others force the estimator.
    lazy : bool, default=False
        Decode the files batch by batch every epoch instead of once.
    verbose : int, default=1
        Verbosity of the fit.

    Returns
    -------
    estimator : CNNClassifier or CNNRegressor
        The fitted estimator.
    """
    from .._estimator.classifier import CNNClassifier
    from .._estimator.params import check_param_rules
    from .._estimator.regressor import CNNRegressor
    from ..datasets import load_image_folder

    _check_source(source)
    table = read_target_table(source) if is_target_table(source) else None
    if table is None and task == "regress":
        raise ValueError(f"--task regress needs a CSV of path,target; '{source}' is a folder "
                         "of class subfolders, whose names are labels.")
    chosen = "classify" if table is None else choose_task(table, task)
    estimator_class = CNNRegressor if chosen == "regress" else CNNClassifier
    known = estimator_class().get_params(deep=False)
    foreign = [key for key in params if key not in known]
    if foreign:
        raise ValueError(f"{', '.join(map(repr, foreign))} is no parameter of "
                         f"{estimator_class.__name__}, which the targets of '{source}' "
                         f"train (--task {chosen}); drop it or change --task.")
    clf = estimator_class(**{"verbose": verbose, **params})
    clf._validate_params()  # before decoding the files: a bad value fails fast
    check_param_rules(clf.get_params(deep=False))
    shape = clf.image_shape
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ImageSizeWarning)
        if table is None:
            X, y = load_image_folder(
                source, as_paths=lazy, size=None if shape is None else tuple(shape)[-2:],
                mode=(mode_for_channels(shape[0]) if shape is not None and len(shape) == 3
                      else None),
            )
        else:
            y = (table.numbers("--task regress") if chosen == "regress"
                 else table.labels("a CNNClassifier"))
            X = table.paths if lazy else _decode(table.paths, shape)
    for warning in caught:  # in the command line's words
        warnings.warn(str(warning.message).replace("size=(height, width)",
                                                    "--param image_shape=H,W"),
                      warning.category, stacklevel=2)
    images = f"{len(y)} image{'s' * (len(y) != 1)}"
    if chosen == "regress":
        why = " (numbers: --task classify reads them as labels)" if task == "auto" else ""
        print(f"{images}, {len(table.names)} numeric target{'s' * (len(table.names) > 1)}: "
              f"{_describe_targets(y, table.names)}; a CNNRegressor{why}")
    else:
        classes, counts = np.unique(y, return_counts=True)
        shown = ", ".join(f"{c} ({n})" for c, n in zip(classes, counts, strict=True))
        print(f"{images} of {len(classes)} class{'es' * (len(classes) != 1)}: {shown}")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FitInterruptedWarning)
        clf.fit(X, y)
    for warning in caught:
        if issubclass(warning.category, FitInterruptedWarning):
            # Not saved: a model trained part of the way must not replace one at --out.
            resume = ("run the same command to resume" if clf.checkpoint is not None
                      else "--checkpoint DIR lets a fit resume")
            epochs = f"{clf.n_iter_} complete epoch" + "s" * (clf.n_iter_ != 1)
            raise KeyboardInterrupt(f"after {epochs}; nothing saved to {out} ({resume})")
        warnings.warn_explicit(warning.message, warning.category, warning.filename,
                               warning.lineno)
    history = clf.history_[-1]
    valid = "".join(f", {name} {history[name]:.4f}" for name in ("valid_acc", "valid_r2")
                    if name in history)
    epochs = f"{clf.n_iter_} epoch" + "s" * (clf.n_iter_ != 1)
    world = current_world()
    where = clf.device_ if world is None else f"{world.size} processes ({clf.device_} each)"
    print(f"trained {epochs} in {time.perf_counter() - start:.1f} s on "
          f"{where}, images {clf.input_shape_}{valid}")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    clf.save(out)
    print(f"saved to {out}")
    return clf


def _load_model(path, kinds: tuple[str, ...] = ("CNNClassifier", "CNNRegressor"),
                what: str = ""):
    """The fitted estimator of a model file, of one of the classes named in ``kinds``."""
    from .._estimator.classifier import CNNClassifier
    from .._estimator.regressor import CNNRegressor
    from .._persistence.format import load

    model = load(path)
    classes = tuple(cls for cls in (CNNClassifier, CNNRegressor) if cls.__name__ in kinds)
    if not isinstance(model, classes) or not hasattr(model, "net_"):
        held = (f"a {type(model).__name__}" if isinstance(model, (CNNClassifier, CNNRegressor))
                else "no fitted " + " or ".join(kinds))
        needs = f"; {what} needs a fitted {' or '.join(kinds)}" if what else ""
        raise ValueError(f"'{path}' holds {held}{needs}.")
    return model


def _is_regressor(model) -> bool:
    from .._estimator.regressor import CNNRegressor

    return isinstance(model, CNNRegressor)


def _predict_chunks(method, paths: np.ndarray) -> np.ndarray:
    """``method`` (predict_proba, predict) of image files, chunk by chunk behind a
    progress bar (on a terminal)."""
    chunks = range(0, len(paths), PREDICT_CHUNK)
    bar = tqdm(chunks, desc="Predicting", unit="chunk", disable=None if len(chunks) > 1
               else True, leave=False)
    return np.concatenate([method(paths[i:i + PREDICT_CHUNK]) for i in bar])


def _predict_proba(model, paths: np.ndarray) -> np.ndarray:
    """Probabilities of image files, chunk by chunk."""
    return _predict_chunks(model.predict_proba, paths)


def evaluate(model_path, source, *, plot=None) -> float:
    """Print the scores of a model on a labelled folder or a CSV of paths and targets.

    A CNNClassifier gets scikit-learn's classification report and confusion
    matrix (``plot`` draws the matrix), a CNNRegressor R², MAE and RMSE per
    target column (``plot`` draws actual against predicted values).

    Parameters
    ----------
    model_path : str or path-like
        The model file.
    source : str or path-like
        A folder with one subfolder of images per class (a classifier's), or
        a CSV of ``path,target[,target...]`` with a header row.
    plot : str or path-like, default=None
        A figure file to draw, such as ``confusion.png``.

    Returns
    -------
    score : float
        The accuracy of a classifier, the R² of a regressor.
    """
    model = _load_model(model_path)
    _check_source(source)
    table = read_target_table(source) if is_target_table(source) else None
    if _is_regressor(model):
        if table is None:
            raise ValueError(f"'{model_path}' holds a CNNRegressor, evaluated on a CSV of "
                             f"path,target; '{source}' is a folder.")
        return _evaluate_regressor(model, table, plot)
    if table is None:
        from ..datasets import load_image_folder

        paths, y = load_image_folder(source, as_paths=True)
    else:
        paths, y = table.paths, table.labels("a CNNClassifier")
    return _evaluate_classifier(model, paths, y, source, plot)


def _evaluate_classifier(model, paths, y, source, plot) -> float:
    """The classification report and confusion matrix; returns the accuracy."""
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

    unknown = np.setdiff1d(y, model.classes_)
    known = ", ".join(map(str, model.classes_))
    if len(unknown) == len(np.unique(y)):
        raise ValueError(
            f"None of the classes of {source} ({', '.join(map(str, np.unique(y)))}) is a "
            f"class of the model ({known}): the subfolder names (or the CSV's labels) must "
            "be the class names the model was fitted on."
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
        plot_confusion_matrix(y, y_pred, labels, plot)
        print(f"confusion matrix plotted to {plot}")
    return accuracy_score(y, y_pred)


def _evaluate_regressor(model, table, plot) -> float:
    """R², MAE and RMSE per target column (and their means for several); returns R²."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y = table.numbers("a CNNRegressor")
    columns = y.reshape(len(y), -1)
    if columns.shape[1] != model.n_outputs_:
        raise ValueError(
            f"'{table.source}' has {columns.shape[1]} target column(s) "
            f"({', '.join(table.names)}); the model predicts {model.n_outputs_}.")
    predicted = _predict_chunks(model.predict, table.paths).reshape(columns.shape)
    scores = {"R²": r2_score(columns, predicted, multioutput="raw_values"),
              "MAE": mean_absolute_error(columns, predicted, multioutput="raw_values"),
              "RMSE": np.sqrt(mean_squared_error(columns, predicted,
                                                 multioutput="raw_values"))}
    names = list(table.names) + ["mean"] * (columns.shape[1] > 1)
    rows = [[f"{values[j]:.4g}" for values in scores.values()] for j in range(len(table.names))]
    if columns.shape[1] > 1:
        rows.append([f"{values.mean():.4g}" for values in scores.values()])
    width = max(len(name) for name in names)
    cell = max(10, *(len(text) for row in rows for text in row))
    print(f"{len(y)} images")
    print(" " * width + "".join(f"{name:>{cell + 2}}" for name in scores))
    for name, row in zip(names, rows, strict=True):
        print(f"{name:<{width}}" + "".join(f"{text:>{cell + 2}}" for text in row))
    if plot is not None:
        plot_prediction_error(columns, predicted, table.names, plot)
        print(f"actual against predicted values plotted to {plot}")
    return float(scores["R²"].mean())


def predict(model_path, inputs: Sequence[str], *, out=None) -> None:
    """Write one CSV row per image: its path, then its predictions.

    A CNNClassifier writes the label and one probability per class, a
    CNNRegressor the predicted number (``prediction``), or one per output
    (``prediction_0``, ``prediction_1``, ...). An ``.onnx`` file of
    :func:`export` predicts through ``sklearn_cnn.export.OnnxPredictor``.
    """
    if os.fspath(model_path).lower().endswith(".onnx"):  # ONNX Runtime, no torch
        from ..export import OnnxPredictor

        model = OnnxPredictor(model_path)
        regressor = model.deployment_.task == "regression"
        n_outputs = len(model.deployment_.outputs)
    else:
        model = _load_model(model_path)
        regressor = _is_regressor(model)
        n_outputs = getattr(model, "n_outputs_", 1)
    paths = image_paths(inputs)
    if regressor:
        values = _predict_chunks(model.predict, paths).reshape(len(paths), -1)
        header = (["prediction"] if n_outputs == 1
                  else [f"prediction_{j}" for j in range(n_outputs)])
        rows = ([path, *(f"{v:.7g}" for v in row)] for path, row in zip(paths, values,
                                                                         strict=True))
    else:
        proba = _predict_proba(model, paths)
        labels = model.classes_[proba.argmax(axis=1)]
        header = ["label", *(f"proba_{c}" for c in model.classes_)]
        rows = ([path, label, *(f"{p:.6f}" for p in row)]
                for path, label, row in zip(paths, labels, proba, strict=True))
    with (atomic_write(out, "w", newline="") if out is not None
          else contextlib.nullcontext(sys.stdout)) as stream:
        writer = csv.writer(stream)
        writer.writerow(["path", *header])
        writer.writerows(rows)
    if out is not None:
        print(f"{len(paths)} predictions written to {out}")


def export(model_path, out, *, calibration=None) -> None:
    """Write a model file's network to the ONNX file ``out``; int8 with ``calibration``.

    Parameters
    ----------
    model_path : str or path-like
        A model file of ``fit`` (or ``sklearn_cnn.save``).
    out : str or path-like
        The ``.onnx`` file to write.
    calibration : str, default=None
        A folder of calibration images: the file is then quantised to int8
        (``to_onnx(quantize="int8")``).
    """
    model = _load_model(model_path)
    if calibration is not None:
        _check_source(calibration)
    model.to_onnx(out, quantize=None if calibration is None else "int8",
                  calibration=calibration)
    size = os.path.getsize(out) / 2**20
    print(f"wrote {out}: {size:.2f} MiB, "
          + ("float32" if calibration is None else _quantization(out)))


def _quantization(path) -> str:
    """What an int8 file's metadata says of its check against the float model."""
    from ..export import OnnxPredictor

    said = OnnxPredictor(path).deployment_.quantization
    line = (f"int8, agreeing with the float model on {said['agreement']:.1%} of "
            f"{said['images']} calibration images")
    if "int8_accuracy" in said:
        line += (f" (accuracy {said['float_accuracy']:.1%} float, "
                 f"{said['int8_accuracy']:.1%} int8)")
    return line


def explain(model_path, images: Sequence[str], out, *, alpha: float = 0.5) -> list[str]:
    """Write a Grad-CAM figure PNG per image into ``out``; returns their paths.

    Each figure shows the image and its overlay side by side, enlarged,
    with a colour bar, the predicted class and its probability, and the
    true class where the image sits in a folder named after one.
    """
    from .._data.decoding import open_image
    from ..explain import grad_cam

    model = _load_model(model_path, ("CNNClassifier",), what="explain")
    paths = image_paths(images)
    pyplot()  # fail now, not after the maps, when matplotlib is missing
    maps = grad_cam(model, paths)
    proba = _predict_proba(model, paths)
    predicted, top = model.classes_[proba.argmax(axis=1)], proba.max(axis=1)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    classes = {str(c) for c in model.classes_}
    for path, heat, label, p in zip(paths, maps, predicted, top, strict=True):
        # The pixels the model saw (EXIF orientation applied, 16-bit scaled),
        # which the map is aligned with.
        pixels = np.asarray(open_image(path).convert("RGB"))
        # The true class where the file sits in a folder named after one.
        true = Path(path).parent.name if Path(path).parent.name in classes else None
        title = f"{Path(path).name}: predicted {label} ({p:.2f})"
        if true is not None:
            title += f", true {true}" + (" (wrong)" if true != str(label) else "")
        target = folder / f"{Path(path).stem}_gradcam_{label}.png"
        explain_figure(pixels, heat, title, target, alpha)
        written.append(os.fspath(target))
        print(f"{path}: predicted {label}, Grad-CAM in {target}")
    return written


def audit(folder, out, params: dict, *, test=None, cv: int = 5, plot=None):
    """Write the audit of an image folder (``sklearn_cnn.audit.find_issues``) as CSV.

    Returns the table of findings.
    """
    from .._estimator.classifier import CNNClassifier
    from .._estimator.params import check_param_rules
    from ..audit import find_issues
    from ..datasets import load_image_folder

    clf = CNNClassifier(**params)
    clf._validate_params()  # before reading the folder: a bad value fails fast
    check_param_rules(clf.get_params(deep=False))
    if cv < 2:
        raise ValueError(f"--cv must be at least 2 folds; got {cv}.")
    paths, y = load_image_folder(folder, as_paths=True)
    test_paths = None if test is None else load_image_folder(test, as_paths=True)[0]
    against = "" if test is None else f", and {len(test_paths)} test images for leaks"
    print(f"auditing {len(y)} images of {len(np.unique(y))} classes by {cv}-fold "
          f"cross-validation{against}")
    issues = find_issues(clf, paths, y, X_test=test_paths, cv=cv)
    with atomic_write(out, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["path", "set", "issue", "given_label", "suggested_label", "score",
                         "duplicate_of"])
        for row in issues.itertuples():
            writer.writerow([row.path, row.set, row.issue, _blank(row.given_label),
                             _blank(row.suggested_label), f"{row.score:.4f}",
                             " ".join(paths[j] for j in row.duplicate_of)])
    counts = issues["issue"].value_counts(sort=False)
    found = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "nothing"
    print(f"found {found}; written to {out}")
    if plot is not None and len(issues):
        plot_suspects(issues, paths, test_paths, plot)
        print(f"suspects plotted to {plot}")
    return issues


def _blank(value) -> str:
    return "" if value is None or value != value else str(value)  # None or NaN
