"""How far CUDA predictions are from the CPU's and ONNX Runtime's, with and without TF32.

Default CNNClassifier models trained on --device: on scikit-learn's digits
(flat 8x8), and on 24x24 RGB patches of scikit-learn's two sample photos.
Each model's ``predict_proba`` on its device is compared with the same model
loaded on the CPU (``sklearn_cnn.save``/``load(device="cpu")``) and with its
ONNX export run by ONNX Runtime's CPU provider: the largest absolute
difference of a probability, and how many predicted labels differ. Measured
twice: with PyTorch's defaults (cuDNN convolutions in TF32 on Ampere and
newer) and with TF32 off (``torch.backends.cudnn.allow_tf32 = False``, exact
float32).

Run: python benchmarks/precision.py [--device cuda]
"""

import argparse
import contextlib
import tempfile
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits, load_sample_images

import sklearn_cnn
from sklearn_cnn import CNNClassifier
from sklearn_cnn.preprocessing import ToImage


def photo_patches():
    rng = np.random.default_rng(0)
    photos = np.stack(load_sample_images().images)
    patches = np.stack([p[r:r + 24, c:c + 24] for p in photos
                        for r, c in rng.integers(0, 400, size=(300, 2))])
    return patches, np.repeat([0, 1], 300)


@contextlib.contextmanager
def tf32(allowed: bool):
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = allowed
    torch.backends.cuda.matmul.allow_tf32 = allowed and saved[1]
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def compare(clf, X, folder: Path) -> dict:
    proba = clf.predict_proba(X)
    clf.save(folder / "m.safetensors")
    on_cpu = sklearn_cnn.load(folder / "m.safetensors", device="cpu").predict_proba(X)
    out = {"vs CPU": (np.abs(proba - on_cpu).max(),
                      int((proba.argmax(1) != on_cpu.argmax(1)).sum()))}
    try:
        import onnxruntime
    except ImportError:
        return out
    clf.to_onnx(folder / "m.onnx")
    session = onnxruntime.InferenceSession(str(folder / "m.onnx"),
                                           providers=["CPUExecutionProvider"])
    onnx = session.run(None, {"images": ToImage().fit_transform(X)})[0]
    out["vs ONNX"] = (np.abs(proba - onnx).max(), int((proba.argmax(1) != onnx.argmax(1)).sum()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    sets = {"digits": (X, y), "RGB photo patches": photo_patches()}
    folder = Path(tempfile.mkdtemp())
    print(f"device {args.device}, torch {torch.__version__}")
    for allowed in (True, False):
        label = "TF32 on (PyTorch's default)" if allowed else "TF32 off (exact float32)"
        with tf32(allowed):
            for name, (X, y) in sets.items():
                clf = CNNClassifier(random_state=0, device=args.device).fit(X, y)
                for peer, (diff, flips) in compare(clf, X, folder).items():
                    print(f"{label:<28} {name:<18} {peer:<8} max |d proba| {diff:.1e}, "
                          f"{flips} of {len(X)} labels differ")


if __name__ == "__main__":
    main()
