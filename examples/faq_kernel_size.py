"""
Choosing a kernel size
======================

A ``GridSearchCV`` over ``kernel_size`` (3, 5, 7) of ``CNNClassifier`` on
two tasks (see ``faq_tasks.py``): scikit-learn's 8x8 digits, and 32x32 RGB
patches of its two sample photos labelled by photo and quarter. Each
candidate is cross-validated (stratified folds); the table gives its mean
and spread of test accuracy and its mean fit time. The kernel size is one
more hyperparameter: measure it on your data, the way this script does.

Run: ``python examples/faq_kernel_size.py`` (quick, about half a minute on
two cores) or ``python examples/faq_kernel_size.py --full`` (the FAQ's
table: all 1797 digits, 800 patches, 5 folds, a wider network, 15 epochs;
several minutes).
"""

# %%
# The search
# ----------
# The shared parameters (a small network, a few epochs) and the folds come
# from ``faq_tasks.search_settings``; only ``kernel_size`` varies.
# ``refit=False``: the table is what we want, not a refitted best model.
from faq_tasks import parse_full, plot_scores, search_tasks

full = parse_full("Choosing a kernel size")
# A GridSearchCV(CNNClassifier(...), {"kernel_size": [3, 5, 7]}, cv=StratifiedKFold(...))
# on each task, its cv_results_ printed as a table:
searches = search_tasks({"kernel_size": [3, 5, 7]}, full)
plot_scores(searches, "kernel_size")

# %%
# On your own data
# ----------------
# Put the images (any layout ``CNNClassifier`` accepts) and labels in
# ``X, y`` and search the kernel size together with what it trades off
# against, such as the depth and width (``conv_channels``) and the
# ``padding``::
#
#     search = GridSearchCV(
#         CNNClassifier(random_state=0),
#         {"kernel_size": [3, 5, 7], "conv_channels": [(16, 32), (32, 64)]},
#         cv=5, n_jobs=2)
#     search.fit(X, y)
#     search.best_params_
