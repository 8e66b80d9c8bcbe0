"""What Discord is sent stays within its limits: whole lines fitted into an embed, flair lists cut."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot import i18n
from bot.discord_adapter.render import fit_lines
from bot.subreddits.service import CHOICES_SHOWN, flair_choices


def hebrew_brands_more(count: int) -> str:
    return i18n.t("he", "brand.list_more", count=count)


def test_the_tail_shown_is_the_one_measured():
    # Hebrew says "two brands" in a word, longer than "3 brands": the tail for two more is the longest.
    assert len(hebrew_brands_more(2)) > len(hebrew_brands_more(3))
    lines = ["x" * 100] * 41  # 41 lines of 101 with their newlines: 4140 characters
    for limit in range(3800, 4200):
        fitted = fit_lines(lines, hebrew_brands_more, limit)
        assert len(fitted) <= limit, limit


@given(
    st.lists(st.text(alphabet="ab<@>:", min_size=1, max_size=300), max_size=60),
    st.integers(min_value=20, max_value=4096),
)
def test_fitted_lines_are_whole_a_prefix_and_within_the_limit(lines: list[str], limit: int):
    fitted = fit_lines(lines, hebrew_brands_more, limit)
    assert len(fitted) <= limit
    if len("\n".join(lines)) <= limit:
        assert fitted == "\n".join(lines)
        return
    *kept, tail = fitted.split("\n")
    assert kept == lines[: len(kept)]  # whole lines, in order, none cut
    assert tail == hebrew_brands_more(len(lines) - len(kept))[:limit]


def test_a_long_flair_list_is_cut_with_how_many_more_and_written_as_the_reader_lists():
    names = [f"Flair number {k:03d} " + "x" * 40 for k in range(80)]
    *shown, more = flair_choices(names)
    assert shown == names[: len(shown)] and more == f"… (+{80 - len(shown)})"
    assert sum(len(n) + 2 for n in shown) <= CHOICES_SHOWN
    assert flair_choices(["Recipes", "Question"]) == ["Recipes", "Question"]
    assert flair_choices([]) == ["—"]
    refused = i18n.t("ar", "reddit.no_such_flair", name="r/x", flair="y", choices=flair_choices(names[:2]))
    assert f"{names[0]}\u060c {names[1]}" in refused


def test_a_failure_that_is_not_discords_answer_is_told_without_its_text():
    """What a moderator reads in the report channel and `/activation show` when a step fails: Discord's
    own answer as it is, anything else (a fault of the bot's own, the database, the network) without
    the exception's text, which can carry internals (the log keeps the traceback)."""
    import sqlite3

    from bot.discord_adapter.platform import DiscordPlatform

    failure = DiscordPlatform.failure
    assert failure(None, KeyError("guild_settings.locale")).reason == (  # type: ignore[arg-type]
        "an unexpected error in the bot (details in its log)"
    )
    assert failure(None, ConnectionResetError("10.0.0.7:3128 reset")).reason == (  # type: ignore[arg-type]
        "a network error (ConnectionResetError)"
    )
    assert "database" in failure(None, sqlite3.OperationalError("disk I/O error")).reason  # type: ignore[arg-type]
    assert not any(
        failure(None, e).permanent  # type: ignore[arg-type]
        for e in (KeyError("x"), TimeoutError(), OSError("y"))
    )
