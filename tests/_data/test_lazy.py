"""Pipelines on image files without loading the folder: ImageFileLoader(lazy=True), LazyImages."""

import os
import pathlib
import pickle
import runpy
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

import sklearn_cnn
from sklearn_cnn import CNNClassifier
from sklearn_cnn.preprocessing import (
    ChannelStandardizer,
    ImageFileLoader,
    LazyImages,
    MemoryBudgetWarning,
    Resize,
)
from sklearn_cnn.preprocessing import _base as preprocessing_base

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def lazy_pipeline(fast_params, **params):
    return make_pipeline(ImageFileLoader(lazy=True), Resize((12, 12)), ChannelStandardizer(),
                         CNNClassifier(**{**fast_params, **params}))


@pytest.fixture(scope="module")
def fitted(digit_pngs, fast_params):
    """A lazy pipeline fitted on the 60 digit PNGs."""
    paths, y = digit_pngs
    return lazy_pipeline(fast_params).fit(paths, y)


def test_transformers_extend_the_lazy_images_without_decoding(digit_pngs, fitted):
    paths, _ = digit_pngs
    images = fitted[:-1].transform(paths)
    assert isinstance(images, LazyImages)
    assert [type(step) for step in images.steps] == [Resize, ChannelStandardizer]
    assert images.shape == (60, 1, 12, 12) and len(images) == 60
    # np.asarray decodes them all, as the eager pipeline gives them.
    eager = make_pipeline(ImageFileLoader(), Resize((12, 12)), ChannelStandardizer()).fit(paths)
    np.testing.assert_allclose(np.asarray(images), eager.transform(paths), atol=1e-6)
    # The standardizer streamed the same statistics as the eager one computed.
    np.testing.assert_allclose(fitted[2].mean_, eager[2].mean_, rtol=1e-6)
    np.testing.assert_allclose(fitted[2].scale_, eager[2].scale_, rtol=1e-6)


def test_lazy_pipeline_predicts_as_the_eager_one(digit_pngs, fitted, proba_atol):
    paths, y = digit_pngs
    lazy_proba = fitted.predict_proba(paths)
    eager = pickle.loads(pickle.dumps(fitted)).set_params(imagefileloader__lazy=False)
    np.testing.assert_allclose(lazy_proba, eager.predict_proba(paths), atol=proba_atol())
    assert fitted.score(paths, y) > 0.3  # it learned (10 classes: chance is 0.1; 4 epochs)


def test_lazy_loader_trains_as_the_classifier_on_paths(digit_pngs, fast_params, proba_atol):
    # Both decode one file per item in a DataLoader: the same model.
    paths, y = digit_pngs
    params = {**fast_params, "max_epochs": 2}
    pipe = make_pipeline(ImageFileLoader(lazy=True), CNNClassifier(**params)).fit(paths, y)
    direct = CNNClassifier(**params).fit(paths, y)
    np.testing.assert_allclose(pipe.predict_proba(paths), direct.predict_proba(paths),
                               atol=proba_atol())


def test_the_whole_folder_is_never_decoded_at_once(digit_pngs, fast_params, monkeypatch,
                                                   decode_calls):
    paths, y = digit_pngs
    decoded = decode_calls
    # Chunks of 16 images of 12x12 float32 for the standardizer's fit.
    monkeypatch.setattr(preprocessing_base, "CHUNK_BYTES", 16 * 4 * 12 * 12)
    pipe = lazy_pipeline(fast_params, max_epochs=2).fit(paths, y)
    # the standardizer's chunks, then a training batch at a time (batch_size 32)
    assert decoded == [16, 16, 16, 12] + [32, 28] * 2
    decoded.clear()
    pipe.predict(paths)
    assert len(decoded) >= 1 and max(decoded) <= 60


def test_cross_val_score_and_grid_search(digit_pngs, fast_params):
    paths, y = digit_pngs
    search = GridSearchCV(lazy_pipeline(fast_params, max_epochs=1),
                          {"resize__size": [(8, 8), (12, 12)]}, cv=2).fit(paths, y)
    assert search.best_estimator_[-1].input_shape_[1:] == search.best_params_["resize__size"]
    # LazyImages themselves split as arrays do (scikit-learn's _safe_indexing).
    images = ImageFileLoader(lazy=True).fit_transform(paths)
    scores = cross_val_score(CNNClassifier(**{**fast_params, "max_epochs": 1}), images, y, cv=2)
    assert scores.shape == (2,)


def test_indexing_rows(digit_pngs):
    paths, _ = digit_pngs
    images = Resize((12, 12)).fit_transform(ImageFileLoader(lazy=True).fit_transform(paths))
    every = np.asarray(images)
    rows = np.array([3, 0, 7])
    np.testing.assert_array_equal(np.asarray(images[rows]), every[rows])
    np.testing.assert_array_equal(np.asarray(images[2:5]), every[2:5])
    np.testing.assert_array_equal(np.asarray(images[every.mean(axis=(1, 2, 3)) > 0.3]),
                                  every[every.mean(axis=(1, 2, 3)) > 0.3])
    np.testing.assert_array_equal(images[4], every[4])
    with pytest.raises(IndexError, match="1-D integer array or a boolean mask"):
        images[np.array([0.5])]


def test_a_transformer_refitted_later_does_not_change_earlier_output(digit_pngs):
    paths, _ = digit_pngs
    images = ImageFileLoader(lazy=True).fit_transform(paths)
    standardizer = ChannelStandardizer().fit(images)
    standardized = standardizer.transform(images)
    before = np.asarray(standardized)
    standardizer.fit(images[:5])
    np.testing.assert_array_equal(np.asarray(standardized), before)


def test_shape_mismatch_is_named(digit_pngs, fitted):
    paths, _ = digit_pngs
    images = Resize((16, 16)).fit_transform(ImageFileLoader(lazy=True).fit_transform(paths))
    with pytest.raises(ValueError, match=r"\(1, 16, 16\).*\(1, 12, 12\) are expected"):
        fitted[-1].predict(images)


def test_sample_weight_reaches_the_lazy_fit(digit_pngs, fast_params):
    paths, y = digit_pngs
    weights = np.ones(len(y))
    weights[y == 0] = 0.0
    params = {**fast_params, "max_epochs": 1}
    weighted = lazy_pipeline(params).fit(paths, y, cnnclassifier__sample_weight=weights)
    unweighted = lazy_pipeline(params).fit(paths, y)
    assert not np.allclose(weighted.predict_proba(paths), unweighted.predict_proba(paths))


def test_eager_loading_over_the_budget_warns_and_names_the_fix(digit_pngs):
    paths, _ = digit_pngs
    loader = ImageFileLoader(max_bytes=1000).fit(paths)
    with pytest.warns(MemoryBudgetWarning,
                      match=r"60 x 1 x 8 x 8.*ImageFileLoader\(lazy=True\)") as caught:
        loader.transform(paths)
    assert [w.filename for w in caught] == [__file__]  # the caller's line, not set_output's
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryBudgetWarning)
        ImageFileLoader(max_bytes=None).fit_transform(paths)
        ImageFileLoader(max_bytes=60 * 64 * 4).fit_transform(paths)  # exactly the budget
        ImageFileLoader(lazy=True, max_bytes=1000).fit_transform(paths)
        ImageFileLoader().fit_transform(paths)  # "auto": half the machine's memory


def test_max_bytes_is_validated():
    with pytest.raises(ValueError, match="max_bytes"):
        ImageFileLoader(max_bytes=0).fit(np.zeros((2, 8, 8)))


def test_pickle_and_save_load(digit_pngs, fitted, tmp_path):
    paths, _ = digit_pngs
    expected = fitted.predict_proba(paths)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict_proba(paths),
                                  expected)
    sklearn_cnn.save(fitted, tmp_path / "pipe.safetensors")
    loaded = sklearn_cnn.load(tmp_path / "pipe.safetensors")
    assert loaded[0].lazy is True
    np.testing.assert_allclose(loaded.predict_proba(paths), expected, atol=1e-6)
    images = fitted[:-1].transform(paths)
    np.testing.assert_array_equal(np.asarray(pickle.loads(pickle.dumps(images))),
                                  np.asarray(images))


def test_lazy_pipeline_example(capsys):
    runpy.run_path(str(EXAMPLES / "lazy_pipeline.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "LazyImages(" in out and "steps=[Resize, ChannelStandardizer]" in out
    assert float(out.rsplit("accuracy:", 1)[1]) > 0.8


#: Run in a fresh process: the peak RSS growth (KiB) of a lazy pipeline fit and
#: predict on the first N files, then on all 4N, with 1 MiB chunks (a folder
#: many chunks large, as a real one is against the default 64 MiB).
_PEAK_RSS = """
import resource, sys
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn_cnn import CNNClassifier, _lazy
from sklearn_cnn.preprocessing import ChannelStandardizer, ImageFileLoader, Resize, _base

_base.CHUNK_BYTES = _lazy.CHUNK_BYTES = 2**20
paths = sys.argv[1:]
peaks = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]
for n in (len(paths) // 4, len(paths)):
    pipe = make_pipeline(ImageFileLoader(lazy=True), Resize((32, 32)), ChannelStandardizer(),
                         CNNClassifier(conv_channels=(4,), dense_units=(8,), max_epochs=1,
                                       batch_size=16, augment=None, validation_fraction=0,
                                       device="cpu", random_state=0))
    pipe.fit(paths[:n], np.arange(n) % 2).predict(paths[:n])
    peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
print(peaks[1] - peaks[0], peaks[2] - peaks[1])
"""


@pytest.mark.slow
def test_peak_memory_stays_flat_with_four_times_the_files(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = []
    for i in range(1024):  # 64x64 RGB: 48 MiB as the eager float32 array
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(paths[-1])
    # N = 256 already fills a batch of prediction (INFERENCE_BATCH_SIZE).
    # A fixed mmap threshold: glibc's moving one lets freed chunks stay in the
    # heap, a few MiB of RSS that depends on the allocator, not on the code.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    result = subprocess.run([sys.executable, "-c", _PEAK_RSS, *paths], capture_output=True,
                            text=True, check=True, env=env)
    first_kib, more_kib = map(int, result.stdout.split())
    eager_kib = 4 * 1024 * 3 * 64 * 64 // 1024
    assert more_kib < eager_kib / 4, (first_kib, more_kib)  # eager: more than eager_kib
