"""Image data sets: a folder of labelled images, and synthetic shapes.

``load_image_folder`` reads the layout torchvision's ``ImageFolder`` and
Keras' ``image_dataset_from_directory`` read (one subfolder per class);
``make_shapes`` draws a data set whose right explanation is known;
``verify_images`` lists every unreadable, truncated or odd-mode file of a
folder before training, and those read otherwise than stored (16-bit scaled,
turned by EXIF, animated); ``add_problems`` plants known problems in a set, to
measure an audit (``sklearn_cnn.audit``) on it.
"""

from ._folder import load_image_folder
from ._problems import add_problems
from ._shapes import SHAPES, make_shapes
from ._verify import verify_images

__all__ = ["SHAPES", "add_problems", "load_image_folder", "make_shapes", "verify_images"]
