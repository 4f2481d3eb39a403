"""
The FAQ's two tasks: digits and photo patches
=============================================

The FAQ examples (``faq_kernel_size.py``, ``faq_overfitting.py``,
``faq_activation.py``, ``faq_onnx_size.py``) measure their answers on two
small tasks, which they import from here:

- scikit-learn's 8x8 handwritten **digits** (``load_digits``, 10 classes);
- **photo patches**: scikit-learn ships two photos
  (``load_sample_images``: a Chinese temple and a flower, 427x640 RGB).
  :func:`make_photo_patches` cuts 32x32 RGB patches out of them, in memory,
  labelled by the photo *and* the quarter of it they come from: eight
  classes, such as ``china/top-left`` (sky and roof) or
  ``flower/bottom-right`` (petals and leaves). Each patch is cut from a
  random place in its quarter at a random zoom (32 to 64 pixels wide, shrunk
  to 32), so a class is a kind of texture and colour, not a fixed picture;
  chance is 1/8.

Each example runs a quick version by default (well under a minute on two
cores) and the measurement behind the tables of ``docs/faq.md`` with
``--full``. Run on its own, this script draws a few patches of each class.
"""

# %%
# The patches
# -----------
import argparse

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits, load_sample_images
from sklearn.model_selection import StratifiedKFold, train_test_split
from tabulate import tabulate

#: The quarters of a photo, as (row, column) of a 2x2 grid.
QUARTERS = {"top-left": (0, 0), "top-right": (0, 1),
            "bottom-left": (1, 0), "bottom-right": (1, 1)}


def make_photo_patches(n_per_class=50, *, size=32, random_state=0):
    """Patches of scikit-learn's sample photos, labelled ``"<photo>/<quarter>"``.

    Parameters
    ----------
    n_per_class : int, default=50
        Patches of each of the 8 classes.
    size : int, default=32
        Side of the square patches, in pixels.
    random_state : int, default=0
        Seed of where the patches are cut and at what zoom.

    Returns
    -------
    X : ndarray of shape (8 * n_per_class, size, size, 3), dtype uint8
        RGB patches, channels last (as PIL gives them), shuffled.
    y : ndarray of shape (8 * n_per_class,), dtype str
        Their labels.
    """
    rng = np.random.default_rng(random_state)
    sample = load_sample_images()
    images, labels = [], []
    for path, photo in zip(sample.filenames, sample.images, strict=True):
        name = path.rsplit("/", 1)[-1].removesuffix(".jpg")
        half_h, half_w = photo.shape[0] // 2, photo.shape[1] // 2
        for quarter, (row, col) in QUARTERS.items():
            for _ in range(n_per_class):
                cut = int(size * rng.uniform(1.0, 2.0))  # zoomed out up to 2x
                top = row * half_h + rng.integers(half_h - cut)
                left = col * half_w + rng.integers(half_w - cut)
                piece = Image.fromarray(photo[top:top + cut, left:left + cut])
                images.append(np.asarray(piece.resize((size, size), Image.Resampling.BILINEAR)))
                labels.append(f"{name}/{quarter}")
    order = rng.permutation(len(labels))
    return np.stack(images)[order], np.array(labels)[order]


# %%
# Quick and full settings
# -----------------------
# The quick run (the default) searches a small network for a few epochs on
# part of each task; ``--full`` is the measurement behind the FAQ's tables.

#: Per setting: digits and patches per class used, cross-validation folds,
#: and the CNNClassifier parameters every fit of a search shares.
SETTINGS = {
    "quick": dict(n_digits=600, n_patches=30, n_folds=3,
                  params=dict(conv_channels=(8, 16), max_epochs=6)),
    "full": dict(n_digits=None, n_patches=100, n_folds=5,
                 params=dict(conv_channels=(16, 32), max_epochs=15)),
}


def parse_full(description):
    """``--full`` from the command line (sphinx-gallery passes none: the quick run)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--full", action="store_true",
                        help="run the bigger measurement behind docs/faq.md's tables (minutes)")
    return parser.parse_args().full


def load_tasks(full=False, random_state=0):
    """``{"digits": (X, y), "photos": (X, y)}``: the two tasks at the quick or full size."""
    settings = SETTINGS["full" if full else "quick"]
    X, y = load_digits(return_X_y=True)
    if settings["n_digits"] is not None:  # a stratified subset
        X, _, y, _ = train_test_split(X, y, train_size=settings["n_digits"], stratify=y,
                                      random_state=random_state)
    photos = make_photo_patches(settings["n_patches"], random_state=random_state)
    return {"digits": (X, y), "photos": photos}


def search_settings(full=False, random_state=0):
    """The shared CNNClassifier parameters and the folds of a search, quick or full."""
    settings = SETTINGS["full" if full else "quick"]
    params = {**settings["params"], "random_state": random_state}
    return params, StratifiedKFold(settings["n_folds"], shuffle=True, random_state=random_state)


def results_table(search):
    """A search's ``cv_results_`` as a Markdown table (one row per candidate)."""
    results = search.cv_results_
    names = [key.removeprefix("param_") for key in results if key.startswith("param_")]
    rows = [[*(results["param_" + name][i] for name in names),
             f"{results['mean_test_score'][i]:.3f} ± {results['std_test_score'][i]:.3f}",
             f"{results['mean_fit_time'][i]:.2f} ± {results['std_fit_time'][i]:.2f}",
             results["rank_test_score"][i]]
            for i in range(len(results["params"]))]
    return tabulate(rows, headers=[*names, "accuracy (mean ± std)", "fit time, s", "rank"],
                    tablefmt="github")



def search_tasks(param_grid, full=False, random_state=0):
    """Cross-validate a CNNClassifier over ``param_grid`` on each task; print the tables.

    Returns ``{task: fitted GridSearchCV}`` (``refit=False``: the tables are
    what is wanted, not a refitted best model).
    """
    from sklearn.model_selection import GridSearchCV

    from sklearn_cnn import CNNClassifier

    params, cv = search_settings(full, random_state)
    print(f"{'full' if full else 'quick'} run; every fit: {params}, {cv.n_splits} folds")
    searches = {}
    for task, (X, y) in load_tasks(full, random_state).items():
        search = GridSearchCV(CNNClassifier(**params), param_grid, cv=cv, refit=False)
        search.fit(X, y)
        print(f"\n{task}: {len(y)} images of shape {X.shape[1:]}, "
              f"{len(set(y))} classes; best {search.best_params_}")
        print(results_table(search))
        searches[task] = search
    return searches


def plot_scores(searches, parameter):
    """Bar charts of the cross-validated accuracy per candidate, one per task.

    ``searches`` maps a task's name to its fitted search over ``parameter``;
    the error bars are the standard deviation over the folds.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(searches), figsize=(4 * len(searches), 3.2),
                             layout="constrained")
    for ax, (task, search) in zip(np.atleast_1d(axes), searches.items(), strict=True):
        results = search.cv_results_
        labels = [str(value) for value in results[f"param_{parameter}"]]
        ax.bar(labels, results["mean_test_score"], yerr=results["std_test_score"],
               color="tab:blue", capsize=4)
        low = min(results["mean_test_score"] - results["std_test_score"])
        ax.set_ylim(max(0.0, low - 0.05), 1.0)
        ax.set(title=task, xlabel=parameter, ylabel="cross-validated accuracy")
        ax.tick_params(axis="x", labelrotation=30 if len(labels) > 4 else 0)
    return fig

# %%
# A few patches of each class
# ---------------------------
# ``ImageGridDisplay.from_predictions`` with only the true labels draws a
# grid of images titled by their class.
if __name__ == "__main__":
    from sklearn_cnn.plotting import ImageGridDisplay

    X, y = make_photo_patches(n_per_class=50, random_state=0)
    print(f"patches: {X.shape} {X.dtype}, {len(np.unique(y))} classes of "
          f"{np.bincount(np.unique(y, return_inverse=True)[1]).min()} patches each")
    first = np.concatenate([np.flatnonzero(y == label)[:2] for label in np.unique(y)])
    ImageGridDisplay.from_predictions(X[first], y[first], n_images=len(first), n_cols=4)
