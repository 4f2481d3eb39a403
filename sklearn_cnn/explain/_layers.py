"""The layer of a network whose feature maps Grad-CAM explains."""

from __future__ import annotations

from torch import nn

__all__ = ["conv_layer_names", "default_layer", "resolve_layer"]

#: Layers that act on a conv layer's feature maps value by value (or channel
#: by channel), keeping their shape: a conv block's normalisation and
#: activation, which the default layer of Grad-CAM takes in.
ELEMENTWISE = (
    nn.BatchNorm2d, nn.LazyBatchNorm2d, nn.SyncBatchNorm, nn.GroupNorm, nn.InstanceNorm2d,
    nn.LazyInstanceNorm2d,
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
    nn.Mish, nn.Hardswish, nn.Hardsigmoid, nn.Tanh, nn.Sigmoid, nn.Identity,
    nn.Dropout, nn.Dropout2d,
)


def conv_layer_names(network: nn.Module) -> list[str]:
    """Dotted names of the ``nn.Conv2d`` layers of ``network``, in registration order.

    Parameters
    ----------
    network : torch.nn.Module
        The network.

    Returns
    -------
    names : list of str
        Names as ``network.named_modules()`` gives them (``"features.4"``,
        ``"model.layer4.1.conv2"``); the network itself, if a ``Conv2d``, is
        ``""``.
    """
    return [name for name, module in network.named_modules() if isinstance(module, nn.Conv2d)]


def default_layer(network: nn.Module) -> str:
    """Name of the layer Grad-CAM explains by default: the last conv block's output.

    The last ``nn.Conv2d`` registered in ``network``; where it sits in an
    ``nn.Sequential``, the last of the normalisation and activation layers
    (``ELEMENTWISE``) that directly follow it there. The original Grad-CAM
    explains rectified feature maps (Caffe's in-place ReLU made a conv
    layer's output rectified); the raw convolution output, before batch
    norm's shift, localises worse: on ``make_shapes`` the heat falls inside
    the shape's box more often with the activation (docs/explain.md, and
    docs/benchmarks.md, "Grad-CAM's default layer").

    Parameters
    ----------
    network : torch.nn.Module
        The network.

    Returns
    -------
    layer_name : str
        A dotted name of ``network.named_modules()``: ``"features.7"`` (the
        ReLU of the second block) for the built-in network with two conv
        blocks, ``"model.layer4.1.conv2"`` for a ResNet backbone (its
        residual block is not an ``nn.Sequential``; ``"model.layer4"`` is
        the block's output).

    Raises
    ------
    ValueError
        If ``network`` has no ``nn.Conv2d``.
    """
    convs = conv_layer_names(network)
    if not convs:
        raise ValueError(
            f"The network ({type(network).__name__}) has no nn.Conv2d layer for "
            "Grad-CAM to explain; pass layer= the name of a submodule whose output "
            "is a (N, C, h, w) feature map."
        )
    name = convs[-1]
    parent_name, _, child = name.rpartition(".")
    parent = network.get_submodule(parent_name)
    if not isinstance(parent, nn.Sequential):
        return name
    children = list(parent.named_children())  # the order nn.Sequential runs them in
    position = [key for key, _ in children].index(child)
    following = children[position + 1:]
    if following and isinstance(following[0][1], nn.MaxPool2d) and any(
            isinstance(m, ELEMENTWISE) for _, m in following[1:2]):
        # Pooled before its norm and activation (ConvNet's pool_first): the
        # block's output is the rectified map after the pooling.
        following = following[1:]
        child = children[position + 1][0]
    for key, module in following:
        if not isinstance(module, ELEMENTWISE):
            break
        child = key
    return f"{parent_name}.{child}" if parent_name else child


def resolve_layer(network: nn.Module, layer) -> nn.Module:
    """The submodule of ``network`` that ``layer`` designates.

    Parameters
    ----------
    network : torch.nn.Module
        The network to explain.
    layer : str, torch.nn.Module or None
        None: the output of the last conv block (see ``default_layer``). A
        str: the dotted name of a submodule, as ``network.named_modules()``
        gives it. A module: that module, which must be part of ``network``.

    Returns
    -------
    layer : torch.nn.Module

    Raises
    ------
    ValueError
        If ``layer`` is None and ``network`` has no ``nn.Conv2d``, if no
        submodule has the name ``layer``, or if the module ``layer`` is not
        part of ``network``.
    TypeError
        If ``layer`` is neither None, a str nor a module.
    """
    if layer is None:
        return network.get_submodule(default_layer(network))
    if isinstance(layer, str):
        try:
            return network.get_submodule(layer)
        except AttributeError:
            raise ValueError(
                f"layer={layer!r} is not a submodule of the network "
                f"({type(network).__name__}); its conv layers are "
                f"{conv_layer_names(network)}."
            ) from None
    if isinstance(layer, nn.Module):
        if not any(module is layer for module in network.modules()):
            raise ValueError(
                f"layer is a {type(layer).__name__} that is not part of the "
                f"classifier's network ({type(network).__name__}, clf.module_); pass "
                "one of its submodules or its name, such as its conv layers "
                f"{conv_layer_names(network)}."
            )
        return layer
    raise TypeError(
        "layer must be None, the dotted name of a submodule (str) or an nn.Module; "
        f"got {type(layer).__name__}."
    )
