"""The service's layout holds: packages named for what they hold, no module loose at the top, no import circle."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "service"
TOP_LEVEL = {"__init__.py", "service.py", "admin.py", "import_model.py"}


def service_modules() -> dict[str, Path]:
    """Every Python module of ``service/`` (migration scripts aside) by its dotted name."""
    modules = {}
    for path in SERVICE.rglob("*.py"):
        relative = path.relative_to(REPO)
        if "versions" in relative.parts or "node_modules" in relative.parts:
            continue
        name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    return modules


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The service modules ``path`` imports, anywhere in it (``TYPE_CHECKING`` blocks and functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("service"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("service")}
    return {name for name in found if name in modules}


def test_no_module_is_loose_at_the_top_of_service():
    assert {path.name for path in SERVICE.glob("*.py")} <= TOP_LEVEL


def test_service_modules_import_no_circle():
    modules = service_modules()
    graph = {name: imports_of(path, modules) - {name} for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError("import circle: " + " -> ".join([*trail[trail.index(name) :], name]))
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
