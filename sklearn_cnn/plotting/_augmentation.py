"""``AugmentationDisplay``: training images as the network sees them after augmentation."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.utils import _safe_indexing

from .._data.images import read_images
from .._model.augment import make_augment, settle_augment
from ._image_grid import displayable_images, draw_images
from ._matplotlib import check_matplotlib_support, panel_axes

__all__ = ["AugmentationDisplay"]


class AugmentationDisplay:
    """A few training images, and the versions of them augmentation makes.

    fastai's ``show_batch``: each row is one image, as given, then
    ``n_views`` random draws of the classifier's ``augment``, the way a
    training batch gets them (on the CPU, from a seeded generator). Use
    :meth:`from_estimator` to create one; all parameters are stored as
    attributes.

    Parameters
    ----------
    images : ndarray of shape (n_images, H, W) or (n_images, H, W, 3 or 4)
        The images as given, in [0, 1] (see ``displayable_images``).
    views : ndarray of shape (n_images, n_views, ...)
        The augmented versions of each image, in the layout of ``images``.
    augment_name : str
        What made them: the preset's name, or the transform's repr.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes, shape (n_images, n_views + 1)
        One row per image: the image, then its views.
    figure_ : matplotlib Figure
        The figure holding the grid.
    bounding_ax_ : matplotlib Axes or None
        The axes split into the grid; None when ``ax`` was an array of axes.

    See Also
    --------
    sklearn_cnn.BatchAugment : The transform the presets build.
    ImageGridDisplay : Images with their true and predicted labels.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.plotting import AugmentationDisplay
    >>> X, _ = load_digits(return_X_y=True)
    >>> display = AugmentationDisplay.from_estimator(CNNClassifier(), X, n_images=3)
    >>> display.augment_name, display.views.shape
    ("'auto': 'sharp'", (3, 4, 8, 8))
    """

    def __init__(self, images, views, *, augment_name):
        self.images = images
        self.views = views
        self.augment_name = augment_name

    def plot(self, *, ax=None, cmap="gray"):
        """Draw one row per image: the image, then its augmented views.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            None: a new figure. One Axes: split into the grid. An
            array-like: one Axes per panel, ``n_images * (n_views + 1)``.
        cmap : str or matplotlib Colormap, default="gray"
            Colormap of one-channel images.

        Returns
        -------
        display : AugmentationDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        n_images, n_views = self.views.shape[:2]
        n_cols = n_views + 1
        self.figure_, axes, self.bounding_ax_ = panel_axes(
            ax, n_images * n_cols, n_cols, panel_size=(1.6, 1.8),
            caller=type(self).__name__)
        self.axes_ = axes.reshape(n_images, n_cols)
        panels = [image for i in range(n_images) for image in (self.images[i], *self.views[i])]
        titles = [("as given" if j == 0 else f"draw {j}") if i == 0 else ""
                  for i in range(n_images) for j in range(n_cols)]
        draw_images(self.axes_, panels, titles, np.zeros(len(panels), dtype=bool), cmap)
        self.figure_.suptitle(f"augment={self.augment_name}")
        return self

    @classmethod
    def from_estimator(cls, estimator, X, *, n_images=4, n_views=4, random_state=0, ax=None,
                       cmap="gray"):
        """Augment the first images of ``X`` as ``estimator`` would while training.

        The classifier need not be fitted: its ``augment``, ``image_shape``
        and ``data_format`` parameters say what it would do.

        Parameters
        ----------
        estimator : CNNClassifier
            The classifier whose ``augment`` is shown.
        X : array-like, list of PIL images, or 1-D array of image file paths
            Training images, in the layout the classifier takes.
        n_images : int, default=4
            How many images (rows): the first ones of ``X``.
        n_views : int, default=4
            Augmented versions of each (columns after the image).
        random_state : int, default=0
            Seed of the draws.
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw, as in ``plot``.
        cmap : str or matplotlib Colormap, default="gray"
            Colormap of one-channel images.

        Returns
        -------
        display : AugmentationDisplay
            The display, with the drawn objects as attributes.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        for name, value in (("n_images", n_images), ("n_views", n_views)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int; got {value!r}.")
        params = estimator.get_params(deep=False)
        X = _safe_indexing(X, np.arange(min(n_images, len(X))))
        images = read_images(X, image_shape=params["image_shape"],
                             data_format=params["data_format"])
        pixels = torch.from_numpy(images.to_array())
        setting = settle_augment(params["augment"], images.image_shape)
        augment = make_augment(setting)
        name = repr(params["augment"])
        if params["augment"] != setting:
            name += f": {setting!r}"
        views = []
        # A BatchAugment draws from the generator it is given; a torchvision
        # transform from torch's global one, seeded here and put back after.
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(random_state)
            if augment is not None and hasattr(augment, "generator"):
                augment.generator = torch.Generator().manual_seed(random_state)
            for _ in range(n_views):
                views.append(pixels if augment is None else augment(pixels))
        stacked = torch.stack(views, 1).numpy()  # (n, views, C, H, W)
        n, v = stacked.shape[:2]
        # Shown on the scale of the images as given, not each view's own.
        together = displayable_images(
            np.concatenate([images.to_array(), stacked.reshape(n * v, *stacked.shape[2:])]),
            data_format="channels_first")
        display = cls(together[:n], together[n:].reshape(n, v, *together.shape[1:]),
                      augment_name=name)
        return display.plot(ax=ax, cmap=cmap)
