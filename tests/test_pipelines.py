"""Real pipelines of image transformers and CNNClassifier, end to end."""

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_sample_images
from sklearn.feature_extraction.image import extract_patches_2d
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_cnn import CNNClassifier
from sklearn_cnn.preprocessing import ChannelStandardizer, ImageFileLoader, Resize


@pytest.fixture(scope="module")
def photo_patches():
    """24x24 RGB uint8 patches (channels last) of scikit-learn's two sample photos."""
    photos = load_sample_images().images  # china.jpg, flower.jpg
    patches = [extract_patches_2d(photo, (24, 24), max_patches=150, random_state=0)
               for photo in photos]
    X = np.concatenate(patches)
    y = np.repeat(["china", "flower"], [len(p) for p in patches])
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def test_resize_standardize_classify_rgb_photo_patches(photo_patches, fast_params):
    X_train, X_test, y_train, y_test = photo_patches
    assert X_train.dtype == np.uint8 and X_train.shape[1:] == (24, 24, 3)
    pipe = make_pipeline(Resize((32, 32)), ChannelStandardizer(), CNNClassifier(**fast_params))
    pipe.fit(X_train, y_train)
    assert pipe[-1].input_shape_ == (3, 32, 32)
    assert abs(pipe[1].mean_).max() > 0.1  # real statistics were learned
    assert pipe.score(X_test, y_test) > 0.9
    assert set(pipe.predict(X_test)) <= {"china", "flower"}


def test_grid_search_over_transformer_and_classifier_together(photo_patches, fast_params):
    X_train, _, y_train, _ = photo_patches
    pipe = make_pipeline(Resize(), ChannelStandardizer(), CNNClassifier(**fast_params))
    grid = {"resize__size": [(16, 16), (32, 32)], "cnnclassifier__kernel_size": [3, 5]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_
    assert best[0].size == search.best_params_["resize__size"]
    assert best[-1].input_shape_ == (3, *search.best_params_["resize__size"])


def test_image_file_loader_pipeline_on_png_files(tmp_path, digits, fast_params):
    X, y = digits
    images = (X.reshape(-1, 8, 8) * 255 / 16).astype(np.uint8)
    paths = []
    for i, image in enumerate(images):
        # Files of two sizes, as a real folder would have: the loader resizes.
        side = 16 if i % 2 else 24
        path = tmp_path / f"{y[i]}_{i}.png"
        Image.fromarray(image).resize((side, side), Image.Resampling.NEAREST).save(path)
        paths.append(path)
    paths = np.array(paths, dtype=object)
    pipe = make_pipeline(ImageFileLoader(size=(28, 28)), CNNClassifier(**fast_params))
    pipe.fit(paths[:300], y[:300])
    assert pipe[-1].input_shape_ == (1, 28, 28)
    assert pipe.score(paths[300:], y[300:]) > 0.8
