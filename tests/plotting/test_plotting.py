"""sklearn_cnn.plotting: the Displays draw what they compute, as scikit-learn's do."""

import importlib
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from PIL import Image
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    RocCurveDisplay,
    confusion_matrix,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline

from sklearn_cnn import CNNClassifier
from sklearn_cnn.plotting import (
    GradCAMDisplay,
    ImageGridDisplay,
    LRFinderDisplay,
    TrainingHistoryDisplay,
)
from sklearn_cnn.plotting._image_grid import WRONG_COLOR, displayable_images
from sklearn_cnn.preprocessing import ToImage


@pytest.fixture(scope="module")
def fitted(digits, fast_params):
    """A classifier trained with a hold-out (valid_loss, valid_acc) and one-cycle."""
    X, y = digits
    return CNNClassifier(**{**fast_params, "validation_fraction": 0.2}).fit(X[:300], y[:300])


@pytest.fixture
def held_out(digits):
    X, y = digits
    return X[300:], y[300:]


def assert_drawn(figure, min_std=10.0):
    """The rendered figure is not blank: several colours and contrast."""
    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3].astype(float)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10
    assert pixels.std() > min_std


# ------------------------------------------------------------ training history


def test_history_from_estimator_draws_every_recorded_curve(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    history = fitted.history_
    assert set(display.lines_) == {"train_loss", "valid_loss", "valid_acc", "lr"}
    for key in ("train_loss", "valid_loss", "valid_acc"):
        np.testing.assert_allclose(display.lines_[key].get_ydata(), history[:, key])
        np.testing.assert_array_equal(display.lines_[key].get_xdata(), history[:, "epoch"])
    loss_ax, acc_ax = display.axes_.flat
    assert (loss_ax.get_title(), acc_ax.get_title()) == ("Loss", "Accuracy")
    assert loss_ax.get_xlabel() == acc_ax.get_xlabel() == "epoch"
    assert display.lines_["valid_acc"].axes is acc_ax
    assert display.lines_["lr"].axes is display.lr_ax_
    assert display.lr_ax_.get_ylabel() == "learning rate"
    assert display.figure_ is loss_ax.figure
    legend = loss_ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        "train loss", "valid loss", "learning rate"]
    display.figure_.canvas.draw()  # the legend sits below the panel, over no curve
    box = legend.get_window_extent()
    assert box.y1 <= loss_ax.get_window_extent().y0
    assert_drawn(display.figure_)


def test_history_one_cycle_rate_is_drawn_per_batch(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    batch_rates = [b["event_lr"] for row in fitted.history_ for b in row["batches"]
                   if "event_lr" in b]
    np.testing.assert_allclose(display.lr, batch_rates)
    np.testing.assert_allclose(display.lines_["lr"].get_ydata(), batch_rates)
    # The last batch of each epoch sits on the epoch, the others before it.
    n_batches = len(batch_rates) // len(fitted.history_)
    np.testing.assert_allclose(display.lr_epochs[n_batches - 1::n_batches],
                               fitted.history_[:, "epoch"])
    assert np.all(np.diff(display.lr_epochs) > 0)


def history_rows(n_epochs=3, **columns):
    return [{"epoch": i + 1, "train_loss": 2.0 / (i + 1),
             **{key: values[i] for key, values in columns.items()}} for i in range(n_epochs)]


def test_history_from_list_of_dicts_shows_train_accuracy_and_epoch_rates():
    rows = history_rows(train_acc=[0.3, 0.6, 0.8], event_lr=[0.1, 0.05, 0.01])
    display = TrainingHistoryDisplay.from_history(rows)
    assert set(display.lines_) == {"train_loss", "train_acc", "lr"}
    np.testing.assert_allclose(display.lines_["train_acc"].get_ydata(), [0.3, 0.6, 0.8])
    np.testing.assert_allclose(display.lines_["lr"].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(display.lines_["lr"].get_ydata(), [0.1, 0.05, 0.01])
    assert display.axes_.size == 2
    assert_drawn(display.figure_)


def test_history_without_accuracy_or_rate_has_one_panel_and_no_rate_axis():
    display = TrainingHistoryDisplay.from_history(history_rows())
    assert display.axes_.size == 1
    assert display.lr_ax_ is None and display.lr is None
    assert set(display.lines_) == {"train_loss"}


def test_history_missing_epochs_are_gaps():
    rows = history_rows()
    rows[1]["valid_loss"] = 1.5
    display = TrainingHistoryDisplay.from_history(rows)
    np.testing.assert_array_equal(np.isnan(display.valid_loss), [True, False, True])


def test_history_show_lr_false(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted, show_lr=False)
    assert display.lr_ax_ is None and "lr" not in display.lines_
    assert display.lr is not None  # computed, just not drawn


def test_history_on_given_axes(fitted):
    fig, axes = plt.subplots(1, 2)
    display = TrainingHistoryDisplay.from_estimator(fitted, ax=axes)
    assert display.figure_ is fig and display.bounding_ax_ is None
    assert list(display.axes_.flat) == list(axes)
    with pytest.raises(ValueError, match="expected ax to hold 2 axes"):
        TrainingHistoryDisplay.from_estimator(fitted, ax=axes[:1])


def test_history_splits_one_axes(fitted):
    fig, ax = plt.subplots()
    display = TrainingHistoryDisplay.from_estimator(fitted, ax=ax)
    assert display.bounding_ax_ is ax and not ax.axison
    assert display.axes_.size == 2 and all(a.figure is fig for a in display.axes_.flat)
    with pytest.raises(ValueError, match="already split"):
        TrainingHistoryDisplay.from_estimator(fitted, ax=ax)


def test_history_plot_again_on_new_axes(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    first = display.figure_
    display.plot()
    assert display.figure_ is not first


def test_history_of_a_pipeline(fitted, digits):
    pipe = make_pipeline(ToImage().fit(digits[0]), fitted)  # fitted: its last step is
    display = TrainingHistoryDisplay.from_estimator(pipe)
    np.testing.assert_allclose(display.train_loss, fitted.history_[:, "train_loss"])


def test_history_errors(digits):
    with pytest.raises(NotFittedError):
        TrainingHistoryDisplay.from_estimator(CNNClassifier())
    X, y = digits
    with pytest.raises(TypeError, match="training history"):
        TrainingHistoryDisplay.from_estimator(LogisticRegression().fit(X[:50], y[:50]))
    with pytest.raises(ValueError, match="no 'train_loss'"):
        TrainingHistoryDisplay.from_history([{"epoch": 1}])
    with pytest.raises(ValueError, match="non-empty list of per-epoch dicts"):
        TrainingHistoryDisplay.from_history([])


# ------------------------------------------------------------------ image grid


def test_image_grid_from_estimator_agrees_with_from_predictions(fitted, held_out):
    X, y = held_out
    from_estimator = ImageGridDisplay.from_estimator(fitted, X, y, n_images=12)
    proba = fitted.predict_proba(X)
    from_predictions = ImageGridDisplay.from_predictions(
        X, y, fitted.predict(X), proba=proba, n_images=12)
    for attr in ("images", "y_true", "y_pred", "proba", "indices"):
        np.testing.assert_allclose(getattr(from_estimator, attr),
                                   getattr(from_predictions, attr))
    assert [a.get_title() for a in from_estimator.axes_.flat] == [
        a.get_title() for a in from_predictions.axes_.flat]
    np.testing.assert_allclose(from_estimator.proba, proba[:12].max(axis=1))
    np.testing.assert_array_equal(from_estimator.indices, np.arange(12))


def test_image_grid_titles_and_misclassified_marks(fitted, held_out):
    X, y = held_out
    display = ImageGridDisplay.from_estimator(fitted, X, y, n_images=16)
    assert display.axes_.shape == (4, 4)
    for ax, true, pred, p in zip(display.axes_.flat, display.y_true, display.y_pred,
                                 display.proba, strict=True):
        assert ax.get_title() == f"true {true}\npred {pred} ({p:.2f})"
        wrong = true != pred
        assert (ax.title.get_color() == WRONG_COLOR) == wrong
        assert ax.spines["left"].get_visible() == wrong
        if wrong:
            assert ax.spines["left"].get_edgecolor() == to_rgba(WRONG_COLOR)
    assert_drawn(display.figure_)


def test_image_grid_misclassified_first(fitted, held_out):
    X, y = held_out
    y_pred = fitted.predict(X)
    wrong = np.flatnonzero(y_pred != y)
    right = np.flatnonzero(y_pred == y)
    assert 0 < len(wrong) < len(y)  # the fixture's model makes some mistakes
    n = len(wrong) + 3
    display = ImageGridDisplay.from_estimator(fitted, X, y, n_images=n,
                                              misclassified_first=True)
    np.testing.assert_array_equal(display.indices, np.r_[wrong, right[:3]])
    assert np.all(display.y_true[:len(wrong)] != display.y_pred[:len(wrong)])
    assert np.all(display.y_true[len(wrong):] == display.y_pred[len(wrong):])
    titles_red = [ax.title.get_color() == WRONG_COLOR for ax in display.axes_.flat[:n]]
    assert titles_red == [True] * len(wrong) + [False] * 3


def test_image_grid_shows_what_the_image_holds(digits):
    X, _ = digits
    display = ImageGridDisplay.from_predictions(X[:5], y_pred=np.zeros(5, dtype=int))
    # Digits hold 0-16: rescaled together to [0, 1], gray, one panel each.
    np.testing.assert_allclose(display.images, X[:5].reshape(-1, 8, 8) / X[:5].max())
    assert display.axes_.shape == (2, 3)
    assert display.ims_[1, 2] is None and not display.axes_[1, 2].axison
    image = display.ims_[0, 0]
    np.testing.assert_allclose(image.get_array(), display.images[0])
    assert image.get_cmap().name == "gray" and image.get_clim() == (0, 1)
    assert display.axes_[0, 0].get_title() == "pred 0"


@pytest.mark.parametrize("layout", ["nhw", "nhwc", "nchw"])
def test_image_grid_layouts(layout):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(4, 6, 5, 3), dtype=np.uint8)
    X = {"nhw": rgb[..., 0], "nhwc": rgb, "nchw": rgb.transpose(0, 3, 1, 2)}[layout]
    display = ImageGridDisplay.from_predictions(X, y_true=[0, 1, 0, 1])
    expected = rgb[..., 0] / 255 if layout == "nhw" else rgb / 255
    np.testing.assert_allclose(display.images, expected, atol=1e-6)
    assert display.ims_[0, 0].get_array().shape == expected.shape[1:]
    assert_drawn(display.figure_, min_std=5)


def test_displayable_images_scaling():
    inside = np.linspace(0.2, 0.6, 2 * 16).reshape(2, 4, 4).astype(np.float32)
    np.testing.assert_allclose(displayable_images(inside), inside)  # [0, 1]: kept
    standardized = inside * 10 - 3
    shown = displayable_images(standardized)
    assert shown.min() == 0 and shown.max() == 1
    np.testing.assert_allclose(shown, (inside - 0.2) / 0.4, atol=1e-6)
    flat = displayable_images(np.ones((3, 12)), image_shape=(3, 2, 2))
    assert flat.shape == (3, 2, 2, 3)


def test_image_grid_of_image_files(tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((5, 7, 3), 80 * i, dtype=np.uint8)).save(path)
        paths.append(str(path))
    display = ImageGridDisplay.from_predictions(np.array(paths), ["a", "b", "c"],
                                                ["a", "b", "a"])
    assert display.images.shape == (3, 5, 7, 3)
    np.testing.assert_allclose(display.images[2], 160 / 255, atol=1e-6)
    assert display.axes_.flat[2].title.get_color() == WRONG_COLOR


def test_image_grid_on_given_axes(fitted, held_out):
    X, y = held_out
    fig, axes = plt.subplots(2, 3)
    display = ImageGridDisplay.from_estimator(fitted, X, y, n_images=6, ax=axes)
    assert display.figure_ is fig and display.axes_.shape == (2, 3)
    with pytest.raises(ValueError, match="expected ax to hold 4 axes"):
        ImageGridDisplay.from_estimator(fitted, X, y, n_images=4, ax=axes)


def test_image_grid_errors(fitted, held_out):
    X, y = held_out
    with pytest.raises(ValueError, match="needs the true labels"):
        ImageGridDisplay.from_estimator(fitted, X, misclassified_first=True)
    with pytest.raises(ValueError, match="n_images must be a positive int"):
        ImageGridDisplay.from_estimator(fitted, X, y, n_images=0)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ImageGridDisplay.from_predictions(X, y[:-1], y)
    with pytest.raises(NotFittedError):
        ImageGridDisplay.from_estimator(CNNClassifier(), X, y)


# ----------------------------------------------------------------- Grad-CAM


def test_grad_cam_from_estimator_overlays_the_maps(fitted, held_out):
    from sklearn_cnn.explain import grad_cam

    X, _ = held_out
    display = GradCAMDisplay.from_estimator(fitted, X, n_images=6, alpha=0.4)
    np.testing.assert_allclose(display.maps, grad_cam(fitted, X[:6]))
    proba = fitted.predict_proba(X[:6])
    np.testing.assert_array_equal(display.target, fitted.predict(X[:6]))
    np.testing.assert_allclose(display.proba, proba.max(axis=1))
    assert display.axes_.shape == (2, 3)
    for ax, image, heat, label, p, base, overlay in zip(
            display.axes_.flat, display.images, display.maps, display.target, display.proba,
            display.ims_.flat, display.heat_ims_.flat, strict=True):
        assert ax.get_title() == f"class {label} ({p:.2f})"
        np.testing.assert_allclose(base.get_array(), image)
        np.testing.assert_allclose(overlay.get_array(), heat)
        assert overlay.get_alpha() == 0.4 and overlay.get_clim() == (0, 1)
        assert overlay.get_extent() == base.get_extent()  # over the whole image
    assert_drawn(display.figure_)


def test_grad_cam_target_class(fitted, held_out):
    from sklearn_cnn.explain import grad_cam

    X, _ = held_out
    label = fitted.classes_[3]
    display = GradCAMDisplay.from_estimator(fitted, X, target=label, n_images=4)
    np.testing.assert_allclose(display.maps, grad_cam(fitted, X[:4], target=label))
    np.testing.assert_array_equal(display.target, [label] * 4)
    np.testing.assert_allclose(display.proba, fitted.predict_proba(X[:4])[:, 3])
    # One label per image of X: the shown images keep theirs.
    per_image = fitted.classes_[np.arange(len(X)) % len(fitted.classes_)]
    display = GradCAMDisplay.from_estimator(fitted, X, target=per_image, n_images=4)
    np.testing.assert_array_equal(display.target, per_image[:4])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GradCAMDisplay.from_estimator(fitted, X, target=per_image[:-1])


def test_grad_cam_titles_show_the_true_class_when_given(fitted, held_out):
    X, y = held_out
    right = fitted.predict(X) == y
    chosen = np.r_[np.flatnonzero(~right)[:3], np.flatnonzero(right)[:3]]
    X, y = X[chosen], y[chosen]
    display = GradCAMDisplay.from_estimator(fitted, X, y)
    np.testing.assert_array_equal(display.y_true, y)
    for ax, true, label, p in zip(display.axes_.flat, y, display.target, display.proba,
                                  strict=False):
        assert ax.get_title() == f"true {true}\nclass {label} ({p:.2f})"
        wrong = true != label  # the map of another class than the true one: red
        assert (ax.title.get_color() == "tab:red") == wrong, ax.get_title()
        assert ax.spines["left"].get_visible() == wrong
    assert (display.target != y).any() and (display.target == y).any()  # both kinds drawn
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GradCAMDisplay.from_estimator(fitted, X, y[:-1])


def test_grad_cam_from_maps_stretches_any_resolution(held_out):
    X, _ = held_out
    maps = np.random.default_rng(0).random((3, 2, 2))
    display = GradCAMDisplay.from_maps(X[:3], maps, target=["a", "b", "c"])
    assert display.axes_.flat[1].get_title() == "class b"
    overlay, base = display.heat_ims_.flat[0], display.ims_.flat[0]
    assert overlay.get_array().shape == (2, 2)
    assert overlay.get_extent() == base.get_extent() == [-0.5, 7.5, 7.5, -0.5]
    assert GradCAMDisplay.from_maps(X[:3], maps).axes_.flat[0].get_title() == ""


def test_grad_cam_errors(fitted, held_out):
    X, _ = held_out
    with pytest.raises(ValueError, match=r"shape \(N, h, w\)"):
        GradCAMDisplay.from_maps(X[:3], np.zeros((3, 8)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GradCAMDisplay.from_maps(X[:3], np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="n_images must be a positive int"):
        GradCAMDisplay.from_estimator(fitted, X, n_images=-1)
    with pytest.raises(NotFittedError):
        GradCAMDisplay.from_estimator(CNNClassifier(), X)


def test_grad_cam_without_captum_names_the_explain_extra(fitted, held_out, monkeypatch):
    monkeypatch.setitem(sys.modules, "captum", None)
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    with pytest.raises(ImportError, match=r"pip install 'sklearn-cnn\[explain\]'"):
        GradCAMDisplay.from_estimator(fitted, held_out[0])


# -------------------------------------------------------------- LR finder plot


def test_lr_finder_display_plot():
    lrs = np.logspace(-5, 1, 40)
    losses = 2.5 - np.tanh(np.log10(lrs) + 2) + np.where(lrs > 1, 10 * lrs, 0)
    display = LRFinderDisplay(lrs=lrs, losses=losses, suggested_lr=lrs[12]).plot()
    ax = display.ax_
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "learning rate"
    np.testing.assert_allclose(display.line_.get_xdata(), lrs)
    np.testing.assert_allclose(display.suggestion_.get_xdata(), [lrs[12]])
    np.testing.assert_allclose(display.suggestion_.get_ydata(), [losses[12]])
    assert f"{lrs[12]:.2g}" in display.suggestion_.get_label()
    # The blow-up at the end does not squash the curve.
    assert ax.get_ylim()[1] < losses.max() / 2
    assert_drawn(display.figure_)
    assert LRFinderDisplay(lrs=lrs, losses=losses).plot().suggestion_ is None


# ------------------------------------------- scikit-learn's own displays


def test_confusion_matrix_display_takes_a_cnn(fitted, held_out):
    X, y = held_out
    display = ConfusionMatrixDisplay.from_estimator(fitted, X, y)
    np.testing.assert_array_equal(display.confusion_matrix,
                                  confusion_matrix(y, fitted.predict(X)))
    assert_drawn(display.figure_)


def test_roc_curve_display_takes_a_binary_cnn(digits, fast_params):
    X, y = digits
    binary = np.isin(y, [3, 8])
    X, y = X[binary], y[binary]
    clf = CNNClassifier(**{**fast_params, "max_epochs": 2}).fit(X[:60], y[:60])
    display = RocCurveDisplay.from_estimator(clf, X[60:], y[60:])
    assert display.roc_auc == pytest.approx(
        roc_auc_score(y[60:], clf.predict_proba(X[60:])[:, 1]))
    assert_drawn(display.figure_)


def test_roc_curve_one_vs_rest_from_predictions(fitted, held_out):
    X, y = held_out
    proba = fitted.predict_proba(X)
    fig, ax = plt.subplots()
    for i, label in enumerate(fitted.classes_):
        display = RocCurveDisplay.from_predictions(y == label, proba[:, i], ax=ax,
                                                   name=f"{label} vs rest")
        assert display.roc_auc == pytest.approx(roc_auc_score(y == label, proba[:, i]))
    assert len(ax.get_lines()) == len(fitted.classes_)
    assert_drawn(fig)


# ------------------------------------------------------- matplotlib missing


@pytest.mark.parametrize("call", [
    lambda clf, X, y: TrainingHistoryDisplay.from_estimator(clf),
    lambda clf, X, y: TrainingHistoryDisplay.from_history(clf.history_),
    lambda clf, X, y: TrainingHistoryDisplay(epochs=[1], train_loss=[1.0]).plot(),
    lambda clf, X, y: ImageGridDisplay.from_estimator(clf, X, y),
    lambda clf, X, y: ImageGridDisplay.from_predictions(X, y),
    lambda clf, X, y: ImageGridDisplay(np.zeros((1, 2, 2))).plot(),
    lambda clf, X, y: GradCAMDisplay.from_estimator(clf, X),
    lambda clf, X, y: GradCAMDisplay.from_maps(X, np.zeros((len(X), 8, 8))),
    lambda clf, X, y: GradCAMDisplay(np.zeros((1, 2, 2)), np.zeros((1, 2, 2))).plot(),
    lambda clf, X, y: LRFinderDisplay.from_estimator(clf, X, y),
    lambda clf, X, y: LRFinderDisplay(lrs=[1e-3, 1e-2], losses=[2, 1]).plot(),
])
def test_missing_matplotlib_names_the_extra(call, fitted, held_out, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"pip install 'sklearn-cnn\[plot\]'"):
        call(fitted, *held_out)


def test_plotting_imports_without_matplotlib(monkeypatch):
    # matplotlib is needed only to draw: importing the Displays does not need it.
    import sklearn_cnn

    original = sklearn_cnn.plotting
    monkeypatch.setattr(sklearn_cnn, "plotting", original)  # put back afterwards
    for name in [m for m in sys.modules if m.startswith("sklearn_cnn.plotting")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    module = importlib.import_module("sklearn_cnn.plotting")
    assert module is not original  # imported afresh, without matplotlib
    assert module.__all__ == original.__all__


# ----------------------------------------------------------------- augmentation

def test_augmentation_display_shows_the_draws_of_the_classifiers_augment(digits):
    from sklearn_cnn import BatchAugment
    from sklearn_cnn.plotting import AugmentationDisplay

    X, _ = digits
    clf = CNNClassifier(augment=BatchAugment(shift=0.25))
    display = AugmentationDisplay.from_estimator(clf, X, n_images=3, n_views=2)
    assert display.axes_.shape == (3, 3) and display.views.shape == (3, 2, 8, 8)
    assert display.figure_._suptitle.get_text() == "augment=BatchAugment(shift=0.25)"
    assert [ax.get_title() for ax in display.axes_[0]] == ["as given", "draw 1", "draw 2"]
    images = displayable_images(X[:3])
    np.testing.assert_allclose(display.images, images)
    for image, views in zip(images, display.views, strict=True):
        for view in views:  # whole-pixel shifts: the pixels of the image, moved
            assert np.isin(view, image).all() and not np.array_equal(view, image)
    again = AugmentationDisplay.from_estimator(clf, X, n_images=3, n_views=2)
    np.testing.assert_array_equal(again.views, display.views)  # seeded
    assert_drawn(display.figure_)
    # No augmentation: every view is the image.
    plain = AugmentationDisplay.from_estimator(CNNClassifier(augment=None), X, n_images=2)
    assert plain.augment_name == "None"
    np.testing.assert_array_equal(plain.views[:, 0], plain.images)
    with pytest.raises(ValueError, match="n_views must be a positive int"):
        AugmentationDisplay.from_estimator(clf, X, n_views=0)
