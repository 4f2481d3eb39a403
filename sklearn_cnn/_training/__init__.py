"""Training with skorch: the net, its step, its batches, its callbacks.

``CNNNet`` (skorch's ``NeuralNetClassifier`` with the training step of
sklearn-cnn), the step as a CUDA graph, batches on the device, the hold-out,
optimizers, device and precision choices, each fit's randomness, the LR
finder and ``callbacks/``. Nothing here knows of the estimator.
"""

from .._persistence.compat import old_name


def __getattr__(name):
    # Pickles of earlier versions name sklearn_cnn._training.OneCycleLR and
    # HoldoutSplit, from when it was a module (_persistence.compat).
    return old_name(__name__, name)
