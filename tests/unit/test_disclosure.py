"""The disclosure tag: wording per language and connection, sanitised brand names, placement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.activations import disclosure
from bot.activations.model import Activation
from bot.i18n import FSI, PDI

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("lang", "connection", "expected"),
    [
        ("en", "paid", "Ad · Paid partnership with \u2068Acme\u2069"),
        ("en", "gifted", "Ad · Gifted product from \u2068Acme\u2069"),
        ("en", "affiliate", "Ad · Affiliate link or discount code from \u2068Acme\u2069"),
        ("ar", "paid", "إعلان · شراكة مدفوعة مع \u2068Acme\u2069"),
        ("he", "paid", "פרסומת · שיתוף פעולה בתשלום עם \u2068Acme\u2069"),
        ("he", "gifted", "פרסומת · מוצר שהתקבל במתנה מ-\u2068Acme\u2069"),
    ],
)
def test_tag_names_the_ad_first_then_connection_and_isolated_brand(lang: str, connection: str, expected: str):
    assert disclosure.tag(lang, "Acme", connection) == expected


def test_every_language_and_connection_has_a_tag_starting_with_its_mark():
    for lang in disclosure.LANGUAGES:
        for connection in disclosure.CONNECTIONS:
            text = disclosure.tag(lang, "Acme", connection)
            assert text.startswith(disclosure.marks()[disclosure.LANGUAGES.index(lang)])


def test_unknown_language_falls_back_to_english_and_unknown_connection_is_an_error():
    assert disclosure.tag("fr", "Acme", "paid").startswith("Ad · ")
    with pytest.raises(ValueError):
        disclosure.tag("en", "Acme", "sponsored-ish")


@pytest.mark.parametrize(
    "name",
    [
        "@everyone",
        "<@&123456789012345678>",
        "@here Acme",
        "||Acme||",
        "[Acme](https://evil.example)",
        "# Acme",
        "-# Acme",
        "`Acme`",
        "Acme\nAd-free!",
        "Acme\u202eemca",
        "Ac\u200bme",
        f"{PDI}Acme{FSI}",
        "^^^^^Acme",
        "Ac&zwnj;me&lrm;",
    ],
)
def test_brand_names_cannot_ping_hide_or_break_the_tag(name: str):
    clean = disclosure.sanitize_brand(name)
    assert "@" not in clean and "<" not in clean
    assert "\n" not in clean and "\u202e" not in clean and "\u200b" not in clean
    assert FSI not in clean and PDI not in clean
    # markdown that could hide or restyle the tag is escaped, never live
    for mark in ("||", "](", "`", "# ", "^", "&"):
        assert mark not in clean.replace("\\" + mark[0], "")
    tag = disclosure.tag("en", name, "paid")
    assert tag.startswith("Ad · Paid partnership with \u2068") and tag.endswith("\u2069")
    assert tag.count(FSI) == 1 and tag.count(PDI) == 1


def test_long_and_empty_brand_names():
    assert len(disclosure.sanitize_brand("A" * 500)) <= disclosure.MAX_BRAND
    assert disclosure.sanitize_brand("@@@<<<") == "?"


def test_content_gets_the_tag_as_bold_first_line_and_stays_within_limits():
    tag = disclosure.tag("en", "Acme", "paid")
    text = disclosure.disclose_content(tag, "||hidden|| hello")
    assert text.split("\n")[0] == f"**{tag}**"
    assert disclosure.starts_disclosed(text, tag)
    assert disclosure.disclose_content(tag, None) == f"**{tag}**"
    assert len(disclosure.disclose_content(tag, "x" * 5000)) == disclosure.CONTENT_LIMIT
    assert not disclosure.starts_disclosed("hello\n" + tag, tag)


def test_embed_title_and_author_start_with_the_tag():
    tag = disclosure.tag("ar", "Acme", "gifted")
    embed = disclosure.disclose_embed(tag, {"title": "Win oats", "author": {"name": "Acme"}, "color": 1})
    assert embed["title"].startswith(tag) and embed["title"].endswith("Win oats")
    assert embed["author"]["name"].startswith(tag)
    assert embed["color"] == 1
    assert disclosure.disclose_embed(tag, {})["title"] == tag
    assert len(disclosure.disclose_embed(tag, {"title": "y" * 400})["title"]) == disclosure.EMBED_TITLE_LIMIT


def test_topic_starts_with_the_tag():
    tag = disclosure.tag("he", "Acme", "paid")
    assert disclosure.disclose_topic(tag, "Recipes") == f"{tag} · Recipes"
    assert disclosure.disclose_topic(tag, None) == tag
    assert len(disclosure.disclose_topic(tag, "z" * 2000)) == disclosure.TOPIC_LIMIT


def test_an_emoji_family_in_a_brand_name_keeps_its_joiners_in_the_tag():
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"
    assert disclosure.sanitize_brand(f"Oat {family}\u200d") == f"Oat {family}"
    assert family in disclosure.tag("en", f"Oat {family}", "paid")
    assert disclosure.sanitize_brand("Ac\u200dme") == "Acme"  # a joiner inside a Latin word is stray


@pytest.mark.parametrize("lang", ["en", "ar", "he"])
@pytest.mark.parametrize("brand", ["Acme", "The *Very* Long_Brand " * 4, "Oat_ly [x] " + "é" * 50])
def test_a_thread_name_holds_the_whole_tag_as_plain_text_then_the_title(lang: str, brand: str):
    activation = Activation(
        1, 1, 7, "qa", "live", "affiliate", "Ask us *anything* about oats", 5, NOW, NOW + H, lang,
        brand_name=brand,
    )  # fmt: skip
    name = disclosure.thread_name(activation)
    assert len(name) <= disclosure.THREAD_NAME_LIMIT
    plain = disclosure.tag(lang, brand, "affiliate", plain=True, limit=85)
    assert len(plain) <= 85 and name.startswith(plain)  # the whole tag, never cut
    assert plain.endswith(PDI) and plain.count(FSI) == 1
    assert "\\" not in name  # nothing renders markdown in a thread name: no escapes showing
    assert disclosure.tag(lang, brand, "affiliate", plain=True).startswith(plain.split(FSI)[0])
    if brand == "Acme":
        assert name.endswith("Ask us *anything* about oats")


BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=200),
    st.text(max_size=2500),
    st.sampled_from(disclosure.LANGUAGES),
    st.sampled_from(disclosure.CONNECTIONS),
)
def test_no_brand_name_or_content_can_hide_shorten_or_move_the_tag(
    brand: str, content: str, lang: str, connection: str
) -> None:
    """Whatever the brand calls itself and whatever it posts: the tag is one line that starts with
    the language's mark and holds the brand's name isolated once, with no mention, no bidi control
    of its own and no live markdown; the post starts with the whole tag in bold and fits a message;
    the plain tag a thread's name starts with fits its room and still starts with the mark."""
    tag = disclosure.tag(lang, brand, connection)
    mark = disclosure.marks()[disclosure.LANGUAGES.index(lang)]
    assert tag.startswith(mark) and "\n" not in tag
    assert tag.count(FSI) == 1 and tag.count(PDI) == 1 and tag.endswith(PDI)
    name = tag[tag.index(FSI) + 1 : -1]
    assert not set(name) & (BIDI_CONTROLS | {"@", "<", "\n", "\r"})
    unescaped = name.replace("\\\\", "")
    for i, ch in enumerate(unescaped):
        if ch in "*_~|`>#[]()":
            assert i > 0 and unescaped[i - 1] == "\\", (name, ch)
    post = disclosure.disclose_content(tag, content)
    assert post.startswith(f"**{tag}**") and disclosure.starts_disclosed(post, tag)
    assert len(post) <= disclosure.CONTENT_LIMIT
    room = disclosure.THREAD_NAME_LIMIT - len(disclosure.SEPARATOR) - disclosure.MIN_TITLE_SHOWN
    plain = disclosure.tag(lang, brand, connection, plain=True, limit=room)
    assert plain.startswith(mark) and len(plain) <= room
    embed = disclosure.disclose_embed(tag, {"title": content[:300], "author": {"name": content[:300]}})
    assert embed["title"].startswith(tag) and len(embed["title"]) <= disclosure.EMBED_TITLE_LIMIT
