"""``AuditDisplay``: the images ``sklearn_cnn.audit.find_issues`` found, titled with why."""

from __future__ import annotations

import numpy as np
from sklearn.utils import _safe_indexing

from ._image_grid import _label_text, displayable_images, draw_grid
from ._matplotlib import check_matplotlib_support

__all__ = ["AuditDisplay"]


def _title(row) -> str:
    """Why an image is a suspect, in two short lines."""
    partners = ", ".join(f"#{j}" for j in row.duplicate_of[:3])
    if row.issue == "label":
        return (f"label #{row.index}: given {_label_text(row.given_label)}\n"
                f"suggested {_label_text(row.suggested_label)}")
    if row.issue == "near_duplicate":
        return f"duplicate #{row.index}\nof {partners}"
    if row.issue == "leak":
        return f"leak: test #{row.index}\n= train {partners}"
    return f"outlier #{row.index}\ngiven {_label_text(row.given_label)}"


class AuditDisplay:
    """A grid of the suspects an audit found, each titled with its finding.

    Wrong labels show the given and the suggested label; near-duplicates and
    leaks the training images they repeat; outliers their given label.
    Use :meth:`from_issues` to create one.

    Parameters
    ----------
    images : ndarray of shape (n_images, H, W) or (n_images, H, W, 3 or 4)
        The images shown, in [0, 1].
    issues : pandas.DataFrame
        The rows of ``find_issues``'s table the images show.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes
        One panel per image.
    ims_ : ndarray of matplotlib AxesImage
        The image of each panel; None in cells past the images.
    figure_ : matplotlib Figure
        The figure holding the grid.

    See Also
    --------
    sklearn_cnn.audit.find_issues : The audit whose findings this shows.
    ImageGridDisplay : Images with their true and predicted labels.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.audit import find_issues
    >>> from sklearn_cnn.plotting import AuditDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> X, y = X[:300], y[:300].copy()
    >>> y[:4] = (y[:4] + 1) % 10
    >>> issues = find_issues(CNNClassifier(max_epochs=8, random_state=0), X, y, cv=3)
    >>> display = AuditDisplay.from_issues(issues, X, n_images=6)
    >>> len(display.ims_.ravel()) >= 6
    True
    """

    def __init__(self, images, issues):
        self.images = images
        self.issues = issues

    def plot(self, *, ax=None, n_cols=None, cmap="gray"):
        """Draw the grid.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            None: a new figure. One Axes: split into the grid. An
            array-like: one Axes per image.
        n_cols : int, default=None
            Columns of the grid; None: about square.
        cmap : str or matplotlib Colormap, default="gray"
            Colormap of one-channel images.

        Returns
        -------
        display : AuditDisplay
            The display, with the drawn objects as attributes.
        """
        titles = [_title(row) for row in self.issues.itertuples()]
        return draw_grid(self, titles, np.ones(len(titles), dtype=bool), ax=ax, n_cols=n_cols,
                         cmap=cmap)

    @classmethod
    def from_issues(cls, issues, X, X_test=None, *, n_images=16, ax=None, n_cols=None,
                    cmap="gray"):
        """Plot the first suspects of each kind of finding.

        Parameters
        ----------
        issues : pandas.DataFrame
            ``sklearn_cnn.audit.find_issues``'s table.
        X : array-like, list of PIL images, or 1-D array of image file paths
            The training images the audit read.
        X_test : array-like, default=None
            Its test images (for leaks).
        n_images : int, default=16
            How many images to show: up to a quarter of them per kind, in the
            table's order (its likeliest first), then more of the others.
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw; see :meth:`plot`.
        n_cols : int, default=None
            Columns of the grid; None: about square.
        cmap : str or matplotlib Colormap, default="gray"
            Colormap of one-channel images.

        Returns
        -------
        display : AuditDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{cls.__name__}.from_issues")
        if not len(issues):
            raise ValueError("The audit found nothing to show.")
        per_kind = max(1, n_images // 4)
        first = issues.groupby("issue", observed=True, sort=False).head(per_kind)
        rest = issues.drop(first.index)
        shown = issues.loc[sorted(first.index)[:n_images]
                           + sorted(rest.index)[:max(0, n_images - len(first))]]
        shown = shown.sort_index()
        # One read of all of them: files of different sizes come out at one size.
        chosen = np.concatenate([
            np.asarray(_safe_indexing(X_test if row.set == "test" else X, [row.index]))
            for row in shown.itertuples()])
        return cls(displayable_images(chosen), shown).plot(ax=ax, n_cols=n_cols, cmap=cmap)
