"""
Multilabel targets: three yes/no questions about each digit
===========================================================

Multilabel targets: three yes/no questions about each handwritten digit.

Each image gets three labels at once, as a 0/1 indicator matrix ``y`` (one
column per label), the form scikit-learn's ``MLPClassifier`` takes:

- "even": 0, 2, 4, 6, 8;
- "greater than 4": 5 to 9;
- "has a loop": 0, 6, 8 and 9, whose strokes close a loop (4 is written
  open in this data set).

The network then has one sigmoid output per label, trained with binary
cross-entropy; ``predict`` returns the indicator matrix and ``score`` the
subset accuracy (every label of an image right).

Run: python examples/multilabel_digits.py
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split

from sklearn_cnn import CNNClassifier

LABELS = ["even", "greater than 4", "has a loop"]

X, digit = load_digits(return_X_y=True)
Y = np.column_stack([digit % 2 == 0, digit > 4, np.isin(digit, [0, 6, 8, 9])]).astype(int)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)

clf = CNNClassifier(max_epochs=10, random_state=0).fit(X_train, Y_train)
Y_pred = clf.predict(X_test)  # (n_images, 3), 0/1
print(f"classes_: {clf.classes_} (the label columns), predict: {Y_pred.shape}")
# Digits 1 and 3 have none of the three labels: zero_division=1 counts an image
# with no label to find, and none predicted, as right in the "samples avg" row.
print(classification_report(Y_test, Y_pred, target_names=LABELS, digits=3, zero_division=1))
print(f"subset accuracy (all three labels right): {clf.score(X_test, Y_test):.3f}")
