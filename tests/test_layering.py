"""The dependency direction of DESIGN §3, read from the source with `ast` (no imports run).

- `apps/common` is the bottom layer: it imports no other app, not even under TYPE_CHECKING or
  inside a function, and names no other app's module in a dotted-path string (a task path, say).
- The leaf apps are imported by no other app: the sandbox is reached only over HTTP, through the
  same clients as the real platforms; the dashboard, the operations pages and the demo sit on top
  of everything.
- README's Layout names every app.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ROOT / "apps"
LEAF_APPS = ("emulator", "dashboard", "demo", "ops")
DOTTED_PATH = re.compile(r"apps(\.\w+)+")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str]]:
    """(line, module) for every import anywhere in the file, relative ones made absolute; for
    `from package import name`, `package.name` too (it may be a module)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def dotted_path_strings(path: Path) -> Iterator[tuple[int, str]]:
    """String literals that are nothing but a module path under apps (task paths, urls)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        value = node.value if isinstance(node, ast.Constant) else None
        if isinstance(value, str) and DOTTED_PATH.fullmatch(value):
            yield node.lineno, value


def app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "apps" else None


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def common_violations(common: Path, root: Path = ROOT) -> list[str]:
    found = []
    for path in python_files(common):
        references = [*imported_modules(path, root), *dotted_path_strings(path)]
        for line, module in references:
            app = app_of(module)
            if app not in (None, "common"):
                found.append(f"{path.relative_to(root)}:{line} apps.{app}")
    return sorted(set(found))


def test_common_imports_no_other_app():
    assert common_violations(APPS / "common") == []


@pytest.mark.parametrize("leaf", LEAF_APPS)
def test_no_other_app_imports_a_leaf_app(leaf):
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in python_files(APPS)
        if path.relative_to(APPS).parts[0] != leaf
        for line, module in imported_modules(path)
        if app_of(module) == leaf
    }
    assert sorted(found) == []


def test_the_check_sees_every_kind_of_import(tmp_path):
    """Guards the guard: the hiding places an import into a domain app could use."""
    common = tmp_path / "apps" / "common"
    (common / "management").mkdir(parents=True)
    (common / "types.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from apps.staff.models import User\n"
    )
    (common / "views.py").write_text(
        "def view():\n"
        "    import apps.clients.access\n"
        "    from apps import connections\n"
        "    from ..audit import models\n"
    )
    (common / "management" / "seed.py").write_text(
        'TASK = "apps.connections.tasks.sweep"\nfrom apps.common import jobs\n'
    )
    assert common_violations(common, root=tmp_path) == [
        "apps/common/management/seed.py:1 apps.connections",
        "apps/common/types.py:3 apps.staff",
        "apps/common/views.py:2 apps.clients",
        "apps/common/views.py:3 apps.connections",
        "apps/common/views.py:4 apps.audit",
    ]


def test_the_readme_layout_lists_every_app():
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout") :].split("```")[1]
    listed = set(re.findall(r"^apps/(\w+)/ ", layout, re.M))
    assert listed == {path.parent.name for path in APPS.glob("*/apps.py")}


def test_no_test_module_imports_another_packages_conftest():
    """Shared test code lives in helpers modules; a conftest belongs to its own package."""
    tests_root = Path(__file__).resolve().parent
    offenders = []
    for path in tests_root.rglob("*.py"):
        package = path.relative_to(tests_root).parts[0] if path.parent != tests_root else ""
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".conftest"):
                parts = (node.module or "").split(".")
                if len(parts) < 3 or parts[1] != package:
                    offenders.append(f"{path.relative_to(tests_root)} imports {node.module}")
    assert offenders == []
