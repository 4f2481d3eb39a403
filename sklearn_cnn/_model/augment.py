"""Training-time augmentation: random transforms drawn per sample, per batch.

torchvision's v2 transforms draw one set of random parameters per call, so a
batch tensor gets the same rotation for every image. ``BatchAugment`` draws
parameters per image and applies them to the whole batch at once on its
device: integer-pixel shifts (pad with reflection, crop back: the CIFAR
recipe) and flips that move pixels without resampling them; one
``affine_grid``/``grid_sample`` (PyTorch's resampler) for rotation, zoom and
shear; elementwise ops for brightness, contrast and erasing. Any other
transform (a torchvision v2 transform, any callable on one image) runs image
by image through ``PerSample``.

Hand-written rather than torchvision's ``RandomCrop(padding=...)`` and
``RandomHorizontalFlip``: those draw one set of parameters per call, so a
batch tensor would get one shift for all its images, and running them image
by image (``PerSample``) costs a Python loop per batch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from .._names import stable_name
from .generator import DrawsFromGenerator

__all__ = ["AUGMENT_PRESETS", "BatchAugment", "PerSample", "make_augment",
           "tta_views"]


@stable_name()
class BatchAugment(DrawsFromGenerator, nn.Module):
    """Random affine, photometric jitter and erasing, drawn for every image.

    Pass it as ``CNNClassifier(augment=BatchAugment(...))``: it then runs
    only while training, on the training device, with fresh draws for every
    image of every batch of every epoch, from the fit's own generator (so
    ``random_state`` makes it reproducible). Each amount is 0 (off) by
    default.

    Parameters
    ----------
    shift : float, default=0.0
        Shift drawn per image, in whole pixels, up to ``shift`` times each
        side (at least one pixel when not 0): the image is padded by that
        many pixels with ``padding_mode`` and cropped back to its size, so
        its pixels stay as they are (no resampling).
    flip : float, default=0.0
        Probability of mirroring an image left to right. Only where that
        keeps the label: textures, most photos, faces; not digits or text.
    degrees : float, default=0.0
        Rotation drawn from ``[-degrees, degrees]``.
    translate : float, default=0.0
        Shift drawn from ``[-translate, translate]`` times the image side.
    scale : float, default=0.0
        Zoom factor drawn from ``[1 - scale, 1 + scale]``.
    shear : float, default=0.0
        Horizontal shear angle drawn from ``[-shear, shear]`` degrees.
    brightness : float, default=0.0
        Factor drawn from ``[1 - brightness, 1 + brightness]`` multiplying
        the pixels.
    contrast : float, default=0.0
        Factor drawn from ``[1 - contrast, 1 + contrast]`` stretching the
        pixels around the image mean.
    erase : float, default=0.0
        Probability of zeroing a random rectangle covering 20-40 % of each
        side of the image.
    padding_mode : {"reflection", "zeros", "border"}, default="reflection"
        What fills the pixels a shift, rotation or zoom brings in from
        outside the image: its mirror image, black, or its edge pixels.
        "zeros" frames the image in black, which test images never are.
    interpolation : {"bilinear", "nearest"}, default="bilinear"
        How rotation, translation, zoom and shear resample: "bilinear"
        blends neighbouring pixels (a low-pass filter test images never
        go through), "nearest" moves each output pixel to one input pixel,
        so fine texture stays as sharp as at test time.
    p : float, default=1.0
        Share of the images of each batch that are augmented; the others
        are trained on as they are.

    Attributes
    ----------
    generator : torch.Generator or None
        Where the draws come from: set by a fit for its duration (its own
        generator, on the training device), else None: torch's global one.

    See Also
    --------
    sklearn_cnn.CNNClassifier : Takes it, or a preset's name, as ``augment``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_cnn import BatchAugment
    >>> BatchAugment(degrees=15, translate=0.1)(torch.rand(8, 1, 28, 28)).shape
    torch.Size([8, 1, 28, 28])
    """

    def __init__(self, shift: float = 0.0, flip: float = 0.0, degrees: float = 0.0,
                 translate: float = 0.0, scale: float = 0.0, shear: float = 0.0,
                 brightness: float = 0.0, contrast: float = 0.0, erase: float = 0.0,
                 padding_mode: str = "reflection", interpolation: str = "bilinear",
                 p: float = 1.0) -> None:
        super().__init__()
        self.shift = shift
        self.flip = flip
        self.degrees = degrees
        self.translate = translate
        self.scale = scale
        self.shear = shear
        self.brightness = brightness
        self.contrast = contrast
        self.erase = erase
        self.padding_mode = padding_mode
        self.interpolation = interpolation
        self.p = p

    _names = ("shift", "flip", "degrees", "translate", "scale", "shear", "brightness",
              "contrast", "erase", "padding_mode", "interpolation", "p")

    # What a BatchAugment pickled or saved before these parameters did: no
    # shift or flip, black padding, every image augmented.
    shift = flip = 0.0
    padding_mode = "zeros"
    interpolation = "bilinear"
    p = 1.0

    def get_params(self, deep: bool = True) -> dict:
        """Get the amounts, as scikit-learn estimators give their parameters.

        What ``save`` stores, and what ``BatchAugment(**params)`` rebuilds.

        Parameters
        ----------
        deep : bool, default=True
            Ignored: the amounts are plain numbers, with no sub-estimators.

        Returns
        -------
        params : dict
            Each amount by its parameter name.
        """
        return {k: getattr(self, k) for k in self._names}

    def extra_repr(self) -> str:
        """List the amounts that are not 0, for the module's ``repr``.

        Returns
        -------
        text : str
            ``"name=value"`` pairs, comma-separated.
        """
        defaults = {"padding_mode": "reflection", "interpolation": "bilinear", "p": 1.0}
        return ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()
                         if v and v != defaults.get(k))

    def _uniform(self, n: int, low: float, high: float, device) -> torch.Tensor:
        return torch.empty(n, device=device).uniform_(low, high, generator=self.generator)

    def _rand(self, n: int, device) -> torch.Tensor:
        return torch.rand(n, device=device, generator=self.generator)

    def _shift(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        dev = x.device
        pad_h, pad_w = (max(1, round(self.shift * side)) if side > 1 else 0 for side in (h, w))
        mode = PAD_MODES[self.padding_mode]
        # Reflection needs a pad narrower than the image.
        pad_h, pad_w = (min(pad, side - 1) if mode == "reflect" else pad
                        for pad, side in ((pad_h, h), (pad_w, w)))
        padded = F.pad(x, (pad_w, pad_w, pad_h, pad_h), mode=mode)
        top = torch.randint(0, 2 * pad_h + 1, (n,), device=dev, generator=self.generator)
        left = torch.randint(0, 2 * pad_w + 1, (n,), device=dev, generator=self.generator)
        rows = (top[:, None] + torch.arange(h, device=dev))[:, None, :, None]
        cols = (left[:, None] + torch.arange(w, device=dev))[:, None, None, :]
        rows = rows.expand(n, c, h, padded.shape[3])
        return padded.gather(2, rows).gather(3, cols.expand(n, c, h, w))

    def _flip(self, x: torch.Tensor) -> torch.Tensor:
        flipped = self._rand(x.shape[0], x.device) < self.flip
        return torch.where(flipped[:, None, None, None], x.flip(3), x)

    def _affine(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        dev = x.device
        angle = torch.deg2rad(self._uniform(n, -self.degrees, self.degrees, dev))
        shear = torch.tan(torch.deg2rad(self._uniform(n, -self.shear, self.shear, dev)))
        zoom = self._uniform(n, 1 - self.scale, 1 + self.scale, dev)
        cos, sin = angle.cos() / zoom, angle.sin() / zoom
        # Rotation after shear, in pixel units, then rescaled to the [-1, 1]
        # coordinates of affine_grid (whose x and y units differ when h != w).
        theta = torch.stack([
            torch.stack([cos, (cos * shear - sin) * h / w,
                         self._uniform(n, -2 * self.translate, 2 * self.translate, dev)], 1),
            torch.stack([sin * w / h, sin * shear + cos,
                         self._uniform(n, -2 * self.translate, 2 * self.translate, dev)], 1),
        ], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode=self.interpolation, padding_mode=self.padding_mode,
                             align_corners=False)

    def _erase(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        dev = x.device
        box_h = (h * self._uniform(n, 0.2, 0.4, dev)).ceil()
        box_w = (w * self._uniform(n, 0.2, 0.4, dev)).ceil()
        top = (self._rand(n, dev) * (h - box_h + 1)).floor()
        left = (self._rand(n, dev) * (w - box_w + 1)).floor()
        rows = torch.arange(h, device=dev)[None, :]
        cols = torch.arange(w, device=dev)[None, :]
        in_rows = (rows >= top[:, None]) & (rows < (top + box_h)[:, None])
        in_cols = (cols >= left[:, None]) & (cols < (left + box_w)[:, None])
        chosen = self._rand(n, dev) < self.erase
        box = in_rows[:, :, None] & in_cols[:, None, :] & chosen[:, None, None]
        return x.masked_fill(box[:, None], 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Transform each image of a batch with its own random draws.

        Parameters
        ----------
        x : Tensor of shape (N, C, H, W)
            Float images.

        Returns
        -------
        images : Tensor of shape (N, C, H, W)
            The transformed images, on the device of ``x``.
        """
        n, clean = x.shape[0], x
        if self.degrees or self.translate or self.scale or self.shear:
            x = self._affine(x)
        if self.shift:
            x = self._shift(x)
        if self.flip:
            x = self._flip(x)
        if self.brightness:
            x = x * self._uniform(n, 1 - self.brightness, 1 + self.brightness,
                                  x.device).view(n, 1, 1, 1)
        if self.contrast:
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            factor = self._uniform(n, 1 - self.contrast, 1 + self.contrast, x.device)
            x = (x - mean) * factor.view(n, 1, 1, 1) + mean
        if self.erase:
            x = self._erase(x)
        if self.p < 1:
            augmented = self._rand(n, x.device) < self.p
            x = torch.where(augmented[:, None, None, None], x, clean)
        return x


#: ``padding_mode`` -> the mode of ``F.pad`` (``grid_sample`` takes the name itself).
PAD_MODES = {"reflection": "reflect", "zeros": "constant", "border": "replicate"}


@stable_name()
class PerSample(nn.Module):
    """Apply a one-image transform (e.g. a torchvision v2 transform) to each image.

    Parameters
    ----------
    transform : callable
        Takes and returns one ``(C, H, W)`` tensor; its random parameters are
        drawn anew for every image.
    """

    def __init__(self, transform: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.transform = transform

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.transform(image) for image in x])


#: The named presets of ``augment``. "shift" and "flip" move whole pixels
#: (reflection fills the edge), so the network trains on images as sharp and
#: unframed as those it is tested on; "sharp" rotates and zooms too, taking
#: each pixel from the nearest one (no blending, so no blur); "light" and
#: "standard" resample bilinearly.
AUGMENT_PRESETS = {
    "shift": dict(shift=0.125),
    "flip": dict(shift=0.125, flip=0.5),
    "light": dict(degrees=10.0, translate=0.1, scale=0.1),
    "sharp": dict(degrees=10.0, translate=0.1, scale=0.1, interpolation="nearest"),
    "standard": dict(degrees=15.0, translate=0.1, scale=0.15, brightness=0.2, contrast=0.2),
}


#: ``augment="auto"`` turns the "sharp" preset on for images at least this many
#: pixels high and wide; narrower input (one-row "images" of tabular data) is
#: never moved. Chosen on the recipe panel (benchmarks/recipe.py,
#: docs/benchmarks.md, docs/augmentation.md): "sharp" keeps textures within a
#: patch of "shift" (where the bilinear "light" loses) and wins digits and photos.
AUTO_MIN_SIDE = 8


def settle_augment(augment, input_shape: tuple[int, int, int]):
    """The ``augment`` parameter with "auto" settled from the image shape ``(C, H, W)``."""
    if not (isinstance(augment, str) and augment == "auto"):
        return augment
    return "sharp" if min(input_shape[1:]) >= AUTO_MIN_SIDE else None


def make_augment(augment) -> nn.Module | None:
    """The batch transform for the ``augment`` parameter (None: no augmentation).

    A ``BatchAugment`` is copied: each fit sets its own generator on its own.
    """
    if augment is None:
        return None
    if isinstance(augment, str):
        return BatchAugment(**AUGMENT_PRESETS[augment])
    if isinstance(augment, BatchAugment):
        return copy.deepcopy(augment)
    return PerSample(augment)



def flips(augment) -> bool:
    """Whether the augmentation a net trained with mirrors images (so mirroring keeps labels)."""
    return getattr(augment, "flip", 0) > 0


def tta_views(x: torch.Tensor, flip: bool = False) -> list[torch.Tensor]:
    """A batch and its label-safe variants, for test-time augmentation.

    The images as they are, shifted by one pixel up, down, left and right
    (reflection fills the pixel brought in: no resampling, no black edge),
    and, with ``flip``, the mirror image of each of those. Axes of size 1
    (one-row "images") are not shifted.

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W)
        Float images.
    flip : bool, default=False
        Add mirrored views: only where mirroring keeps the label (the model
        was trained with flips).

    Returns
    -------
    views : list of Tensor of shape (N, C, H, W)
        ``x`` first.

    Examples
    --------
    >>> import torch
    >>> len(tta_views(torch.rand(2, 1, 8, 8))), len(tta_views(
    ...     torch.rand(2, 1, 8, 8), flip=True))
    (5, 10)
    """
    h, w = x.shape[2:]
    pad_h, pad_w = int(h > 1), int(w > 1)
    padded = F.pad(x, (pad_w, pad_w, pad_h, pad_h), mode="reflect") if pad_h or pad_w else x
    views = [x]
    if pad_h:
        views += [padded[:, :, :h, pad_w:pad_w + w], padded[:, :, 2:, pad_w:pad_w + w]]
    if pad_w:
        views += [padded[:, :, pad_h:pad_h + h, :w], padded[:, :, pad_h:pad_h + h, 2:]]
    if flip:
        views += [view.flip(3) for view in views]
    return views
