"""The CSV of image paths and targets that ``fit`` and ``evaluate`` read beside class folders.

One row per image: its path (absolute, or relative to the CSV's folder),
then one or more targets. The first row is the header, which names the
columns. Numbers are targets of a ``CNNRegressor``, anything else the labels
of a ``CNNClassifier`` (one column); ``fit --task`` decides where the
numbers are class labels. Every mistake is a ``ValueError`` (a missing file:
``FileNotFoundError``) of one line that names the CSV, its line and column.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._data.files import IMAGE_EXTENSIONS

__all__ = ["TASKS", "TargetTable", "choose_task", "is_target_table", "read_target_table"]

#: The values of ``fit --task``: decide from the targets, or force either estimator.
TASKS = ("auto", "classify", "regress")


def _number(text: str) -> float | None:
    """``text`` as a finite float, or None where it is no finite number."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class TargetTable:
    """The rows of a CSV of image paths and targets, as read and checked.

    Attributes
    ----------
    source : str
        The CSV file.
    paths : ndarray of str, shape (n_rows,)
        The image files, relative paths joined to the CSV's folder.
    cells : ndarray of str, shape (n_rows, n_targets)
        The targets as written (stripped of surrounding spaces).
    names : tuple of str
        The header's name of each target column.
    lines : ndarray of int, shape (n_rows,)
        The line of the CSV each row ends on, for messages.
    """

    source: str
    paths: np.ndarray
    cells: np.ndarray
    names: tuple[str, ...]
    lines: np.ndarray

    def first_non_number(self) -> tuple[int, str, str] | None:
        """``(line, column name, cell)`` of the first target that is no finite number."""
        for row, line in zip(self.cells, self.lines, strict=True):
            for name, cell in zip(self.names, row, strict=True):
                if _number(cell) is None:
                    return int(line), name, str(cell)
        return None

    def numbers(self, why: str) -> np.ndarray:
        """The targets as floats: 1-D for one column, else ``(n_rows, n_targets)``.

        Parameters
        ----------
        why : str
            What needs numbers, for the message (``"--task regress"``).

        Raises
        ------
        ValueError
            Naming the line, the column and the first cell that is no finite number.
        """
        bad = self.first_non_number()
        if bad is not None:
            line, name, cell = bad
            raise ValueError(
                f"line {line} of '{self.source}', column '{name}': {cell!r} is not a (finite) "
                f"number; {why} needs numeric targets (--task classify reads labels).")
        values = np.array([[float(cell) for cell in row] for row in self.cells])
        return values[:, 0] if values.shape[1] == 1 else values

    def labels(self, why: str) -> np.ndarray:
        """The class labels, as strings, of a table of one target column.

        Raises
        ------
        ValueError
            For a table of several target columns.
        """
        if len(self.names) != 1:
            raise ValueError(
                f"'{self.source}' has {len(self.names)} target columns "
                f"({', '.join(self.names)}); {why} takes one column of class labels (a "
                "CNNRegressor takes several columns of numbers: --task regress).")
        return self.cells[:, 0]


def is_target_table(source) -> bool:
    """Whether ``source`` names a CSV file (an existing file that is not an image)."""
    path = Path(source)
    return path.is_file() and path.suffix.lower() not in IMAGE_EXTENSIONS


def read_target_table(source) -> TargetTable:
    """Read and check a CSV of ``path,target[,target...]`` with a header row.

    Parameters
    ----------
    source : str or path-like
        The CSV file (UTF-8, a byte-order mark allowed).

    Returns
    -------
    table : TargetTable

    Raises
    ------
    ValueError
        For a CSV without rows, a header of a single column, a row of another
        number of cells than the header, or an empty cell: naming the line
        and the column.
    FileNotFoundError
        For image files that do not exist, naming the first and their lines.
    """
    source = os.fspath(source)
    folder = Path(source).parent
    with open(source, newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        header, rows, lines = None, [], []
        for row in reader:
            row = [cell.strip() for cell in row]
            if not any(row):
                continue  # a blank line
            if header is None:
                header = row
                continue
            rows.append(row)
            lines.append(reader.line_num)
    if header is None or not rows:
        raise ValueError(f"'{source}' holds no rows; it needs a header row, such as "
                         "path,target, then one row per image.")
    if len(header) < 2:
        raise ValueError(
            f"the header of '{source}' names one column ({header[0]!r}); it needs the path "
            "column and at least one target column, such as path,target.")
    if (folder / header[0]).is_file():
        raise ValueError(
            f"the first row of '{source}' is its header, but its first cell {header[0]!r} is "
            "a file: add a header row that names the columns, such as path,target.")
    names = tuple(name or f"column {j + 1}" for j, name in enumerate(header[1:], start=1))
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(header):
            lacks = (f"lacks column '{header[len(row)]}'" if len(row) < len(header)
                     else f"has {len(row) - len(header)} cell(s) beyond the header's")
            raise ValueError(
                f"line {line} of '{source}' {lacks}: the header names {len(header)} columns "
                f"({', '.join(header)}) and the line has {len(row)} cells.")
        for name, cell in zip(header, row, strict=True):
            if not cell:
                raise ValueError(f"line {line} of '{source}', column '{name}': empty; every "
                                 "row needs a path and each target.")
    paths = [os.fspath(folder / row[0]) if not os.path.isabs(row[0]) else row[0]
             for row in rows]
    missing = [(line, row[0]) for line, row, path in zip(lines, rows, paths, strict=True)
               if not os.path.isfile(path)]
    if missing:
        line, name = missing[0]
        more = (f" (and {len(missing) - 1} more, on lines "
                f"{', '.join(str(n) for n, _ in missing[1:6])}{', ...' * (len(missing) > 6)})"
                if len(missing) > 1 else "")
        raise FileNotFoundError(
            f"line {line} of '{source}': no such image file {name!r} (relative paths are "
            f"read from the CSV's folder, '{folder}'){more}.")
    return TargetTable(source=source, paths=np.array(paths),
                       cells=np.array([row[1:] for row in rows], dtype=str), names=names,
                       lines=np.array(lines))


def choose_task(table: TargetTable, task: str) -> str:
    """``"classify"`` or ``"regress"``: ``task`` unless ``"auto"``, then from the targets.

    Numbers (every target a finite float) are regressed, anything else classified.
    """
    if task != "auto":
        return task
    return "regress" if table.first_non_number() is None else "classify"
