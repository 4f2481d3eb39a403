"""The documentation site builds with warnings as errors, gallery and API pages included.

The build runs every script of examples/ (sphinx-gallery), renders every
docstring (numpydoc, autosummary) and every page of docs/ (MyST), as a user
building the site would: ``python -m sphinx -W -b html docs docs/_build/html``.
Its generated sources go where Sphinx puts them (docs/generated,
docs/auto_examples, both git-ignored); the HTML goes to a temporary folder.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest
from _public import public_objects

ROOT = pathlib.Path(__file__).parent.parent
DOCS = ROOT / "docs"
EXAMPLES = sorted(path.stem for path in (ROOT / "examples").glob("*.py"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("sphinx_gallery")
    out = tmp_path_factory.mktemp("site")
    examples_before = sorted((ROOT / "examples").iterdir())
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
        capture_output=True, text=True, cwd=ROOT, timeout=3600,
        env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    # The gallery runs each example in examples/: none may leave files there.
    assert sorted((ROOT / "examples").iterdir()) == examples_before
    return out / "html"


@pytest.mark.slow
def test_every_page_is_built(site):
    pages = {path.stem for path in DOCS.glob("*.md")}
    assert {"index", "getting_started", "user_guide", "api", "faq", "architecture",
            "benchmarks"} <= pages
    for page in pages:
        html = (site / f"{page}.html").read_text()
        assert "<h1>" in html, page


@pytest.mark.slow
def test_every_public_name_has_an_api_page_with_its_examples(site):
    for name in public_objects():
        html = (site / "generated" / f"{name}.html").read_text()
        assert 'class="rubric">Examples' in html or ">Examples<" in html, name


@pytest.mark.slow
def test_every_example_ran_into_the_gallery(site):
    """Each example has a page with the output it printed or the figures it drew."""
    index = (site / "auto_examples" / "index.html").read_text()
    for example in EXAMPLES:
        assert f"{example}.html" in index, example
        html = (site / "auto_examples" / f"{example}.html").read_text()
        ran = "sphx-glr-script-out" in html or re.search(r"sphx_glr_\w+_\d+\.png", html)
        assert ran, f"{example}: no output in its gallery page (did it run?)"


@pytest.mark.slow
def test_the_guide_links_resolve(site):
    """Links between pages point at pages that were built."""
    for page in site.glob("*.html"):
        for target in re.findall(r'href="([\w/.-]+\.html)(?:#[\w-]*)?"', page.read_text()):
            assert (page.parent / target).resolve().is_file(), (page.name, target)
