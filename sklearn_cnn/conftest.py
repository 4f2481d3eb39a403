"""Doctest collection: examples that need an optional extra run only where it is installed."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("onnxruntime") else ["export.py"]
