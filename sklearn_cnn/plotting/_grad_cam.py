"""``GradCAMDisplay``: Grad-CAM heat maps laid over their images."""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.utils import _safe_indexing, check_consistent_length, column_or_1d
from sklearn.utils.validation import check_is_fitted

from ._image_grid import displayable_images, draw_images
from ._matplotlib import check_matplotlib_support, panel_axes

__all__ = ["GradCAMDisplay"]


class GradCAMDisplay:
    """Images with a heat map of where the evidence for a class lies.

    Use :meth:`from_estimator` (computes Grad-CAM with
    ``sklearn_cnn.explain.grad_cam``) or :meth:`from_maps` (any maps, e.g.
    ``sklearn_cnn.explain.saliency``) to create one. All parameters are
    stored as attributes.

    Parameters
    ----------
    images : ndarray of shape (n_images, H, W) or (n_images, H, W, 3 or 4)
        The images, in [0, 1] (see ``displayable_images``).
    maps : ndarray of shape (n_images, h, w)
        One heat map per image, drawn stretched over it (Grad-CAM's are in
        [0, 1], at the image's size).
    target : ndarray of shape (n_images,), default=None
        The class each map explains, for the titles.
    proba : ndarray of shape (n_images,), default=None
        The probability of that class.
    y_true : ndarray of shape (n_images,), default=None
        The true class of each image, shown above the explained one; a map
        of another class than the true one gets a red title and frame.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes, shape (n_rows, n_cols)
        One panel per image (grid cells past the images are switched off).
    ims_ : ndarray of matplotlib AxesImage, shape (n_rows, n_cols)
        The image of each panel; None past the images.
    heat_ims_ : ndarray of matplotlib AxesImage, shape (n_rows, n_cols)
        The heat map over each image; None past the images.
    bounding_ax_ : matplotlib Axes or None
        The axes split into the grid; None when ``ax`` was an array of axes.
    figure_ : matplotlib Figure
        The figure holding the grid.

    See Also
    --------
    sklearn_cnn.explain.grad_cam : The maps :meth:`from_estimator` draws.
    ImageGridDisplay : Images with their true and predicted labels.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.plotting import GradCAMDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0).fit(X[:200], y[:200])
    >>> display = GradCAMDisplay.from_estimator(clf, X[200:206])
    >>> display.maps.shape
    (6, 8, 8)
    """

    def __init__(self, images, maps, *, target=None, proba=None, y_true=None):
        self.images = images
        self.maps = maps
        self.target = target
        self.proba = proba
        self.y_true = y_true

    def plot(self, *, ax=None, n_cols=None, alpha=0.5, cmap="jet", image_cmap="gray"):
        """Draw each image with its heat map over it.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            None: a new figure. One Axes: split into the grid. An
            array-like: one Axes per image.
        n_cols : int, default=None
            Columns of the grid; None: about square.
        alpha : float, default=0.5
            Opacity of the heat maps (0: the image alone; 1: the map alone).
        cmap : str or matplotlib Colormap, default="jet"
            Colormap of the heat maps, from 0 to 1.
        image_cmap : str or matplotlib Colormap, default="gray"
            Colormap of one-channel images.

        Returns
        -------
        display : GradCAMDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        n = len(self.images)
        self.figure_, self.axes_, self.bounding_ax_ = panel_axes(
            ax, n, n_cols or math.ceil(math.sqrt(n)), caller=type(self).__name__)
        titles, wrong = [""] * n, np.zeros(n, dtype=bool)
        y_true = getattr(self, "y_true", None)  # displays pickled before have none
        for i in range(n):
            lines = []
            if y_true is not None:
                lines.append(f"true {y_true[i]}")
            if self.target is not None:
                explained = f"class {self.target[i]}"
                if self.proba is not None:
                    explained += f" ({self.proba[i]:.2f})"
                lines.append(explained)
                wrong[i] = y_true is not None and y_true[i] != self.target[i]
            titles[i] = "\n".join(lines)
        self.ims_ = draw_images(self.axes_, self.images, titles, wrong, image_cmap)
        self.heat_ims_ = np.full(self.axes_.shape, None, dtype=object)
        for i, (panel, image, heat) in enumerate(
                zip(self.axes_.flat, self.images, self.maps, strict=False)):
            height, width = image.shape[:2]
            # Stretched over the image, whatever the map's own resolution.
            self.heat_ims_.flat[i] = panel.imshow(
                heat, cmap=cmap, alpha=alpha, vmin=0, vmax=1, interpolation="bilinear",
                extent=(-0.5, width - 0.5, height - 0.5, -0.5))
        return self

    @classmethod
    def from_maps(cls, X, maps, *, target=None, proba=None, y_true=None, image_shape=None,
                  data_format="auto", ax=None, n_cols=None, alpha=0.5, cmap="jet",
                  image_cmap="gray"):
        """Plot given heat maps over their images.

        Parameters
        ----------
        X : array-like, list of PIL images, or 1-D array of image file paths
            Images in any layout ``CNNClassifier`` accepts.
        maps : array-like of shape (N, h, w)
            One map per image, in [0, 1] (values outside are clipped by the
            colormap), drawn stretched over the image.
        target : array-like of shape (N,), default=None
            The class each map explains, for the titles.
        proba : array-like of shape (N,), default=None
            The probability of that class, for the titles.
        y_true : array-like of shape (N,), default=None
            The true class of each image, for the titles.
        image_shape : tuple of int, default=None
            ``(H, W)`` or ``(C, H, W)`` of flat ``(N, F)`` input.
        data_format : {"auto", "channels_first", "channels_last"}, default="auto"
            Where the channel axis of 4-D input is.
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw, as in ``plot``.
        n_cols : int, default=None
            Columns of the grid, as in ``plot``.
        alpha : float, default=0.5
            Opacity of the heat maps, as in ``plot``.
        cmap : str or matplotlib Colormap, default="jet"
            Colormap of the heat maps, as in ``plot``.
        image_cmap : str or matplotlib Colormap, default="gray"
            Colormap of one-channel images, as in ``plot``.

        Returns
        -------
        display : GradCAMDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{cls.__name__}.from_maps")
        maps = np.asarray(maps, dtype=float)
        if maps.ndim != 3:
            raise ValueError(
                f"maps must hold one 2-D map per image, shape (N, h, w); got an "
                f"array of shape {maps.shape}."
            )
        target = None if target is None else column_or_1d(target)
        proba = None if proba is None else column_or_1d(proba)
        y_true = None if y_true is None else column_or_1d(y_true)
        check_consistent_length(X, maps,
                                *[v for v in (target, proba, y_true) if v is not None])
        display = cls(displayable_images(X, image_shape=image_shape, data_format=data_format),
                      maps, target=target, proba=proba, y_true=y_true)
        return display.plot(ax=ax, n_cols=n_cols, alpha=alpha, cmap=cmap,
                            image_cmap=image_cmap)

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, target=None, layer=None, n_images=16,
                       ax=None, n_cols=None, alpha=0.5, cmap="jet", image_cmap="gray"):
        """Compute Grad-CAM maps of a fitted classifier and plot them over the images.

        Needs captum, the ``explain`` extra (``sklearn_cnn.explain.grad_cam``).

        Parameters
        ----------
        estimator : CNNClassifier
            A fitted classifier.
        X : array-like, list of PIL images, or 1-D array of image file paths
            Images, in the layout the classifier takes.
        y : array-like of shape (N,), default=None
            The true labels, shown in the titles (red where the explained
            class is another one).
        target : label, array-like of labels or None, default=None
            The class explained: None for each image's predicted class, one
            label for all images, or one per image of ``X``.
        layer : str, torch.nn.Module or None, default=None
            The layer explained; None: the last conv block (see ``grad_cam``).
        n_images : int, default=16
            How many images to explain and show: the first ones of ``X``.
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw, as in ``plot``.
        n_cols : int, default=None
            Columns of the grid, as in ``plot``.
        alpha : float, default=0.5
            Opacity of the heat maps, as in ``plot``.
        cmap : str or matplotlib Colormap, default="jet"
            Colormap of the heat maps, as in ``plot``.
        image_cmap : str or matplotlib Colormap, default="gray"
            Colormap of one-channel images, as in ``plot``.

        Returns
        -------
        display : GradCAMDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        from ..explain import grad_cam

        check_is_fitted(estimator)
        if (not isinstance(n_images, numbers.Integral) or isinstance(n_images, bool)
                or n_images < 1):
            raise ValueError(f"n_images must be a positive int; got {n_images!r}.")
        shown = np.arange(min(n_images, len(X)))
        if target is not None and np.ndim(target) == 1:
            check_consistent_length(X, target)
            target = np.asarray(target)[shown]
        if y is not None:
            check_consistent_length(X, y)
            y = column_or_1d(y)[shown]
        X = _safe_indexing(X, shown)
        maps = grad_cam(estimator, X, target=target, layer=layer)
        proba = estimator.predict_proba(X)
        if target is None:
            columns = np.argmax(proba, axis=1)
        else:
            labels = np.broadcast_to(np.asarray(target), (len(shown),))
            columns = np.searchsorted(estimator.classes_, labels)
        return cls.from_maps(
            X, maps, target=estimator.classes_[columns],
            proba=proba[np.arange(len(shown)), columns], y_true=y,
            image_shape=estimator.image_shape, data_format=estimator.data_format, ax=ax,
            n_cols=n_cols, alpha=alpha, cmap=cmap, image_cmap=image_cmap,
        )
