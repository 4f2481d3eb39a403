"""One rule for images of different sizes: files, PIL lists, ImageFileLoader."""

import warnings

import numpy as np
import pytest
from PIL import Image

from sklearn_cnn import CNNClassifier, ImageSizeWarning
from sklearn_cnn._data.sizes import choose_size, size_pair
from sklearn_cnn.preprocessing import ImageFileLoader, ToImage


@pytest.fixture
def pil_digits(digit_images):
    """200 digits as PIL images: a third of them 12x12, one in five RGB."""
    images, y = digit_images
    pil = []
    for i, pixels in enumerate(images[:200]):
        image = Image.fromarray(pixels)
        if i % 3 == 0:
            image = image.resize((12, 12), Image.Resampling.NEAREST)
        pil.append(image.convert("RGB") if i % 5 == 0 else image)
    return pil, y[:200]


def test_choose_size_picks_the_most_common_and_says_so():
    with pytest.warns(ImageSizeWarning) as caught:
        assert choose_size([(5, 5), (9, 9), (9, 9)], parameter="size") == (9, 9)
    assert "size=(height, width)" in str(caught[0].message)
    assert "5x5, 9x9" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert choose_size([(5, 5), (5, 5)]) == (5, 5)
        assert choose_size([(5, 5), (9, 9)], (3, 7, 8)) == (7, 8)
    assert "9x9 (height x width), the most common." in str(caught[0].message)
    # A tie goes to the first size seen, and the warning says so.
    with pytest.warns(ImageSizeWarning, match="the first found of the most common"):
        assert choose_size([(9, 9), (5, 5)]) == (9, 9)


def test_pil_images_of_mixed_sizes_and_modes_train(pil_digits, fast_params):
    images, y = pil_digits
    with pytest.warns(ImageSizeWarning,
                      match=r"resized to 8x8.*image_shape=\(height, width\)") as caught:
        clf = CNNClassifier(**fast_params).fit(images, y)
    # The warning points at the line that called fit, not inside the libraries.
    assert [w.filename for w in caught if w.category is ImageSizeWarning] == [__file__]
    assert clf.input_shape_ == (3, 8, 8)  # RGB: some images are
    # At predict, PIL images of any size are read at the fitted size, silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = clf.predict_proba(images[:3])
        bigger = [image.resize((20, 20)) for image in images[:3]]
        assert clf.predict_proba(bigger).shape == proba.shape
    # The same as the array PIL images give.
    as_array = np.stack([np.asarray(image.convert("RGB")) for image in images[1:3]])
    np.testing.assert_allclose(clf.predict_proba(images[1:3]), clf.predict_proba(as_array),
                               atol=1e-6)


def test_image_shape_sets_size_and_channels_of_pil_images(pil_digits, fast_params):
    images, y = pil_digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = CNNClassifier(**{**fast_params, "max_epochs": 1, "image_shape": (1, 10, 10)})
        clf.fit(images, y)
    assert clf.input_shape_ == (1, 10, 10)


def test_transformers_take_pil_lists(pil_digits):
    images, _ = pil_digits
    with pytest.warns(ImageSizeWarning):
        out = ToImage().fit_transform(images)
    assert out.shape == (200, 3, 8, 8) and out.dtype == np.float32


def test_image_files_follow_the_same_rule(tmp_path, pil_digits, fast_params):
    images, y = pil_digits
    paths = []
    for i, image in enumerate(images):
        paths.append(str(tmp_path / f"{i}.png"))
        image.save(paths[-1])
    for fit in (lambda: ImageFileLoader().fit(paths),
                lambda: CNNClassifier(**{**fast_params, "max_epochs": 1}).fit(paths, y)):
        with pytest.warns(ImageSizeWarning, match="resized to 8x8"):
            assert fit().input_shape_ == (3, 8, 8)


def test_size_pair_reads_an_int_as_a_square_and_rejects_the_rest():
    assert size_pair(5, "size") == [5, 5] and size_pair((3, np.int64(4)), "size") == [3, 4]
    for bad in [0, (3,), (3, 0), (2.5, 3), (1, 2, 3)]:
        with pytest.raises(ValueError, match=r"crop must be an int or \(height, width\)"):
            size_pair(bad, "crop")
