"""The embedding of a network: its features before the classification layer.

A network gives its embedding through an ``embed(x)`` method, batch in,
``(N, n_features)`` out: the built-in ``ConvNet`` (its last hidden layer)
and torchvision ``Backbone`` s (their pooled features) have one, and a
custom ``module=`` network gets embeddings by defining one (the hook this
module documents).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "Embedder", "PretrainedInput", "embedder"]

#: The mean and standard deviation torchvision's ImageNet weights were trained with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PretrainedInput(nn.Module):
    """Images as ImageNet-trained weights expect them: three channels, normalised.

    Gray images are repeated to three channels; values in [0, 1] are
    normalised with ImageNet's mean and standard deviation (torchvision's
    ``normalize``).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # torchvision on first use: importing it takes about a second (_data.files).
        from torchvision.transforms.v2.functional import normalize

        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] == 4:  # RGBA: the colour, not the transparency
            x = x[:, :3]
        return normalize(x, list(IMAGENET_MEAN), list(IMAGENET_STD))


class Embedder(nn.Module):
    """``module.embed`` as a module's forward pass, for the batched forward of prediction.

    Parameters
    ----------
    module : nn.Module
        A network with an ``embed(x)`` method.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module.embed(x).flatten(1)


def embedder(module: nn.Module) -> Embedder:
    """``module``'s embedding as a module; a TypeError where it has none.

    Parameters
    ----------
    module : nn.Module
        The fitted network.

    Returns
    -------
    embedder : Embedder
    """
    if not callable(getattr(module, "embed", None)):
        raise TypeError(
            f"The network {type(module).__name__} has no embed(x) method: a module= "
            "network gives embeddings by defining one, batch of images in, "
            "(N, n_features) tensor out (for example its features before the last "
            "linear layer)."
        )
    return Embedder(module)
