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
SLOW_PAGES = {"README.md", "cli.md", "cluster.md", "distributed.md", "getting_started.md",
              "regression.md",
              "reproducibility.md",
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


#: The modules each installable part provides (its distributions' import names,
#: with what they pull in that a snippet may import), read with pyproject's lists.
BASE_MODULES = {"numpy", "PIL", "safetensors", "sklearn", "skorch", "tabulate", "torch",
                "torchvision", "tqdm", "scipy", "joblib", "sklearn_cnn"}
EXTRA_MODULES = {
    "plot": {"matplotlib"},
    "explain": {"captum", "matplotlib"},
    "export": {"onnx", "onnxruntime", "onnxscript"},
    "dask": {"dask", "distributed"},
    "audit": {"cleanlab", "pandas"},
}
#: Subpackages of sklearn-cnn that need an extra.
EXTRA_SUBPACKAGES = {"sklearn_cnn.plotting": "plot", "sklearn_cnn.explain": "explain",
                     "sklearn_cnn.export": "export", "sklearn_cnn.audit": "audit"}
INSTALL = re.compile(r"pip\s+install\s+([^`]*?)[`\n]")
EXTRAS = re.compile(r"\[([\w,]+)\]")


def named_installs(text: str) -> tuple[set[str], set[str]]:
    """The extras a page tells its reader to install (not the test and site ones),
    and the other packages it names after ``pip install``, as import names."""
    extras, packages = set(), set()
    for match in INSTALL.finditer(text):
        for word in match.group(1).split():
            word = word.strip("'\"")
            found = EXTRAS.search(word)
            if found:
                extras |= set(found.group(1).split(","))
            elif re.fullmatch(r"[A-Za-z][\w-]*", word):
                packages.add(word.replace("-", "_"))
    return extras - {"dev", "docs"}, packages


def imported(code: str) -> set[str]:
    """Every module a snippet imports, by its dotted name."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_extras_of_the_pyproject_are_those_checked():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(project["optional-dependencies"]) - {"dev", "docs"} == set(EXTRA_MODULES)
    assert len(project["dependencies"]) == len(BASE_MODULES) - 3  # + scipy, joblib, itself
    extras = project["optional-dependencies"]
    assert "matplotlib>=3.7" in extras["explain"]  # its pictures


@pytest.mark.parametrize("page", [pytest.param(p, id=p.name) for p in PAGES
                                  if snippets(p, "python")])
def test_snippets_import_only_what_their_page_installs(page):
    """A reader who ran the page's install command (pip install . and the extras
    it names) can run every snippet: no module from the test extras (pandas,
    mlxtend, scikit-image...)."""
    extras, packages = named_installs(page.read_text())
    allowed = BASE_MODULES.union(packages, *(EXTRA_MODULES[e] for e in extras))
    for line, code in snippets(page, "python"):
        for name in imported(code):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names:
                continue
            assert top in allowed, (
                f"{page.name}:{line} imports {name}, which neither pip install . nor the "
                f"extras the page names ({sorted(extras) or 'none'}) install")
            for package, extra in EXTRA_SUBPACKAGES.items():
                if name == package or name.startswith(package + "."):
                    assert extra in extras, (
                        f"{page.name}:{line} imports {name}, which needs the {extra!r} "
                        "extra, but the page does not say to install it")


#: How a machine was obtained, which a reader cannot place: the docs name a
#: machine by what it is (CPU, cores, load, GPU) and a run by date and commit.
OBTAINED = re.compile(r"\b(sessions?|leases?|lent|the xeon vm|the project's vm)\b", re.IGNORECASE)


@pytest.mark.parametrize("page", [pytest.param(p, id=p.name) for p in PAGES])
def test_machines_are_named_by_what_they_are(page):
    text = re.sub(r"InferenceSession|session(\.run|\s*=)", "", page.read_text())
    found = sorted({match.group(0) for match in OBTAINED.finditer(text)})
    assert not found, f"{page.name} says {found}"


@pytest.mark.parametrize("page", ["README.md", "docs/getting_started.md"])
def test_the_install_says_how_to_get_the_cpu_build_of_pytorch(page):
    text = " ".join((ROOT / page).read_text().split())
    assert ("pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu"
            in text), "the CPU-only install"
    assert "A machine with an NVIDIA GPU" in text
