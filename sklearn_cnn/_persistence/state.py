"""What ``sklearn_cnn.save`` and pickle store of an estimator: tensors and attributes.

An estimator's state is two dicts: ``tensors`` (name to torch tensor: network
weights and the like) and ``attributes`` (fitted attribute name to value:
arrays, labels, lists, anything ``codec.encode`` takes). Persistence calls
:func:`get_state` and :func:`set_state` and knows no estimator class: an
estimator with more than plain fitted attributes defines
``_get_state()`` and ``_set_state(tensors, attributes, device)``, as
``NetState`` does for ``CNNClassifier``; every other one gets the
default, its fitted attributes (those ending in "_") as they are, checked by
its ``_check_fitted_state()`` where it has one.

Whatever a file holds is checked before it is used: the ``check_*``
functions here raise a ``ValueError`` that names the estimator, the
attribute and what was expected, for ``_check_fitted_state`` and
``_set_state`` to call. ``load`` adds the file and the pipeline step.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = ['check_classes', 'check_fitted_array', 'check_input_attributes', 'check_no_tensors',
           'check_pixel_range', 'check_tensors', 'fitted_attributes', 'get_state', 'set_state']


def fitted_attributes(estimator) -> dict:
    """The estimator's fitted attributes: public names that end in "_"."""
    return {k: v for k, v in vars(estimator).items()
            if k.endswith("_") and not k.startswith("_")}


def get_state(estimator) -> tuple[dict, dict]:
    """``(tensors, attributes)`` of ``estimator`` (its ``_get_state`` where it has one)."""
    method = getattr(estimator, "_get_state", None)
    return method() if method is not None else ({}, fitted_attributes(estimator))


def set_state(estimator, tensors: dict, attributes: dict, device=None) -> None:
    """Put back what :func:`get_state` returned (through ``_set_state`` where defined).

    Without ``_set_state``, the estimator holds no tensors: ``attributes``
    become its fitted attributes, and its ``_check_fitted_state()``, where it
    has one, checks them against its parameters and each other.

    Raises
    ------
    ValueError
        For tensors the estimator has no place for, or fitted attributes its
        ``_check_fitted_state`` (or ``_set_state``) refuses.
    """
    method = getattr(estimator, "_set_state", None)
    if method is not None:
        method(tensors, attributes, device)
        return
    check_no_tensors(estimator, tensors)
    vars(estimator).update(attributes)
    check = getattr(estimator, "_check_fitted_state", None)
    if check is not None:
        check()


# --------------------------------------------------------------- checks


def _owner(estimator) -> str:
    return type(estimator).__name__


def check_no_tensors(estimator, tensors, *, places: str = "") -> None:
    """Raise a ValueError if there are ``tensors`` the estimator has no place for.

    Parameters
    ----------
    estimator : estimator instance
        Named in the message.
    tensors : dict or set of str
        The tensors (or their names) left over.
    places : str, default=""
        Where the estimator holds tensors, for the message; "" for none.
    """
    if tensors:
        holds = f"tensors in {places} only" if places else "no tensors"
        raise ValueError(f"{_owner(estimator)} holds {holds}; got {_names(tensors)}.")


def _names(keys, limit: int = 5) -> str:
    keys = sorted(keys)
    shown = ", ".join(map(repr, keys[:limit]))
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _is_count(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value > 0


def check_input_attributes(estimator) -> None:
    """Check ``input_shape_``, and ``n_features_in_`` and ``feature_names_in_`` where set.

    ``input_shape_`` is ``(C, H, W)``, three positive ints; ``n_features_in_``
    is their product; ``feature_names_in_`` holds ``n_features_in_`` names.

    Parameters
    ----------
    estimator : estimator instance
        A fitted image estimator (an image transformer, ``CNNClassifier``).

    Raises
    ------
    ValueError
        Naming the estimator, the attribute and what was expected.
    """
    owner = _owner(estimator)
    shape = getattr(estimator, "input_shape_", None)
    if not (isinstance(shape, (tuple, list)) and len(shape) == 3
            and all(_is_count(d) for d in shape)):
        raise ValueError(f"{owner}.input_shape_ is {shape!r}; expected (C, H, W), the "
                         "shape of the images it was fitted on: three positive ints.")
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is not None and n_features != math.prod(shape):
        raise ValueError(f"{owner}.n_features_in_ is {n_features!r}; expected "
                         f"{math.prod(shape)}, the values of one image of input_shape_="
                         f"{tuple(shape)}.")
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and not (isinstance(names, np.ndarray) and names.ndim == 1
                                  and len(names) == n_features):
        raise ValueError(f"{owner}.feature_names_in_ has shape {np.shape(names)}; expected "
                         f"({n_features},), a name for each of the n_features_in_ values.")


def check_fitted_array(estimator, name: str, *, shape: tuple, why: str = "",
                       finite: bool = True, positive: bool = False) -> None:
    """Check a floating-point fitted array: present, of ``shape``, finite, positive.

    Parameters
    ----------
    estimator : estimator instance
        Holds the array as attribute ``name``.
    name : str
        The attribute, such as ``"mean_"``.
    shape : tuple of int
        The shape it must have.
    why : str, default=""
        Where the shape comes from, appended to the message (", one value
        per channel of input_shape_=(1, 8, 8)").
    finite : bool, default=True
        Refuse NaN and infinite values.
    positive : bool, default=False
        Refuse values <= 0 (an array the estimator divides by).

    Raises
    ------
    ValueError
        Naming the estimator, the array and what was expected.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnn.preprocessing import ChannelStandardizer
    >>> from sklearn_cnn._persistence.state import check_fitted_array
    >>> standardizer = ChannelStandardizer()
    >>> standardizer.scale_ = np.array([0.5, 0.0])
    >>> check_fitted_array(standardizer, "scale_", shape=(2,), positive=True)
    Traceback (most recent call last):
        ...
    ValueError: ChannelStandardizer.scale_ holds values <= 0 ([0.0]); expected values > 0.
    """
    where = f"{_owner(estimator)}.{name}"
    expected = f"expected a floating-point array of shape {shape}{why}"
    value = getattr(estimator, name, None)
    if value is None:
        raise ValueError(f"{_owner(estimator)} has no {name}; {expected}.")
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{where} is a {type(value).__name__}; {expected}.")
    if value.shape != tuple(shape):
        raise ValueError(f"{where} has shape {value.shape}; {expected}.")
    if value.dtype.kind != "f":
        raise ValueError(f"{where} has dtype {value.dtype}; {expected}.")
    if finite and not np.isfinite(value).all():
        bad = value[~np.isfinite(value)]
        raise ValueError(f"{where} holds non-finite values ({bad[:3].tolist()}); expected "
                         "finite numbers.")
    if positive and not (value > 0).all():
        raise ValueError(f"{where} holds values <= 0 ({value[~(value > 0)][:3].tolist()}); "
                         "expected values > 0.")


def check_classes(estimator) -> None:
    """Check ``classes_``: a 1-D array of sorted, unique labels, at least two of them.

    (One, for multilabel targets, whose classes are the column indices.)

    Raises
    ------
    ValueError
        Naming the estimator and what was expected.
    """
    where = f"{_owner(estimator)}.classes_"
    classes = getattr(estimator, "classes_", None)
    least = 1 if getattr(estimator, "multilabel_", False) else 2
    expected = (f"expected a 1-D array of at least {least} sorted, unique labels (the "
                "classes fit found)")
    if not isinstance(classes, np.ndarray) or classes.ndim != 1:
        raise ValueError(f"{where} is {classes!r}; {expected}.")
    try:
        ordered = len(classes) >= least and bool(np.all(classes[1:] > classes[:-1]))
    except TypeError:  # labels that do not compare: mixed types
        ordered = False
    if not ordered:
        raise ValueError(f"{where} is {_short(classes)}; {expected}.")


def _short(array: np.ndarray, limit: int = 6) -> str:
    items = array[:limit].tolist()
    return f"{items}"[:-1] + (f", ... ({len(array)} in all)]" if len(array) > limit else "]")


def check_pixel_range(estimator) -> None:
    """Check ``pixel_range_``: None (unknown), or two finite numbers, low then high.

    Raises
    ------
    ValueError
        Naming the estimator and what was expected.
    """
    pixels = getattr(estimator, "pixel_range_", None)
    if pixels is None:
        return
    if not (isinstance(pixels, (tuple, list)) and len(pixels) == 2
            and all(isinstance(p, Real) and math.isfinite(p) for p in pixels)
            and pixels[0] <= pixels[1]):
        raise ValueError(f"{_owner(estimator)}.pixel_range_ is {pixels!r}; expected None or "
                         "(low, high), two finite numbers: the range of the pixels it was "
                         "fitted on.")


def check_tensors(estimator, part: str, expected: dict, saved: dict, built_from: str) -> None:
    """Check that ``saved`` tensors have the names and shapes of ``expected``.

    Parameters
    ----------
    estimator : estimator instance
        Named in the message.
    part : str
        What holds the tensors, such as ``"network (module)"``.
    expected : dict of str to torch.Tensor
        The state dict of the part as built here.
    saved : dict of str to torch.Tensor
        The tensors the file holds for it.
    built_from : str
        What the part was built from, for the message ("the parameters,
        input_shape_=(1, 8, 8) and the 10 classes_").

    Raises
    ------
    ValueError
        Naming each missing, unexpected or misshapen tensor and the shape expected.
    """
    problems = [f"{key!r} has shape {tuple(saved[key].shape)}, expected "
                f"{tuple(expected[key].shape)}"
                for key in sorted(expected.keys() & saved.keys())
                if tuple(saved[key].shape) != tuple(expected[key].shape)]
    if missing := expected.keys() - saved.keys():
        problems.append(f"no {_names(missing)}")
    if unexpected := saved.keys() - expected.keys():
        problems.append(f"{_names(unexpected)}, which it has no place for")
    if problems:
        raise ValueError(
            f"{_owner(estimator)}'s {part} does not fit the tensors saved for it: "
            f"{'; '.join(problems[:5])}. The expected shapes come from {built_from}."
        )
