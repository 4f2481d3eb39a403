"""scikit-learn's estimator checks, every one, on every image transformer."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_cnn.preprocessing import (
    CenterCrop,
    ChannelStandardizer,
    Grayscale,
    ImageFileLoader,
    Pad,
    Rescale,
    Resize,
    Rotate,
    ToImage,
)

TRANSFORMERS = [
    ToImage(),
    Rescale(),
    Resize((4, 6)),
    CenterCrop(3),
    Pad(1),
    Rotate(30.0),
    Grayscale(),
    ChannelStandardizer(),
    ImageFileLoader(size=(3, 3)),
]


@parametrize_with_checks(TRANSFORMERS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
