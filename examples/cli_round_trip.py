"""
The command line on a folder of photos: fit, evaluate, predict, explain
=======================================================================

The command line's round trip on a folder of photos: fit, evaluate, predict, explain.

What the README's shell commands do, run from Python in a temporary folder:
``examples/photo_folder.py`` writes pieces of scikit-learn's two sample photos
as JPEG files (one subfolder per class, mixed sizes, colour and gray), then
each ``sklearn-cnn`` command runs in a fresh process, as from a shell.

Run: ``python examples/cli_round_trip.py``
"""

import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

# The examples folder (sphinx-gallery runs the script from there, with no __file__).
HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()


def sklearn_cnn(*args, cwd):
    """Run ``sklearn-cnn ARGS`` (as ``python -m sklearn_cnn``) and print what it prints."""
    print(f"$ sklearn-cnn {' '.join(args)}")
    result = subprocess.run([sys.executable, "-m", "sklearn_cnn", *args], cwd=cwd,
                            capture_output=True, text=True, check=True)
    print(result.stdout, end="")
    return result


if __name__ == "__main__":
    work = Path(tempfile.mkdtemp())
    write_photo_folder = runpy.run_path(str(HERE / "photo_folder.py"))["write_photo_folder"]
    write_photo_folder(work / "photos")
    sklearn_cnn("fit", "photos/train", "--out", "model.safetensors", "--quiet",
                "--validation-fraction", "0.2", "--param", "max_epochs=10",
                "--param", "random_state=0", cwd=work)
    sklearn_cnn("evaluate", "model.safetensors", "photos/test", "--plot", "confusion.png",
                cwd=work)
    sklearn_cnn("predict", "model.safetensors", "photos/test", "--out", "predictions.csv",
                cwd=work)
    sklearn_cnn("explain", "model.safetensors", "photos/test/flower/120.jpg",
                "photos/test/china/120.jpg", "--out", "gradcam", cwd=work)
    rows = (work / "predictions.csv").read_text().splitlines()
    print(f"predictions.csv: {len(rows) - 1} rows, columns {rows[0]}")
    print(f"files written in {work}: "
          + ", ".join(sorted(p.relative_to(work).as_posix() for p in work.glob("*")
                             if p.name != "photos")))
