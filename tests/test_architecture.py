"""The layout keeps its import contracts (pyproject.toml's [tool.importlinter]).

docs/architecture.md says what each private subpackage holds and which may
import which; import-linter checks the contracts, this test runs it.
"""

import pathlib

import pytest

pytest.importorskip("importlinter", reason="import-linter is in the dev extra")

ROOT = pathlib.Path(__file__).parents[1]


def test_import_contracts_are_kept(monkeypatch):
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_a_forbidden_import_breaks_a_contract(tmp_path, monkeypatch):
    # The same contracts on a copy of the package where the model imports skorch.
    import shutil
    import sys

    from importlinter.cli import lint_imports

    copy = tmp_path / "sklearn_cnn"
    shutil.copytree(ROOT / "sklearn_cnn", copy, ignore=shutil.ignore_patterns("__pycache__"))
    convnet = copy / "_model" / "convnet.py"
    convnet.write_text(convnet.read_text() + "\nimport skorch  # noqa\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "sklearn_cnn" or m.startswith("sklearn_cnn.")]:
        monkeypatch.delitem(sys.modules, name)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 1


def test_no_private_module_is_left_at_the_top_but_the_shared_leaves():
    top = sorted(p.name for p in (ROOT / "sklearn_cnn").glob("_*.py"))
    assert top == ["__init__.py", "__main__.py", "_cpu.py", "_names.py", "_version.py",
                   "_warnings.py"]


def test_importing_the_package_leaves_torchvision_for_first_use():
    # torchvision's import takes about a second (it imports torch._dynamo, which
    # torch itself imports only at a first optimizer): a process that imports
    # sklearn_cnn and does not train need not pay it.
    import subprocess
    import sys

    code = ("import sys, sklearn_cnn; "
            "print(sorted(m for m in ('torchvision', 'torch._dynamo') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def _training_sources():
    return sorted((ROOT / "sklearn_cnn" / "_training").rglob("*.py"))


def test_training_reads_no_estimator_by_name():
    """Below the estimator, nothing clones an estimator or reads its parameters or net_.

    import-linter sees imports; this sees the runtime lookups it cannot: a
    ``get_params()`` dict read by key, ``clone(estimator)``, ``estimator.net_``.
    """
    import ast

    found = []
    for path in _training_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("get_params", "net_"):
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "sklearn.base" and any(
                    alias.name == "clone" for alias in node.names):
                found.append(f"{path.name}:{node.lineno} clone")
    assert found == []
