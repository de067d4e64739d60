"""The meter library must not depend on Home Assistant."""

import ast
from pathlib import Path

LIBRARY = Path(__file__).parents[2] / "custom_components" / "energy_meters" / "meterlib"


def test_no_home_assistant_imports() -> None:
    """Every module of the library imports only the standard library and its deps."""
    offenders: list[str] = []
    modules = sorted(LIBRARY.rglob("*.py"))
    assert modules, "library folder not found"
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{module.name}: {name}"
                for name in names
                if name.split(".")[0] == "homeassistant"
            ]
    assert offenders == []
