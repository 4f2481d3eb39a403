"""
Regression: the angle a digit was turned by
===========================================

Images to numbers with ``CNNRegressor``: each handwritten digit is turned by
an angle between -45 and 45 degrees, and the network learns to read the
angle back, the task of deskewing a scanned page. A ridge regression on the
pixels, the classical baseline, misses by about twice as much: a rotation
moves every pixel, so the angle is no linear function of them.

The target is in degrees, far from unit scale: the regressor standardises
it inside and predicts in degrees. ``augment="auto"`` adds no augmentation
for a regressor, since a rotation of the image would change the answer.
scikit-learn's ``PredictionErrorDisplay`` draws the predictions against the
truth.

Run: python examples/regression_angle.py
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.ndimage import rotate, zoom
from sklearn.datasets import load_digits
from sklearn.linear_model import RidgeCV
from sklearn.metrics import PredictionErrorDisplay, mean_absolute_error
from sklearn.model_selection import train_test_split

from sklearn_cnn import CNNRegressor

rng = np.random.default_rng(0)
digits, _ = load_digits(return_X_y=True)
images = np.stack([zoom(d.reshape(8, 8), 2, order=1) for d in digits])  # 16 x 16
angles = rng.uniform(-45, 45, len(images))
X = np.stack([rotate(image, angle, reshape=False, order=1)
              for image, angle in zip(images, angles, strict=True)])
X_train, X_test, y_train, y_test = train_test_split(X, angles, test_size=0.25, random_state=0)

reg = CNNRegressor(random_state=0).fit(X_train, y_train)
ridge = RidgeCV(alphas=np.logspace(-2, 4, 13)).fit(X_train.reshape(len(X_train), -1), y_train)
ridge_pred = ridge.predict(X_test.reshape(len(X_test), -1))
cnn_pred = reg.predict(X_test)
print(f"CNNRegressor: R2 {reg.score(X_test, y_test):.3f}, "
      f"mean error {mean_absolute_error(y_test, cnn_pred):.1f} degrees")
print(f"ridge on pixels: R2 {ridge.score(X_test.reshape(len(X_test), -1), y_test):.3f}, "
      f"mean error {mean_absolute_error(y_test, ridge_pred):.1f} degrees")

fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
for ax, (name, prediction) in zip(axes, [("CNNRegressor", cnn_pred),
                                          ("ridge on pixels", ridge_pred)], strict=True):
    PredictionErrorDisplay.from_predictions(y_test, prediction, kind="actual_vs_predicted",
                                            ax=ax)
    ax.set_title(name)
fig.tight_layout()
plt.show()
