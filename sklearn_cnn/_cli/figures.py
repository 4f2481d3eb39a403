"""The figures the command line draws: confusion matrix, prediction error, Grad-CAM, suspects.

Each is written with ``save_figure``: atomically, in the format its
extension names. matplotlib is imported on first use (the ``plot`` extra).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._persistence.atomic import atomic_write


def plot_prediction_error(y, y_pred, names, path) -> None:
    """scikit-learn's ``PredictionErrorDisplay`` (actual against predicted), one per column."""
    from sklearn.metrics import PredictionErrorDisplay

    plt = pyplot()
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 4.5),
                                squeeze=False, layout="constrained")
    for j, (name, ax) in enumerate(zip(names, axes[0], strict=True)):
        PredictionErrorDisplay.from_predictions(y[:, j], y_pred[:, j], kind="actual_vs_predicted",
                                                ax=ax)
        ax.set_title(name)
    save_figure(figure, path, dpi=120)
    plt.close(figure)


def pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, no display needed
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install 'sklearn-cnn[plot]'") from exc
    return plt


def save_figure(figure, path, **kwargs) -> None:
    """``figure.savefig`` to ``path``, atomically, in the format its extension names."""
    suffix = Path(path).suffix.lstrip(".").lower()
    with atomic_write(path) as file:
        figure.savefig(file, format=suffix or None, **kwargs)


def plot_confusion_matrix(y, y_pred, labels, path) -> None:
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = pyplot()
    display = ConfusionMatrixDisplay.from_predictions(y, y_pred, labels=labels,
                                                      xticks_rotation="vertical")
    display.figure_.tight_layout()
    save_figure(display.figure_, path, dpi=120)
    plt.close(display.figure_)


#: Side of each panel of an explain figure, in inches (at FIGURE_DPI): a small
#: image is enlarged to it, a large one shown whole.
PANEL_INCHES = 3.0
FIGURE_DPI = 100


def explain_figure(pixels: np.ndarray, heat: np.ndarray, title: str, path,
                   alpha: float = 0.5) -> None:
    """Write the image beside its Grad-CAM overlay, with a colour bar and a title.

    Both panels show the image at ``PANEL_INCHES`` a side, whatever its own
    size; the map (of any resolution) is stretched over it and coloured with
    "jet" from 0 to its peak, as in the Grad-CAM paper's figures.
    """
    plt = pyplot()
    height, width = pixels.shape[:2]
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(2 * PANEL_INCHES + 1.2, PANEL_INCHES + 0.8), dpi=FIGURE_DPI,
        layout="constrained")
    extent = (-0.5, width - 0.5, height - 0.5, -0.5)
    for panel, name in ((left, "image"), (right, "Grad-CAM over the image")):
        panel.imshow(pixels, interpolation="nearest")
        panel.set_title(name, fontsize="medium")
        panel.set_xticks([])
        panel.set_yticks([])
    peak = heat.max()
    heat_image = right.imshow(heat / peak if peak > 0 else heat, cmap="jet", alpha=alpha,
                              vmin=0, vmax=1, interpolation="bilinear", extent=extent)
    figure.colorbar(heat_image, ax=right, fraction=0.046, pad=0.04,
                    label="evidence (share of the peak)")
    figure.suptitle(title)
    save_figure(figure, path)
    plt.close(figure)


def plot_suspects(issues, paths, test_paths, path, n_images: int = 16) -> None:
    """The first suspects of each kind, titled with their finding (``AuditDisplay``)."""
    from ..plotting import AuditDisplay

    plt = pyplot()
    display = AuditDisplay.from_issues(issues, paths, test_paths, n_images=n_images)
    save_figure(display.figure_, path, dpi=120, bbox_inches="tight")
    plt.close(display.figure_)
