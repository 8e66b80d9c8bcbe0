"""Disclosure of sponsored content: the tag every activation message starts with. Pure.

Regulators want the disclosure clear, unambiguous and *first* (FTC Endorsement Guides; UK ASA "Ad";
Israeli and Gulf advertising marks in Hebrew and Arabic), so the tag is the first line of a message's
content and the start of every embed's title and author. There is deliberately no switch to turn it
off: the only public entry points add it.

The brand name is the one part a brand controls, so it is sanitised before it goes into the tag: no
mentions, no markdown that could hide or shrink the tag (spoilers, masked links, headings, code), no
line breaks and no bidi controls, then wrapped in Unicode isolates (FSI … PDI) so a Latin brand inside
Arabic or Hebrew (or the reverse) renders in the right order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from bot.i18n import isolate
from bot.text import ZWJ, ZWNJ, strip_invisible

CONNECTIONS = ("paid", "gifted", "affiliate")
LANGUAGES = ("en", "ar", "he")
SEPARATOR = " · "
MAX_BRAND = 60
CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_AUTHOR_LIMIT = 256
TOPIC_LIMIT = 1024

# The word that marks advertising, then what the connection is. Kept here rather than in the message
# catalogs so that no catalog edit can weaken or drop it.
_MARK = {"en": "Ad", "ar": "إعلان", "he": "פרסומת"}
_TAGS: dict[str, dict[str, str]] = {
    "en": {
        "paid": "Paid partnership with {brand}",
        "gifted": "Gifted product from {brand}",
        "affiliate": "Affiliate link or discount code from {brand}",
    },
    "ar": {
        "paid": "شراكة مدفوعة مع {brand}",
        "gifted": "منتج مُهدى من {brand}",
        "affiliate": "رابط تسويق بالعمولة أو رمز خصم من {brand}",
    },
    "he": {
        "paid": "שיתוף פעולה בתשלום עם {brand}",
        "gifted": "מוצר שהתקבל במתנה מ-{brand}",
        "affiliate": "קישור שותפים או קוד הנחה מ-{brand}",
    },
}

# Mentions, custom emoji and channel links need "<" or "@"; a backslash could undo our escaping.
_DROP = re.compile(r"[<@\\]")
# Markdown that could hide, shrink or restyle the tag (spoiler, masked link, heading, code, quote) is
# escaped, so the name still reads as the brand wrote it.
_MARKDOWN = re.compile(r"([*_~|`>#\[\]()])")
_SPACES = re.compile(r"\s+")


class _Unknown(ValueError):
    pass


def sanitize_brand(name: str) -> str:
    """A brand name safe inside the tag: printable, one line, no markup, no mentions, bounded length."""
    kept: list[str] = []
    # The shared cleaner drops bidi controls and stray zero-width characters but keeps the joiners of
    # an emoji sequence (and of scripts shaped with them); any other format character goes here.
    for ch in strip_invisible(unicodedata.normalize("NFKC", name)):
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):  # newlines and tabs left by the cleaner
            kept.append(" ")
        elif category != "Cf" or ch in (ZWJ, ZWNJ) or 0xE0020 <= ord(ch) <= 0xE007F:
            kept.append(ch)
    text = _SPACES.sub(" ", _DROP.sub(" ", "".join(kept))).strip(" -.")
    if len(text) > MAX_BRAND:
        text = text[: MAX_BRAND - 1].rstrip().rstrip(ZWJ + ZWNJ) + "…"
    return _MARKDOWN.sub(r"\\\1", text) or "?"


def tag(lang: str, brand: str, connection: str) -> str:
    """The disclosure tag, e.g. ``Ad · Paid partnership with ⁨Acme⁩``. Unknown languages use English."""
    if connection not in CONNECTIONS:
        raise _Unknown(f"unknown material connection {connection!r}; expected one of {CONNECTIONS}")
    lang = lang if lang in _TAGS else "en"
    body = _TAGS[lang][connection].format(brand=isolate(sanitize_brand(brand)))
    return f"{_MARK[lang]}{SEPARATOR}{body}"


def marks() -> tuple[str, ...]:
    """The advertising marks of every language (for checks that a text starts with a disclosure)."""
    return tuple(_MARK[lang] + SEPARATOR for lang in LANGUAGES)


def fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def disclose_content(disclosure: str, content: str | None) -> str:
    """The tag in bold as the first line, then the content (trimmed so the whole fits Discord's limit).

    Bold on its own line: no markdown the content carries can reach back into the tag's line.
    """
    head = f"**{disclosure}**"
    if not content:
        return head
    return fit(f"{head}\n{content}", CONTENT_LIMIT)


def disclose_embed(disclosure: str, embed: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an embed (Discord's dict shape) whose title and author both start with the tag."""
    out = dict(embed)
    title = str(out.get("title") or "")
    out["title"] = fit(f"{disclosure}{SEPARATOR}{title}" if title else disclosure, EMBED_TITLE_LIMIT)
    author = dict(out.get("author") or {})
    if author.get("name"):
        author["name"] = fit(f"{disclosure}{SEPARATOR}{author['name']}", EMBED_AUTHOR_LIMIT)
        out["author"] = author
    return out


def disclose_topic(disclosure: str, topic: str | None) -> str:
    """A channel topic that starts with the tag for the length of a takeover."""
    return fit(f"{disclosure}{SEPARATOR}{topic}" if topic else disclosure, TOPIC_LIMIT)


def starts_disclosed(text: str | None, disclosure: str) -> bool:
    """True if `text` starts with this disclosure (bold or plain) on its first line."""
    if not text:
        return False
    first = text.split("\n", 1)[0]
    return first.startswith(disclosure) or first.startswith(f"**{disclosure}**")
