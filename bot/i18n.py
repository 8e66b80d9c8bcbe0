"""Message catalogs: bot/locales/{lang}.toml plus one {lang}.{area}.toml per feature area, merged.

A missing key falls back to English text.

Discord has no Arabic or Hebrew client locale, so the language comes from the community's setting.
User-supplied names go through `isolate()` so right-to-left text renders them correctly.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("en", "ar", "he")
RTL = frozenset({"ar", "he"})
FSI, PDI = "\u2068", "\u2069"


@cache
def catalog(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    paths = [LOCALE_DIR / f"{lang}.toml", *sorted(LOCALE_DIR.glob(f"{lang}.*.toml"))]
    for path in paths:
        if path.is_file():
            merged.update(_flatten(tomllib.loads(path.read_text(encoding="utf-8"))))
    return merged


def _flatten(tree: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def t(lang: str, key: str, **params: object) -> str:
    """Translate `key`, falling back to English, and fill named placeholders."""
    text = catalog(lang).get(key) or catalog("en")[key]
    return text.format(**params)


def isolate(text: str) -> str:
    """Wrap user-supplied text in Unicode bidi isolates (FSI … PDI), stripping any it carried."""
    cleaned = text.replace(FSI, "").replace(PDI, "")
    return f"{FSI}{cleaned}{PDI}"
