"""``CNNClassifier`` and the parts it is assembled from.

Parameter checks, the builders of its skorch net, prediction, the state a
save or a pickle holds, and the pixel range it was fitted on. It uses the
model, training, data and persistence subpackages; none of them uses it.
"""
