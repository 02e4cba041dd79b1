"""The front end imports only the engine's standard-library modules, never torch.

Parsed with `ast`, so an import inside a function, which a sys.modules check after start-up
would miss, counts as much as one at the top of a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FRONT_END = Path(__file__).resolve().parents[1] / "llmd4rec_tui"
#: The engine modules the front end may import: standard library only, by contract.
ALLOWED_ENGINE = {"engine.protocol", "engine.config", "engine.catalog"}
FORBIDDEN_TOP = {"torch", "transformers", "peft", "safetensors", "gguf"}


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an import statement names, with its line; `from a import b` names a and a.b."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__") and bool(node.args)


def violation(module: str) -> str | None:
    """Why the front end may not import ``module``, or None when it may."""
    top = module.split(".")[0]
    if top in FORBIDDEN_TOP:
        return f"{top} is the engine's dependency"
    if top != "engine" or module == "engine":
        return None
    if any(module == allowed or module.startswith(allowed + ".") for allowed in ALLOWED_ENGINE):
        return None
    parent = module.rsplit(".", 1)[0]
    if parent in ALLOWED_ENGINE:  # `from engine.config import X` also yields engine.config.X
        return None
    return f"only {', '.join(sorted(ALLOWED_ENGINE))} are standard-library engine modules"


def boundary_violations(root: Path) -> list[str]:
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in imported_modules(tree):
            why = violation(module)
            if why is not None:
                out.append(f"{path.relative_to(root.parent)}:{line}: imports {module} ({why})")
    return out


def test_front_end_imports_only_the_standard_library_engine_modules() -> None:
    assert boundary_violations(FRONT_END) == []


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import torch", True),
        ("def f():\n    from engine.data.load import load_dataset", True),
        ("from engine import assets", True),
        ("import importlib\nimportlib.import_module('engine.backbones')", True),
        ("from engine.protocol import EXIT_USAGE", False),
        ("from engine.config import ConfigError", False),
        ("import engine.catalog", False),
        ("from llmd4rec_tui.formatting import fmt", False),
    ],
)
def test_the_check_tells_allowed_from_forbidden(source: str, bad: bool, tmp_path: Path) -> None:
    package = tmp_path / "front"
    package.mkdir()
    (package / "mod.py").write_text(source + "\n")
    assert bool(boundary_violations(package)) is bad
