"""``--param key=value``: estimator parameters from the command line, as Python literals."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Sequence

__all__ = ["parse_params"]


def parse_params(pairs: Sequence[str], known: Sequence[str],
                 owner: str = "CNNClassifier") -> dict:
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
            raise ValueError(f"unknown parameter {key!r} for {owner}; {hint}"
                             "`sklearn-cnn fit --help` lists them.")
        try:
            params[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key] = text
    return params
