"""
Choosing an activation
======================

A ``GridSearchCV`` over every ``activation`` ``CNNClassifier`` accepts
(``relu``, ``leaky_relu``, ``elu``, ``gelu``, ``silu``, ``tanh``,
``sigmoid``), on scikit-learn's 8x8 digits and on 32x32 RGB patches of its
two sample photos (see ``faq_tasks.py``): cross-validated accuracy and fit
time of each. The weights of each are initialised to suit the activation
(``init="auto"``: Kaiming for the ReLU family, Xavier for tanh and sigmoid).

Run: ``python examples/faq_activation.py`` (quick, under a minute on two
cores) or ``python examples/faq_activation.py --full`` (the FAQ's table: all
1797 digits, 800 patches, 5 folds, a wider network, 15 epochs; several
minutes).
"""

# %%
# The search
# ----------
# The activations are read from the classifier's own parameter constraints,
# so the search covers whatever the installed version accepts.
from faq_tasks import parse_full, plot_scores, search_tasks

from sklearn_cnn import CNNClassifier

ACTIVATIONS = sorted(CNNClassifier._parameter_constraints["activation"][0].options)

full = parse_full("Choosing an activation")
# A GridSearchCV(CNNClassifier(...), {"activation": ACTIVATIONS}, cv=StratifiedKFold(...))
# on each task, its cv_results_ printed as a table:
searches = search_tasks({"activation": ACTIVATIONS}, full)
plot_scores(searches, "activation")

# %%
# On your own data
# ----------------
# ReLU is the default and a safe start; the measured differences are small
# next to those of the data and the training length. To check on your own
# images ``X`` and labels ``y``::
#
#     search = GridSearchCV(CNNClassifier(random_state=0),
#                           {"activation": ["relu", "gelu", "tanh"]}, cv=5)
#     search.fit(X, y)
#     search.best_params_
