"""Every benchmark script runs and prints its ratio (no time is asserted)."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

BENCHMARKS = pathlib.Path(__file__).parent.parent / "benchmarks"

QUICK_ARGS = {
    "throughput.py": ["--runs", "1", "--epochs", "1", "--batch-sizes", "128"],
    "ablation.py": ["--runs", "1", "--images", "512", "--steps", "10"],
    "accuracy_mnist.py": ["--runs", "1", "--train", "500"],
    "cv_digits.py": [],
    "cuda_checks.py": ["--device", "cpu", "--quick"],
    "overhead.py": ["--runs", "1"],
    "predict.py": ["--runs", "1", "--calls", "20"],
    "augmentation.py": ["--runs", "1", "--epochs", "2"],
    "gpu.py": ["--device", "cpu", "--quick"],
    "gpu_defaults.py": ["--device", "cpu", "--mnist-train", "300", "--images", "512"],
    "precision.py": ["--device", "cpu"],
    "recipe.py": ["--quick", "--runs", "1"],
    "regression.py": ["--quick"],
    "lr_rules.py": ["--quick", "--sets", "digits", "faces"],
    "audit.py": ["--quick", "--runs", "1"],
    "reproducibility.py": ["--runs", "1", "--images", "300", "--epochs", "2", "--folds", "2"],
    "threads.py": ["--runs", "1", "--digits", "200", "--mnist", "200", "--patches", "5",
                   "--epochs", "1", "--search-images", "300", "--search-epochs", "1"],
    "files.py": ["--runs", "1", "--images", "40", "--sizes", "16", "--epochs", "1",
                 "--memory-images", "30", "--memory-size", "16"],
    "decoding.py": ["--runs", "1", "--images", "4", "--sizes", "16"],
    "checkpoint.py": ["--runs", "1", "--mnist", "300", "--max-epochs", "2"],
    "distributed.py": ["--runs", "1", "--images", "300", "--epochs", "2", "--cpu-only"],
    "deploy.py": ["--quick", "--repeats", "2", "--only", "digits"],
}

#: What a script prints when it ran (the others print medians).
EXPECTED = {"precision.py": "max |d proba|", "gpu_defaults.py": "median ratio",
            "cv_digits.py": "mean", "cuda_checks.py": "largest |p32 - p16|",
            "recipe.py": "worst margin", "regression.py": "worst margin",
            "lr_rules.py": "median decades from best",
            "threads.py": "ratio to n_jobs=1", "distributed.py": "median ratio 2 processes",
            "deploy.py": "agreement"}


def test_every_benchmark_is_listed():
    scripts = {p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(QUICK_ARGS)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(QUICK_ARGS))
def test_benchmark_runs(script):
    if script in ("throughput.py", "ablation.py", "accuracy_mnist.py", "gpu.py",
                  "gpu_defaults.py", "cuda_checks.py", "recipe.py", "regression.py", "lr_rules.py",
                  "threads.py", "checkpoint.py", "distributed.py"):
        pytest.importorskip("mlxtend")
    if script in ("recipe.py", "regression.py", "lr_rules.py", "threads.py", "deploy.py"):
        pytest.importorskip("skimage")
    if script == "deploy.py":
        pytest.importorskip("onnxruntime")
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *QUICK_ARGS[script]],
        capture_output=True, text=True, timeout=600, cwd=BENCHMARKS,
    )
    assert result.returncode == 0, result.stderr
    assert EXPECTED.get(script, "median") in result.stdout


@pytest.mark.slow
def test_the_cuda_run_checks_itself_on_the_cpu(tmp_path):
    pytest.importorskip("mlxtend")
    result = subprocess.run(
        ["bash", str(BENCHMARKS / "cuda_run.sh"), "--quick"], capture_output=True, text=True,
        timeout=900, env={**os.environ, "OUT": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    summary = (tmp_path / "summary.log").read_text()
    assert summary.count("exit 0 |") == 5, summary
    assert "best raw variant" in result.stdout and "largest |p32 - p16|" in result.stdout


def test_the_recipe_panel_cuts_train_and_test_from_disjoint_halves():
    pytest.importorskip("skimage")
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _panel import PATCH, sample_photos_set, textures_set
    finally:
        sys.path.remove(str(BENCHMARKS))
    for loader, channels in ((textures_set, ()), (sample_photos_set, (3,))):
        X_train, X_test, y_train, y_test = loader()
        assert X_train.shape[1:] == (PATCH, PATCH, *channels) and X_train.dtype == "uint8"
        assert set(y_train) == set(y_test) and len(set(y_train)) >= 3
        train = {patch.tobytes() for patch in X_train}
        assert not any(patch.tobytes() in train for patch in X_test)


def test_the_regression_panel_tests_on_unseen_faces_and_halves():
    pytest.importorskip("skimage")
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _panel import blobs_count_set, faces_angle_set, textures_zoom_set
    finally:
        sys.path.remove(str(BENCHMARKS))
    for loader, kwargs in ((blobs_count_set, {"n_train": 60, "n_test": 20}),
                           (textures_zoom_set, {"n_train": 20, "n_test": 10}),
                           (faces_angle_set, {"train_angles": 2, "test_angles": 1})):
        X_train, X_test, y_train, y_test = loader(**kwargs)
        assert X_train.dtype == "uint8" and X_train.shape[1:] == X_test.shape[1:]
        assert y_train.dtype == y_test.dtype == "float64" and y_train.ndim == 1
        assert len(X_train) == len(y_train) and len(X_test) == len(y_test)
        assert np.ptp(y_train) > 0 and np.ptp(y_test) > 0
        train = {image.tobytes() for image in X_train}
        assert not any(image.tobytes() in train for image in X_test)
