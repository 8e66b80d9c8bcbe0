"""The one free-text cleaner (bot/text.py): examples, then properties over arbitrary Unicode."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import text
from bot.errors import InvalidInput

FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # 👩‍👩‍👧
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
THUMBS_DARK = "\U0001f44d\U0001f3ff"
PERSIAN = "می\u200cخواهم"  # "I want": the non-joiner belongs there
HINDI = "क्\u200dष"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Oats\x00 & co", "Oats & co"),
        ("\u202eevil\u202c name", "evil name"),
        ("\u2067isolated\u2069", "isolated"),
        ("@\u200beveryone", "@everyone"),
        ("\ufeffBOM first", "BOM first"),
        ("word\u2060joiner", "wordjoiner"),
        (f"family {FAMILY} ok", f"family {FAMILY} ok"),
        (RAINBOW_FLAG, RAINBOW_FLAG),
        (SCOTLAND, SCOTLAND),
        (THUMBS_DARK, THUMBS_DARK),
        ("every\u200done", "everyone"),  # a joiner inside a Latin word hides it
        ("a\u200cb", "ab"),
        ("\u200d" + FAMILY + "\u200d", FAMILY),  # joiners at the edges are stray
        (PERSIAN, PERSIAN),
        (HINDI, HINDI),
        ("hidden\U000e0041\U000e0042 tags", "hidden tags"),  # tag characters outside a flag
        ("Cafe\u0301", "Café"),  # NFC
        ("  many   spaces\tand\nlines  ", "many spaces and lines"),
        ("\u200f\u05e9\u05dc\u05d5\u05dd", "\u200f\u05e9\u05dc\u05d5\u05dd"),  # RLM stays
        ("lone \ud800 surrogate", "lone surrogate"),
        ("C1\x85control\x9b", "C1control"),
    ],
)
def test_single_line_examples(raw: str, clean: str):
    assert text.clean(raw) == clean


def test_multiline_keeps_lines_and_tabs_but_not_other_controls():
    raw = "  First line  \r\n\tindented\x07\u2028third\n\n\n\n\n\nlast\u202e  "
    assert text.clean(raw, multiline=True) == "First line\n\tindented\nthird\n\n\nlast"


def test_clean_field_bounds_count_characters_after_cleaning():
    assert text.clean_field("\u200b" * 50 + "ok", max_len=2) == "ok"
    with pytest.raises(InvalidInput) as empty:
        text.clean_field("\u200b\u202e \x00", max_len=10)
    assert empty.value.key == "error.text_empty"
    with pytest.raises(InvalidInput) as long:
        text.clean_field("abcdef", max_len=5, too_long="qa.bad_question_long")
    assert (long.value.key, long.value.params["max"], long.value.params["length"]) == (
        "qa.bad_question_long",
        5,
        6,
    )
    assert text.optional_field(None, max_len=5) is None
    assert text.optional_field("\u200b ", max_len=5) is None
    assert text.optional_field(" x ", max_len=5) == "x"


FORBIDDEN = text.BIDI_CONTROLS | text.ZERO_WIDTH | {"\x00"}
# Text that mixes the hostile characters with letters of several scripts and emoji parts.
hostile = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(sorted(FORBIDDEN | {"\u200c", "\u200d", "\ufe0f", "\U0001f469", "\u0627", "\r"})),
    ),
    max_size=60,
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(hostile, st.booleans())
def test_cleaned_text_has_no_hostile_character_and_is_stable(raw: str, multiline: bool):
    out = text.clean(raw, multiline=multiline)
    assert not set(out) & FORBIDDEN
    assert all(unicodedata.category(c) != "Cc" or (multiline and c in "\n\t") for c in out)
    assert unicodedata.is_normalized("NFC", out)
    assert out == out.strip()
    assert text.clean(out, multiline=multiline) == out  # idempotent: storing twice changes nothing
    out.encode("utf-8")  # no unpaired surrogate
    for i, ch in enumerate(out):
        if ch in (text.ZWJ, text.ZWNJ):
            assert 0 < i < len(out) - 1, repr(out)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from([FAMILY, RAINBOW_FLAG, SCOTLAND, THUMBS_DARK, "ok", " ", PERSIAN])))
def test_emoji_sequences_and_shaped_words_survive(parts: list[str]):
    raw = "".join(parts)
    assert text.clean(raw, multiline=True) == unicodedata.normalize("NFC", raw).strip()


def test_reddit_names_typed_with_invisible_characters_are_read_cleaned():
    from bot.links.rules import reddit_username
    from bot.subreddits.service import subreddit_name

    assert reddit_username("u/\u200balice\u202e") == "alice"
    assert reddit_username("alice\nbob") is None
    assert subreddit_name(" /r/Vegan\u200bCooking/ ") == "VeganCooking"
    with pytest.raises(InvalidInput):
        subreddit_name("Vegan\u202eCooking\x00!")


def test_quoted_text_reads_as_written_and_renders_nothing_of_its_own():
    quoted = text.literal("[Claim your prize](https://phish.example) >!spoiler!< # big **bold** ^up &zwnj;")
    assert "](" not in quoted.replace("\\]", "").replace("\\(", "")
    for mark in ("[", "]", "(", ")", ">", "!", "#", "*", "^", "&"):
        assert all(quoted[i - 1] == "\\" for i, ch in enumerate(quoted) if ch == mark)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_quoted_text_unescapes_to_what_was_written(written: str):
    """Every escape is a backslash before one markdown character: removing them gives the text back."""
    import re

    assert re.sub(r"\\(.)", r"\1", text.literal(written), flags=re.DOTALL) == written
