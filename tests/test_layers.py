"""Dependencies point one way: processes import only the shared package, never each other.

`edge/`, `ingest/` and `api/` talk through the broker and the stores; what they share lives in
`landfill/`, which imports none of them. Also checked here: no function outside the tests is
longer than 60 lines, and no module imports another module's private names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ("edge", "ingest", "api")
SHARED = "landfill"
SOURCE_PACKAGES = (*PROCESSES, SHARED, "deploy", "dashboards", "bench")
MAX_FUNCTION_LINES = 60


def _modules(package: str) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module, imported names) for every absolute import, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, [a.name for a in node.names]


def _violations(package: str, forbidden: set[str]) -> list[str]:
    found = []
    for path, tree in _modules(package):
        for line, module, _ in _imports(tree):
            if module.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", PROCESSES)
def test_a_process_imports_no_other_process(package: str) -> None:
    others = set(PROCESSES) - {package}
    assert _violations(package, others) == []


def test_the_shared_package_imports_no_process() -> None:
    assert _violations(SHARED, set(PROCESSES)) == []


def test_the_check_sees_an_import_inside_a_function() -> None:
    tree = ast.parse("def f():\n    from ingest.fill import tracker\n")
    assert [m for _, m, _ in _imports(tree)] == ["ingest.fill"]


@pytest.mark.parametrize("package", SOURCE_PACKAGES)
def test_no_private_name_is_imported_from_another_module(package: str) -> None:
    found = []
    for path, tree in _modules(package):
        for line, module, names in _imports(tree):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and module.split(".")[0] in SOURCE_PACKAGES:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {private} from {module}")
    assert found == []


@pytest.mark.parametrize("package", SOURCE_PACKAGES)
def test_no_function_is_longer_than_60_lines(package: str) -> None:
    long = []
    for path, tree in _modules(package):
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {length}")
    assert long == []
