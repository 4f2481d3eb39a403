"""Every image transformer of ``sklearn_cnn.preprocessing``, for tests that run on each.

A module, not a fixture: ``parametrize`` and ``parametrize_with_checks``
need the list when pytest collects the tests. Parameters are small, so the
transformers run fast on the checks' tiny arrays.
"""

from sklearn_cnn import preprocessing as pp


def all_transformers() -> list:
    """A fresh instance of each transformer."""
    return [
        pp.ToImage(), pp.Rescale(), pp.Resize((4, 6)), pp.CenterCrop(3), pp.Pad(1),
        pp.Rotate(30.0), pp.Grayscale(), pp.ChannelStandardizer(), pp.ImageFileLoader(size=(3, 3)),
    ]
