"""``sklearn-cnn explain`` draws the pixels the model saw: EXIF orientation applied."""

import numpy as np
import pytest
from PIL import Image

from sklearn_cnn import CNNClassifier, save
from sklearn_cnn._cli import commands


def test_explain_shows_a_phone_photo_as_displayed(tmp_path, fast_params, monkeypatch):
    pytest.importorskip("captum")
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    stored = rng.integers(0, 256, (4, 6, 10, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90° clockwise to display
    paths = []
    for i, image in enumerate(stored):
        paths.append(str(tmp_path / f"phone{i}.png"))  # lossless: compared exactly
        Image.fromarray(image).save(paths[-1], exif=exif)
    clf = CNNClassifier(**{**fast_params, "max_epochs": 1}).fit(paths, [0, 1, 0, 1])
    save(clf, tmp_path / "model.safetensors")
    drawn = []
    monkeypatch.setattr(commands, "explain_figure",
                        lambda pixels, heat, *args: drawn.append((pixels, heat)))
    commands.explain(tmp_path / "model.safetensors", paths[:1], tmp_path / "cam")
    (pixels, heat), = drawn
    # The photo as displayed (10 rows, 6 columns), the map over the same pixels.
    assert pixels.shape == (10, 6, 3) and heat.shape == (10, 6)
    np.testing.assert_array_equal(pixels, np.rot90(stored[0], k=-1))
