"""What moderators read, and what the log says, when Reddit refuses or fails an activation's step other
than a comment: the real bot with the real praw against the Reddit sandbox's fault injection.

A refusal Reddit's API names (a post the subreddit's rules refuse, its rate limit) or an HTTP refusal
(a 403 on a sticky, an edit) is told in the community's language, never as Reddit's code; the code
stays in the log. A 5xx past prawcore's own retries, a 429 or a timeout is a failure Reddit is
expected to have: retried, told in words, and logged at WARNING in one line, without a traceback and
never at ERROR (as Discord's 5xx).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot import i18n
from sandbox.reddit_server import RedditSandbox
from tests.e2e.activation_helpers import move_to, set_locale
from tests.e2e.conftest import Harness, Launcher
from tests.e2e.reddit_helpers import (  # noqa: F401 - fixtures
    fast_praw_fixture,
    reddit_sb_fixture,
    start_with_reddit,
)
from tests.e2e.test_reddit_transition_faults import scheduled
from tests.e2e.test_transition_faults import settled

INTENTS = "bot.activations.intents"


async def running(
    sb: RedditSandbox, launcher: Launcher, caplog: pytest.LogCaptureFixture, kind: str, lang: str = "en"
) -> tuple[Harness, int, int]:
    """The bot, an approved AMA or giveaway in r/VeganCooking starting in ten minutes, and the
    community's report channel (the community speaking `lang`)."""
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"), flairs=("Sponsored",))
    for name in ("modjane", "alice_r"):
        sb.add_account(name, age_days=400, karma=200)
    h = await start_with_reddit(launcher, sb)
    caplog.set_level(logging.INFO, logger="bot")
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.01
    reports = h.sandbox.add_channel(h.world.guild, "mod-reports")
    await h.settle()
    activation_id = await scheduled(h, sb, kind, reports)
    if lang != "en":
        await set_locale(h, lang, report_channel=reports)
    return h, activation_id, reports


def told(h: Harness, reports: int) -> list[str]:
    """What the bot said in the report channel of the work the activation's transitions ask for."""
    return [m["content"] for m in h.sandbox.messages(reports) if "⚠" in m["content"]]


def step_logs(caplog: pytest.LogCaptureFixture, activation_id: int) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == INTENTS and f"activation {activation_id}:" in r.getMessage()
    ]


@pytest.mark.parametrize(
    ("error_type", "key"),
    [
        ("NO_SELFS", "reddit.refused.no_text_posts"),
        ("SUBMIT_VALIDATION_FLAIR_REQUIRED", "reddit.refused.flair_required"),
        ("SUBMIT_VALIDATION_TITLE_REGEX_REQUIREMENT", "reddit.refused.post_requirements"),
        ("SUBREDDIT_NOTALLOWED", "reddit.refused.not_allowed"),
        ("SOMETHING_REDDIT_ADDS_LATER", "reddit.refused.other"),
    ],
)
@pytest.mark.parametrize("lang", ["en", "he"])
async def test_a_post_reddit_refuses_is_told_in_the_moderators_words_and_its_code_logged(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    caplog: pytest.LogCaptureFixture,
    error_type: str,
    key: str,
    lang: str,
):
    """Before, moderators read "Reddit refused: NO_SELFS"."""
    sb = reddit_sb
    h, activation_id, reports = await running(sb, launcher, caplog, "qa", lang)
    sb.refuse("/api/submit", error_type)
    await move_to(h, h.clock.now + timedelta(minutes=11))
    await settled(h, activation_id)

    (line,) = told(h, reports)
    assert i18n.t(lang, key) in line, line
    assert error_type not in line and "Reddit refused:" not in line
    assert not [t for t in sb.made_by_app() if t.kind == "t3"]  # refused: not made, and not retried
    (logged,) = [r for r in step_logs(caplog, activation_id) if "not retried" in r.getMessage()]
    assert logged.levelno == logging.WARNING and error_type in logged.getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/api/set_subreddit_sticky", "qa"), ("/api/editusertext", "giveaway")],
)
async def test_a_403_on_an_activations_sticky_or_edit_is_told_in_the_moderators_words(
    reddit_sb: RedditSandbox, launcher: Launcher, caplog: pytest.LogCaptureFixture, path: str, kind: str
):
    """The end unstickies an AMA's post, and edits a giveaway's to say entries are closed: Reddit
    refusing either (the bot's account lost its moderator rights) is explained, not shown as
    "Reddit refused: Forbidden"; the log keeps the status."""
    sb = reddit_sb
    h, activation_id, reports = await running(sb, launcher, caplog, kind)
    await move_to(h, h.clock.now + timedelta(minutes=11))
    await settled(h, activation_id)
    sb.fail(path, status=403)
    await move_to(h, h.clock.now + timedelta(hours=3))
    await settled(h, activation_id)

    lines = told(h, reports)
    assert [line for line in lines if i18n.t("en", "reddit.refused.forbidden") in line], lines
    assert not [line for line in lines if "Forbidden" in line or "Reddit refused:" in line], lines
    refused = [r for r in step_logs(caplog, activation_id) if "not retried" in r.getMessage()]
    assert refused and "HTTP 403" in refused[0].getMessage(), [r.getMessage() for r in refused]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("fault", "key", "logged"),
    [
        ("5xx", "reddit.failure.down", "HTTP 503 (ServerError)"),
        ("429", "reddit.failure.rate_limited", "HTTP 429"),
        ("RATELIMIT", "reddit.refused.rate_limited", "Reddit refused: RATELIMIT"),
        ("lost", "reddit.failure.down", "HTTP 504 (ServerError)"),
    ],
)
async def test_reddit_failing_an_activations_post_is_retried_told_in_words_and_logged_without_a_traceback(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    key: str,
    logged: str,
):
    """Before, moderators read "an unexpected error in the bot (details in its log)" and the log had
    a traceback, as for a bug in the bot."""
    sb = reddit_sb
    h, activation_id, reports = await running(sb, launcher, caplog, "qa")
    # A submission is sent once (prawcore would repeat it at once): the step itself is retried.
    if fault == "5xx":
        sb.fail("/api/submit", status=503)
    elif fault == "429":
        sb.rate_limit("/api/submit")
    elif fault == "RATELIMIT":
        sb.refuse("/api/submit", "RATELIMIT")
    else:  # Reddit made the post, and its gateway's answer was lost
        sb.lose_answer("/api/submit")
    await move_to(h, h.clock.now + timedelta(minutes=11))
    await settled(h, activation_id)

    lines = told(h, reports)
    assert lines and i18n.t("en", key) in lines[0], lines
    assert "unexpected" not in lines[0] and "Reddit refused:" not in lines[0]
    assert len([t for t in sb.made_by_app() if t.kind == "t3"]) == 1  # retried, and made once
    failed = [r for r in step_logs(caplog, activation_id) if "failed (attempt 1" in r.getMessage()]
    assert len(failed) == 1 and logged in failed[0].getMessage(), [r.getMessage() for r in failed]
    assert failed[0].levelno == logging.WARNING and not failed[0].exc_info
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
