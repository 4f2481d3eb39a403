"""
Augmentation on a small training set
====================================

Training-time augmentation on a small training set.

With only 300 of scikit-learn's digits to learn from, ``augment="standard"``
shows the network a freshly rotated, shifted, zoomed and brightness/contrast-
jittered copy of every image each epoch (drawn per image, in batches, on the
training device; never at prediction). Augmentation needs epochs to pay off:
here both models train for 60.

Run: ``python examples/augmentation_small_data.py``
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_cnn import CNNClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=300, stratify=y, random_state=0
)

for augment in (None, "standard"):
    clf = CNNClassifier(augment=augment, max_epochs=60, random_state=0)
    clf.fit(X_train, y_train)
    print(f"augment={augment!s:<9} held-out accuracy on {len(X_test)} digits: "
          f"{clf.score(X_test, y_test):.4f}")
