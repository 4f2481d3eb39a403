"""Where a warning points: at the user's line, not at a frame inside the libraries.

A warning about the user's data (images of different sizes, an array over
the memory budget) is raised deep inside ``fit`` or ``load_image_folder``,
often behind scikit-learn's parameter validation or a ``GridSearchCV``. A
fixed ``stacklevel`` points at one of those frames; ``warn_user`` points at
the first frame outside them, where the user called in.
"""

from __future__ import annotations

import sys
import warnings

__all__ = ["warn_user"]

#: Top-level packages whose frames a warning passes over: they call into
#: sklearn-cnn on the user's behalf.
LIBRARIES = frozenset({"sklearn_cnn", "sklearn", "skorch", "torch", "joblib", "numpy"})


def warn_user(message: str, category: type[Warning]) -> None:
    """``warnings.warn(message, category)``, attributed to the user's code.

    Python 3.12's ``warnings.warn(skip_file_prefixes=...)`` does this; the
    package supports Python 3.10, hence the frames are walked by hand.

    Parameters
    ----------
    message : str
        The warning's text.
    category : type of Warning
        The warning's class.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_cnn._warnings import warn_user
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_user("look here", UserWarning)
    >>> "sklearn_cnn" in caught[0].filename
    False
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in LIBRARIES:
        frame, level = frame.f_back, level + 1
    # stacklevel 1 is this function's own line; level counts from its caller.
    warnings.warn(message, category, stacklevel=level + 1)
