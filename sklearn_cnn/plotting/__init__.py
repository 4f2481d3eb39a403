"""Plots of CNN training and predictions, as scikit-learn Displays (the ``plot`` extra).

Each Display follows scikit-learn's convention: ``from_estimator`` (and
``from_predictions``, ``from_history`` or ``from_maps``) compute what to
show and call ``plot(ax=...)``, which draws it and keeps the matplotlib
objects as attributes (``figure_``, ``axes_``, ...).

- :class:`TrainingHistoryDisplay`: loss, accuracy and learning rate per epoch.
- :class:`ImageGridDisplay`: images with true and predicted labels,
  misclassified ones marked.
- :class:`GradCAMDisplay`: Grad-CAM heat maps over the images.
- :class:`LRFinderDisplay`: loss against learning rate (a range test), with
  a suggested ``lr``.
- :class:`AugmentationDisplay`: training images as augmentation changes
  them (fastai's ``show_batch``).
- :class:`AuditDisplay`: the suspects of an audit (``sklearn_cnn.audit``),
  each titled with its finding.

The confusion matrix and ROC curves are scikit-learn's own
(``sklearn.metrics.ConfusionMatrixDisplay``, ``RocCurveDisplay``), which
take a ``CNNClassifier`` as they are. matplotlib is imported only when a plot
is drawn (``pip install 'sklearn-cnn[plot]'``). See docs/plotting.md.
"""

from ._audit import AuditDisplay
from ._augmentation import AugmentationDisplay
from ._grad_cam import GradCAMDisplay
from ._history import TrainingHistoryDisplay
from ._image_grid import ImageGridDisplay
from ._lr_finder import LRFinderDisplay

__all__ = [
    "AuditDisplay",
    "AugmentationDisplay",
    "GradCAMDisplay",
    "ImageGridDisplay",
    "LRFinderDisplay",
    "TrainingHistoryDisplay",
]
