"""``make_shapes``: bright shapes at random places on a noisy background."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from PIL import Image, ImageDraw
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["SHAPES", "make_shapes"]

#: The shapes, in class order: class ``k`` of ``make_shapes`` is ``SHAPES[k]``.
SHAPES = ("square", "disc", "triangle", "cross", "ring")

#: Smallest and largest side of a shape's box, as a share of the image side.
SIDE_RANGE = (0.35, 0.55)


def _outline(shape: str, box: tuple[int, int, int, int]) -> list:
    """PIL drawing calls ``(method, xy, kwargs)`` for one shape in ``(x0, y0, x1, y1)``."""
    x0, y0, x1, y1 = box
    side = x1 - x0
    bar = max(side // 3, 1)
    middle_x, middle_y = (x0 + x1) // 2, (y0 + y1) // 2
    filled = {"fill": 255}
    return {
        "square": [("rectangle", box, filled)],
        "disc": [("ellipse", box, filled)],
        "triangle": [("polygon", [(middle_x, y0), (x1, y1), (x0, y1)], filled)],
        "cross": [
            ("rectangle", (middle_x - bar // 2, y0, middle_x - bar // 2 + bar, y1), filled),
            ("rectangle", (x0, middle_y - bar // 2, x1, middle_y - bar // 2 + bar), filled),
        ],
        "ring": [("ellipse", box, {"outline": 255, "width": max(side // 5, 1)})],
    }[shape]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "image_size": [Interval(Integral, 8, None, closed="left")],
        "n_classes": [Interval(Integral, 2, len(SHAPES), closed="both")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "return_boxes": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_shapes(
    n_samples=200,
    *,
    image_size=32,
    n_classes=3,
    noise=0.1,
    return_boxes=False,
    random_state=None,
):
    """Generate gray images of one bright shape each, on a noisy background.

    Class ``k`` is the shape ``SHAPES[k]`` (square, disc, triangle, cross,
    ring), drawn at a random size (35-55 % of the side) and a random place,
    at a random brightness, over a background of random level and Gaussian
    noise. Only the shape tells the class, and ``boxes`` says where it is:
    a CNN learns it in a few epochs, and an explanation (Grad-CAM,
    saliency) can be checked against the box.

    Parameters
    ----------
    n_samples : int, default=200
        Number of images; the classes take turns, so they are balanced.
    image_size : int, default=32
        Height and width of the images, at least 8.
    n_classes : int, default=3
        Number of classes (shapes), from 2 to 5.
    noise : float, default=0.1
        Standard deviation of the Gaussian pixel noise.
    return_boxes : bool, default=False
        Also return each shape's bounding box.
    random_state : int, RandomState instance or None, default=None
        Seed of sizes, places, brightness and noise.

    Returns
    -------
    X : ndarray of shape (n_samples, image_size, image_size), dtype float32
        Images with pixels in [0, 1].
    y : ndarray of shape (n_samples,), dtype int
        The class of each image: an index into ``SHAPES``.
    boxes : ndarray of shape (n_samples, 4), dtype int
        ``(top, left, bottom, right)`` of each shape, bottom and right
        exclusive: ``X[i, top:bottom, left:right]`` holds the shape. Only
        when ``return_boxes=True``.

    Examples
    --------
    >>> from sklearn_cnn.datasets import SHAPES, make_shapes
    >>> X, y, boxes = make_shapes(6, image_size=24, return_boxes=True, random_state=0)
    >>> X.shape, X.dtype, y.tolist()
    ((6, 24, 24), dtype('float32'), [0, 1, 2, 0, 1, 2])
    >>> [SHAPES[k] for k in y[:3]]
    ['square', 'disc', 'triangle']
    >>> top, left, bottom, right = boxes[0]
    >>> bool(X[0, top:bottom, left:right].mean() > X[0].mean())
    True
    """
    rng = check_random_state(random_state)
    y = np.arange(n_samples) % n_classes
    X = np.empty((n_samples, image_size, image_size), dtype=np.float32)
    boxes = np.empty((n_samples, 4), dtype=np.int64)
    low, high = (max(int(share * image_size), 4) for share in SIDE_RANGE)
    for i, label in enumerate(y):
        side = int(rng.randint(low, high + 1))
        top, left = (int(v) for v in rng.randint(0, image_size - side + 1, size=2))
        background = rng.uniform(0.0, 0.3)
        brightness = rng.uniform(0.7, 1.0)
        # PIL draws the shape (boxes are inclusive there): a maintained
        # rasteriser rather than hand-written geometry.
        canvas = Image.new("L", (image_size, image_size), 0)
        draw = ImageDraw.Draw(canvas)
        for method, xy, kwargs in _outline(SHAPES[label],
                                           (left, top, left + side - 1, top + side - 1)):
            getattr(draw, method)(xy, **kwargs)
        mask = np.asarray(canvas, dtype=np.float32) / 255
        image = background + (brightness - background) * mask
        image += rng.normal(0.0, noise, size=image.shape) if noise else 0.0
        X[i] = np.clip(image, 0.0, 1.0)
        boxes[i] = (top, left, top + side, left + side)
    return (X, y, boxes) if return_boxes else (X, y)
