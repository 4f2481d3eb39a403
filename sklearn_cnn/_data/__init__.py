"""User input to tensors: arrays, PIL images, files and lazy images; labels, weights.

Every accepted layout, decoded files and one size for images of different
sizes, DataLoader workers for files, ``LazyImages``, targets and sample
weights. Nothing here knows of training or of the estimator.
"""
