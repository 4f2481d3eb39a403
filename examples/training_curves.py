"""
Training curves, confusion matrix, ROC curves and mistakes
==========================================================

Look at a trained CNN: training curves, confusion matrix, ROC curves, its mistakes.

The confusion matrix and the ROC curves are scikit-learn's own Displays,
which take a ``CNNClassifier`` like any classifier; the training curves and
the image grid are sklearn-cnn's (``sklearn_cnn.plotting``). The figures are
written as PNG files to a temporary folder, whose name is printed.

Run: python examples/training_curves.py   (needs: pip install "sklearn-cnn[plot]")
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay
from sklearn.model_selection import train_test_split

from sklearn_cnn import CNNClassifier
from sklearn_cnn.plotting import ImageGridDisplay, TrainingHistoryDisplay

# %%
# Train with a hold-out
# ----------------------
# A hold-out of 20 % of the training set gives ``valid_loss`` and
# ``valid_acc`` per epoch.

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
clf = CNNClassifier(max_epochs=10, validation_fraction=0.2, random_state=0)
clf.fit(X_train, y_train)
print(f"held-out accuracy: {clf.score(X_test, y_test):.4f}")

folder = Path(tempfile.mkdtemp())

# %%
# Training curves
# ---------------
# Loss and accuracy per epoch; the one-cycle learning rate on the second axis.
TrainingHistoryDisplay.from_estimator(clf).figure_.savefig(folder / "history.png")

# %%
# Confusion matrix and ROC curves: scikit-learn's Displays
# ---------------------------------------------------------

ConfusionMatrixDisplay.from_estimator(clf, X_test, y_test).figure_.savefig(
    folder / "confusion_matrix.png")

# ROC curves one class against the rest, from predict_proba's columns.
proba = clf.predict_proba(X_test)
fig, ax = plt.subplots(figsize=(6, 6), layout="constrained")
for i, label in enumerate(clf.classes_):
    RocCurveDisplay.from_predictions(y_test == label, proba[:, i], ax=ax,
                                     name=f"{label} vs rest")
ax.set_title("ROC, one class against the rest")
fig.savefig(folder / "roc.png")

# %%
# Mistakes
# --------
# The misclassified test digits first, in red, then correct ones.
grid = ImageGridDisplay.from_estimator(clf, X_test, y_test, misclassified_first=True)
grid.figure_.savefig(folder / "mistakes.png")
n_wrong = int((clf.predict(X_test) != y_test).sum())
print(f"misclassified: {n_wrong} of {len(y_test)}")
print(f"figures in {folder}: " + ", ".join(sorted(p.name for p in folder.glob("*.png"))))
