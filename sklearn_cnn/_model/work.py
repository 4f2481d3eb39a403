"""How much a network computes: the floating-point operations of a forward pass.

Counted by torch's own ``torch.utils.flop_counter.FlopCounterMode`` (the
matrix products and convolutions, which are nearly all of a CNN's work) on
one image, in evaluation mode and without gradients: nothing of the
network changes, and nothing draws random numbers. Only for the built-in
networks (``ConvNet``, a torchvision ``Backbone``), whose forward pass does
nothing but compute: a network of the user's (``module=``) may count its
calls, log or cache, and is not called for this. The thread policy
(``_training.threads``) sizes the thread count of a step from it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from .backbone import Backbone
from .convnet import ConvNet

__all__ = ["forward_flops"]


def forward_flops(module: nn.Module, image: torch.Tensor) -> int | None:
    """Floating-point operations of ``module``'s forward pass on one image.

    Parameters
    ----------
    module : torch.nn.Module
        The network, on the device of ``image``: a ``ConvNet`` or ``Backbone``.
    image : Tensor of shape (1, C, H, W)
        One image (its values do not matter), in the memory format the
        network takes.

    Returns
    -------
    flops : int or None
        None for other networks (not called), and where a network cannot
        tell before it trains: lazy modules (``nn.LazyLinear``...) would
        initialise their weights here, drawing random numbers the fit draws
        later.

    Examples
    --------
    >>> import torch
    >>> from sklearn_cnn import ConvNet
    >>> from sklearn_cnn._model.work import forward_flops
    >>> net = ConvNet((1, 8, 8), n_classes=10, conv_channels=(4,), dense_units=())
    >>> forward_flops(net, torch.zeros(1, 1, 8, 8))  # 2 per multiply-add
    5888
    >>> forward_flops(torch.nn.Linear(64, 10), torch.zeros(1, 64)) is None  # not built-in
    True
    """
    if not isinstance(module, (ConvNet, Backbone)) or any(
            is_lazy(p) for p in module.parameters()):
        return None
    # On first use: importing it takes a tenth of a second, which every
    # process that imports sklearn_cnn would pay.
    from torch.utils.flop_counter import FlopCounterMode

    modes = [(sub, sub.training) for sub in module.modules()]  # each its own, as it was
    module.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(image)
    finally:
        for sub, training in modes:
            sub.training = training
    return int(counter.get_total_flops())
