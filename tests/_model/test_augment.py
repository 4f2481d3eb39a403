"""Training-time augmentation (sklearn_cnn._model.augment and CNNClassifier(augment=...))."""

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.transforms import v2

from sklearn_cnn import BatchAugment, CNNClassifier
from sklearn_cnn._model.augment import (
    AUGMENT_PRESETS,
    PerSample,
    make_augment,
    settle_augment,
    tta_views,
)
from sklearn_cnn._model.inference import predict_logits


class Recorder(nn.Module):
    """A tiny network that keeps every batch it trains on."""

    def __init__(self, input_shape, n_classes):
        super().__init__()
        self.linear = nn.Linear(int(np.prod(input_shape)), n_classes)
        self.seen = []

    def forward(self, x):
        if self.training:
            self.seen.append(x.detach().clone())
        return self.linear(x.flatten(1))


def digit_pair(digits):
    """The same image twice, with two labels: every difference is augmentation."""
    X, _ = digits
    return np.stack([X[0], X[0]]), np.array([0, 1])


@pytest.mark.parametrize("augment", ["light", "standard", BatchAugment(degrees=30),
                                     v2.RandomAffine(degrees=(30, 60))])
def test_batches_are_drawn_per_sample_and_fresh_every_epoch(digits, augment):
    X, y = digit_pair(digits)
    clf = CNNClassifier(module=Recorder, augment=augment, max_epochs=3, batch_size=2,
                        validation_fraction=0.0, random_state=0).fit(X, y)
    batches = clf.module_.seen
    assert len(batches) == 3
    raw = torch.from_numpy(X[:1].reshape(1, 1, 8, 8).astype(np.float32)).to(batches[0].device)
    for batch in batches:
        assert not torch.equal(batch[0], batch[1])  # each image its own draw
        assert not torch.equal(batch[0], raw[0])
    assert not torch.equal(batches[0], batches[1]) and not torch.equal(batches[1], batches[2])


def test_no_augmentation_trains_on_the_images_as_given(digits):
    X, y = digit_pair(digits)
    clf = CNNClassifier(module=Recorder, max_epochs=2, batch_size=2, augment=None,
                        validation_fraction=0.0, random_state=0).fit(X, y)
    assert all(torch.equal(b[0], b[1]) for b in clf.module_.seen)


def test_default_augments_images_but_not_rows(digits):
    X, y = digit_pair(digits)
    images = CNNClassifier(module=Recorder, max_epochs=2, batch_size=2, random_state=0).fit(X, y)
    assert not any(torch.equal(b[0], b[1]) for b in images.module_.seen)
    rows = CNNClassifier(module=Recorder, max_epochs=2, batch_size=2, image_shape=(1, 64),
                         random_state=0).fit(X, y)
    assert all(torch.equal(b[0], b[1]) for b in rows.module_.seen)


@pytest.mark.parametrize(("augment", "input_shape", "expected"), [
    ("auto", (1, 8, 8), "sharp"),
    ("auto", (3, 224, 224), "sharp"),
    ("auto", (1, 1, 64), None),
    ("auto", (3, 7, 30), None),
    ("standard", (1, 1, 64), "standard"),
    (None, (1, 28, 28), None),
])
def test_auto_augment_is_settled_by_image_size(augment, input_shape, expected):
    assert settle_augment(augment, input_shape) == expected


def test_auto_augment_leaves_modules_alone():
    augment = BatchAugment(degrees=5)
    assert settle_augment(augment, (1, 1, 4)) is augment


def test_prediction_is_not_augmented(digits, proba_atol, fast_params):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "augment": "standard"}).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(proba, clf.predict_proba(X))
    images = torch.from_numpy(X.reshape(-1, 1, 8, 8).astype(np.float32))
    logits = predict_logits(clf.module_, images, clf.device_)
    # rtol: prediction runs batch norm folded into the convolutions.
    np.testing.assert_allclose(proba, torch.softmax(torch.from_numpy(logits), 1).numpy(),
                               rtol=1e-5, atol=proba_atol())


def test_augmented_fit_repeats_under_random_state(digits, fast_params):
    X, y = digits
    params = {**fast_params, "augment": "standard", "max_epochs": 2}
    a = CNNClassifier(**params).fit(X, y).predict_proba(X)
    b = CNNClassifier(**params).fit(X, y).predict_proba(X)
    c = CNNClassifier(**{**params, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_augmentation_changes_what_is_learned(digits, fast_params):
    X, y = digits
    plain = CNNClassifier(**fast_params).fit(X, y).predict_proba(X)
    augmented = CNNClassifier(**{**fast_params, "augment": "light"}).fit(X, y).predict_proba(X)
    assert not np.allclose(plain, augmented)


def test_batch_augment_keeps_shape_dtype_and_device():
    x = torch.rand(16, 3, 10, 14)
    for name in AUGMENT_PRESETS:
        out = make_augment(name)(x)
        assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device


def test_batch_augment_with_nothing_to_do_is_the_identity():
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(BatchAugment()(x), x)


def test_zero_angle_affine_resamples_exactly():
    # A draw of "no rotation, no shift, no zoom" must not blur the image.
    x = torch.rand(4, 2, 9, 7)
    torch.testing.assert_close(BatchAugment(degrees=1e-9)(x), x, atol=1e-5, rtol=0)


def test_translation_moves_pixels_within_bounds():
    x = torch.zeros(64, 1, 20, 20)
    x[:, :, 10, 10] = 1.0
    out = BatchAugment(translate=0.2)(x)
    rows = out[:, 0].sum(dim=2).argmax(dim=1)
    cols = out[:, 0].sum(dim=1).argmax(dim=1)
    assert (rows - 10).abs().max() <= 5 and (cols - 10).abs().max() <= 5
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 10  # per-sample shifts


def test_erase_zeroes_a_rectangle_in_the_chosen_images():
    x = torch.ones(200, 1, 10, 10)
    out = BatchAugment(erase=0.5)(x)
    erased = (out == 0).flatten(1).any(dim=1)
    assert 0.3 < erased.float().mean() < 0.7
    zeros = (out[erased] == 0).flatten(1).sum(dim=1)
    assert zeros.min() >= 4 and zeros.max() <= 16  # 2x2 to 4x4 of a 10x10 image


def test_brightness_and_contrast_are_per_image():
    x = torch.rand(32, 3, 6, 6)
    out = BatchAugment(brightness=0.5)(x)
    ratios = (out / x).flatten(1)
    torch.testing.assert_close(ratios.min(1).values, ratios.max(1).values)  # one factor an image
    assert ratios[:, 0].std() > 0.05  # differing between images
    out = BatchAugment(contrast=0.5)(x)
    torch.testing.assert_close(out.mean((1, 2, 3)), x.mean((1, 2, 3)), atol=1e-5, rtol=0)


def test_resolve_augment():
    assert make_augment(None) is None
    custom = BatchAugment(degrees=5)
    copied = make_augment(custom)  # each fit sets its own generator on its own copy
    assert type(copied) is BatchAugment and copied is not custom
    assert copied.get_params() == custom.get_params()
    wrapped = make_augment(v2.RandomHorizontalFlip())
    assert isinstance(wrapped, PerSample)
    assert wrapped(torch.rand(3, 1, 4, 4)).shape == (3, 1, 4, 4)


def test_batch_augment_draws_from_its_generator():
    augment = BatchAugment(**AUGMENT_PRESETS["standard"], erase=0.5)
    x = torch.rand(6, 1, 8, 8)
    augment.generator = torch.Generator().manual_seed(0)
    first = augment(x)
    augment.generator = torch.Generator().manual_seed(0)
    torch.manual_seed(1)  # the global generator plays no part
    torch.testing.assert_close(augment(x), first, rtol=0, atol=0)
    assert not torch.equal(augment(x), first)  # the generator moved on


def test_shift_moves_whole_pixels_per_image_without_resampling():
    x = torch.rand(64, 2, 16, 12)
    out = BatchAugment(shift=0.125)(x)  # 2 pixels down/up, 2 (1.5 rounded) left/right
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), mode="reflect")
    offsets = []
    for i in range(len(x)):
        found = [(dy, dx) for dy in range(5) for dx in range(5)
                 if torch.equal(out[i], padded[i, :, dy:dy + 16, dx:dx + 12])]
        assert found, "every image is a crop of its reflection-padded self"
        offsets.append(found[0])
    assert len(set(offsets)) > 10  # drawn per image
    assert set(np.unique(out.numpy())) <= set(np.unique(x.numpy()))  # no new pixel values


@pytest.mark.parametrize(("padding_mode", "fill"), [("zeros", 0.0), ("border", 5.0)])
def test_shift_padding_modes(padding_mode, fill):
    x = torch.full((32, 1, 8, 8), 5.0)
    x[:, :, 1:-1, 1:-1] = 1.0
    out = BatchAugment(shift=0.25, padding_mode=padding_mode)(x)
    brought_in = out[(out != 1.0) & (out != 5.0)]
    assert torch.all(brought_in == fill) and (padding_mode == "border" or len(brought_in))


def test_shift_never_moves_an_axis_of_size_one():
    x = torch.rand(8, 1, 1, 30)
    out = BatchAugment(shift=0.1)(x)
    assert out.shape == x.shape and not torch.equal(out, x)


def test_flip_mirrors_the_chosen_images_left_to_right():
    x = torch.rand(400, 1, 5, 6)
    out = BatchAugment(flip=0.5)(x)
    mirrored = torch.tensor([torch.equal(o, i.flip(2)) for o, i in zip(out, x, strict=True)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, x, strict=True)])
    assert torch.all(mirrored ^ kept)
    assert 0.4 < mirrored.float().mean() < 0.6


def test_p_keeps_a_share_of_images_clean():
    x = torch.rand(400, 1, 6, 6)
    out = BatchAugment(brightness=0.5, p=0.25)(x)
    changed = (out != x).flatten(1).any(1).float().mean()
    assert 0.15 < changed < 0.35


def test_affine_fills_with_reflection_by_default():
    x = torch.ones(16, 1, 12, 12)
    assert torch.allclose(BatchAugment(degrees=30, translate=0.2)(x), x)  # no black frame
    framed = BatchAugment(degrees=30, translate=0.2, padding_mode="zeros")(x)
    assert (framed < 0.5).any()


def test_batch_augments_pickled_before_shift_and_flip_keep_their_behaviour():
    import pickle

    augment = BatchAugment(degrees=10)
    state = pickle.loads(pickle.dumps(augment))
    for name in ("shift", "flip", "padding_mode", "interpolation", "p"):
        del state.__dict__[name]  # as an earlier version pickled it
    old = pickle.loads(pickle.dumps(state))
    assert old.get_params() == {**augment.get_params(), "padding_mode": "zeros"}
    x = torch.rand(4, 1, 8, 8)
    assert old(x).shape == x.shape


def test_nearest_interpolation_moves_pixels_without_blending():
    x = torch.rand(16, 1, 12, 12)
    moves = dict(degrees=20, translate=0.1, scale=0.2)
    sharp = BatchAugment(**moves, interpolation="nearest")(x)
    blurred = BatchAugment(**moves)(x)
    for image, out in zip(x, sharp, strict=True):  # every output pixel is one of the input's
        assert torch.isin(out, image).all()
    assert not torch.isin(blurred[0], x[0]).all()
    assert not torch.equal(sharp, x)


def test_sharp_preset_resamples_with_nearest_pixels():
    augment = make_augment("sharp")
    assert augment.interpolation == "nearest" and augment.degrees and augment.scale


def test_repr_lists_what_is_not_the_default():
    assert repr(BatchAugment()) == "BatchAugment()"
    assert repr(BatchAugment(shift=0.1, flip=0.5, padding_mode="zeros", p=0.5)) == (
        "BatchAugment(shift=0.1, flip=0.5, padding_mode='zeros', p=0.5)")
    assert repr(BatchAugment(degrees=5, interpolation="nearest")) == (
        "BatchAugment(degrees=5, interpolation='nearest')")


def test_tta_views_are_one_pixel_shifts_and_flips():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).view(2, 3, 4, 5)
    views = tta_views(x)
    assert views[0] is x and len(views) == 5
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect")
    expected = [padded[:, :, dy:dy + 4, dx:dx + 5] for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2))]
    for view, want in zip(views[1:], expected, strict=True):
        assert torch.equal(view, want)
    flipped = tta_views(x, flip=True)
    assert len(flipped) == 10
    assert all(torch.equal(f, v.flip(3)) for f, v in zip(flipped[5:], views, strict=True))
    rows = tta_views(torch.rand(2, 1, 1, 9))
    assert len(rows) == 3  # no shift along an axis of size 1


@pytest.mark.parametrize("augment", [None, BatchAugment(flip=0.5)])
def test_tta_averages_the_logits_of_the_views(digits, fast_params, augment, proba_atol):
    X, y = digits
    clf = CNNClassifier(**{**fast_params, "augment": augment}).fit(X, y)
    plain = clf.predict_proba(X)
    clf.set_params(tta=True)
    proba = clf.predict_proba(X)
    images = torch.from_numpy(X.reshape(-1, 1, 8, 8).astype(np.float32))
    views = tta_views(images, flip=augment is not None)
    logits = np.mean([predict_logits(clf.module_, v, clf.device_) for v in views], axis=0)
    # rtol: prediction runs batch norm folded into the convolutions.
    np.testing.assert_allclose(proba, torch.softmax(torch.from_numpy(logits), 1).numpy(),
                               rtol=1e-4, atol=proba_atol())
    assert not np.allclose(proba, plain)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
