"""
Choosing a learning rate with a range test
==========================================

Choose a learning rate with a range test ("LR finder"), then train with it.

``LRFinderDisplay.from_estimator`` trains a clone of the classifier from
scratch, one batch per step, with the learning rate growing exponentially,
and plots the smoothed loss against the rate. The suggested rate is where
the loss falls fastest, before it bottoms out and diverges: a starting
point for ``lr`` (with the one-cycle schedule, the peak rate), on the
cautious side, as the three fits below show. The classifier passed in is
not changed. The figure is written to a temporary folder, whose name is
printed.

Run: python examples/lr_finder.py   (needs: pip install "sklearn-cnn[plot]")
"""

import tempfile
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_cnn import CNNClassifier
from sklearn_cnn.plotting import LRFinderDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

clf = CNNClassifier(max_epochs=6, random_state=0)
finder = LRFinderDisplay.from_estimator(clf, X_train, y_train, start_lr=1e-5, num_steps=80)
path = Path(tempfile.mkdtemp()) / "lr_finder.png"
finder.figure_.savefig(path)
print(f"range test: {len(finder.lrs)} steps from {finder.lrs[0]:.1e} to "
      f"{finder.lrs[-1]:.1e}, plotted in {path}")
print(f"suggested lr: {finder.suggested_lr:.3g}")

for lr in (finder.suggested_lr / 10, finder.suggested_lr, finder.suggested_lr * 10):
    score = clf.set_params(lr=lr).fit(X_train, y_train).score(X_test, y_test)
    print(f"lr={lr:<9.3g} held-out accuracy: {score:.4f}")
