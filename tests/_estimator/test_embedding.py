"""Embeddings: CNNClassifier.embed and the CNNEmbedding transformer."""

import numpy as np
import pytest
import torch
from _helpers import TinyNet
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from torch import nn

from sklearn_cnn import CNNClassifier, CNNEmbedding
from sklearn_cnn.preprocessing import ImageFileLoader

SMALL = {"conv_channels": (4, 8), "max_epochs": 2, "random_state": 0, "device": "cpu"}


class TinyNetWithEmbed(TinyNet):
    def embed(self, x):
        return self.net[:-1](x)


@pytest.mark.parametrize(("params", "n_features"), [
    ({"dense_units": (24,)}, 24),
    ({"dense_units": ()}, 8 * 2 * 2),  # the flattened features of two pooled blocks
    ({"backbone": "resnet18", "image_shape": (8, 8)}, 512),
    ({"module": TinyNetWithEmbed, "module_kwargs": {"hidden": 12}}, 12),
], ids=["convnet", "convnet-no-dense", "resnet18", "custom"])
def test_the_last_layer_of_the_network_maps_the_embedding_to_the_logits(digits, params,
                                                                        n_features):
    X, y = digits
    clf = CNNClassifier(**SMALL, **params).fit(X, y)
    embedding = clf.embed(X[:50])
    assert embedding.shape == (50, n_features) and embedding.dtype == np.float64
    last = [m for m in clf.module_.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        logits = last(torch.from_numpy(embedding).float()).double().numpy()
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(1, keepdims=True),
                               clf.predict_proba(X[:50]), atol=1e-4)


def test_a_custom_network_without_embed_says_how_to_give_one(digits):
    X, y = digits
    clf = CNNClassifier(**SMALL, module=TinyNet).fit(X, y)
    with pytest.raises(TypeError, match=r"TinyNet has no embed\(x\) method: a module= network"):
        clf.embed(X[:5])


def test_files_and_lazy_images_embed_as_their_arrays(digit_pngs, digit_images):
    paths, y = digit_pngs
    images = digit_images[0][:60]
    clf = CNNClassifier(**SMALL).fit(images, y)
    expected = clf.embed(images)
    np.testing.assert_allclose(clf.embed(paths), expected, atol=1e-5)
    lazy = ImageFileLoader(lazy=True).fit_transform(paths)
    np.testing.assert_allclose(clf.embed(lazy), expected, atol=1e-5)


def test_embedding_transformer_fits_or_takes_a_fitted_classifier(digits):
    X, y = digits
    clf = CNNClassifier(**SMALL, dense_units=(16,)).fit(X, y)
    prefit = CNNEmbedding(clf, prefit=True).fit(X)
    assert prefit.estimator_ is clf
    np.testing.assert_array_equal(prefit.transform(X[:10]), clf.embed(X[:10]))
    assert list(prefit.get_feature_names_out()[:2]) == ["cnnembedding0", "cnnembedding1"]
    fitted = CNNEmbedding(CNNClassifier(**SMALL, dense_units=(16,))).fit(X, y)
    np.testing.assert_allclose(fitted.transform(X[:10]), clf.embed(X[:10]))  # same seed
    knn = make_pipeline(CNNEmbedding(clf, prefit=True), KNeighborsClassifier(3)).fit(X, y)
    assert knn.score(X, y) > 0.5
    # Cloned as scikit-learn clones SelectFromModel's: an unfitted copy (for
    # searches over a fitted one, sklearn.frozen.FrozenEstimator keeps it fitted).
    assert clone(prefit).get_params()["estimator"].get_params() == clf.get_params()


def test_embedding_of_a_pretrained_backbone_needs_no_labels(digits, tmp_path):
    X, _ = digits
    import torchvision

    path = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    embedding = CNNEmbedding(backbone="resnet18", weights=path, device="cpu").fit(X)
    features = embedding.transform(X[:6])
    assert features.shape == (6, 512) and np.isfinite(features).all()
    assert embedding.module_[1].adapter.__class__.__name__ == "Identity"  # gray → 3 channels


@pytest.mark.parametrize(("params", "message"), [
    ({}, "an estimator or a backbone, one of the two"),
    ({"estimator": CNNClassifier(), "backbone": "resnet18"}, "one of the two"),
    ({"estimator": CNNClassifier()}, "pass y, or prefit=True"),
    ({"backbone": "resnet1"}, "not a torchvision classification model"),
])
def test_embedding_transformer_errors(digits, params, message):
    X, _ = digits
    with pytest.raises(ValueError, match=message):
        CNNEmbedding(**params).fit(X)
