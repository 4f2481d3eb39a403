"""``ImageGridDisplay``: images with their true and predicted labels."""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.utils import _safe_indexing, check_consistent_length, column_or_1d
from sklearn.utils.validation import check_is_fitted

from .._data.images import is_path_array, read_images
from .._data.sizes import size_pair
from ._matplotlib import check_matplotlib_support, panel_axes

__all__ = ["ImageGridDisplay", "displayable_images", "draw_images"]

#: Colour of the title and frame of a misclassified image.
WRONG_COLOR = "tab:red"


def displayable_images(X, *, image_shape=None, data_format="auto", size=None) -> np.ndarray:
    """Images in any accepted layout, as matplotlib's ``imshow`` takes them.

    uint8 pixels are scaled to [0, 1]; float images within [0, 1] keep
    their values, any others (0-16 digits, standardised images) are
    rescaled together to [0, 1] from their joint minimum and maximum, so
    relative brightness between images is kept.

    Parameters
    ----------
    X : array-like, list of PIL images, or 1-D array of image file paths
        Images in any layout ``CNNClassifier`` accepts.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of flat ``(N, F)`` input.
    data_format : {"auto", "channels_first", "channels_last"}, default="auto"
        Where the channel axis of 4-D input is.
    size : (int, int), default=None
        ``(H, W)`` image files are read at; None: their own size.

    Returns
    -------
    images : ndarray of shape (N, H, W), (N, H, W, 3) or (N, H, W, 4)
        Gray images 2-D (one channel; the mean of the channels for counts
        other than 1, 3 and 4), RGB and RGBA channels-last, in [0, 1].
    """
    if is_path_array(X):  # files are read at ``size``, arrays shaped by ``image_shape``
        image_shape = None if size is None else size_pair(size, "size")
    images = read_images(X, image_shape=image_shape, data_format=data_format,
                         size_parameter="size").to_array()
    low, high = float(images.min()), float(images.max())
    if low < 0 or high > 1:
        images = (images - low) / (high - low)
    if images.shape[1] in (3, 4):
        return images.transpose(0, 2, 3, 1)
    return images[:, 0] if images.shape[1] == 1 else images.mean(axis=1)


def draw_images(axes, images, titles, wrong, cmap: str) -> np.ndarray:
    """Show ``images`` on the first ``len(images)`` of ``axes``, titled, wrong ones framed.

    Returns the ``AxesImage`` of each axes (None past the images), shaped
    as ``axes``.
    """
    ims = np.full(axes.shape, None, dtype=object)
    for i, (panel, image, title) in enumerate(zip(axes.flat, images, titles, strict=False)):
        ims.flat[i] = panel.imshow(image, cmap=cmap if image.ndim == 2 else None,
                                   vmin=0, vmax=1, interpolation="nearest")
        panel.set_xticks([])
        panel.set_yticks([])
        panel.set_title(title, fontsize="small", **({"color": WRONG_COLOR} if wrong[i] else {}))
        for spine in panel.spines.values():
            spine.set_visible(bool(wrong[i]))
            spine.set(color=WRONG_COLOR, linewidth=2.5)
    return ims


def draw_grid(display, titles, wrong, *, ax, n_cols, cmap):
    """Draw ``display.images`` titled ``titles`` (``wrong`` in red) into a grid of panels.

    Sets the display's ``figure_``, ``axes_``, ``bounding_ax_`` and ``ims_``
    and returns it: the ``plot`` of the image-grid Displays.
    """
    check_matplotlib_support(f"{type(display).__name__}.plot")
    n = len(display.images)
    n_cols = n_cols or math.ceil(math.sqrt(n))
    display.figure_, display.axes_, display.bounding_ax_ = panel_axes(
        ax, n, n_cols, caller=type(display).__name__)
    display.ims_ = draw_images(display.axes_, display.images, titles, wrong, cmap)
    return display


def _label_text(label) -> str:
    return str(label.item() if hasattr(label, "item") else label)


class ImageGridDisplay:
    """A grid of images titled with their true and predicted labels.

    Misclassified images have a red title and frame. Use
    :meth:`from_estimator` or :meth:`from_predictions` to create one; all
    parameters are stored as attributes.

    Parameters
    ----------
    images : ndarray of shape (n_images, H, W) or (n_images, H, W, 3 or 4)
        The images shown, in [0, 1] (see ``displayable_images``).
    y_true : ndarray of shape (n_images,), default=None
        True labels; None shows predictions only.
    y_pred : ndarray of shape (n_images,), default=None
        Predicted labels.
    proba : ndarray of shape (n_images,), default=None
        Probability of each predicted label.
    indices : ndarray of shape (n_images,), default=None
        Position of each shown image in the input.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes, shape (n_rows, n_cols)
        One panel per image (grid cells past the images are switched off).
    ims_ : ndarray of matplotlib AxesImage, shape (n_rows, n_cols)
        The image of each panel; None in cells past the images.
    bounding_ax_ : matplotlib Axes or None
        The axes split into the grid; None when ``ax`` was an array of axes.
    figure_ : matplotlib Figure
        The figure holding the grid.

    See Also
    --------
    sklearn.metrics.ConfusionMatrixDisplay : Errors counted per class.
    GradCAMDisplay : Where in each image the evidence for a class lies.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.plotting import ImageGridDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0).fit(X[:200], y[:200])
    >>> display = ImageGridDisplay.from_estimator(
    ...     clf, X[200:300], y[200:300], n_images=8, misclassified_first=True)
    >>> display.axes_.shape
    (3, 3)
    """

    def __init__(self, images, *, y_true=None, y_pred=None, proba=None, indices=None):
        self.images = images
        self.y_true = y_true
        self.y_pred = y_pred
        self.proba = proba
        self.indices = indices

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
            Colormap of one-channel images (RGB images keep their colours).

        Returns
        -------
        display : ImageGridDisplay
            The display, with the drawn objects as attributes.
        """
        return draw_grid(self, *self._titles(), ax=ax, n_cols=n_cols, cmap=cmap)

    def _titles(self) -> tuple[list[str], np.ndarray]:
        """Each image's title, and which are marked (red): the misclassified ones."""
        n = len(self.images)
        titles, wrong = [], np.zeros(n, dtype=bool)
        for i in range(n):
            lines = []
            if self.y_true is not None:
                lines.append(f"true {_label_text(self.y_true[i])}")
            if self.y_pred is not None:
                pred = f"pred {_label_text(self.y_pred[i])}"
                if self.proba is not None:
                    pred += f" ({self.proba[i]:.2f})"
                lines.append(pred)
                wrong[i] = self.y_true is not None and self.y_true[i] != self.y_pred[i]
            titles.append("\n".join(lines))
        return titles, wrong

    @classmethod
    def from_predictions(cls, X, y_true=None, y_pred=None, *, proba=None, n_images=16,
                         misclassified_first=False, image_shape=None, data_format="auto",
                         ax=None, n_cols=None, cmap="gray"):
        """Plot images with given true and predicted labels.

        Parameters
        ----------
        X : array-like, list of PIL images, or 1-D array of image file paths
            Images in any layout ``CNNClassifier`` accepts.
        y_true : array-like of shape (N,), default=None
            True labels; None titles the images with predictions only.
        y_pred : array-like of shape (N,), default=None
            Predicted labels; None titles them with the true labels only.
        proba : array-like of shape (N,) or (N, n_classes), default=None
            Probability of each predicted label, or ``predict_proba``'s
            output (its row maximum, the predicted label's probability, is
            shown).
        n_images : int, default=16
            How many images to show: the first ones of ``X``.
        misclassified_first : bool, default=False
            Show the misclassified images first (in their order in ``X``),
            then the others. Needs both ``y_true`` and ``y_pred``.
        image_shape : tuple of int, default=None
            ``(H, W)`` or ``(C, H, W)`` of flat ``(N, F)`` input.
        data_format : {"auto", "channels_first", "channels_last"}, default="auto"
            Where the channel axis of 4-D input is.
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw; see :meth:`plot`.
        n_cols : int, default=None
            Columns of the grid; None: about square.
        cmap : str or matplotlib Colormap, default="gray"
            Colormap of one-channel images.

        Returns
        -------
        display : ImageGridDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{cls.__name__}.from_predictions")
        n_total = len(X)
        labels = [None if v is None else column_or_1d(v) for v in (y_true, y_pred)]
        if proba is not None:
            proba = np.asarray(proba, dtype=float)
            proba = proba.max(axis=1) if proba.ndim == 2 else column_or_1d(proba)
        check_consistent_length(X, *[v for v in (*labels, proba) if v is not None])
        if not isinstance(n_images, numbers.Integral) or isinstance(n_images, bool) \
                or n_images < 1:
            raise ValueError(f"n_images must be a positive int; got {n_images!r}.")
        order = np.arange(n_total)
        if misclassified_first:
            if labels[0] is None or labels[1] is None:
                raise ValueError(
                    "misclassified_first=True needs the true labels (y_true, or y of "
                    "from_estimator) and the predictions to tell the misclassified images."
                )
            order = np.argsort(labels[0] == labels[1], kind="stable")
        shown = order[:n_images]
        display = cls(
            displayable_images(_safe_indexing(X, shown), image_shape=image_shape,
                               data_format=data_format),
            y_true=None if labels[0] is None else labels[0][shown],
            y_pred=None if labels[1] is None else labels[1][shown],
            proba=None if proba is None else proba[shown],
            indices=shown,
        )
        return display.plot(ax=ax, n_cols=n_cols, cmap=cmap)

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, n_images=16, misclassified_first=False,
                       ax=None, n_cols=None, cmap="gray"):
        """Plot images with a fitted classifier's predictions.

        Parameters
        ----------
        estimator : estimator instance
            A fitted ``CNNClassifier``, or any fitted classifier or Pipeline
            that takes ``X`` (with ``predict_proba``, the predicted label's
            probability is shown).
        X : array-like, list of PIL images, or 1-D array of image file paths
            Images, in the layout the estimator takes.
        y : array-like of shape (N,), default=None
            True labels; with them misclassified images are marked.
        n_images : int, default=16
            How many images to show.
        misclassified_first : bool, default=False
            Show the misclassified images first (needs ``y``).
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw; see :meth:`plot`.
        n_cols : int, default=None
            Columns of the grid; None: about square.
        cmap : str or matplotlib Colormap, default="gray"
            Colormap of one-channel images.

        Returns
        -------
        display : ImageGridDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
            y_pred = np.asarray(estimator.classes_)[np.argmax(proba, axis=1)]
        else:
            proba, y_pred = None, estimator.predict(X)
        return cls.from_predictions(
            X, y, y_pred, proba=proba, n_images=n_images,
            misclassified_first=misclassified_first,
            image_shape=getattr(estimator, "image_shape", None),
            data_format=getattr(estimator, "data_format", "auto"), ax=ax, n_cols=n_cols,
            cmap=cmap,
        )
