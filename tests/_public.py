"""The public API: what the API reference documents and the docstring tests check.

A module, not a fixture: ``parametrize`` needs the names when pytest
collects the tests.
"""

import importlib
import inspect

#: The modules whose ``__all__`` is the public API (the API reference's pages).
PUBLIC_MODULES = [
    "sklearn_cnn",
    "sklearn_cnn.datasets",
    "sklearn_cnn.explain",
    "sklearn_cnn.export",
    "sklearn_cnn.plotting",
    "sklearn_cnn.preprocessing",
]


def public_objects() -> dict:
    """``{public path: object}`` of each public class and function, once.

    The path is the first public module (in ``PUBLIC_MODULES`` order) that
    exports it, as the API reference lists it: ``sklearn_cnn.CNNClassifier``,
    ``sklearn_cnn.preprocessing.Resize``. Data (``__version__``,
    ``datasets.SHAPES``) is left out.
    """
    objects, seen = {}, set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                objects[f"{module_name}.{name}"] = obj
    return objects
