from __future__ import annotations

import ast
import re
import subprocess
import sys
from functools import cache
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


SETTING = re.compile(r"^(?:MICROVOICE|DISCORD)_[A-Z0-9_]+$")
#: Read by the code but set by it too, never by whoever runs the bot: the child processes' PATH, and the
#: file a benchmark's bot process writes its samples to.
INTERNAL = {"PATH", "BENCH_STATS"}


#: Words a module's text holds when it reads the environment, or names a setting: a module without any of
#: them is not parsed (parsing every source file was most of this module's time).
READS_ENVIRONMENT = ("environ", "getenv")
NAMES_A_SETTING = ("MICROVOICE_", "DISCORD_")


def environment_reads(path: Path, text: str | None = None) -> set[str]:
    """The variables a module reads from `os.environ` (`environ[...]`, `environ.get(...)`, `getenv(...)`)."""
    text = path.read_text(encoding="utf-8") if text is None else text
    if not any(word in text for word in READS_ENVIRONMENT):
        return set()
    return _environment_reads(ast.parse(text))


def _environment_reads(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            key = node.slice
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            from_environ = name == "get" and isinstance(func, ast.Attribute) and _is_environ(func.value)
            if from_environ or name == "getenv":
                key = node.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def _is_environ(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


@cache
def bot_settings() -> frozenset[str]:
    """Every variable the installed bot reads: `bot.config` reads them from a merged mapping (the
    environment over `.env`), so every MICROVOICE_/DISCORD_ name in the product's code counts, and so
    does any direct read of the environment there."""
    keys: set[str] = set()
    for package in ("bot", "cogs", "reddit"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if not any(word in text for word in NAMES_A_SETTING + READS_ENVIRONMENT):
                continue
            tree = ast.parse(text)
            keys.update(
                node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SETTING.match(node.value)
            )
            if any(word in text for word in READS_ENVIRONMENT):
                keys.update(_environment_reads(tree))
    return frozenset(keys)


def section(text: str, heading: str) -> str:
    return text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def test_env_example_documents_every_setting_with_a_comment_and_its_default():
    settings = bot_settings()
    assert {"DISCORD_TOKEN", "MICROVOICE_DB", "MICROVOICE_REDDIT_OWNER"} <= settings
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    listed: dict[str, str] = {}
    for i, line in enumerate(lines):
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        listed[key] = value
        above = i - 1
        while above >= 0 and SETTING.match(lines[above].partition("=")[0]):
            above -= 1  # a block of related keys shares the comment above it
        assert above >= 0 and lines[above].startswith("#"), f"{key} has no comment in .env.example"
    assert set(listed) == settings, set(listed) ^ settings
    default = Settings.from_env({}, dotenv=None)
    for key, value in listed.items():
        if value:  # an example value is the value the bot uses when the key is left out
            assert Settings.from_env({key: value}, dotenv=None) == default, key


def test_the_readme_configuration_lists_every_setting():
    text = section((ROOT / "README.md").read_text(encoding="utf-8"), "## Configuration")
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text, flags=re.M))
    assert documented == bot_settings(), documented ^ bot_settings()


def test_development_variables_are_documented():
    """Variables the tests, the sandbox and the benchmarks read are settings or in the README's
    Development section."""
    development = section((ROOT / "README.md").read_text(encoding="utf-8"), "## Development")
    for package in ("sandbox", "bench", "tests"):
        for path in (ROOT / package).rglob("*.py"):
            for name in environment_reads(path) - bot_settings() - INTERNAL:
                assert f"`{name}" in development, f"{path.relative_to(ROOT)} reads {name}, undocumented"


def test_catalogs_share_keys_and_parameters():
    en = i18n.catalog("en")
    for lang in ("ar", "he"):
        assert set(i18n.catalog(lang)) == set(en), lang
        for key in en:
            assert i18n.parameters(lang, key) == i18n.parameters("en", key), (lang, key)


def test_the_plural_rules_kept_in_code_are_babels_cldr_rules():
    from babel import Locale

    assert set(i18n.PLURAL_RULES) == set(i18n.LANGUAGES)
    for lang in i18n.LANGUAGES:
        cldr = Locale.parse(lang).plural_form
        assert dict(i18n.PLURAL_RULES[lang]) == cldr.rules, lang
        for n in (*range(0, 120), 0.5, 1.5, 2.0, 1001, 1_000_000):
            assert i18n.plural_category(lang, n) == cldr(n), (lang, n)


def test_plural_messages_have_exactly_the_cldr_categories_of_their_language():
    assert i18n.categories("en") == {"one", "other"}
    assert i18n.categories("ar") == {"zero", "one", "two", "few", "many", "other"}
    assert {"one", "two", "other"} <= i18n.categories("he")
    plurals = 0
    for lang in i18n.LANGUAGES:
        for key, message in i18n.catalog(lang).items():
            if isinstance(message, i18n.Plural):
                plurals += 1
                assert set(message.forms) == i18n.categories(lang), (lang, key)
                assert message.count in i18n.parameters("en", key), (lang, key)
    assert plurals > 100


def test_every_form_of_every_message_formats():
    for lang in i18n.LANGUAGES:
        for key in i18n.catalog(lang):
            params = dict.fromkeys(i18n.parameters(lang, key), 7)
            for n in (0, 1, 2, 3, 11, 100, 102):
                counted = {name: n for name in params}
                assert i18n.t(lang, key, **counted), (lang, key, n)


COUNTED_NOUN = re.compile(
    r"\{\w+\} (?:distinct |new |claimed |sponsored |engagement )?"
    r"(?:days?|hours?|minutes?|seconds?|members?|peers?|characters?|codes?|events?|records?|contacts?|roles?"
    r"|entrants?|questions?|participants?|contributions?|redemptions?|scopes?|activations?|letters?)\b"
)


def test_english_counts_before_a_noun_are_plural_messages():
    plain = {key: text for key, text in i18n.catalog("en").items() if isinstance(text, str)}
    assert not {key for key, text in plain.items() if COUNTED_NOUN.search(text)}


@pytest.mark.parametrize(
    ("n", "arabic", "hebrew"),
    [
        (0, "آخر 0 يوم", "0 הימים האחרונים"),
        (1, "آخر يوم", "היום האחרון"),
        (2, "آخر يومين", "היומיים האחרונים"),
        (3, "آخر 3 أيام", "3 הימים האחרונים"),
        (10, "آخر 10 أيام", "10 הימים האחרונים"),
        (11, "آخر 11 يومًا", "11 הימים האחרונים"),
        (99, "آخر 99 يومًا", "99 הימים האחרונים"),
        (100, "آخر 100 يوم", "100 הימים האחרונים"),
        (103, "آخر 103 أيام", "103 הימים האחרונים"),
        (111, "آخر 111 يومًا", "111 הימים האחרונים"),
    ],
)
def test_counts_take_the_cldr_plural_form(n: int, arabic: str, hebrew: str):
    assert i18n.t("ar", "voices.top_title", scope="x", days=n).endswith(f"({arabic})")
    assert i18n.t("he", "voices.top_title", scope="x", days=n).endswith(f"({hebrew})")
    english = "(last day)" if n == 1 else f"(last {n} days)"
    assert i18n.t("en", "voices.top_title", scope="x", days=n).endswith(english)


def test_a_sentence_with_several_counts_agrees_with_each():
    assert i18n.t("en", "status.total", total=1, members=2) == "1 engagement event from 2 members."
    assert i18n.t("en", "status.total", total=2, members=1) == "2 engagement events from 1 member."
    assert i18n.t("ar", "status.total", total=3, members=11) == "3 أحداث تفاعل من 11 عضوًا."
    assert i18n.t("ar", "status.total", total=1, members=2) == "حدث تفاعل واحد من عضوين."
    assert i18n.t("he", "status.total", total=2, members=1) == "שני אירועי מעורבות מחבר אחד."


def test_counts_given_as_text_and_fractions_are_counted():
    assert i18n.t("en", "setup.retention_days", value="1") == "keep raw events for 1 day"
    assert i18n.t("en", "setup.retention_days", value="30") == "keep raw events for 30 days"
    assert i18n.t("ar", "voices.recomputed", scopes=3, seconds="0.4").endswith("في 0.4 ثانية.")
    assert i18n.t("he", "voices.recomputed", scopes=3, seconds="0.4").endswith("ב-0.4 שנייה.")
    assert i18n.t("he", "voices.recomputed", scopes=3, seconds="2.5").endswith("ב-2.5 שניות.")


def test_a_missing_category_or_count_falls_back_to_other():
    message = i18n.Plural(count="n", forms={"one": "{n} day", "other": "{n} days"})
    assert i18n.form("ar", message, {"n": 2}) == "{n} days"
    assert i18n.form("ar", message, {"n": 1}) == "{n} day"
    assert i18n.form("en", message, {}) == "{n} days"
    assert i18n.form("en", message, {"n": "soon"}) == "{n} days"
    assert i18n.form("en", message, {"n": True}) == "{n} days"


def test_a_malformed_plural_table_is_refused_when_the_catalog_loads():
    with pytest.raises(ValueError, match="plural"):
        i18n.flatten({"x": {"count": "n", "one": "{n} day"}}, "test.toml")
    with pytest.raises(ValueError, match="plural"):
        i18n.flatten({"x": {"count": "n", "other": "{n} days", "several": "{n} days"}}, "test.toml")


def test_translation_falls_back_to_english_and_isolates():
    assert i18n.t("xx", "error.forbidden") == i18n.t("en", "error.forbidden")
    assert i18n.t("xx", "status.title", days=1) == "What Microvoice recorded in the last day"
    assert i18n.isolate("\u2068Brand\u2069") == "\u2068Brand\u2069"
    # an isolate or embedding opened inside the name (RLI, RLO) would pair with the closing PDI, or
    # outlast it, leaving the rest of the line right to left: none is kept inside
    assert i18n.isolate("news\u2067 (mod)\u202e") == "\u2068news (mod)\u2069"


def test_domain_modules_do_not_import_discord_or_praw():
    """bot/ is platform-free except the composition root (app, the CLI) and the Discord adapter."""
    allowed = {ROOT / "bot" / "app.py", ROOT / "bot" / "__main__.py"}  # the composition root
    checked = 0
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if path in allowed or "discord_adapter" in path.parts:
            continue
        checked += 1
        name = str(path.relative_to(ROOT))
        text = path.read_text(encoding="utf-8")
        if "discord" not in text and "praw" not in text:
            continue  # an import of either names it
        tree = ast.parse(text)
        imported = {
            (n.module or "").split(".")[0] if isinstance(n, ast.ImportFrom) else a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in (n.names if isinstance(n, ast.Import) else [n])
        }
        assert not imported & {"discord", "praw"}, name
    assert checked > 20


def test_peek_reads_a_message_without_keeping_its_catalog(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(i18n, "_CATALOGS", {})
    assert i18n.peek("he", "setup.language_name") == "עברית (Hebrew)"
    assert i18n.peek("xx", "setup.language_name") == "English"  # unknown language: English
    assert i18n.loaded_languages() == frozenset()
    assert i18n.t("ar", "setup.language_name") == i18n.peek("ar", "setup.language_name")
    assert i18n.loaded_languages() == {"ar"}  # `t` keeps it; `peek` then reads the kept one


def test_hebrew_messages_naming_a_scope_read_correctly_for_the_whole_server():
    """A Hebrew prefix (ב-, ל-, …) attached to the scope gave "ב-השרת כולו" for the whole server:
    every Hebrew message that names a scope puts it after a word, never fused to a prefix."""
    whole = i18n.t("he", "voices.scope_all")
    fused = re.compile(rf"[\u05d0-\u05ea]-?{re.escape(whole)}")
    rendered = 0
    for key in i18n.catalog("he"):
        names = i18n.parameters("he", key)
        if "scope" not in names:
            continue
        params: dict[str, object] = {name: 3 for name in names}
        for count in (1, 2, 3):  # every plural form
            params.update({name: count for name in names if name != "scope"})
            text = i18n.t("he", key, **{**params, "scope": whole})
            assert whole in text and not fused.search(text), (key, text)
            rendered += 1
    assert rendered >= 3 * 5
