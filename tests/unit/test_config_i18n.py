from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from bot import i18n
from bot.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_prefix():
    s = Settings.from_env({}, dotenv=None)
    assert s.db_path == Path("data/microvoice.sqlite3")
    assert s.default_locale == "en" and not s.members_intent and not s.message_content_intent
    s = Settings.from_env(
        {"DISCORD_TOKEN": "abc.def", "MICROVOICE_DB": "/tmp/x.db", "MICROVOICE_COMMAND_GUILD_IDS": "1, 2"},
        dotenv=None,
    )
    assert s.db_path == Path("/tmp/x.db") and s.command_guild_ids == (1, 2)
    assert "abc.def" not in repr(s)


def test_dotenv_is_read_under_the_environment(tmp_path: Path):
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=from-file\nMICROVOICE_DEFAULT_LOCALE=he\n")
    s = Settings.from_env({"MICROVOICE_DEFAULT_LOCALE": "ar"}, dotenv=env_file)
    assert (s.discord_token, s.default_locale) == ("from-file", "ar")


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"MICROVOICE_DEFAULT_LOCALE": "fr"}, "MICROVOICE_DEFAULT_LOCALE"),
        ({"MICROVOICE_INGEST_BATCH_SIZE": "lots"}, "MICROVOICE_INGEST_BATCH_SIZE"),
        ({"MICROVOICE_RETENTION_DAYS": "0"}, "between 1 and 3650"),
        ({"MICROVOICE_MEMBERS_INTENT": "maybe"}, "true or false"),
        ({"MICROVOICE_DISCORD_API_BASE": "http://127.0.0.1:1/api/v10"}, "both"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], fragment: str):
    with pytest.raises(ConfigError, match=fragment):
        Settings.from_env(env, dotenv=None)


def test_run_without_token_prints_one_line_and_exits_2(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "MICROVOICE_DB": str(tmp_path / "x.db")}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0] and "Traceback" not in proc.stderr


def test_env_example_documents_every_setting():
    text = (ROOT / ".env.example").read_text()
    source = (ROOT / "bot" / "config.py").read_text()
    keys = {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value.startswith("MICROVOICE_") or node.value == "DISCORD_TOKEN")
        and node.value.isupper()
    }
    assert keys, "no settings found"
    missing = sorted(k for k in keys if f"{k}=" not in text)
    assert not missing


def test_catalogs_share_keys_and_placeholders():
    import string

    en = i18n.catalog("en")
    for lang in ("ar", "he"):
        other = i18n.catalog(lang)
        assert set(other) == set(en), lang
        for key, text in en.items():
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert fields == {f for _, f, _, _ in string.Formatter().parse(other[key]) if f}, (lang, key)


def test_translation_falls_back_to_english_and_isolates():
    assert i18n.t("xx", "error.forbidden") == i18n.t("en", "error.forbidden")
    assert i18n.isolate("\u2068Brand\u2069") == "\u2068Brand\u2069"


def test_domain_modules_do_not_import_discord_or_praw():
    domain = ["ledger", "store", "ingest", "i18n", "config", "errors", "permissions", "trust"]
    for name in domain:
        path = ROOT / "bot" / f"{name}.py"
        if not path.exists():
            continue
        tree = ast.parse(path.read_text())
        imported = {
            (n.module or "").split(".")[0] if isinstance(n, ast.ImportFrom) else a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in (n.names if isinstance(n, ast.Import) else [n])
        }
        assert not imported & {"discord", "praw"}, name
