"""Sphinx configuration of the sklearn-cnn documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (the ``docs``
extra installs what it needs; ``tests/test_sphinx.py`` runs this build).

The pages are Markdown (MyST), so the same files read well on GitHub and
are executed, block by block, by ``tests/test_docs.py``. The API reference
is generated from the numpydoc docstrings (autosummary + numpydoc), and the
gallery runs every script in ``examples/`` (sphinx-gallery), as
scikit-learn-contrib projects do.
"""

import os
import re

import sklearn_cnn

project = "sklearn-cnn"
author = "The sklearn-cnn developers"
copyright = "2026, The sklearn-cnn developers"
release = sklearn_cnn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "sphinx_design",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]

# MyST: ```{directive} fences and $math$; headings get anchors for links.
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# API reference: one page per public name, from its numpydoc docstring.
autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # the numpydoc sections say the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Names like "array-like" or "int" in a Parameters type are text, not links.
numpydoc_xref_param_type = False

# The gallery: every example runs during the build, its output and figures
# shown under its code. ``SPHINX_GALLERY_PLOT=0`` builds without running
# them (a quick look at the text while writing).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",
    "plot_gallery": os.environ.get("SPHINX_GALLERY_PLOT", "True"),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "doc_module": ("sklearn_cnn",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_cnn": None},
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "matplotlib_animations": False,
    # Examples print what they mean to show; a last expression is not echoed.
    "capture_repr": (),
    # Examples that draw nothing: nine of scikit-learn's digits.
    "default_thumb_file": os.path.join(os.path.dirname(__file__), "_static",
                                       "example_thumbnail.png"),
}

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-cnn {release}"
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 7,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = ["_static"]
html_css_files = ["custom.css"]
# Pages with no sub-pages get no (empty) left sidebar: their code has the room.
html_sidebars = {page: [] for page in
                 ("index", "getting_started", "faq", "benchmarks", "architecture")}
html_show_sourcelink = False

# Examples draw with matplotlib off-screen.
os.environ.setdefault("MPLBACKEND", "Agg")


#: ``:ref:`` and ``:term:`` roles, with an optional ``title <target>``.
_FOREIGN_ROLE = re.compile(r":(?:ref|term):`([^`<]+?)(?:\s*<[^>]*>)?`")


def _plain_foreign_roles(app, what, name, obj, options, lines):
    """Inherited scikit-learn docstrings point at scikit-learn's own pages.

    ``get_params``, ``score`` and ``get_metadata_routing`` come from
    scikit-learn with ``:ref:``/``:term:`` roles whose targets live in
    scikit-learn's site; here their text is kept as plain words (the build
    has no network for intersphinx, and warnings are errors).
    """
    if not getattr(obj, "__module__", "sklearn_cnn").startswith("sklearn_cnn"):
        lines[:] = [_FOREIGN_ROLE.sub(r"\1", line) for line in lines]


#: A fenced code block of a Markdown page (left as it is).
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
#: A page's ``docs/page.md`` and ``examples/name.py`` code spans.
_PAGE_SPAN = re.compile(r"`docs/(\w+)\.md`")
_EXAMPLE_SPAN = re.compile(r"`examples/(\w+)\.py`")


def _link_file_names(app, docname, source):
    """Make the pages' mentions of other pages and of examples links on the site.

    The Markdown pages name ``docs/page.md`` and ``examples/name.py`` as code,
    which reads right on GitHub and in a checkout; on the site the same words
    link to the page and to the example's gallery page.
    """
    if app.env.doc2path(docname).suffix != ".md":
        return
    # Code blocks keep their text: set them aside, rewrite the prose, put them back.
    fences = [match.group(0) for match in _FENCE.finditer(source[0])]
    text = _FENCE.sub("\0", source[0])
    text = _PAGE_SPAN.sub(lambda m: f"[`docs/{m[1]}.md`]({m[1]}.md)", text)
    text = _EXAMPLE_SPAN.sub(
        lambda m: f"{{ref}}`examples/{m[1]}.py <sphx_glr_auto_examples_{m[1]}.py>`", text)
    for fence in fences:
        text = text.replace("\0", fence, 1)
    source[0] = text


def setup(app):
    app.connect("autodoc-process-docstring", _plain_foreign_roles)
    app.connect("source-read", _link_file_names)
