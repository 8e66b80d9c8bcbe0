"""The layout's rules, checked on the source: cogs are thin adapters over the services."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path, naming: str | None = None) -> set[str]:
    """The modules `path` imports; with `naming`, only looked for in a file whose text holds that word
    (an import of a module names it), which spares parsing the others."""
    text = path.read_text()
    if naming is not None and naming not in text:
        return set()
    tree = ast.parse(text)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_cogs_import_no_store_no_sqlite_and_no_other_cog():
    cogs = sorted((ROOT / "cogs").glob("*.py"))
    assert len(cogs) > 5
    for path in cogs:
        for module in imported_modules(path):
            assert module.split(".")[0] != "aiosqlite", path.name
            assert not module.startswith("bot.store"), path.name
            assert module.split(".")[0] != "cogs", path.name


def test_the_product_imports_no_sandbox():
    for package in ("bot", "cogs"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "__main__.py":  # `demo` loads the sandbox lazily, when it is present
                continue
            assert not any(m.split(".")[0] == "sandbox" for m in imported_modules(path, "sandbox")), path
