"""
Avoiding overfitting
====================

Trained long enough on 200 digits, a CNN learns its training images by heart:
training accuracy reaches 100 % while the accuracy on images it has not seen
stays lower. This script trains one network that does so, then the same
network with each remedy ``CNNClassifier`` has: augmentation (``augment``),
dropout (``dropout``), weight decay (``weight_decay``), early stopping
(``early_stopping``, ``patience``), and all the library's defaults together.
It draws the learning curves of each (``TrainingHistoryDisplay``, on a
``validation_fraction`` hold-out) and prints the train/valid accuracy gap and
the accuracy on the 1597 digits never used for training.

Run: ``python examples/faq_overfitting.py`` (quick: one training set, about
half a minute on two cores) or ``python examples/faq_overfitting.py --full``
(the FAQ's table: medians over 5 training sets and seeds; a few minutes).
"""

# %%
# One network that overfits, and its remedies
# -------------------------------------------
# The network that overfits switches every remedy off: no augmentation, no
# dropout, no weight decay, no label smoothing, a constant learning rate.
# The training accuracy is recorded by skorch's ``EpochScoring`` on the
# training batches as they were trained (as Keras reports it): with
# augmentation and dropout, on augmented images with dropout on.
import numpy as np
from faq_tasks import parse_full
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from skorch.callbacks import EpochScoring
from tabulate import tabulate

from sklearn_cnn import CNNClassifier
from sklearn_cnn.plotting import TrainingHistoryDisplay

OVERFITTING = dict(conv_channels=(16, 32), dense_units=(64,), max_epochs=40,
                   validation_fraction=0.3, augment=None, dropout=0.0, weight_decay=0.0,
                   label_smoothing=0.0, lr_schedule="constant")
REMEDIES = {
    "none (overfits)": {},
    "augment='standard'": {"augment": "standard"},
    "dropout=0.5": {"dropout": 0.5},
    "weight_decay=0.01": {"weight_decay": 0.01},
    "early_stopping=True": {"early_stopping": True, "patience": 5},
    "library defaults": {"augment": "auto", "dropout": 0.3, "label_smoothing": 0.1,
                         "lr_schedule": "onecycle"},
}


def train_accuracy():
    """A skorch callback recording ``train_acc``, the accuracy on the training batches."""
    return EpochScoring("accuracy", on_train=True, name="train_acc", lower_is_better=False)


def fit_and_measure(remedy, X_train, y_train, X_test, y_test, random_state):
    """Fit with ``remedy``; return the fitted classifier and its row of measurements."""
    params = {**OVERFITTING, **REMEDIES[remedy], "random_state": random_state}
    clf = CNNClassifier(callbacks=[("train_acc", train_accuracy())], **params)
    clf.fit(X_train, y_train)
    # The epoch whose weights the model keeps: early stopping restores its best.
    kept = clf.history_[(clf.best_epoch_ or clf.n_iter_) - 1]
    return clf, [clf.n_iter_, kept["train_acc"], kept["valid_acc"],
                 kept["train_acc"] - kept["valid_acc"], clf.score(X_test, y_test)]


full = parse_full("Avoiding overfitting")
X, y = load_digits(return_X_y=True)
seeds = range(5) if full else range(1)
rows = {remedy: [] for remedy in REMEDIES}
for seed in seeds:  # each seed: another training set of 200 digits, another initialisation
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=200, stratify=y, random_state=seed)
    for remedy in REMEDIES:
        clf, row = fit_and_measure(remedy, X_train, y_train, X_test, y_test, seed)
        rows[remedy].append(row)
        if seed == 0:
            # The learning curves: loss and accuracy on the training batches
            # and on the hold-out (30 % of the 200 digits), epoch by epoch.
            display = TrainingHistoryDisplay.from_estimator(clf, show_lr=False)
            display.figure_.suptitle(remedy)

# %%
# The table
# ---------
# The gap is the training accuracy minus the hold-out accuracy at the epoch
# whose weights the model keeps; "held-out" is the accuracy on the digits
# not among the 200 (medians over the seeds with ``--full``).
table = [[remedy, *np.median(np.array(values), axis=0)] for remedy, values in rows.items()]
print(f"{'full' if full else 'quick'} run: 200 training digits (140 trained on, 60 held out "
      f"for the curves), {len(y) - 200} test digits, {len(seeds)} seed(s)")
print(tabulate(table, headers=["remedy", "epochs", "train acc", "valid acc", "gap", "held-out acc"],
               tablefmt="github", floatfmt=("", ".0f", ".3f", ".3f", ".3f", ".3f")))

# %%
# On your own data
# ----------------
# Hold out a share with ``validation_fraction``, look at the curves, and
# compare remedies by cross-validation rather than on the hold-out alone::
#
#     clf = CNNClassifier(validation_fraction=0.2, early_stopping=True,
#                         augment="standard", dropout=0.5, random_state=0)
#     clf.fit(X, y)
#     TrainingHistoryDisplay.from_estimator(clf)
#     GridSearchCV(CNNClassifier(random_state=0),
#                  {"dropout": [0.0, 0.3, 0.5], "weight_decay": [0.0, 1e-2]}, cv=5)
