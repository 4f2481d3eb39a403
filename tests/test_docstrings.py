"""Every public class, function and method has a valid numpydoc docstring.

Modelled on scikit-learn's ``sklearn/tests/test_docstrings.py``: each public
object is run through ``numpydoc.validate.validate`` and the test fails on
the errors scikit-learn fails on (see ``IGNORED`` and ``TOP_LEVEL_ONLY``).
The public objects are read from the ``__all__`` of each public module, so
a function added there without a docstring, or with a parameter its
docstring does not document, fails here.

On top of numpydoc's checks, each public class and function must have an
``Examples`` section, which pytest runs as a doctest (``--doctest-modules``).
"""

import inspect

import pytest
from _public import public_objects

numpydoc_validation = pytest.importorskip("numpydoc.validate")

#: Codes ignored everywhere, as scikit-learn ignores them:
#: - RT02: the first line of a Returns entry should be the type only (a
#:   name is allowed, as the returned object is often named in the text);
#: - GL01: the summary should start on the line after the opening quotes
#:   (PEP 257 puts it on the same line, as this package does);
#: - GL02: a blank line before the closing quotes (lets a property's
#:   docstring be one line).
IGNORED = {"RT02", "GL01", "GL02"}

#: Codes checked on class docstrings only, as scikit-learn does: an extended
#: summary (ES01), a See Also section (SA01) and an Examples section (EX01)
#: belong to the class; a method's docstring states its parameters and what
#: it returns. scikit-learn ignores them on functions too; here an Examples
#: section is still required of every public function, by
#: ``test_examples_section`` below.
TOP_LEVEL_ONLY = {"ES01", "SA01", "EX01"}

#: Codes ignored on properties (as scikit-learn does): a property has no
#: parameters to document (PR02) and numpydoc may fail to parse its
#: signature (GL08).
PROPERTY_IGNORED = {"PR02", "GL08"}


#: ``{import path where defined: object}``, as numpydoc names them.
PUBLIC_OBJECTS = {f"{obj.__module__}.{obj.__qualname__}": obj
                  for obj in public_objects().values()}
PUBLIC_CLASSES = {path: obj for path, obj in PUBLIC_OBJECTS.items() if inspect.isclass(obj)}
PUBLIC_FUNCTIONS = {path: obj for path, obj in PUBLIC_OBJECTS.items() if inspect.isfunction(obj)}


def _own_function(attribute):
    """The function behind a class attribute (method, class method, property), or None."""
    if isinstance(attribute, (classmethod, staticmethod)):
        return attribute.__func__
    if isinstance(attribute, property):
        return attribute.fget
    return attribute if inspect.isfunction(attribute) else None


def _public_methods():
    """``{import path: is property}`` of the public methods this package defines.

    Each is validated once, where it is defined (a base class's ``fit``
    once, not once per subclass). Methods inherited from scikit-learn
    (``get_params``, ``score``) and PyTorch (``nn.Module.to``) are theirs
    to document.
    """
    methods = {}
    for klass in PUBLIC_CLASSES.values():
        for name in dir(klass):
            if name.startswith("_"):
                continue
            attribute = inspect.getattr_static(klass, name)
            function = _own_function(attribute)
            if function is None or not function.__module__.startswith("sklearn_cnn"):
                continue
            owner = next(base for base in klass.__mro__ if name in vars(base))
            path = f"{owner.__module__}.{owner.__qualname__}.{name}"
            methods[path] = isinstance(attribute, property)
    return methods


PUBLIC_METHODS = _public_methods()


def _errors(path, *, top_level, is_property=False):
    """numpydoc's errors on ``path`` that this package does not ignore."""
    ignored = set(IGNORED)
    if not top_level:
        ignored |= TOP_LEVEL_ONLY
    if is_property:
        ignored |= PROPERTY_IGNORED
    result = numpydoc_validation.validate(path)
    return [f"{code}: {message}" for code, message in result["errors"] if code not in ignored]


def _report(path, errors):
    return f"numpydoc errors in the docstring of {path}:\n" + "\n".join(errors)


def test_public_api_is_found():
    """The collection above finds what the API reference lists (or it checks nothing)."""
    assert "sklearn_cnn.CNNClassifier" in PUBLIC_CLASSES
    assert "sklearn_cnn._persistence.format.save" in PUBLIC_FUNCTIONS
    assert "sklearn_cnn.CNNClassifier.fit" in PUBLIC_METHODS
    assert "sklearn_cnn.preprocessing.ImageTransformer.transform" in PUBLIC_METHODS
    # Methods inherited from scikit-learn and PyTorch are theirs to document.
    assert all(path.startswith("sklearn_cnn.") for path in PUBLIC_METHODS)
    assert "sklearn_cnn.ConvNet.forward" in PUBLIC_METHODS


@pytest.mark.parametrize("path", sorted(PUBLIC_CLASSES))
def test_class_docstring(path):
    errors = _errors(path, top_level=True)
    assert not errors, _report(path, errors)


@pytest.mark.parametrize("path", sorted(PUBLIC_FUNCTIONS))
def test_function_docstring(path):
    errors = _errors(path, top_level=False)
    assert not errors, _report(path, errors)


@pytest.mark.parametrize("path", sorted(PUBLIC_METHODS))
def test_method_docstring(path):
    errors = _errors(path, top_level=False, is_property=PUBLIC_METHODS[path])
    assert not errors, _report(path, errors)


@pytest.mark.parametrize("path", sorted(PUBLIC_OBJECTS))
def test_examples_section(path):
    """Each public class and function shows how it is used, in a doctest."""
    examples = numpydoc_validation.get_doc_object(PUBLIC_OBJECTS[path])["Examples"]
    assert any(line.lstrip().startswith(">>>") for line in examples), (
        f"{path} has no Examples section with a doctest (>>>)")


def test_validation_catches_an_undocumented_function(tmp_path, monkeypatch):
    """A public function with no docstring, or an undocumented parameter, fails."""
    (tmp_path / "sklearn_cnn_docstring_probe.py").write_text(
        "def bare(x):\n    pass\n\n\n"
        "def half(x, y):\n"
        '    """Add two numbers.\n\n    Parameters\n    ----------\n'
        '    x : int\n        A number.\n\n    Returns\n    -------\n'
        '    int\n        The sum.\n\n    Examples\n    --------\n'
        '    >>> half(1, 2)\n    3\n    """\n    return x + y\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    bare = _errors("sklearn_cnn_docstring_probe.bare", top_level=False)
    half = _errors("sklearn_cnn_docstring_probe.half", top_level=False)
    assert any(error.startswith("GL08") for error in bare), bare
    assert any(error.startswith("PR01") and "y" in error for error in half), half
