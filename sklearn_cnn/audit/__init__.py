"""Audit a labelled image set before trusting a score (extra ``audit``: cleanlab).

:func:`find_issues` finds likely label errors, near-duplicates, outliers
and, given a test set, images of the test set that are near-duplicates of
training images (a leak). docs/audit.md says what each finding means and
what to do with it.
"""

from ._issues import ISSUE_KINDS, find_issues

__all__ = ["ISSUE_KINDS", "find_issues"]
