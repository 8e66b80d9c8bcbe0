"""Message catalogs: bot/locales/{lang}.toml plus one {lang}.{area}.toml per feature area, merged.

A message is either a string or a plural table. A plural table names the parameter that counts
(`count`) and gives one text per CLDR plural category the language uses (`zero`, `one`, `two`, `few`,
`many`, `other`; English needs `one` and `other`, Arabic all six, Hebrew `one`, `two` and `other`):

    [status]
    title.count = "days"
    title.one = "What Microvoice recorded in the last day"
    title.other = "What Microvoice recorded in the last {days} days"

`t(lang, "status.title", days=3)` picks the category with Babel's CLDR rules for `lang`, falling back
to the table's `other` text. A placeholder `{@name}` renders another message of the same catalog with
the same parameters, so a sentence can hold several counts, each with its own plural table; `name` is
looked up in the referring message's table first (`{@members}` inside `status.total` is
`status.members`), then as a full key. A missing key falls back to English text.

Discord has no Arabic or Hebrew client locale, so the language comes from the community's setting.
User-supplied names go through `isolate()` so right-to-left text renders them correctly.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from babel.plural import PluralRule

LOCALE_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("en", "ar", "he")
RTL = frozenset({"ar", "he"})
FSI, PDI = "\u2068", "\u2069"
CATEGORIES = ("zero", "one", "two", "few", "many", "other")
#: CLDR plural rules of the catalogs' languages, exactly as Babel ships them (a unit test compares them
#: with `babel.Locale.parse(lang).plural_form`). They are all the bot needs of Babel's locale data, and
#: loading that data for them kept about 6 MB resident for English and 1.5 MB more for each of Arabic
#: and Hebrew; a language not listed here is still read from Babel.
PLURAL_RULES: Mapping[str, Mapping[str, str]] = {
    "en": {"one": "i in 1 and v in 0"},
    "ar": {
        "zero": "n in 0",
        "one": "n in 1",
        "two": "n in 2",
        "few": "n mod 100 in 3..10",
        "many": "n mod 100 in 11..99",
    },
    "he": {"one": "i in 1 and v in 0 or i in 0 and v not in 0", "two": "i in 2 and v in 0"},
}


@dataclass(frozen=True)
class Plural:
    """A message with one text per CLDR plural category, chosen by the parameter named `count`."""

    count: str
    forms: Mapping[str, str]

    def texts(self) -> list[str]:
        return list(self.forms.values())


Message = str | Plural


#: Catalogs read so far, by language: each is read on first use and kept.
_CATALOGS: dict[str, dict[str, Message]] = {}


def catalog(lang: str) -> dict[str, Message]:
    found = _CATALOGS.get(lang)
    if found is None:
        found = _CATALOGS[lang] = read_catalog(lang)
    return found


def read_catalog(lang: str) -> dict[str, Message]:
    """The catalog of `lang` read from its files, not kept (`catalog` keeps it)."""
    merged: dict[str, Message] = {}
    paths = [LOCALE_DIR / f"{lang}.toml", *sorted(LOCALE_DIR.glob(f"{lang}.*.toml"))]
    for path in paths:
        if path.is_file():
            merged.update(flatten(tomllib.loads(path.read_text(encoding="utf-8")), path.name))
    return merged


def flatten(tree: dict[str, object], source: str, prefix: str = "") -> dict[str, Message]:
    flat: dict[str, Message] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and "count" in value:
            flat[name] = _plural(value, f"{source}: {name}")
        elif isinstance(value, dict):
            flat.update(flatten(value, source, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def _plural(table: dict[str, object], where: str) -> Plural:
    forms = {k: v for k, v in table.items() if k != "count"}
    unknown = sorted(set(forms) - set(CATEGORIES))
    if unknown or "other" not in forms or not isinstance(table["count"], str):
        raise ValueError(f"{where}: a plural message needs `count`, `other` and only {CATEGORIES}")
    if not all(isinstance(text, str) for text in forms.values()):
        raise ValueError(f"{where}: plural forms must be strings")
    return Plural(count=table["count"], forms={k: str(v) for k, v in forms.items()})


@cache
def _rule(lang: str) -> PluralRule:
    rules = PLURAL_RULES.get(lang)
    if rules is not None:
        return PluralRule(rules)
    from babel import Locale

    return Locale.parse(lang).plural_form


def categories(lang: str) -> frozenset[str]:
    """The CLDR plural categories `lang` distinguishes (always including `other`)."""
    return frozenset(_rule(lang).tags | {"other"})


def plural_category(lang: str, number: object) -> str:
    """CLDR plural category of `number` in `lang`; `other` for anything that is not a number."""
    if isinstance(number, bool):
        return "other"
    if isinstance(number, str):
        try:
            number = Decimal(number.strip())
        except InvalidOperation:
            return "other"
    if not isinstance(number, int | float | Decimal):
        return "other"
    return _rule(lang)(abs(number))


def t(lang: str, key: str, **params: object) -> str:
    """Translate `key`, falling back to English, and fill named placeholders."""
    if lang not in LANGUAGES:
        lang = "en"
    return _Formatter(lang, key).vformat(_text(lang, key, params), (), params)


def peek(lang: str, key: str) -> str:
    """The plain message `key` of `lang` without keeping that catalog when it is not loaded yet: for
    the few texts needed in every language at start-up (the language names `/microvoice setup` offers),
    so a bot whose communities speak one language holds that catalog only (each is 0.2 to 0.3 MB)."""
    if lang not in LANGUAGES:
        lang = "en"
    message = _CATALOGS[lang].get(key) if lang in _CATALOGS else _peeked(lang, key)
    if message is None and lang != "en":
        return peek("en", key)
    return message if isinstance(message, str) else t(lang, key)


@cache
def _peeked(lang: str, key: str) -> Message | None:
    # Kept per key, not per catalog: the cogs read these at every load, and a catalog is eight files to parse.
    return read_catalog(lang).get(key)


def loaded_languages() -> frozenset[str]:
    """The languages whose catalogs are held in memory now."""
    return frozenset(_CATALOGS)


def _text(lang: str, key: str, params: Mapping[str, object]) -> str:
    message = catalog(lang).get(key)
    if message is None:
        lang, message = "en", catalog("en")[key]
    return form(lang, message, params)


def form(lang: str, message: Message, params: Mapping[str, object]) -> str:
    """The text of `message` for these parameters: its plural form for the count, else `other`."""
    if isinstance(message, str):
        return message
    text = message.forms.get(plural_category(lang, params.get(message.count)))
    return text if text is not None else message.forms["other"]


def _resolve(lang: str, key: str, name: str) -> str:
    """The full key a `{@name}` placeholder inside message `key` refers to."""
    table = key.rpartition(".")[0]
    local = f"{table}.{name}" if table else name
    known = catalog(lang).keys() | catalog("en").keys()
    return local if local in known else name


class _Formatter(string.Formatter):
    def __init__(self, lang: str, key: str) -> None:
        self.lang, self.key = lang, key

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if field_name.startswith("@"):
            return t(self.lang, _resolve(self.lang, self.key, field_name[1:]), **kwargs), field_name
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        # A list given as a parameter (ids, choices) is written as the language writes lists: a
        # service that raises it does not know the reader's language.
        if isinstance(value, list | tuple):
            value = join(self.lang, (format(_term(self.lang, v), format_spec) for v in value))
            format_spec = ""
        return super().format_field(_term(self.lang, value), format_spec)


class Term(str):
    """A parameter that is itself a message key, written in the reader's language: a permission's
    name, say, raised by code that does not know who will read it."""

    __slots__ = ()


def _term(lang: str, value: object) -> object:
    return t(lang, value) if isinstance(value, Term) else value


def join(lang: str, items: Iterable[str]) -> str:
    """Items of a list in running text, separated as `lang` writes lists (the Arabic comma in Arabic)."""
    return t(lang, "list_separator").join(items)


def parameters(lang: str, key: str) -> frozenset[str]:
    """Every parameter message `key` uses in `lang`, in any plural form or referenced message."""
    message = catalog(lang).get(key) or catalog("en")[key]
    texts = [message] if isinstance(message, str) else message.texts()
    found: set[str] = set() if isinstance(message, str) else {message.count}
    for text in texts:
        for _, field, _, _ in string.Formatter().parse(text):
            if not field:
                continue
            if field.startswith("@"):
                found |= parameters(lang, _resolve(lang, key, field[1:]))
            else:
                found.add(field.split(".")[0].split("[")[0])
    return frozenset(found)


#: Every bidi embedding, override and isolate control (a name keeps none of them inside its isolate).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def isolate(text: str) -> str:
    """Wrap user-supplied text in Unicode bidi isolates (FSI … PDI), stripping every bidi control it
    carried: an isolate or embedding opened inside (LRI, RLI, RLE, …) would pair with the closing PDI,
    or outlast it, and leave the rest of the line in the name's direction."""
    cleaned = "".join(ch for ch in text if ch not in _BIDI_CONTROLS)
    return f"{FSI}{cleaned}{PDI}"
