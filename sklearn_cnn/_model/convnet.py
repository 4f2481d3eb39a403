"""The built-in convolutional network and its building blocks.

``ConvNet`` is a plain ``torch.nn.Module``: a stack of conv blocks
(convolution, optional batch norm, activation, pooling) followed by a dense
head that outputs one logit per class. With ``padding="valid"``,
``batch_norm=False`` and ``init="xavier"`` it is layer for layer the Keras
model of the tutorial this project grew from.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .._names import stable_name
from .generator import DrawsFromGenerator

__all__ = ["ACTIVATIONS", "INITS", "ConvNet", "Dropout", "conv_geometry", "pooled_last"]

#: Activation name -> (module factory, name understood by ``nn.init.calculate_gain``).
ACTIVATIONS = {
    "relu": (nn.ReLU, "relu"),
    "leaky_relu": (nn.LeakyReLU, "leaky_relu"),
    "elu": (nn.ELU, "relu"),
    "gelu": (nn.GELU, "relu"),
    "silu": (nn.SiLU, "relu"),
    "tanh": (nn.Tanh, "tanh"),
    "sigmoid": (nn.Sigmoid, "sigmoid"),
}
POOLINGS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}
INITS = ("auto", "kaiming", "xavier", "orthogonal", "torch")
PADDINGS = ("same", "valid")


def pooled_last(state_dict, prefix: str = "module.") -> bool:
    """Whether a ConvNet's state dict comes from one built with ``pool_first=False``.

    Such a network has its first batch norm straight after the first
    convolution (index 1 of ``features``), where ``pool_first=True`` puts
    the pooling layer, which has no state. (A network that pools nowhere is
    the same either way.)
    """
    return f"{prefix}features.1.running_mean" in state_dict


def _pool_window(size: int) -> int:
    # Pool only the axes that can still be halved: an 8x8 digit survives any
    # depth of "same" blocks (8 -> 4 -> 2 -> 1 -> 1), and a one-row image
    # (1, F) is pooled along its width alone.
    return 2 if size >= 2 else 1


def conv_geometry(
    image_hw: Sequence[int],
    n_blocks: int,
    kernel_size: int,
    padding: str,
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Pooling window and output size of each conv block.

    Parameters
    ----------
    image_hw : (int, int)
        Height and width of the input images.
    n_blocks : int
        Number of conv blocks (``len(conv_channels)``).
    kernel_size : int
        Side of the square convolution kernel.
    padding : {"same", "valid"}
        Convolution padding.

    Returns
    -------
    blocks : list of ((int, int), (int, int))
        For each block, its pooling window and its output ``(H, W)``.

    Raises
    ------
    ValueError
        If a "valid" convolution would not fit the feature map it is given.
    """
    h, w = image_hw
    blocks = []
    for block in range(n_blocks):
        if padding == "valid":
            if kernel_size > h or kernel_size > w:
                raise ValueError(
                    f"Conv block {block + 1} of {n_blocks} gets a {h}x{w} feature "
                    f"map, too small for kernel_size={kernel_size} with "
                    "padding='valid'. Use padding='same', a smaller "
                    "kernel_size, fewer conv_channels, or larger images "
                    f"(the input is {image_hw[0]}x{image_hw[1]})."
                )
            h, w = h - kernel_size + 1, w - kernel_size + 1
        window = (_pool_window(h), _pool_window(w))
        h, w = h // window[0], w // window[1]
        blocks.append((window, (h, w)))
    return blocks


@stable_name()
class Dropout(DrawsFromGenerator, nn.Dropout):
    """``nn.Dropout`` drawing its mask from ``generator`` when one is set.

    Hand-written: ``F.dropout`` takes no generator. The same function as
    ``nn.Dropout``: in training, each element is zeroed with probability
    ``p`` and the others scaled by ``1 / (1 - p)``; in evaluation, the input
    itself (nothing for ``torch.fx`` to trace).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.generator is None or self.p == 1:
            return super().forward(x)
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * keep.div_(1 - self.p)


@stable_name()
class ConvNet(DrawsFromGenerator, nn.Module):
    """A configurable CNN: conv blocks, then a dense head.

    Its dropout draws from the fit's generator (``DrawsFromGenerator``).

    Parameters
    ----------
    input_shape : (int, int, int)
        ``(C, H, W)`` of one input image.
    n_classes : int
        Number of output logits.
    conv_channels : sequence of int, default=(32, 64)
        Filters of each conv block; its length is the depth.
    kernel_size : int, default=3
        Side of the square convolution kernels.
    padding : {"same", "valid"}, default="same"
        Convolution padding.
    activation : str, default="relu"
        A key of ``ACTIVATIONS``.
    pooling : {"max", "avg"}, default="max"
        2x2 pooling after each conv block (1 along an axis of size 1).
    batch_norm : bool, default=True
        Batch normalisation after each convolution.
    dense_units : sequence of int, default=(64,)
        Units of each hidden dense layer.
    dropout : float, default=0.0
        Dropout after each hidden dense layer.
    init : {"auto", "kaiming", "xavier", "orthogonal", "torch"}, default="auto"
        Weight initialisation; "auto" is Kaiming for ReLU-like activations
        and Xavier for tanh and sigmoid, "torch" keeps PyTorch's defaults.
    pool_first : bool, default=True
        With max pooling and batch norm, pool straight after each
        convolution (conv, pool, batch norm, activation): batch norm and the
        activation then run on a quarter of the pixels, which trains the
        default network faster on the CPU (docs/benchmarks.md, "The recipe
        panel").
        False: conv, batch norm, activation, pool (networks saved before
        this parameter existed). Blocks without batch norm, or with average
        pooling, always pool last.

    Attributes
    ----------
    features : torch.nn.Sequential
        The conv blocks.
    classifier : torch.nn.Sequential
        The dense head: flatten, hidden dense layers, one logit per class.

    See Also
    --------
    sklearn_cnn.CNNClassifier : The estimator that builds and trains this network.

    Examples
    --------
    >>> import torch
    >>> from sklearn_cnn import ConvNet
    >>> net = ConvNet(input_shape=(1, 8, 8), n_classes=10)
    >>> net(torch.zeros(4, 1, 8, 8)).shape
    torch.Size([4, 10])

    Layer for layer the Keras model this project grew from (here on 28x28
    RGB images):

    >>> net = ConvNet((3, 28, 28), 2, conv_channels=(32, 64), padding="valid",
    ...               batch_norm=False, init="xavier")
    >>> net(torch.zeros(4, 3, 28, 28)).shape
    torch.Size([4, 2])
    """

    # Networks pickled before ``pool_first`` existed pooled last.
    pool_first = False

    def __init__(
        self,
        input_shape: Sequence[int],
        n_classes: int,
        conv_channels: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        padding: str = "same",
        activation: str = "relu",
        pooling: str = "max",
        batch_norm: bool = True,
        dense_units: Sequence[int] = (64,),
        dropout: float = 0.0,
        init: str = "auto",
        pool_first: bool = True,
    ) -> None:
        super().__init__()
        in_channels, height, width = input_shape
        act_cls, self._gain_name = ACTIVATIONS[activation]
        blocks = conv_geometry((height, width), len(conv_channels), kernel_size, padding)

        self.pool_first = pool_first
        layers: list[nn.Module] = []
        for out_channels, (window, _) in zip(conv_channels, blocks, strict=True):
            block = [nn.Conv2d(in_channels, out_channels, kernel_size,
                               padding=padding, bias=not batch_norm)]
            norm = [nn.BatchNorm2d(out_channels)] if batch_norm else []
            pool = [POOLINGS[pooling](window)] if window != (1, 1) else []
            if pool_first and pooling == "max" and norm:
                block += [*pool, *norm, act_cls()]
            else:
                block += [*norm, act_cls(), *pool]
            layers += block
            in_channels = out_channels
        self.features = nn.Sequential(*layers)

        h, w = blocks[-1][1] if blocks else (height, width)
        head: list[nn.Module] = [nn.Flatten()]
        n_in = in_channels * h * w
        for units in dense_units:
            head += [nn.Linear(n_in, units), act_cls()]
            if dropout > 0:
                head.append(Dropout(dropout))
            n_in = units
        head.append(nn.Linear(n_in, n_classes))
        self.classifier = nn.Sequential(*head)
        self._initialize(init, activation)

    def _initialize(self, init: str, activation: str) -> None:
        if init == "torch":
            return
        if init == "auto":
            init = "xavier" if activation in ("tanh", "sigmoid") else "kaiming"
        weighted = [m for m in self.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        for i, layer in enumerate(weighted):
            gain_name = "linear" if i == len(weighted) - 1 else self._gain_name
            if init == "kaiming":
                # kaiming_normal_ knows only relu-like gains.
                nonlinearity = gain_name if gain_name in ("relu", "leaky_relu") else "linear"
                nn.init.kaiming_normal_(layer.weight, nonlinearity=nonlinearity)
            elif init == "xavier":
                nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain(gain_name))
            else:  # orthogonal
                nn.init.orthogonal_(layer.weight, gain=nn.init.calculate_gain(gain_name))
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)

    def forward(self, x):
        """Compute the class logits of a batch of images.

        Parameters
        ----------
        x : Tensor of shape (N, C, H, W)
            Float images of ``input_shape``.

        Returns
        -------
        logits : Tensor of shape (N, n_classes)
            One unnormalised score per class.
        """
        return self.classifier(self.features(x))

    def embed(self, x):
        """Compute the features of a batch of images: the input of the last linear layer.

        The output of the last hidden dense layer (after its activation and
        dropout, which evaluation mode turns off), or the flattened
        convolutional features when ``dense_units=()``.

        Parameters
        ----------
        x : Tensor of shape (N, C, H, W)
            Float images of ``input_shape``.

        Returns
        -------
        features : Tensor of shape (N, n_features)
            One row of features per image.
        """
        return self.classifier[:-1](self.features(x))
