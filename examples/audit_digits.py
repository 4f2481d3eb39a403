"""
Auditing a labelled set: wrong labels, copies, leaks, odd images
================================================================

A real folder of images has problems no score shows: wrong labels, the
same image twice, test images that are copies of training images, images
that belong to no class. Here they are planted in scikit-learn's digits,
where they are known (``sklearn_cnn.datasets.add_problems``), and
``sklearn_cnn.audit.find_issues`` finds them: out-of-fold probabilities of
a ``CNNClassifier`` and its embeddings, read by cleanlab. The first suspects
of each kind are drawn with ``AuditDisplay``, into a temporary folder whose
name is printed. docs/audit.md says what to do with each finding.

Run: python examples/audit_digits.py   (needs: pip install "sklearn-cnn[audit,plot]")
"""

import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from sklearn_cnn import CNNClassifier
from sklearn_cnn.audit import find_issues
from sklearn_cnn.datasets import add_problems
from sklearn_cnn.plotting import AuditDisplay

X, y = load_digits(return_X_y=True)
order = np.random.default_rng(0).permutation(len(y))  # writers mixed
X, y = X[order], y[order]
rng = np.random.default_rng(1)
noise = rng.uniform(0, 16, (6, 64))  # images of another kind: noise
X_train, y_train, X_test, truth = add_problems(
    X[:600], y[:600], X[600:900], label_noise=0.05, n_duplicates=4, n_leaks=5, others=noise,
    random_state=0)

issues = find_issues(CNNClassifier(max_epochs=10, random_state=0), X_train, y_train,
                     X_test=X_test, cv=3)
print(issues["issue"].value_counts().to_string())

planted = {"label": set(truth["label"]), "near_duplicate": set(truth["near_duplicate"].ravel()),
           "leak": set(truth["leak"][:, 0]), "outlier": set(truth["outlier"])}
for kind, expected in planted.items():
    found = set(issues.loc[issues["issue"] == kind, "index"])
    hits = len(found & expected)
    print(f"{kind}: {hits} of {len(expected)} planted found, "
          f"{hits} of {len(found)} findings planted")

display = AuditDisplay.from_issues(issues, X_train, X_test, n_images=16)
path = Path(tempfile.mkdtemp()) / "audit.png"
display.figure_.savefig(path, bbox_inches="tight")
print(f"suspects plotted in {path}")
