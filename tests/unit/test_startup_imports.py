"""The bot starts without the libraries only some features need: numpy and scipy load with the first
trust recompute or report, matplotlib with the first chart, asyncpg with a PostgreSQL store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LOADED_AT_START = """
import importlib, json, pkgutil, sys
import bot.__main__, bot.app, cogs
for found in pkgutil.iter_modules(cogs.__path__):
    importlib.import_module(f"cogs.{found.name}")
from bot.trust import TrustParams, Voices, render_why
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_start_up_imports_no_numeric_chart_or_postgres_library():
    out = subprocess.run(
        [sys.executable, "-c", LOADED_AT_START], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout))
    assert "discord" in loaded and "aiosqlite" in loaded  # the check itself saw the bot's imports
    assert loaded.isdisjoint({"numpy", "scipy", "matplotlib", "asyncpg"})


def test_trust_package_names_resolve_on_first_use():
    import bot.trust as trust
    import bot.trust.service  # noqa: F401 (imports bot.trust.explain, the module)

    for name in trust.__all__:
        assert getattr(trust, name) is not None
    assert set(trust.__all__) <= set(dir(trust))
    assert callable(trust.explain)  # the function, not the module of the same name


STATE_AT_START = """
import importlib, json, pkgutil, sys
import bot.__main__, bot.app, cogs
for found in pkgutil.iter_modules(cogs.__path__):
    importlib.import_module(f"cogs.{found.name}")
print(json.dumps(sorted(sys.modules)))
from bot import i18n
print(json.dumps(sorted(i18n.loaded_languages())))
"""

#: Loaded only by what uses them: the Reddit side (with Reddit credentials), `.env` parsing (with a
#: .env file), an activation report's baseline statistics, a large data export's compression.
LOADED_ON_USE = {
    "bot.links",
    "bot.subreddits.items",
    "bot.subreddits.service",
    "bot.activations.subreddit",
    "bot.activations.subreddit_rules",
    "dotenv",
    "statistics",
    "gzip",
}


def state_at_start() -> tuple[set[str], list[str] | None]:
    """The modules loaded once the bot and its cogs are, and the languages whose catalogs it holds
    (None when it cannot tell)."""
    out = subprocess.run([sys.executable, "-c", STATE_AT_START], cwd=ROOT, capture_output=True, text=True)
    lines = out.stdout.splitlines()
    return set(json.loads(lines[0])), json.loads(lines[1]) if len(lines) > 1 else None


def test_start_up_imports_no_reddit_only_code_and_no_library_only_some_commands_use():
    modules, _ = state_at_start()
    assert {"cogs.settings", "cogs.reddit_activations", "bot.subreddits.ids"} <= modules
    assert sorted(LOADED_ON_USE & modules) == []


def test_start_up_keeps_only_the_catalog_it_speaks():
    """`/microvoice setup` names every language in itself at start-up: naming one keeps no catalog."""
    modules, languages = state_at_start()
    assert "cogs.settings" in modules
    assert languages == ["en"]
