"""Every code snippet of README.md and docs/*.md runs as written, on its own.

A ```python block runs in a fresh namespace (a reader copies one snippet, not
the page), in an empty working directory, with matplotlib drawing off-screen.
A ```bash block runs in bash -e, in an empty working directory holding a
link to examples/. Blocks that install (``pip install``) are the commands
.ci/run itself executes, and are checked there.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
#: Pages whose snippets train for more than a few seconds on 2 cores.
SLOW_PAGES = {"README.md", "cli.md", "cluster.md", "getting_started.md", "reproducibility.md",
              "user_guide.md"}


def snippets(page: pathlib.Path, language: str) -> list[tuple[int, str]]:
    """``(line number, code)`` of each ```language block of ``page``."""
    text = page.read_text()
    return [(text.count("\n", 0, match.start()) + 2, match.group(2))
            for match in FENCE.finditer(text) if match.group(1) == language]


def page_params(language: str):
    return [pytest.param(page, id=page.name, marks=[pytest.mark.slow] * (page.name in SLOW_PAGES))
            for page in PAGES if snippets(page, language)]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    environment = dict(os.environ)
    yield tmp_path
    # A snippet may change the environment (starting a Dask cluster sets
    # OMP_NUM_THREADS and others): the next tests get it as it was.
    os.environ.clear()
    os.environ.update(environment)


@pytest.mark.parametrize("page", page_params("python"))
def test_python_snippets_run_as_written(page, workdir):
    import matplotlib

    matplotlib.use("Agg")
    for line, code in snippets(page, "python"):
        namespace = {"__name__": "__main__"}
        exec(compile(code, f"{page.name}:{line}", "exec"), namespace)


@pytest.mark.parametrize("page", page_params("bash"))
def test_shell_snippets_run_as_written(page, workdir):
    for line, code in snippets(page, "bash"):
        if "pip install" in code:
            continue  # .ci/run runs these, exactly as written
        # The environment's own scripts (sklearn-cnn) first on the PATH.
        path = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        result = subprocess.run(["bash", "-e", "-c", code], capture_output=True, text=True,
                                timeout=900, env={**os.environ, "PATH": path})
        assert result.returncode == 0, f"{page.name}:{line}\n{code}\n{result.stderr}"


def test_every_page_with_code_is_checked():
    """A snippet in another language would escape the tests above."""
    for page in PAGES:
        languages = {match.group(1) for match in FENCE.finditer(page.read_text())}
        assert languages <= {"python", "bash"}, (page.name, languages)
