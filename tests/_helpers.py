"""Helpers that several test modules share (fixtures are in conftest.py)."""

from typing import ClassVar

import numpy as np
import torch
from PIL import Image
from skorch.callbacks import Callback
from torch import nn
from torch.profiler import ProfilerActivity, profile


def write_image(path, pixels):
    """Write ``pixels`` (uint8, (H, W) or (H, W, C)) as the image file ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def image_files(folder, images, sizes=(8,)) -> np.ndarray:
    """``images`` as PNG files in ``folder``, the i-th resized to ``sizes[i % len(sizes)]``."""
    paths = []
    for i, image in enumerate(images):
        side = sizes[i % len(sizes)]
        image = Image.fromarray(image)
        if image.size != (side, side):
            image = image.resize((side, side), Image.Resampling.NEAREST)
        paths.append(str(write_image(folder / f"{i}.png", np.asarray(image))))
    return np.array(paths)


def check_images(X, **kwargs):
    """Validated images as float32 (N, C, H, W), as ``read_images`` reads arrays."""
    from sklearn_cnn._data.layout import validate_images
    from sklearn_cnn._data.placement import to_float_nchw

    X, layout = validate_images(X, **kwargs)
    return to_float_nchw(X, layout), layout


class TinyNet(nn.Module):
    """A custom ``module=``: flatten, one hidden layer."""

    def __init__(self, input_shape, n_classes, hidden=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(int(np.prod(input_shape)), hidden), nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.net(x)


class ConvBatchNorm(nn.Module):
    """A custom network whose conv/batch-norm pair is two attributes."""

    def __init__(self, input_shape, n_classes):
        super().__init__()
        self.conv = nn.Conv2d(input_shape[0], 6, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(6)
        self.head = nn.Linear(6 * input_shape[1] * input_shape[2], n_classes)

    def forward(self, x):
        return self.head(torch.relu(self.bn(self.conv(x))).flatten(1))


class CountEpochs(Callback):
    """Note the number of each epoch a fit begins, counted from 1.

    In ``epochs_`` of the fit's own copy (``dict(clf.net_.callbacks_)[name]``),
    and in the class's ``begun``, which outlives the copies: the fits of a
    search, a fit and its rerun from a checkpoint. A class attribute, not a
    parameter: a checkpoint's key holds the parameters of a fit's callbacks.
    Clear ``begun`` before the fits it counts.
    """

    begun: ClassVar[list[int]] = []

    def initialize(self):
        self.epochs_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.epochs_.append(len(net.history))
        CountEpochs.begun.append(len(net.history))


class ReadsBatchLoss(Callback):
    """A user callback that reads each batch's loss while the batch runs."""

    def on_batch_end(self, net, training, **kwargs):
        if training:
            self.seen = [*getattr(self, "seen", []), net.history[-1, "batches", -1, "train_loss"]]


def scalar_reads(fit) -> int:
    """How many times ``fit()`` reads a tensor's value back to Python (``.item()``)."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fit()
    return sum(e.count for e in prof.key_averages() if e.key == "aten::_local_scalar_dense")
