"""Explanations of a fitted ``CNNClassifier``'s predictions (the ``explain`` extra).

- :func:`grad_cam`: Grad-CAM heat maps, where in the image the evidence for
  a class lies, at a conv layer's resolution upsampled to the image's.
- :func:`saliency`: the absolute gradient of the class score with respect
  to each pixel.

Both return one float32 ``(H, W)`` map per image, scaled to [0, 1], and are
computed by captum (``pip install 'sklearn-cnn[explain]'``), imported when
they are first called. See docs/explain.md.
"""

from ._attribution import grad_cam, saliency

__all__ = ["grad_cam", "saliency"]
