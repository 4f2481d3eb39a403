"""What ``sklearn_cnn.save`` and pickle store of an estimator: tensors and attributes.

An estimator's state is two dicts: ``tensors`` (name to torch tensor: network
weights and the like) and ``attributes`` (fitted attribute name to value:
arrays, labels, lists, anything ``codec.encode`` takes). Persistence calls
:func:`get_state` and :func:`set_state` and knows no estimator class: an
estimator with more than plain fitted attributes defines
``_get_state()`` and ``_set_state(tensors, attributes, device)``, as
``NetStateMixin`` does for ``CNNClassifier``; every other one gets the
default, its fitted attributes (those ending in "_") as they are.
"""

from __future__ import annotations

__all__ = ['fitted_attributes', 'get_state', 'set_state']


def fitted_attributes(estimator) -> dict:
    """The estimator's fitted attributes: public names that end in "_"."""
    return {k: v for k, v in vars(estimator).items()
            if k.endswith("_") and not k.startswith("_")}


def get_state(estimator) -> tuple[dict, dict]:
    """``(tensors, attributes)`` of ``estimator`` (its ``_get_state`` where it has one)."""
    method = getattr(estimator, "_get_state", None)
    return method() if method is not None else ({}, fitted_attributes(estimator))


def set_state(estimator, tensors: dict, attributes: dict, device=None) -> None:
    """Put back what :func:`get_state` returned (through ``_set_state`` where defined)."""
    method = getattr(estimator, "_set_state", None)
    if method is not None:
        method(tensors, attributes, device)
    else:
        vars(estimator).update(attributes)
