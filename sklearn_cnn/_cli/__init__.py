"""The ``sklearn-cnn`` command line: its parser (``main``) and its commands."""

from .main import main

__all__ = ["main"]
