"""The one cleaner for free text that members, moderators and brands type into Microvoice. Pure.

Every command option and modal field that takes free text (brand names, partner terms, activation
titles and prizes, reasons, Q&A questions and answers, takeover posts) goes through `clean` before
anything else looks at it, so what is stored, shown and checked for mentions is the same text. It
guarantees:

* no NUL, no other C0/C1 control character (newline and tab survive only in multi-line fields; a
  carriage return becomes a newline), no unpaired surrogate;
* no bidi embedding, override or isolate (U+202A–U+202E, U+2066–U+2069), which can reverse the text
  around them or unbalance the isolates Microvoice puts around names; the plain direction marks
  (LRM, RLM, ALM) stay, right-to-left writers need them;
* no stray zero-width character (U+200B, U+2060, U+FEFF, U+180E), which can hide inside "@everyone"
  or a brand name. The zero-width joiner stays inside an emoji sequence (👩‍👩‍👧 keeps its joiners) and
  the joiner and non-joiner stay between two letters of a script that shapes with them (Arabic,
  Persian, Indic scripts); anywhere else they are dropped. Tag characters stay only inside an emoji
  flag sequence (🏴󠁧󠁢󠁳󠁣󠁴󠁿);
* NFC normalization, whitespace trimmed (each line's end too in multi-line text, runs collapsed to one
  space in single-line text), and a length bound counted in characters after cleaning.
"""

from __future__ import annotations

import re
import unicodedata

from bot.errors import InvalidInput

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ZERO_WIDTH = frozenset("\u200b\u2060\ufeff\u180e")
ZWNJ, ZWJ = "\u200c", "\u200d"
_VS16 = "\ufe0f"
_KEYCAP = "\u20e3"
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_TAGS = range(0xE0020, 0xE0080)
_BLACK_FLAG = "\U0001f3f4"
# Emoji flag tag sequences: a black flag, tag letters, the cancel tag.
_FLAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")
# Letters before this code point (Latin, Greek, Cyrillic, Armenian) never need a joiner between them;
# keeping one there would only hide it inside a word.
_JOINING_SCRIPTS_FROM = 0x0590
_PICTOGRAPHIC = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x21FF),
    (0x2300, 0x23FF),
    (0x24C2, 0x24C2),
    (0x25A0, 0x27BF),
    (0x2934, 0x2935),
    (0x2B00, 0x2BFF),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0x1F000, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)


def is_pictographic(ch: str) -> bool:
    """Whether a character can start or continue an emoji sequence (Unicode's Extended_Pictographic,
    approximated by the blocks that hold it)."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _PICTOGRAPHIC)


def _emoji_side(ch: str) -> bool:
    """A character that may stand before a joiner inside an emoji: an emoji, or what modifies one."""
    return is_pictographic(ch) or ch in (_VS16, _KEYCAP) or ord(ch) in _SKIN_TONES


def _shaping_letter(ch: str) -> bool:
    return ord(ch) >= _JOINING_SCRIPTS_FROM and unicodedata.category(ch)[0] in "LM"


def _keeps_joiner(joiner: str, before: str, after: str) -> bool:
    if joiner == ZWJ and _emoji_side(before) and is_pictographic(after):
        return True
    return _shaping_letter(before) and _shaping_letter(after)


def _is_tag(ch: str) -> bool:
    return ord(ch) in _TAGS or ch == "\U000e0001"


def _drop(ch: str, *, multiline: bool) -> bool:
    if ch in BIDI_CONTROLS or ch in ZERO_WIDTH:
        return True
    category = unicodedata.category(ch)
    if category == "Cs":  # an unpaired surrogate cannot be stored or sent as UTF-8
        return True
    if category == "Cc":
        return not (multiline and ch in "\n\t")
    return False


def strip_invisible(text: str, *, multiline: bool = True) -> str:
    """`text` without controls, bidi controls and stray zero-width characters (see the module doc).

    Joiners are judged by their visible neighbours, so a joiner next to a removed character is judged
    as the text will read once it is gone.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    flags = {m.start() + i for m in _FLAG_SEQUENCE.finditer(text) for i in range(1, len(m.group()))}
    kept = [
        ch
        for i, ch in enumerate(text)
        if not _drop(ch, multiline=multiline) and (not _is_tag(ch) or i in flags)
    ]
    out: list[str] = []
    for i, ch in enumerate(kept):
        if ch in (ZWJ, ZWNJ):
            before = out[-1] if out else ""
            after = next((c for c in kept[i + 1 :] if c not in (ZWJ, ZWNJ)), "")
            if not (before and after and before not in (ZWJ, ZWNJ) and _keeps_joiner(ch, before, after)):
                continue
        out.append(ch)
    return "".join(out)


def clean(raw: str, *, multiline: bool = False) -> str:
    """Free text as Microvoice stores and shows it: NFC, invisible characters removed, trimmed.

    Single-line text has every run of whitespace collapsed to one space; multi-line text keeps its
    lines (trailing spaces removed, at most two blank lines in a row).
    """
    text = strip_invisible(unicodedata.normalize("NFC", raw))  # newlines and tabs become spaces below
    text = unicodedata.normalize("NFC", text)  # a removed character may have separated a combining pair
    if not multiline:
        return " ".join(text.split())
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines).strip()
    return re.sub(r"\n{4,}", "\n\n\n", text)


def clean_field(
    raw: str,
    *,
    max_len: int,
    min_len: int = 1,
    multiline: bool = False,
    too_long: str = "error.text_too_long",
    too_short: str = "error.text_empty",
) -> str:
    """`clean(raw)`, refused with InvalidInput(`too_short` / `too_long`, min=, max=, length=) when the
    cleaned text is shorter than `min_len` or longer than `max_len` characters."""
    text = clean(raw, multiline=multiline)
    if len(text) < min_len:
        raise InvalidInput(too_short, min=min_len, max=max_len, length=len(text))
    if len(text) > max_len:
        raise InvalidInput(too_long, min=min_len, max=max_len, length=len(text))
    return text


def optional_field(
    raw: str | None, *, max_len: int, multiline: bool = False, too_long: str = "error.text_too_long"
) -> str | None:
    """`clean_field` for an optional option: None (or nothing left after cleaning) gives None."""
    if raw is None:
        return None
    text = clean_field(raw, max_len=max_len, min_len=0, multiline=multiline, too_long=too_long)
    return text or None


#: Markdown a quoted text could format, link or hide with (Discord's and Reddit's): escaped with a
#: backslash, which both show as the character itself.
_MARKUP = re.compile(r"([\\`*_~|>#\[\]()^&<!:])")


def literal(text: str) -> str:
    """Text someone else wrote (a member's question, a comment) as it reads, inside the bot's own
    markdown: no masked link (whose text hides where it leads), no spoiler, heading, code or quote of
    its own, nothing that renders from the bot's account as anything but the words."""
    return _MARKUP.sub(r"\\\1", text)
