"""The shape of the trust package: one concern per module, no private names across modules, no
platform or store import at run time, explanation wording only in the catalogs."""

from __future__ import annotations

import ast
from pathlib import Path

from bot import i18n
from bot.trust import Ranked, explain, render_why, stored_why, why_parts

PACKAGE = Path(__file__).resolve().parents[2] / "bot" / "trust"


def modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.glob("*.py"))}


def runtime_imports(tree: ast.Module) -> list[ast.ImportFrom | ast.Import]:
    """Imports outside `if TYPE_CHECKING:` blocks."""
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
        for n in ast.walk(block)
    }
    return [
        n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) and id(n) not in typing_only
    ]


def test_every_module_says_what_it_is_for():
    for name, tree in modules().items():
        doc = ast.get_docstring(tree)
        assert doc and len(doc.split()) >= 20, name


def test_no_private_name_is_used_across_modules():
    for name, tree in modules().items():
        for node in ast.walk(tree):
            # Only `from bot.trust.<module> import <public name>`: no module object whose private
            # attributes could be reached (`from bot import trust`, `import bot.trust.solver`).
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.trust."):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, (name, node.module, private)
            if isinstance(node, ast.ImportFrom) and node.module in {"bot", "bot.trust"}:
                assert name == "__init__" or "trust" not in [a.name for a in node.names], name
                assert name == "__init__" or node.module != "bot.trust", name
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("bot.trust") for a in node.names), name


def test_no_platform_or_store_import_at_run_time():
    for name, tree in modules().items():
        for node in runtime_imports(tree):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for module in names:
                assert module.split(".")[0] not in {"discord", "praw", "aiosqlite", "sqlite3"}, name
                assert not module.startswith("bot.store"), name


def test_explanations_are_worded_by_the_catalogs_in_every_language():
    shown = [
        ("trust.why.peers", {"peers": 42, "trusted": 17}),
        ("trust.why.topic", {"channel": "<#55>", "share": 60}),
        ("trust.why.trend_down", {"pct": 8}),
        ("trust.why.pinned", {}),
    ]
    parts = why_parts(42, 17, (55, 0.6), -0.08, True, True)
    assert [key for key, _ in parts] == [key for key, _ in shown]
    stored = {"parts": [[key, params] for key, params in parts]}
    ranked = Ranked(1, 1.0, 1, 42, 17, ((55, 0.6),), -0.08, {"had_previous": True, "pinned": True})
    for lang in i18n.LANGUAGES:
        catalog = i18n.catalog(lang)
        pieces = [i18n.t(lang, key, **params) for key, params in shown]
        expected = catalog["trust.why.sentence"].format(parts=catalog["trust.why.separator"].join(pieces))
        assert render_why(stored, lang, lambda c: f"<#{c}>") == expected, lang
        assert explain(ranked, lang=lang, channel_name=lambda c: f"<#{c}>") == expected, lang
    assert "distinct members" not in render_why(stored, "ar", str)
    assert render_why({}, "en", str) == ""


def test_stored_explanation_keeps_its_format():
    """Rows stored before keep rendering: the stored form is the compact JSON of the parts."""
    assert stored_why(7, 3, (9, 0.254), None, True, False) == (
        '{"parts":[["trust.why.peers",{"peers":7,"trusted":3}],'
        '["trust.why.topic",{"channel_id":9,"share":25}],["trust.why.new",{}]]}'
    )
    assert stored_why(7, 3, None, 0.001, False, True) == (
        '{"parts":[["trust.why.peers",{"peers":7,"trusted":3}],["trust.why.trend_flat",{}],'
        '["trust.why.pinned",{}]]}'
    )


def test_the_api_docs_name_every_coordination_reason():
    """docs/trust.md's API section lists the reasons an explanation can give, as the code has them."""
    from pathlib import Path

    from bot.trust.params import REASONS

    api = (Path(__file__).parents[2] / "docs" / "trust.md").read_text().split("## Algorithm")[0]
    assert all(f'`"{reason}"`' in api for reason in REASONS), [r for r in REASONS if f'`"{r}"`' not in api]
