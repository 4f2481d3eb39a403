"""The version of sklearn-cnn (one place: the package and its files read it)."""

__version__ = "0.1.0"
