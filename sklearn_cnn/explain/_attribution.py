"""Grad-CAM and saliency maps of a fitted ``CNNClassifier``, computed by captum."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._inputs import image_batches, target_indices
from ._layers import resolve_layer

__all__ = ["grad_cam", "saliency"]

#: Images per forward and backward pass. Smaller than prediction's batches:
#: the backward pass keeps every activation of the batch alive.
EXPLAIN_BATCH_SIZE = 64


def _captum_attr():
    """``captum.attr``, or an ImportError naming the extra that installs it."""
    try:
        from captum import attr
    except ImportError as exc:
        raise ImportError(
            "Grad-CAM and saliency maps need captum, the `explain` extra: "
            "pip install 'sklearn-cnn[explain]'."
        ) from exc
    return attr


@contextlib.contextmanager
def _explaining(network: nn.Module, device: torch.device) -> Iterator[None]:
    """Run the block with ``network`` in evaluation mode, frozen, in float32.

    Gradients flow to the input and to the explained layer only: the
    parameters stop requiring them. Afterwards every submodule's mode and
    every parameter's ``requires_grad`` are what they were (a backbone may
    be partly frozen, a user's module partly in evaluation mode). Gradients
    are on even inside the caller's ``torch.no_grad`` or inference mode, and
    autocast is off: a model trained under bfloat16 autocast is explained in
    float32.
    """
    modes = [(module, module.training) for module in network.modules()]
    flags = [(param, param.requires_grad) for param in network.parameters()]
    network.eval().requires_grad_(False)
    try:
        with (torch.inference_mode(False), torch.enable_grad(),
              torch.autocast(device.type, enabled=False)):
            yield
    finally:
        for module, training in modes:
            module.training = training
        for param, requires_grad in flags:
            param.requires_grad_(requires_grad)


def _explain(clf, X, target, attribute: Callable) -> np.ndarray:
    """Per-image maps of ``attribute(batch, target_columns)``, each scaled to [0, 1].

    ``attribute`` takes a float32 ``(n, C, H, W)`` batch on the model's
    device in its memory format and the ``classes_`` column explained for
    each image, and returns non-negative ``(n, H, W)`` maps.
    """
    network, device = clf.module_, torch.device(clf.device_)
    maps, start = [], 0
    with _explaining(network, device):  # before the images exist: no inference tensors
        n_images, batches = image_batches(clf, X, EXPLAIN_BATCH_SIZE)
        columns = target_indices(clf, target, n_images)
        for batch in batches:
            batch = batch.to(device).contiguous(memory_format=clf.net_.memory_format)
            if columns is None:
                with torch.no_grad():
                    batch_columns = network(batch).argmax(dim=1)
            else:
                batch_columns = torch.from_numpy(columns[start:start + len(batch)]).to(device)
            start += len(batch)
            maps.append(attribute(batch, batch_columns).detach().float())
    if not maps:  # no images: validation lets none through, but stay total
        return np.zeros((0, *clf.input_shape_[1:]), dtype=np.float32)
    maps = torch.cat(maps)
    # Per image: divide by its largest value (0 where the map is all zero).
    peak = maps.amax(dim=(1, 2), keepdim=True).clamp_min(torch.finfo(maps.dtype).tiny)
    return (maps / peak).cpu().numpy()


def grad_cam(clf, X, *, target=None, layer=None) -> np.ndarray:
    """Grad-CAM heat maps: where in each image the evidence for a class lies.

    Grad-CAM (Selvaraju et al., 2017) weighs each channel of a layer's
    feature maps by the mean gradient of the class score over that map,
    sums the weighted maps over channels and keeps the positive part. The
    result, at the layer's resolution, is upsampled bilinearly to the input
    size and divided by its maximum, image by image. Computed by captum's
    ``LayerGradCam`` and ``LayerAttribution.interpolate``, on the network
    in evaluation mode and float32, in batches on the model's device.

    Parameters
    ----------
    clf : CNNClassifier
        A fitted classifier.
    X : array-like
        Images, in any layout ``clf.predict`` accepts, or a 1-D array of
        image file paths.
    target : label, array-like of labels or None, default=None
        The class explained: None for the class predicted for each image,
        one label of ``clf.classes_`` for every image, or one label per
        image.
    layer : str, torch.nn.Module or None, default=None
        The layer whose output is explained, in the network
        ``clf.module_``. None: the last conv block's feature maps, that is
        the last ``nn.Conv2d`` taken with the batch norm and activation
        that directly follow it in an ``nn.Sequential`` (``"features.7"``,
        the second block's ReLU, in the built-in two-block network; the
        convolution alone where nothing such follows, as in a ResNet's
        residual block). Or the dotted name of a submodule as
        ``clf.module_.named_modules()`` gives it (``"features.4"``, or
        ``"model.layer4"`` for a ResNet backbone's last stage), or the
        submodule itself. Its output must be a ``(N, C, h, w)`` feature
        map.

    Returns
    -------
    heat : ndarray of shape (N, H, W), dtype float32
        For each image, its heat map at the input's height and width, in
        [0, 1]: 1 where the evidence for the class is strongest, 0 where
        there is none (an image without any positive evidence gets zeros).

    Raises
    ------
    ImportError
        If captum (the ``explain`` extra) is not installed.
    ValueError
        If ``target`` holds a label ``clf.classes_`` does not know, if
        ``layer`` names no submodule, or if the network has no
        ``nn.Conv2d`` and no ``layer`` is given.

    See Also
    --------
    saliency : The input gradient: pixel-level sensitivity.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.explain import grad_cam
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0).fit(X[:200], y[:200])
    >>> heat = grad_cam(clf, X[:5])
    >>> heat.shape, heat.dtype
    ((5, 8, 8), dtype('float32'))
    >>> bool(heat.min() >= 0 and heat.max() <= 1)
    True
    """
    check_is_fitted(clf)
    attr = _captum_attr()
    chosen = resolve_layer(clf.module_, layer)
    explainer = attr.LayerGradCam(clf.module_, chosen)
    size = tuple(clf.input_shape_[1:])

    def attribute(batch, columns):
        cam = explainer.attribute(batch, target=columns, relu_attributions=True)
        if not isinstance(cam, torch.Tensor) or cam.dim() != 4:
            shape = tuple(cam.shape) if isinstance(cam, torch.Tensor) else type(cam).__name__
            raise ValueError(
                f"layer {type(chosen).__name__} gives Grad-CAM maps of shape {shape}; "
                "it needs a layer whose output is a (N, C, h, w) feature map, such "
                "as a conv layer's (layer=None picks the last conv block)."
            )
        return attr.LayerAttribution.interpolate(cam, size, interpolate_mode="bilinear")[:, 0]

    return _explain(clf, X, target, attribute)


def saliency(clf, X, *, target=None) -> np.ndarray:
    """Saliency maps: how strongly each pixel moves the class score.

    The absolute gradient of the class score with respect to the input
    image, its maximum over the colour channels (Simonyan et al., 2014),
    divided by its maximum, image by image. Computed by captum's
    ``Saliency`` on the network in evaluation mode and float32, in batches
    on the model's device, with respect to the float32 images the network
    takes (uint8 pixels scaled to [0, 1]).

    Parameters
    ----------
    clf : CNNClassifier
        A fitted classifier.
    X : array-like
        Images, in any layout ``clf.predict`` accepts, or a 1-D array of
        image file paths.
    target : label, array-like of labels or None, default=None
        The class explained: None for the class predicted for each image,
        one label of ``clf.classes_`` for every image, or one label per
        image.

    Returns
    -------
    saliency : ndarray of shape (N, H, W), dtype float32
        For each image, its saliency map at the input's height and width,
        in [0, 1]: 1 at the most influential pixel.

    Raises
    ------
    ImportError
        If captum (the ``explain`` extra) is not installed.
    ValueError
        If ``target`` holds a label ``clf.classes_`` does not know.

    See Also
    --------
    grad_cam : Class evidence at a layer's resolution: where, not which pixel.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> from sklearn_cnn.explain import saliency
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0).fit(X[:200], y[:200])
    >>> saliency(clf, X[:5], target=3).shape
    (5, 8, 8)
    """
    check_is_fitted(clf)
    explainer = _captum_attr().Saliency(clf.module_)

    def attribute(batch, columns):
        # Required here: captum would warn that it had to set it itself.
        gradient = explainer.attribute(batch.detach().requires_grad_(), target=columns, abs=True)
        return gradient.amax(dim=1)

    return _explain(clf, X, target, attribute)
