"""
Grad-CAM and saliency: does the network look at the shape?
==========================================================

``make_shapes`` draws one bright shape (square, disc or triangle) per image at
a random place on a noisy background, and says where it is (``boxes``): the
right explanation is known. We train a small CNN to name the shape, then ask
``grad_cam`` where in each test image the evidence for the predicted class
lies, and ``saliency`` which pixels move that class's score most, and count
the images whose Grad-CAM heat is stronger inside the shape's box than over
the whole image.

The figure shows six test images with their box, their Grad-CAM heat map
and their saliency map. It is saved only when a path is given.

Run: python examples/grad_cam.py [FIGURE.png]
(needs: pip install "sklearn-cnn[explain,plot]")
"""

import sys

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from sklearn.model_selection import train_test_split

from sklearn_cnn import CNNClassifier
from sklearn_cnn.datasets import SHAPES, make_shapes
from sklearn_cnn.explain import grad_cam, saliency

# %%
# Train a small CNN to name the shape
# -----------------------------------

X, y, boxes = make_shapes(600, image_size=24, return_boxes=True, random_state=0)
X_train, X_test, y_train, y_test, _, boxes_test = train_test_split(
    X, y, boxes, test_size=100, stratify=y, random_state=0
)
clf = CNNClassifier(conv_channels=(16, 32), dense_units=(32,), dropout=0.0, augment=None,
                    batch_size=32, lr=0.01, max_epochs=10, random_state=0)
clf.fit(X_train, y_train)
print(f"held-out accuracy: {clf.score(X_test, y_test):.2f}")

# %%
# Where is the evidence?
# ----------------------
# One (24, 24) map per image, in [0, 1], for the class predicted for it.
heat = grad_cam(clf, X_test)
sal = saliency(clf, X_test)
inside = np.array([h[top:bottom, left:right].mean()
                   for h, (top, left, bottom, right) in zip(heat, boxes_test, strict=True)])
on_shape = int((inside > heat.mean(axis=(1, 2))).sum())
print(f"Grad-CAM heat stronger inside the shape's box than over the image: "
      f"{on_shape} of {len(X_test)} test images")

# %%
# Draw the first six test images, their maps and the shape's box
# ---------------------------------------------------------------

predicted = clf.predict(X_test)
fig, axes = plt.subplots(3, 6, figsize=(10, 5.4), layout="constrained")
for column, i in enumerate(range(6)):
    top, left, bottom, right = boxes_test[i]
    image_ax, heat_ax, sal_ax = axes[:, column]
    image_ax.imshow(X_test[i], cmap="gray", vmin=0, vmax=1)
    # imshow puts pixel (row, col) at (col, row), its edges half a pixel out.
    image_ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                                 fill=False, edgecolor="tab:green", linewidth=1.5))
    image_ax.set_title(f"predicted: {SHAPES[predicted[i]]}", fontsize=9)
    heat_ax.imshow(X_test[i], cmap="gray", vmin=0, vmax=1)
    heat_ax.imshow(heat[i], cmap="jet", alpha=0.5, vmin=0, vmax=1)
    sal_ax.imshow(sal[i], cmap="hot", vmin=0, vmax=1)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
for ax, label in zip(axes[:, 0], ["image and box", "Grad-CAM", "saliency"], strict=True):
    ax.set_ylabel(label)

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1])
    print(f"figure saved to {sys.argv[1]}")
else:
    plt.show()
