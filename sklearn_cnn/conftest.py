"""Doctest collection: examples that need an optional extra run only where it is installed."""

import importlib.util

#: Modules whose examples need an extra, by the package the extra installs.
NEEDS = {"onnxruntime": ["export.py"], "captum": ["explain"], "matplotlib": ["plotting"]}

collect_ignore = [path for package, paths in NEEDS.items()
                  if importlib.util.find_spec(package) is None for path in paths]
