"""docs/architecture.md stays true: the import contracts, and every list it keeps.

docs/architecture.md says what each private subpackage holds and which may
import which; import-linter checks the contracts (pyproject.toml's
[tool.importlinter]), these tests run it. They also read the page, the
package and tests/ at test time, so that a module, a command, a skorch
reliance or a test file added without its line in the docs fails here: the
layout block against the files under sklearn_cnn/, the commands of the
parser against docs/cli.md and the layout's line of ``_cli/commands.py``,
the tests of tests/_training/test_skorch_points.py against the page's list
of skorch reliances, and the test files of tests/'s subfolders against the
modules they are named after and the page's list of the others. Each check
is a function of the texts and trees it compares, and a test per check
shows that it fails on a copy with one line missing.
"""

import argparse
import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[1]
PACKAGE = ROOT / "sklearn_cnn"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def test_import_contracts_are_kept(monkeypatch):
    pytest.importorskip("importlinter", reason="import-linter is in the dev extra")
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_a_forbidden_import_breaks_a_contract(tmp_path, monkeypatch):
    # The same contracts on a copy of the package where the model imports skorch.
    import shutil
    import sys

    pytest.importorskip("importlinter", reason="import-linter is in the dev extra")
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
    assert top == ["__init__.py", "__main__.py", "_cpu.py", "_names.py", "_process_group.py",
                   "_version.py", "_warnings.py"]


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


# ------------------------------------------- the docs' lists against the tree


def section(text: str, heading: str) -> str:
    """The body of the Markdown section ``heading`` (a ``## `` line), up to the next one."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/architecture.md has no section '## {heading}'"
    return match.group(1)


def layout_lines(text: str) -> dict[str, str]:
    """The layout block of docs/architecture.md: each path it lists, with its line's words.

    Paths are relative to sklearn_cnn/, packages end with "/": "_cli/",
    "_cli/commands.py", "export.py". A line lists one or more names (each
    ending in "/" or ".py"), then says what they hold; two spaces of
    indentation nest a line in the package above it.
    """
    block = re.search(r"```\n(.*?)^```", section(text, "The layout"), re.M | re.S).group(1)
    lines, parents = {}, {}
    for line in block.splitlines()[1:]:  # the first is sklearn_cnn/ itself
        depth = (len(line) - len(line.lstrip(" "))) // 2
        words = line.split()
        names = []
        while words and re.fullmatch(r"[\w.]+(/|\.py)", words[0]):
            names.append(words.pop(0))
        assert names, f"a line of the layout names no module: {line!r}"
        parent = parents.get(depth - 1, "") if depth > 1 else ""
        for name in names:
            lines[parent + name] = " ".join(words)
        if len(names) == 1 and names[0].endswith("/"):
            parents[depth] = parent + names[0]
    return lines


def package_paths(package: pathlib.Path) -> set[str]:
    """What the layout must list: every private package and module, each public subpackage.

    A public subpackage is one line (its modules are its own affair); a
    package's ``__init__.py`` may be listed, and need not be.
    """
    paths = set()
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).parts
        if "__pycache__" in parts or (path.name == "__init__.py" and len(parts) == 1):
            continue
        if len(parts) > 1 and not parts[0].startswith("_"):  # a public subpackage
            paths.add(parts[0] + "/")
            continue
        paths.update("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
        if path.name != "__init__.py":
            paths.add("/".join(parts))
    return paths


def layout_differences(text: str, package: pathlib.Path) -> list[str]:
    listed = set(layout_lines(text))
    existing = package_paths(package)
    missing = [f"{path} has no line in the layout" for path in sorted(existing - listed)]
    extra = [f"the layout lists {path}, which does not exist" for path in sorted(listed - existing)
             if not (path.endswith("__init__.py") and (package / path).is_file())]
    return missing + extra


def test_the_layout_lists_every_module_and_no_other():
    assert layout_differences(ARCHITECTURE.read_text(), PACKAGE) == []


def _tree_of_empty_files(tmp_path) -> pathlib.Path:
    copy = tmp_path / "sklearn_cnn"
    for path in PACKAGE.rglob("*.py"):
        if "__pycache__" not in path.parts:
            target = copy / path.relative_to(PACKAGE)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
    return copy


def test_a_module_or_package_without_its_line_in_the_layout_fails(tmp_path):
    copy = _tree_of_empty_files(tmp_path)
    (copy / "_model" / "unlisted.py").touch()
    (copy / "_new").mkdir()
    (copy / "_new" / "__init__.py").touch()
    text = ARCHITECTURE.read_text()
    differences = layout_differences(text, copy)
    assert "_model/unlisted.py has no line in the layout" in differences
    assert "_new/ has no line in the layout" in differences
    # And a line whose module is gone:
    (copy / "_cpu.py").unlink()
    assert "the layout lists _cpu.py, which does not exist" in layout_differences(text, copy)


def parser_commands(parser: argparse.ArgumentParser) -> set[str]:
    """The subcommands of ``parser``."""
    (subparsers,) = [action for action in parser._actions
                     if isinstance(action, argparse._SubParsersAction)]
    return set(subparsers.choices)


def cli_md_commands(text: str) -> set[str]:
    """The commands of docs/cli.md's table: the first word of each row's first cell."""
    table = re.search(r"^\| command \| what it does \|\n\|[-|]+\|\n((?:\|.*\n)+)", text, re.M)
    assert table, "docs/cli.md has no table of commands"
    return set(re.findall(r"^\| `([\w-]+)", table.group(1), re.M))


def layout_commands(text: str) -> set[str]:
    """The commands the layout's line of ``_cli/commands.py`` names, after its colon."""
    line = layout_lines(text)["_cli/commands.py"]
    return {word.strip() for word in line.rsplit(":", 1)[-1].split(",")}


def command_differences(parser, cli_md: str, architecture: str) -> list[str]:
    commands = parser_commands(parser)
    return [f"{where} {verb} {sorted(names)}"
            for where, documented in [("docs/cli.md's table", cli_md_commands(cli_md)),
                                      ("docs/architecture.md's _cli/commands.py line",
                                       layout_commands(architecture))]
            for verb, names in [("lacks", commands - documented),
                                ("names no command", documented - commands)] if names]


def test_every_command_has_its_row_in_cli_md_and_its_name_in_the_layout():
    from sklearn_cnn._cli.main import build_parser

    assert command_differences(build_parser(), (ROOT / "docs" / "cli.md").read_text(),
                               ARCHITECTURE.read_text()) == []


def test_a_command_without_its_row_fails():
    from sklearn_cnn._cli.main import build_parser

    parser = build_parser()
    (subparsers,) = [action for action in parser._actions
                     if isinstance(action, argparse._SubParsersAction)]
    subparsers.add_parser("undocumented")
    differences = command_differences(parser, (ROOT / "docs" / "cli.md").read_text(),
                                      ARCHITECTURE.read_text())
    assert [line for line in differences if "lacks" in line and "undocumented" in line] == [
        "docs/cli.md's table lacks ['undocumented']",
        "docs/architecture.md's _cli/commands.py line lacks ['undocumented']"]


SKORCH_SECTION = "skorch: what CNNNet extends, and what it relies on"
SKORCH_POINTS = ROOT / "tests" / "_training" / "test_skorch_points.py"


def reliance_subjects(source: str) -> dict[str, list[str]]:
    """What each test of test_skorch_points.py checks, by test.

    A parametrized test: its ``ids``; any other: the first ``name`` its
    docstring quotes (an empty list where it quotes none).
    """
    subjects = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
            continue
        ids = [keyword.value for decorator in node.decorator_list
               if isinstance(decorator, ast.Call) for keyword in decorator.keywords
               if keyword.arg == "ids"]
        if ids:
            subjects[node.name] = ast.literal_eval(ids[0])
        else:
            quoted = re.findall(r"``([^`]+)``", ast.get_docstring(node) or "")
            subjects[node.name] = quoted[:1]
    return subjects


def reliance_differences(source: str, architecture: str) -> list[str]:
    body = section(architecture, SKORCH_SECTION)
    listed = {name for bullet in re.findall(r"^- .*?(?=^\S|\Z)", body, re.M | re.S)
              for name in re.findall(r"`([^`]+)`", bullet)}

    def mentioned(subject):
        return any(name == subject or name.endswith("." + subject)
                   or subject.endswith("." + name) for name in listed)

    differences = []
    for test, subjects in reliance_subjects(source).items():
        if not subjects:
            differences.append(f"{test} quotes no ``subject`` in its docstring")
        differences += [f"{test}: `{subject}` is not in the page's list of reliances"
                        for subject in subjects if not mentioned(subject)]
    return differences



def test_every_skorch_reliance_tested_is_in_the_list_of_the_page():
    assert reliance_differences(SKORCH_POINTS.read_text(), ARCHITECTURE.read_text()) == []


def test_a_skorch_reliance_tested_but_not_listed_fails():
    added = '''

def test_a_new_reliance():
    """``NeuralNet._unlisted_private_name`` is still there."""
'''
    assert reliance_differences(SKORCH_POINTS.read_text() + added, ARCHITECTURE.read_text())[-1] \
        == ("test_a_new_reliance: `NeuralNet._unlisted_private_name` is not in the page's list "
            "of reliances")
    assert reliance_differences("def test_silent():\n    pass\n", ARCHITECTURE.read_text()) == [
        "test_silent quotes no ``subject`` in its docstring"]


def misplaced_test_files(tests: pathlib.Path, package: pathlib.Path,
                          architecture: str) -> list[str]:
    """Test files of tests/'s subfolders named after no module, and not in the page's list."""
    listed = set(re.findall(r"`tests/([\w/]+\.py)`", section(architecture, "The tests")))
    differences = [f"the page lists tests/{path}, which does not exist"
                   for path in sorted(listed) if not (tests / path).is_file()]
    for path in sorted(tests.glob("*/**/test_*.py")):
        relative = path.relative_to(tests)
        folder, name = package / relative.parent, relative.stem.removeprefix("test_")
        own = [folder / f"{name}.py", folder / f"_{name}.py", folder / name / "__init__.py"]
        if not any(module.is_file() for module in own) and relative.as_posix() not in listed:
            differences.append(f"tests/{relative.as_posix()} names no module of "
                               f"sklearn_cnn/{relative.parent.as_posix()}/ and is not listed")
    return differences



def test_every_test_file_of_a_subfolder_names_its_module_or_is_listed():
    assert misplaced_test_files(ROOT / "tests", PACKAGE, ARCHITECTURE.read_text()) == []


def test_a_test_file_named_after_no_module_and_not_listed_fails(tmp_path):
    tests = tmp_path / "tests"
    for path in (ROOT / "tests").glob("*/**/test_*.py"):
        target = tests / path.relative_to(ROOT / "tests")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    (tests / "_model" / "test_behaviour.py").touch()
    (tests / "_training" / "test_skorch_points.py").unlink()
    differences = misplaced_test_files(tests, PACKAGE, ARCHITECTURE.read_text())
    assert "the page lists tests/_training/test_skorch_points.py, which does not exist" \
        in differences
    assert ("tests/_model/test_behaviour.py names no module of sklearn_cnn/_model/ and is not "
            "listed") in differences

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
