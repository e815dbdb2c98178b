"""The seams of docs/architecture.md, checked on the source: the fronts talk only to the runtime."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import gb_runtime
import gb_sessions

ROOT = Path(__file__).resolve().parents[1]
FRONTS = sorted([*ROOT.glob("gb_server/**/*.py"), *ROOT.glob("gb_kernel/**/*.py")])
LAYERS = {"gb_basic": set(), "gb_sessions": {"gb_basic"}, "gb_runtime": {"gb_basic", "gb_sessions"}}


def imported(path: Path) -> set[str]:
    """The top-level packages a module imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", FRONTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_front_uses_no_store_and_nothing_of_gb_sessions(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "gb_sessions" not in imported(path), "a front imports only gb_runtime (which re-exports what it needs)"
    assert not re.search(r"\.store\b|stores\.sql", text), "a front reads sessions through the runtime's API"
    assert not re.search(r"""["']frames["']|["']vars["']""", text), "a front reads no machine state"


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_the_lower_layers_import_no_front(package: str) -> None:
    allowed = LAYERS[package] | {package}
    for path in sorted((ROOT / package).rglob("*.py")):
        gb = {name for name in imported(path) if name.startswith("gb_")}
        assert gb <= allowed, f"{path.relative_to(ROOT)} imports {sorted(gb - allowed)}"


@pytest.mark.parametrize("module", [gb_runtime, gb_sessions], ids=lambda m: m.__name__)
def test_the_public_api_is_what_all_says(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), f"{module.__name__}.__all__ names {name}, which it lacks"  # type: ignore[attr-defined]
