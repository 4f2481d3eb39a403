"""
A Pipeline of image transformers and a CNN on RGB photos
========================================================

A scikit-learn Pipeline of image transformers and a CNN on RGB photos.

scikit-learn ships two photos (``load_sample_images``: a Chinese temple and a
flower), as uint8 arrays laid out channels last, the way PIL and imageio give
images. We cut 24x24 patches out of each and learn to tell which photo a patch
comes from: ``Resize`` brings them to 32x32, ``ChannelStandardizer`` learns
each colour channel's mean and spread, and ``CNNClassifier`` trains on the
result. Every step takes the channels-last uint8 array as it is.

Run: ``python examples/pipeline_rgb.py``
"""

import numpy as np
from sklearn.datasets import load_sample_images
from sklearn.feature_extraction.image import extract_patches_2d
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_cnn import CNNClassifier
from sklearn_cnn.preprocessing import ChannelStandardizer, Resize

photos = load_sample_images()
patches = [extract_patches_2d(photo, (24, 24), max_patches=200, random_state=0)
           for photo in photos.images]
X = np.concatenate(patches)                               # (400, 24, 24, 3) uint8
y = np.repeat(["china", "flower"], [len(p) for p in patches])
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

pipe = make_pipeline(Resize((32, 32)), ChannelStandardizer(), CNNClassifier(random_state=0))
pipe.fit(X_train, y_train)
print(f"input {X_train.shape} {X_train.dtype} -> network input {pipe[-1].input_shape_}")
print(f"learned channel means {np.round(pipe[1].mean_, 3)}")
print(classification_report(y_test, pipe.predict(X_test), digits=3))
print(f"held-out accuracy: {pipe.score(X_test, y_test):.4f}")
