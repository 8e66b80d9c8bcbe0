"""Activations in a subreddit, end to end: the real bot with the real praw against the Reddit sandbox.

An AMA and a giveaway are proposed with the Reddit create commands, approved and run by the same
engine as Discord's; members take part by commenting on Reddit. Every post and comment the bot made
(the sandbox's own record, and every text the bot sent to it) starts with the disclosure, in the title
and in the body. The saturation guard counts the subreddit's activations with the server's. (The
Reddit rows of the permission matrix are walked in tests/e2e/test_permissions.py.)
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

import reddit.platform as reddit_platform
from bot import i18n
from bot.activations import disclosure, draw
from bot.activations import subreddit as subreddit_activations
from bot.activations.model import format_time
from bot.ledger import parse_iso
from bot.platform import Card
from bot.subreddits import ledger_id
from bot.subreddits.ids import account_fullname, fullname_of, topic_id
from sandbox.reddit_server import RedditSandbox
from tests.e2e.activation_helpers import approve, create, move_to, reply, seed_brand, seed_partner, set_locale
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher, eventually
from tests.e2e.reddit_helpers import (  # noqa: F401 - fixtures
    fast_praw_fixture,
    reddit_sb_fixture,
    reply_text,
    rounds,
    start_with_reddit,
)
from tests.e2e.test_reddit import bind, link

TAG = disclosure.tag("en", "Acme Oats", "paid")
GIFT_TAG = disclosure.tag("en", "Acme Oats", "gifted")
WRITES = ("/api/submit", "/api/comment", "/api/editusertext")
PROFILES = "/api/user_data_by_account_ids"


def at(h: Harness, delta: timedelta) -> str:
    return (h.clock.now + delta).strftime("%Y-%m-%d %H:%M")


def assert_all_disclosed(sb: RedditSandbox, tag: str) -> int:
    """Every post and comment the bot's account made, as it stands and in every text it sent."""
    made = sb.made_by_app()
    assert made
    for thing in made:
        assert thing.body.startswith(f"**{tag}**"), (thing.fullname, thing.body[:80])
        if thing.kind == "t3":
            assert thing.title.startswith(tag), thing.title
    sent = [c for c in sb.calls if c.method == "POST" and c.path in WRITES and c.status == 200]
    for call in sent:
        assert call.form["text"].startswith(f"**{tag}**"), (call.path, call.form["text"][:80])
        if call.path == "/api/submit":
            assert call.form["title"].startswith(tag), call.form["title"]
    return len(sent)


async def flair(h: Harness, name: str, text: str) -> str:
    interaction = await h.slash(
        "microvoice",
        h.world.owner,
        {"subreddit": name, "flair": text},
        subcommand=["reddit", "flair"],
        permissions=MANAGE_GUILD,
    )
    return reply_text(await interaction.wait_followup())


async def test_a_bot_that_does_not_moderate_chooses_among_the_flairs_members_may_pick(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Reddit lists a subreddit's link flairs as moderators manage them to its moderators only:
    where the bot does not moderate, the sponsored flair is chosen among those a member may pick for
    a new post (Reddit's flair selector), and one only moderators may set is not offered."""
    sb = reddit_sb
    flairs = ("Recipes", "Sponsored", "Mod pick")
    sub = sb.add_subreddit("VeganCooking", moderators=("modjane",), flairs=flairs)
    sub.flairs[2].mod_only = True
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    await link(h, sb, h.world.owner, "modjane")
    assert "does not moderate" in await bind(h, "r/VeganCooking")
    assert "Sponsored" in await flair(h, "r/VeganCooking", "sponsored")
    refused = await flair(h, "r/VeganCooking", "mod pick")
    assert "Recipes" in refused and "Mod pick" not in refused.split(":")[-1]
    assert sb.count("POST", "/api/flairselector") >= 1


async def test_an_ama_runs_in_a_subreddit_with_the_disclosure_on_everything_the_bot_posts(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    sb = reddit_sb
    sub = sb.add_subreddit(
        "VeganCooking", moderators=("MicrovoiceBot", "modjane"), flairs=("Recipes", "Sponsored")
    )
    for name in ("alice_r", "carol_r", "acme_r"):
        sb.add_account(name)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await bind(h, "r/VeganCooking")
    assert "Sponsored" in await flair(h, "r/VeganCooking", "sponsored")
    brand = await seed_brand(h, contacts=[w.bob])
    await link(h, sb, w.bob, "acme_r")  # the brand's own Reddit account

    start = h.clock.now + timedelta(minutes=10)
    options = {
        "brand": brand,
        "subreddit": "r/VeganCooking",
        "title": "Oat milk, asked",
        "starts": at(h, timedelta(minutes=10)),
        "ends": at(h, timedelta(hours=2)),
    }
    data, qa = await create(h, "reddit-qa", w.bob, options, permissions=BASIC)
    assert qa is not None, data
    assert "approved" in (await approve(h, qa))["content"]
    await move_to(h, start + timedelta(minutes=1))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "live"

    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert post.subreddit is sub and post.title == f"{TAG} · Oat milk, asked"
    assert post.flair_text == "Sponsored"
    assert post.stickied and post.distinguished == "moderator"
    assert not sb.messages_to("/r/VeganCooking")  # the bot moderates: nothing to tell

    masked = "Is it [barista grade](/u/modjane)? [Prize](https://phish.example)"  # links of a member's
    q1 = sb.comment(post, "alice_r", masked, score=4)
    q2 = sb.comment(post, "carol_r", "Which oats do you use?", score=9)
    sb.comment(q1, "acme_r", "Yes, it foams well.")  # the brand answers from its linked account
    assert await h.app.reddit_activations.sync_live() == 2
    questions = {
        body: (qid, by)
        for qid, body, by in await h.rows(
            "SELECT id, body, answered_by FROM qa_questions WHERE activation_id = ?", qa
        )
    }
    assert {b: by for b, (_, by) in questions.items()} == {
        masked: w.bob,
        "Which oats do you use?": None,
    }
    shown = await h.slash("activation", w.bob, {"id": qa}, subcommand="show", permissions=BASIC)
    details = (await shown.response()).json["data"]["embeds"][0]["description"]
    open_id = questions["Which oats do you use?"][0]
    assert f"Q{open_id} (open): Which oats do you use?" in details  # the number /qa answer takes
    # A brand manager answers the other one through the bot: a disclosed reply to the comment.
    answer = await h.slash(
        "qa",
        w.bob,
        {"question": questions["Which oats do you use?"][0], "text": "Nordic oats."},
        subcommand="answer",
        permissions=BASIC,
    )
    assert "is posted" in reply_text(await answer.wait_followup())
    (relayed,) = [t for t in sb.made_by_app() if t.kind == "t1"]
    assert relayed.parent_id == q2.fullname and "Nordic oats." in relayed.body
    assert relayed.distinguished == "moderator"

    await move_to(h, h.clock.now + timedelta(hours=3))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "ended"
    summary = [t for t in sb.made_by_app() if t.kind == "t1" and t.parent_id == post.fullname]
    assert len(summary) == 1
    text = summary[0].body
    assert "2 questions, 2 answered" in text
    assert text.index("Which oats") < text.index("barista grade")  # ranked by Reddit's score
    # A question is quoted as written: no masked link of its own, no account notified from the bot's.
    assert "](" not in text.replace("\\](", "").rsplit("[](#mv-", 1)[0]
    assert "/u/modjane" not in text
    assert assert_all_disclosed(sb, TAG) == 3  # the post, the relayed answer, the summary
    # Over: the subreddit's sticky slot is free again; the thread stays open for discussion.
    assert not post.stickied and not post.locked and sub.stickies == []


def giveaway_options(h: Harness, brand: int, **extra: Any) -> dict[str, Any]:
    """`/activation create reddit-giveaway` options: a year of oat milk in r/VeganCooking, from in
    ten minutes to in two hours; `extra` adds or replaces options."""
    return {
        "brand": brand,
        "subreddit": "r/VeganCooking",
        "prize": "A year of oat milk",
        "rules": "One entry per account.",
        "winners": 2,
        "starts": at(h, timedelta(minutes=10)),
        "ends": at(h, timedelta(hours=2)),
        **extra,
    }


async def live_giveaway(h: Harness, sb: RedditSandbox, fans: list[str], **extra: Any) -> tuple[int, Any]:
    """A brand's giveaway in r/VeganCooking (`giveaway_options` with `extra`) proposed by its contact,
    approved and live, each of `fans` entering with a comment, read once: its id and its post."""
    w = h.world
    brand = await seed_brand(h, contacts=[w.bob])
    options = giveaway_options(h, brand, **extra)
    data, giveaway = await create(h, "reddit-giveaway", w.bob, options, permissions=BASIC)
    assert giveaway is not None, data
    await approve(h, giveaway)
    await move_to(h, h.clock.now + timedelta(minutes=11))
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    for name in fans:
        sb.comment(post, name, "me please")
    await h.app.reddit_activations.sync_live()
    return giveaway, post


async def commented_giveaway(
    sb: RedditSandbox, launcher: Launcher, names: list[str], *, others: tuple[str, ...] = ()
) -> tuple[Harness, int, Any]:
    """A brand's giveaway live in r/VeganCooking (its post made), and an account of each of `names`
    (400 days old, karma 200) commenting on it; `others` are accounts of the same kind that do not.
    The bot, its id and the post."""
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    for name in [*names, *others]:
        sb.add_account(name, age_days=400, karma=200)
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[h.world.bob])
    start = h.clock.now + timedelta(minutes=10)
    options = giveaway_options(h, brand)
    _, giveaway = await create(h, "reddit-giveaway", h.world.bob, options, permissions=BASIC)
    await approve(h, giveaway)
    await move_to(h, start + timedelta(minutes=1))
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    for name in names:
        sb.comment(post, name, "me please")
    return h, giveaway, post


def ama_options(h: Harness, brand: int, title: str) -> dict[str, Any]:
    """`/activation create reddit-qa` options: an AMA in r/VeganCooking from in ten minutes to in two
    hours."""
    return {
        "brand": brand,
        "subreddit": "r/VeganCooking",
        "title": title,
        "starts": at(h, timedelta(minutes=10)),
        "ends": at(h, timedelta(hours=2)),
    }


async def propose_ama(h: Harness, title: str = "Oat milk, asked") -> tuple[int, datetime]:
    """An AMA in r/VeganCooking, proposed by the brand's contact and approved; its id and start."""
    w = h.world
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[w.bob])
    start = h.clock.now + timedelta(minutes=10)
    data, qa = await create(h, "reddit-qa", w.bob, ama_options(h, brand, title), permissions=BASIC)
    assert qa is not None, data
    await approve(h, qa)
    return qa, start


async def run_ama(h: Harness, sb: RedditSandbox, title: str = "Oat milk, asked") -> int:
    """An approved AMA in r/VeganCooking, live; returns its id."""
    qa, start = await propose_ama(h, title)
    await move_to(h, start + timedelta(minutes=1))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "live"
    return qa


async def _proposing(
    sb: RedditSandbox, launcher: Launcher
) -> tuple[Harness, Callable[[str], Awaitable[tuple[str, int | None]]]]:
    """The bot started with r/VeganCooking bound and a brand whose contact is Bob, and a function
    Bob proposes a Reddit AMA with: what he is told, and the activation made (None: refused)."""
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[w.bob])

    async def propose(title: str) -> tuple[str, int | None]:
        data, qa = await create(h, "reddit-qa", w.bob, ama_options(h, brand, title), permissions=BASIC)
        return data["content"], qa

    return h, propose


async def test_a_title_the_subreddit_would_refuse_is_refused_when_proposed(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A subreddit's title rules (its longest title, words every title must hold) are met at the
    proposal, with the disclosure counted, not at the start after the approval."""
    sb = reddit_sb
    sub = sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"), flairs=("Sponsored",))
    sub.title_max, sub.title_required = 60, ["[AMA]"]
    h, propose = await _proposing(sb, launcher)
    told, none = await propose("[AMA] Everything about our barista oat milk, asked")
    assert none is None and "at most 60 characters" in told
    told, none = await propose("Oat milk, asked")
    assert none is None and "“[AMA]”" in told
    _, qa = await propose("[AMA] Oat milk")
    assert qa is not None
    await approve(h, qa)
    await move_to(h, h.clock.now + timedelta(minutes=11))
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert len(post.title) <= 60 and "[AMA]" in post.title  # the title as made is the one checked


async def test_titles_the_subreddit_refuses_by_word_pattern_or_length_are_refused_when_proposed(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """The rest of a subreddit's title rules: its shortest title, the words it refuses (the brand's
    own title can drop them; a word the disclosure holds means no disclosed post is taken there) and
    the patterns every title must match one of (case ignored; one Python cannot read is left out)."""
    sb = reddit_sb
    sub = sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"), flairs=("Sponsored",))
    sub.title_min, sub.title_banned = 40, ["giveaway"]
    sub.title_patterns = [r"\[(ama|q&a)\]", "(unclosed"]
    _, propose = await _proposing(sb, launcher)
    told, none = await propose("[AMA] Oat milk giveaway questions")
    assert none is None and "refuses titles holding “giveaway”: take it out" in told
    told, none = await propose("Oat milk, asked by the community")
    assert none is None and "match one of its patterns (“\\[(ama|q&a)\\]”, “(unclosed”)" in told
    sub.title_min = 200
    told, none = await propose("[AMA] Oat milk")
    assert none is None and "at least 200 characters" in told
    sub.title_min, sub.title_banned = 40, ["paid partnership"]
    told, none = await propose("[ama] Oat milk")
    assert none is None and "the disclosure put first in every activation's title holds it" in told
    sub.title_banned = []
    _, qa = await propose("[ama] Oat milk")
    assert qa is not None


async def test_a_locked_or_archived_thread_is_told_in_the_moderators_words_and_not_retried(
    reddit_sb: RedditSandbox, launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """Reddit refuses a comment in a locked thread to all but its moderators (THREAD_LOCKED) and in
    an archived one to everyone (TOO_OLD). A brand manager's `/qa answer` is told why in words, with
    no traceback in the log, and the question stays open; the summary at the end is tried once and
    fails for good, with the reason in the report channel and `/activation show`. Before, the answer
    got "something went wrong" with a traceback logged, and moderators read "Reddit refused: TOO_OLD".
    Reddit's rate limit and a ban are told the same way."""
    sb = reddit_sb
    sub = sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"), flairs=("Sponsored",))
    sb.add_account("alice_r")
    h = await start_with_reddit(launcher, sb)
    reports = h.sandbox.add_channel(h.world.guild, "mod-reports")
    await h.settle()
    await set_locale(h, "en", report_channel=reports)
    qa = await run_ama(h, sb)
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    sb.comment(post, "alice_r", "Is it barista grade?")
    assert await h.app.reddit_activations.sync_live() == 1
    question = await h.scalar("SELECT id FROM qa_questions WHERE activation_id = ?", qa)

    async def answer() -> str:
        options = {"question": question, "text": "Yes, it foams well."}
        interaction = await h.slash("qa", h.world.bob, options, subcommand="answer", permissions=BASIC)
        return reply_text(await interaction.wait_followup())

    sub.moderators.remove("MicrovoiceBot")  # a moderator locks the thread and drops the bot
    post.locked = True
    with caplog.at_level(logging.WARNING):
        # Reddit's rate limit on posting, and a ban, are told too (before: "something went wrong").
        sb.refuse("/api/comment", "RATELIMIT")
        assert "Try again in a few minutes" in await answer()
        sb.refuse("/api/comment", "SUBREDDIT_NOTALLOWED")
        assert "does not let the bot's account post in the subreddit" in await answer()
        assert "The post is locked, so Reddit takes no new comments on it" in await answer()
        sub.moderators.append("MicrovoiceBot")
        post.locked, post.archived = False, True  # archived: not even a moderator may comment
        assert "The post is archived" in await answer()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert await h.scalar("SELECT answered_by FROM qa_questions WHERE id = ?", question) is None
    assert not [t for t in sb.made_by_app() if t.kind == "t1"]

    tried = sb.count("POST", "/api/comment")
    await move_to(h, h.clock.now + timedelta(hours=3))
    await eventually(
        lambda: any("Activation #" in m["content"] for m in h.sandbox.messages(reports)),
        "a line in the report channel",
        timeout=10,
    )
    await move_to(h, h.clock.now + timedelta(hours=3))  # nothing is retried
    assert sb.count("POST", "/api/comment") == tried + 1
    (line,) = [m["content"] for m in h.sandbox.messages(reports) if "Activation #" in m["content"]]
    assert "The post is archived" in line and "stopped retrying" in line and "TOO_OLD" not in line
    shown = await h.slash("activation", h.world.bob, {"id": qa}, subcommand="show", permissions=BASIC)
    details = (await shown.response()).json["data"]["embeds"][0]["description"]
    assert "The post is archived" in details


async def test_an_answer_whose_reply_was_lost_is_found_not_posted_twice(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Reddit makes the relayed answer but its reply is lost (a 504): the brand manager reads that
    Reddit is not available and the question stays open; answering again finds the comment made (by
    its marker) instead of posting a second one, and the question is answered once."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"), flairs=("Sponsored",))
    sb.add_account("alice_r")
    h = await start_with_reddit(launcher, sb)
    qa = await run_ama(h, sb)
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    asked = sb.comment(post, "alice_r", "Is it barista grade?")
    assert await h.app.reddit_activations.sync_live() == 1
    question = await h.scalar("SELECT id FROM qa_questions WHERE activation_id = ?", qa)

    async def answer(text: str) -> str:
        options = {"question": question, "text": text}
        interaction = await h.slash("qa", h.world.bob, options, subcommand="answer", permissions=BASIC)
        return reply_text(await interaction.wait_followup())

    sb.lose_answer("/api/comment", status=504)
    assert "not available" in await answer("Yes, it foams well.")
    assert "is posted" in await answer("Yes, it foams well!")
    answers = [t for t in sb.made_by_app() if t.kind == "t1" and t.parent_id == asked.fullname]
    assert len(answers) == 1 and "foams well." in answers[0].body
    assert await h.scalar("SELECT count(*) FROM qa_questions WHERE answered_at IS NOT NULL") == 1


async def test_a_comment_reddit_answers_without_making_is_told_in_the_moderators_words(
    reddit_sb: RedditSandbox, launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """Reddit answers the AMA's summary comment with nothing made and no error (as in a quarantined
    subreddit): the end fails for good, and moderators read why in their language, not the bot's
    English note; the log keeps the note."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"), flairs=("Sponsored",))
    h = await start_with_reddit(launcher, sb)
    reports = h.sandbox.add_channel(h.world.guild, "mod-reports")
    await h.settle()
    await set_locale(h, "he", report_channel=reports)
    qa = await run_ama(h, sb)
    sb.answer_nothing("/api/comment")
    with caplog.at_level(logging.WARNING):
        await move_to(h, h.clock.now + timedelta(hours=3))
        await eventually(
            lambda: any("r/VeganCooking" in m["content"] for m in h.sandbox.messages(reports)),
            "a line in the report channel",
            timeout=10,
        )
    (line,) = [m["content"] for m in h.sandbox.messages(reports) if "r/VeganCooking" in m["content"]]
    assert f"`/activation retry {qa}`" in line
    assert i18n.t("he", "reddit.refused.no_replies") in line and "locked or deleted" not in line, line
    assert any("takes no replies" in r.getMessage() for r in caplog.records)
    assert not [t for t in sb.made_by_app() if t.kind == "t1"]


async def test_a_post_the_bot_may_not_feature_is_still_made_and_run(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """The bot moderates, but without the posts permission: distinguishing and stickying are
    refused (403). The post stands, is recorded, and the AMA runs; nothing is repeated."""
    sb = reddit_sb
    sub = sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sub.permissions["microvoicebot"] = ["mail", "flair"]
    sb.add_account("modjane")
    sb.add_account("alice_r")
    h = await start_with_reddit(launcher, sb)
    qa = await run_ama(h, sb)
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert not post.stickied and post.distinguished is None
    assert await h.scalar("SELECT message_id FROM activations WHERE id = ?", qa) is not None
    sb.comment(post, "alice_r", "Is it barista grade?")
    assert await h.app.reddit_activations.sync_live() == 1


async def test_a_post_reddit_took_before_its_answer_was_lost_is_made_once(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Reddit makes the AMA's post but answers 504 (a gateway whose backend took too long): prawcore
    would send the same submission again at once, making it twice. Writes are sent once; the step is
    retried (a minute later, shortened here), finds the post the first attempt made, and goes on
    with it."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    h.app.activations.intents.max_asked_wait = 0.5  # the minute a lost post is given to settle
    qa, start = await propose_ama(h)
    sb.lose_answer("/api/submit", status=504)  # the post is made; the answer is a gateway timeout
    await move_to(h, start + timedelta(minutes=1))

    async def opened() -> bool:
        return await h.scalar("SELECT message_id FROM activations WHERE id = ?", qa) is not None

    await eventually(opened, "the AMA's post recorded", timeout=15)
    await h.settle()
    posts = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert len(posts) == 1, [p.fullname for p in posts]
    assert sb.count("POST", "/api/submit") == 1
    message_id = await h.scalar("SELECT message_id FROM activations WHERE id = ?", qa)
    assert fullname_of(int(message_id)) == posts[0].fullname
    # Featured as a post the first attempt finished would be: cut off after the post, not before.
    assert posts[0].distinguished == "moderator" and posts[0].stickied


async def test_a_post_whose_look_up_fails_after_a_lost_answer_is_not_made_again(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """The answer to the AMA's post is lost, and Reddit, still struggling, fails the retry's look-up
    for the post too. Reddit has no nonce to refuse a repeat, so the step is not posted blind: it
    fails and is tried again, finds the first post, and goes on with it. Before, a second sponsored
    post was made, never recorded, featured or closed."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    h.app.activations.intents.max_asked_wait = 0.5  # the minute a lost post is given to settle
    qa, start = await propose_ama(h)
    sb.lose_answer("/api/submit", status=504)

    def struggling(_: object) -> bool:  # the look-up: the bot's submissions, then the subreddit's /new
        sb.fail("/submitted", status=503, times=9)  # past prawcore's own retries, more than once
        sb.fail("/VeganCooking/new", status=503, times=9)
        return True

    sb.before("/submitted", struggling)
    await move_to(h, start + timedelta(minutes=1))

    async def opened() -> bool:
        return await h.scalar("SELECT message_id FROM activations WHERE id = ?", qa) is not None

    await eventually(opened, "the AMA's post recorded", timeout=30)
    await h.settle()
    posts = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert len(posts) == 1, [p.fullname for p in posts]
    assert sb.count("POST", "/api/submit") == 1
    message_id = await h.scalar("SELECT message_id FROM activations WHERE id = ?", qa)
    assert fullname_of(int(message_id)) == posts[0].fullname


async def test_a_lost_answer_finds_its_own_post_by_its_marker_not_a_same_titled_one(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """The AMA's post is made but its answer is lost; before the retry looks, the bot's account posts
    again with the same title (by hand, or another activation's). The look-up matches the hidden marker
    that ends the body (the attempt's nonce), so the AMA keeps its own post. Before, it took the newest
    post of the bot's with that title: the other one."""
    sb = reddit_sb
    sub = sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    h.app.activations.intents.max_asked_wait = 0.5  # the minute a lost post is given to settle
    qa, start = await propose_ama(h)
    sb.lose_answer("/api/submit", status=504)
    decoys: list[Any] = []

    def same_title_posted(_: object) -> bool:  # after the lost answer, before the retry's look-up
        (made,) = [t for t in sb.made_by_app() if t.kind == "t3"]
        decoys.append(sb.post(sub, "MicrovoiceBot", made.title, f"**{TAG}**\n\nSee you there."))
        return True

    sb.before("/submitted", same_title_posted)
    await move_to(h, start + timedelta(minutes=1))

    async def opened() -> bool:
        return await h.scalar("SELECT message_id FROM activations WHERE id = ?", qa) is not None

    await eventually(opened, "the AMA's post recorded", timeout=15)
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert decoys and decoys[0].title == post.title and decoys[0].listed > post.listed
    assert sb.count("POST", "/api/submit") == 1
    message_id = await h.scalar("SELECT message_id FROM activations WHERE id = ?", qa)
    assert fullname_of(int(message_id)) == post.fullname
    assert post.body.startswith(f"**{TAG}**") and reddit_platform.marker_of(post.body)
    assert "[](#mv-" not in post.title


async def test_a_write_reddit_never_made_is_made_even_when_the_bot_has_a_same_titled_post(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """The bot's account already has a post with the AMA's title in the subreddit (an earlier AMA of the
    same name). The AMA's post fails before Reddit makes it (503): the retry's look-up finds no post
    with its marker, and makes it. Before, the older post matched by its title and the AMA ran on it."""
    sb = reddit_sb
    sub = sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    qa, start = await propose_ama(h)
    older = sb.post(sub, "MicrovoiceBot", f"{TAG} · Oat milk, asked", f"**{TAG}**\n\nLast year's.")
    sb.fail("/api/submit", status=503)
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.05
    await move_to(h, start + timedelta(minutes=1))

    async def opened() -> bool:
        return await h.scalar("SELECT message_id FROM activations WHERE id = ?", qa) is not None

    await eventually(opened, "the AMA's post recorded", timeout=15)
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert post.title == older.title
    message_id = await h.scalar("SELECT message_id FROM activations WHERE id = ?", qa)
    assert fullname_of(int(message_id)) == post.fullname != older.fullname


async def test_reddit_failing_while_a_post_is_featured_is_no_sign_the_bot_lost_its_rights(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """The moderator list answers 503 past prawcore's retries just after the AMA's post is made: the
    post stands unfeatured, and nothing is concluded (the subreddit is still known as moderated by
    the bot, and its moderators get no "cannot pin" message, which is sent only once ever)."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    qa, start = await propose_ama(h)
    assert await h.scalar("SELECT bot_moderates FROM reddit_subreddits") == 1
    sb.fail("/about/moderators", status=503, times=3)
    await move_to(h, start + timedelta(minutes=1))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "live"
    assert await h.scalar("SELECT bot_moderates FROM reddit_subreddits") == 1
    assert not sb.messages_to("/r/VeganCooking")


async def test_the_moderators_two_stickies_are_not_displaced(reddit_sb: RedditSandbox, launcher: Launcher):
    """A subreddit has two sticky slots: with both taken by its moderators, the bot's post is
    distinguished but not stickied, and theirs stay."""
    sb = reddit_sb
    sub = sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    rules, megathread = sb.post(sub, "modjane", "Rules"), sb.post(sub, "modjane", "Weekly thread")
    sb.set_sticky(rules)
    sb.set_sticky(megathread)
    h = await start_with_reddit(launcher, sb)
    await run_ama(h, sb)
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert post.distinguished == "moderator" and not post.stickied
    assert sub.stickies == [rules.fullname, megathread.fullname]


async def test_a_post_an_earlier_attempt_made_is_found_by_its_escaped_title_even_when_filtered(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A title with `&`, `<` and `>` (which Reddit sends as written to praw, which asks for raw JSON,
    and HTML-escaped otherwise), and a post the spam filter holds is in no subreddit listing: the bot
    looks among its own submissions and compares the text as sent or unescaped."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    await run_ama(h, sb, title="Oats & <more>")
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    post.filtered = True
    activation = await h.app.store.activation_by_id(
        int(await h.scalar("SELECT id FROM activations WHERE kind = 'qa'"))
    )
    assert activation is not None
    card = Card(  # the post the AMA made
        title=activation.title,
        description=i18n.t("en", "reddit_qa.open", end=format_time(activation.ends_at)),
    )
    found = await h.app.activations.publisher.find(activation, activation.channel_id, card=card)
    assert found is not None and found.id == activation.message_id
    # Where a user's submissions cannot be read, the subreddit's newest posts are looked through.
    post.filtered = False
    sb.fail("/user/MicrovoiceBot/submitted", status=404)
    found = await h.app.activations.publisher.find(activation, activation.channel_id, card=card)
    assert found is not None and found.id == activation.message_id
    assert sb.count("GET", "/user/MicrovoiceBot/submitted") == 2


async def test_a_name_in_a_sponsored_post_notifies_nobody(reddit_sb: RedditSandbox, launcher: Launcher):
    """u/name in what a brand or member wrote reads the same on Reddit but notifies nobody from the
    bot's account; only the accounts a post is meant for (winners) are mentioned."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    await run_ama(h, sb, title="Ask u/spez and /u/kn0thing anything")
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert "u\\/spez" in post.body and "/u\\/kn0thing" in post.body
    assert "u/spez" not in post.body.replace("u\\/spez", "")
    assert post.title.endswith("Ask u/spez and /u/kn0thing anything")  # a title notifies nobody


async def test_a_giveaway_runs_in_a_subreddit_and_counts_against_the_servers_sponsored_limit(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("modjane",))
    sb.add_account("modjane")
    for name in ("old_r", "old2_r", "acme_r"):
        sb.add_account(name, age_days=400, karma=200)
    sb.add_account("new_r", age_days=2, karma=200)
    sb.add_account("almost_r", age_days=29.99, karma=200)  # 30 days old 15 minutes after commenting
    sb.add_account("poor_r", age_days=400, karma=3)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await link(h, sb, w.owner, "modjane")  # the bot does not moderate: the owner's account does
    assert "does not moderate" in await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[w.bob])
    await link(h, sb, w.bob, "acme_r")
    await h.app.store.update_settings(
        w.guild, {"max_sponsored_per_week": 1, "min_gap_hours": 0}, by=w.owner, now=h.clock.now
    )

    start = h.clock.now + timedelta(minutes=10)
    options = giveaway_options(
        h, brand, rules="One entry per account. Worldwide shipping.", min_account_days=30, min_karma=10
    )
    data, giveaway = await create(h, "reddit-giveaway", w.bob, options, permissions=BASIC)
    assert giveaway is not None, data
    assert "approved" in (await approve(h, giveaway))["content"]
    # One sponsored activation a week for the whole community: a Discord Q&A the same week is refused.
    refused, none = await create(
        h,
        "qa",
        w.bob,
        {
            "brand": brand,
            "channel": w.cooking,
            "title": "Same week",
            "starts": at(h, timedelta(days=1)),
            "ends": at(h, timedelta(days=1, hours=1)),
        },
        permissions=BASIC,
    )
    assert none is None and "next free slot" in refused["content"].lower(), refused

    await move_to(h, start + timedelta(minutes=1))
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert post.title == f"{GIFT_TAG} · Giveaway: {i18n.isolate('A year of oat milk')}"
    commitment = str(
        await h.scalar("SELECT commitment FROM giveaway_secrets WHERE activation_id = ?", giveaway)
    )
    assert commitment in post.body and "top-level comment" in post.body
    assert not post.stickied and post.distinguished is None
    assert not post.send_replies  # entries are read from the thread; they do not flood the inbox
    told = sb.messages_to("/r/VeganCooking")
    assert len(told) == 1 and "sticky" in told[0].body

    # A big thread comes back partly as a `more` stub ("load more comments"): entries behind it count.
    sb.tree_limit = 3
    for name in ("new_r", "poor_r", "modjane", "old_r", "acme_r", "old2_r", "old_r", "almost_r"):
        sb.comment(post, name, "me please")
    await h.app.reddit_activations.sync_live()
    entrants = [
        r[0]
        for r in await h.rows(
            "SELECT member_id FROM giveaway_entries WHERE activation_id = ? ORDER BY member_id", giveaway
        )
    ]
    eligible = sorted(ledger_id(sb.state.account(n).fullname) for n in ("old_r", "old2_r"))
    assert entrants == eligible

    await move_to(h, h.clock.now + timedelta(hours=3))
    # Judged as the accounts were when they commented: one too new then is no entry at the end either.
    final = await h.rows(
        "SELECT member_id FROM giveaway_entries WHERE activation_id = ? ORDER BY member_id", giveaway
    )
    assert [r[0] for r in final] == eligible
    (result,) = [t for t in sb.made_by_app() if t.kind == "t1"]
    assert result.parent_id == post.fullname
    seed = str(await h.scalar("SELECT seed FROM giveaway_secrets WHERE activation_id = ?", giveaway))
    assert seed in result.body and draw.verify_commitment(seed, commitment)
    winners = draw.draw(seed, eligible, 2)
    names = {ledger_id(sb.state.account(n).fullname): n for n in ("old_r", "old2_r")}
    for winner in winners:
        assert f"u/{names[winner]}" in result.body
    for entrant in eligible:
        assert str(entrant) in result.body  # the entrant list, to verify the draw
    assert "Entries closed" in post.body and post.edits == 1
    assert len(sb.messages_to("/r/VeganCooking")) == 1  # told once
    assert assert_all_disclosed(sb, GIFT_TAG) == 3  # the post, its edit, the results

    # After a restart no account name is known: a reroll's comment still names the accounts it is
    # about (notifying its new winners; here nobody is left to draw), looked up first, not their ids.
    h.app.activations.platform.platforms["reddit"]._names.clear()
    rerolled = await h.slash(
        "activation", w.owner, {"id": giveaway}, subcommand="reroll", permissions=MANAGE_GUILD
    )
    await rerolled.wait_followup()
    (*_, comment) = [t for t in sb.made_by_app() if t.kind == "t1"]
    assert comment.parent_id == post.fullname and comment.fullname != result.fullname
    for winner in winners:
        assert names[winner] in comment.body  # replaced: named without a ping
        assert sb.state.account(names[winner]).fullname not in comment.body


async def seed_scores(h: Harness, scores: dict[int, float]) -> None:
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    for rank, (member, score) in enumerate(ranked, start=1):
        await h.app.store.db.execute(
            "INSERT INTO trust_scores (community_id, scope, member_id, rank, score, distinct_peers,"
            " trusted_peers, computed_at, why) VALUES (?, 'all', ?, ?, ?, 5, 2, ?, ?)",
            (h.world.guild, member, rank, score, h.clock.now.isoformat(), json.dumps({"parts": []})),
        )


async def test_a_linked_members_standing_combines_both_identities_and_unlinked_ones_never_merge(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    sb = reddit_sb
    for name in ("alice_r", "carol_r"):
        sb.add_account(name)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await link(h, sb, w.alice, "alice_r")
    alice_r, carol_r = (ledger_id(sb.state.account(n).fullname) for n in ("alice_r", "carol_r"))
    # Ranked alone: bob 0.30, carol_r 0.25, alice 0.20, alice_r 0.15. Linked, alice holds 0.35.
    await seed_scores(h, {w.bob: 0.30, carol_r: 0.25, w.alice: 0.20, alice_r: 0.15})
    await seed_brand(h, contacts=[w.carol])
    for member in (w.alice, w.bob):
        await seed_partner(h, member)

    me = await h.slash("voices", w.alice, subcommand="me", permissions=BASIC)
    embed = (await me.response()).json["data"]["embeds"][0]
    (field,) = embed["fields"]
    assert field["name"] == "Combined with u/alice_r"
    assert "rank 1" in field["value"] and "0.3500" in field["value"]
    theirs = await h.slash(
        "voices", w.owner, {"member": w.bob}, subcommand="member", permissions=MANAGE_GUILD
    )
    assert not (await theirs.response()).json["data"]["embeds"][0].get("fields")  # bob linked nothing

    async def partners() -> str:
        listed = await h.slash(
            "brand", w.owner, {"brand": "Acme Oats"}, subcommand="partners", permissions=MANAGE_GUILD
        )
        call = await listed.response()
        data = call.json["data"] if call.json["type"] == 4 else (await listed.wait_followup()).json
        return data["embeds"][0]["description"]

    listing = await partners()
    assert listing.index(f"<@{w.alice}>") < listing.index(f"<@{w.bob}>")  # 0.35 together, above 0.30
    assert "alice_r" not in listing and str(carol_r) not in listing  # Reddit identities are not partners
    removed = await h.slash("link", w.alice, subcommand="remove", permissions=BASIC)
    assert "unlinked" in reply_text(await removed.response())
    listing = await partners()
    assert listing.index(f"<@{w.bob}>") < listing.index(f"<@{w.alice}>")  # unlinked: counted apart
    me = await h.slash("voices", w.alice, subcommand="me", permissions=BASIC)
    assert not (await me.response()).json["data"]["embeds"][0].get("fields")


async def test_a_sponsored_announcement_is_featured_while_live_and_closed_at_the_end(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    sb = reddit_sb
    sub = sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"), flairs=("Sponsored",))
    oats = sb.add_subreddit("OatLovers", moderators=("modjane",))
    for name in ("modjane", "alice_r"):
        sb.add_account(name)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.05
    await bind(h, "r/VeganCooking")
    await link(h, sb, w.owner, "modjane")  # binds r/OatLovers, which only modjane moderates
    assert "now part of this community" in await bind(h, "r/OatLovers")
    assert "Sponsored" in await flair(h, "r/VeganCooking", "sponsored")
    brand = await seed_brand(h, contacts=[w.bob])
    await h.app.store.update_settings(
        w.guild, {"max_sponsored_per_week": 50, "min_gap_hours": 0}, by=w.owner, now=h.clock.now
    )
    text = "Our barista oat milk is back in stores.\nAsk your local shop."
    options = {
        "brand": brand,
        "subreddit": "r/VeganCooking",
        "title": "Oat milk is back",
        "text": text,
        "starts": at(h, timedelta(minutes=10)),
        "ends": at(h, timedelta(hours=2)),
    }
    data, announcement = await create(h, "reddit-announcement", w.bob, options, permissions=BASIC)
    assert announcement is not None, data
    later = {"starts": at(h, timedelta(hours=3)), "ends": at(h, timedelta(hours=5))}
    data, elsewhere = await create(
        h, "reddit-announcement", w.bob, {**options, **later, "subreddit": "r/OatLovers"}, permissions=BASIC
    )
    assert elsewhere is not None, data
    assert await h.scalar("SELECT DISTINCT kind FROM activations") == "announcement"
    for activation in (announcement, elsewhere):
        assert "approved" in (await approve(h, activation))["content"]
    t0 = h.clock.now
    await move_to(h, t0 + timedelta(minutes=11))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", announcement) == "live"

    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert post.subreddit is sub and post.title == f"{TAG} · Oat milk is back"
    assert post.body.startswith(f"**{TAG}**") and "Our barista oat milk is back in stores." in post.body
    assert post.flair_text == "Sponsored"
    assert post.stickied and post.distinguished == "moderator" and not post.locked  # the bot moderates
    sb.comment(post, "alice_r", "Finally!")

    # At the end Reddit fails the lock past prawcore's own retries: the closing intent is retried, and
    # its finished step (the edit) is not done again.
    sb.fail("/api/lock", status=503, times=4)
    await move_to(h, t0 + timedelta(hours=2, minutes=1))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", announcement) == "ended"
    await eventually(lambda: _intent_done(h, announcement), "the announcement closed after retries")
    locks = [c.status for c in sb.calls if c.path == "/api/lock"]
    assert 503 in locks and locks[-1] == 200
    assert post.edits == 1 and sb.count("POST", "/api/editusertext") == 1
    ended_line = i18n.t("en", "reddit_announcement.ended", when=format_time(await ends_at(h, announcement)))
    assert ended_line in post.body and "Our barista oat milk is back in stores." in post.body
    assert not post.stickied and post.locked and post.distinguished == "moderator"

    # Where the bot does not moderate: not featured, the moderators told once; cancelled while live, the
    # post says it was withdrawn, and nothing more can be done there.
    await move_to(h, t0 + timedelta(hours=3, minutes=1))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", elsewhere) == "live"
    (other,) = [t for t in sb.made_by_app() if t.kind == "t3" and t.subreddit is oats]
    assert other.title == post.title and not other.stickied and other.distinguished is None
    assert len(sb.messages_to("/r/OatLovers")) == 1 and not sb.messages_to("/r/VeganCooking")
    cancelled = await h.slash(
        "activation", w.owner, {"id": elsewhere}, subcommand="cancel", permissions=MANAGE_GUILD
    )
    await cancelled.response()
    await eventually(lambda: _intent_done(h, elsewhere), "the withdrawn announcement closed")
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", elsewhere) == "cancelled"
    assert "This announcement was withdrawn at" in other.body and other.edits == 1
    assert not other.locked and not other.stickied
    assert assert_all_disclosed(sb, TAG) == 4  # two posts, two edits


async def _intent_done(h: Harness, activation_id: int) -> bool:
    state = await h.scalar(
        "SELECT state FROM activation_intents WHERE activation_id = ? AND action = 'close'", activation_id
    )
    return state == "done"


async def ends_at(h: Harness, activation_id: int) -> datetime:
    return parse_iso(str(await h.scalar("SELECT ends_at FROM activations WHERE id = ?", activation_id)))


async def test_a_giveaway_whose_entrant_list_outgrows_a_comment_publishes_all_of_it_once(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: Any
):
    """Reddit takes 10,000 characters a comment (here 1,500, so that 40 entrants overflow it): the
    results comment lists what fits and replies to itself with the rest, each part disclosed first.
    A stop in the middle of that chain leaves the retry to finish it, not to post any part twice."""
    monkeypatch.setattr(reddit_platform, "COMMENT_LIMIT", 1500)
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("modjane",))
    sb.add_account("modjane")
    fans = [f"fan{i}_r" for i in range(40)]
    for name in (*fans, "acme_r"):
        sb.add_account(name, age_days=400, karma=200)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await link(h, sb, w.owner, "modjane")
    assert "does not moderate" in await bind(h, "r/VeganCooking")
    giveaway, _ = await live_giveaway(h, sb, fans)

    # The chain's second part is refused once (Reddit's rate limit): the close is retried.
    sent: list[str] = []

    def second_part(form: dict[str, str]) -> bool:
        sent.append(form.get("thing_id", ""))
        if len(sent) == 2:
            sb.refuse("/api/comment", "RATELIMIT")
            return True
        return False

    sb.before("/api/comment", second_part)
    await move_to(h, h.clock.now + timedelta(hours=3))

    async def closed() -> bool:
        return await _intent_done(h, giveaway)

    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.05
    for intent in await h.app.store.pending_intents():
        await h.app.activations.intents.retry(intent.id)
    await eventually(closed, "the results chain finished", timeout=15)

    comments = [t for t in sb.made_by_app() if t.kind == "t1"]
    assert len(comments) >= 2  # the results and the rest of the list, each once
    assert sb.count("POST", "/api/comment") == len(comments) + 1  # the refused one, made on the retry
    assert len({c.body for c in comments}) == len(comments)
    for parent, child in pairwise(comments):
        assert child.parent_id == parent.fullname  # a chain of replies under the results
    entrants = [ledger_id(sb.state.account(n).fullname) for n in fans]
    published = "\n".join(c.body for c in comments)
    assert all(str(e) in published for e in entrants)
    assert "(1 of" not in published  # no part claims to be the whole list
    assert all(len(c.body) <= 1500 for c in comments)
    assert_all_disclosed(sb, GIFT_TAG)


async def test_more_than_three_winners_are_told_three_a_reply(reddit_sb: RedditSandbox, launcher: Launcher):
    """Reddit notifies nobody of a comment that names more than three accounts: with five winners, the
    results name them all and two replies to the results tell them, three and two, each disclosed."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    fans = [f"fan{i}_r" for i in range(8)]
    for name in (*fans, "acme_r"):
        sb.add_account(name, age_days=400, karma=200)
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    giveaway, post = await live_giveaway(h, sb, fans, winners=5)
    await move_to(h, h.clock.now + timedelta(hours=3))

    async def closed() -> bool:
        return await _intent_done(h, giveaway)

    await eventually(closed, "the results and the replies", timeout=15)

    comments = [t for t in sb.made_by_app() if t.kind == "t1"]
    (results,) = [c for c in comments if c.parent_id == post.fullname]
    replies = [c for c in comments if c.parent_id == results.fullname]
    named = [[f for f in fans if f"u/{f}" in c.body] for c in replies]
    assert sorted(len(n) for n in named) == [2, 3]
    winners = sorted(f for n in named for f in n)
    assert len(set(winners)) == 5 and all(f"u/{f}" in results.body for f in winners)
    assert len(sb.made_by_app()) == 1 + 1 + 2  # the post, the results, the two replies
    assert_all_disclosed(sb, GIFT_TAG)


async def test_a_long_live_thread_is_read_at_the_pace_its_share_of_reddits_budget_allows(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """Each read of a live post's comments costs a request per hundred comments: a long thread (here
    from five comments, a request each) is read again only once its share of Reddit's hundred
    requests a minute allows, not at every sync; new entries are still all counted then."""
    monkeypatch.setattr(subreddit_activations, "PACED_FROM", 5)
    monkeypatch.setattr(subreddit_activations, "COMMENTS_PER_REQUEST", 1)
    names = [f"fan{i}_r" for i in range(8)]
    h, giveaway, post = await commented_giveaway(reddit_sb, launcher, names[:6], others=tuple(names[6:]))
    sb = reddit_sb
    reads = sb.count("GET", f"/comments/{post.id}")
    await h.app.reddit_activations.sync_live()  # six comments: read, then paced ((1 + 6) / 5 minutes)
    assert sb.count("GET", f"/comments/{post.id}") == reads + 1
    for name in names[6:]:
        sb.comment(post, name, "me too")
    await h.app.reddit_activations.sync_live()
    assert sb.count("GET", f"/comments/{post.id}") == reads + 1  # not yet
    h.clock.now += timedelta(minutes=1.5)
    await h.app.reddit_activations.sync_live()
    assert sb.count("GET", f"/comments/{post.id}") == reads + 2
    entries = await h.scalar("SELECT count(*) FROM giveaway_entries WHERE activation_id = ?", giveaway)
    assert entries == 8


async def test_a_giveaway_counts_no_removed_or_automod_comment_and_waits_for_accounts_reddit_cannot_show(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """The bot moderates, so it sees a comment AutoModerator removed with its author and text: no
    entry, and neither is AutoModerator's own notice. When Reddit fails on the entrants' profiles at
    the final read (5xx past prawcore's own retries), they are not refused as no accounts: the draw
    waits, and the retried close draws from every entrant."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    for name in ("old_r", "old2_r", "spam_r", "AutoModerator", "acme_r"):
        sb.add_account(name, age_days=400, karma=200)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await link(h, sb, w.owner, "modjane")
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[w.bob])
    options = giveaway_options(h, brand, winners=3)
    data, giveaway = await create(h, "reddit-giveaway", w.bob, options, permissions=BASIC)
    assert giveaway is not None, data
    assert "approved" in (await approve(h, giveaway))["content"]
    await move_to(h, h.clock.now + timedelta(minutes=11))
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    spam = sb.comment(post, "spam_r", "me please, and visit my shop")
    sb.remove(spam, by="AutoModerator")
    sb.comment(post, "AutoModerator", "Reminder: one entry per account.")
    for name in ("old_r", "old2_r"):
        sb.comment(post, name, "me please")
    await rounds(h)  # the streams have read the new authors' ages (the same endpoint)
    sb.fail(PROFILES, status=500, times=3)
    await move_to(h, h.clock.now + timedelta(hours=3))
    assert await h.scalar("SELECT count(*) FROM giveaway_draws WHERE activation_id = ?", giveaway) == 0

    def announced() -> bool:  # the close, tried again 2 s later
        return any(t.kind == "t1" for t in sb.made_by_app())

    await eventually(announced, "the results, once every entrant could be read", timeout=10)

    expected = sorted(ledger_id(sb.state.account(n).fullname) for n in ("old_r", "old2_r"))
    entrants = await h.rows(
        "SELECT member_id FROM giveaway_entries WHERE activation_id = ? ORDER BY member_id", giveaway
    )
    assert [r[0] for r in entrants] == expected
    (result,) = [t for t in sb.made_by_app() if t.kind == "t1"]
    for entrant in expected:
        assert str(entrant) in result.body
    for name in ("spam_r", "AutoModerator"):
        assert str(ledger_id(sb.state.account(name).fullname)) not in result.body


async def test_a_giveaways_entrants_are_not_read_from_reddit_again_at_every_sync(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: Any
):
    """Each entrant's account is read once to judge the entry; the syncs after it (one a minute) read
    only the accounts not entered yet. Before, every account was read again each time its cached
    profile expired: a thousand entrants took the client's whole budget for ten minutes, stalling
    the streams and link codes."""
    sb = reddit_sb
    names = [f"fan{i}_r" for i in range(30)]
    h, _, post = await commented_giveaway(sb, launcher, names)

    def profiles_read() -> list[str]:
        return [i for c in sb.calls if c.path == PROFILES for i in c.query["ids"].split(",")]

    await rounds(h)  # the streams read the new authors' ages with the same endpoint: not counted
    before = len(profiles_read())
    assert await h.app.reddit_activations.sync_live() == 30
    first = len(profiles_read()) - before
    assert first == 30  # each entrant judged once
    monkeypatch.setattr(reddit_platform, "ACCOUNT_SECONDS", 0.0)  # as ten minutes later: cache expired
    sb.comment(post, "modjane", "and me")  # a moderator: read, and refused
    await rounds(h)
    before = len(profiles_read())
    await h.app.reddit_activations.sync_live()
    assert profiles_read()[before:] == [sb.state.account("modjane").fullname]  # only the one not entered
    assert not [c for c in sb.calls if c.path.startswith("/user/") and c.path.endswith("/about")]


async def test_a_giveaways_entrants_are_read_a_hundred_a_request_and_those_reddit_leaves_out_are_no_entries(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """250 accounts comment on the giveaway: their profiles are read with
    `/api/user_data_by_account_ids`, a hundred a request (3 requests; before, one request each, 250
    out of the client's hundred a minute). Accounts Reddit leaves out of its answer (suspended) are
    confirmed with their own profile, are no entries and break nothing; their names, looked up
    later, stay unknown (shown by fullname)."""
    sb = reddit_sb
    names = [f"fan{i}_r" for i in range(250)]
    h, giveaway, _ = await commented_giveaway(sb, launcher, names, others=("quiet_r", "banned_r"))
    suspended = names[:3]
    for name in [*suspended, "banned_r"]:
        sb.suspend(name)

    await rounds(h)  # the streams read the new authors' ages with the same endpoint: not counted
    before = len(sb.calls)
    assert await h.app.reddit_activations.sync_live() == 247
    reads = [c for c in sb.calls[before:] if c.path == PROFILES]
    assert len(reads) == math.ceil(250 / 100) and all(c.status == 200 for c in reads)
    asked = [i for c in reads for i in c.query["ids"].split(",")]
    assert sorted(asked) == sorted(sb.state.account(n).fullname for n in names)
    abouts = [c.path for c in sb.calls[before:] if c.path.startswith("/user/") and c.path.endswith("/about")]
    assert sorted(abouts) == sorted(f"/user/{n}/about" for n in suspended)
    entrants = await h.rows("SELECT member_id FROM giveaway_entries WHERE activation_id = ?", giveaway)
    assert sorted(r[0] for r in entrants) == sorted(
        ledger_id(sb.state.account(n).fullname) for n in names[3:]
    )

    # Names looked up for accounts not seen since start-up: one request; the one Reddit leaves out
    # stays named by its fullname.
    quiet, banned = (ledger_id(sb.state.account(n).fullname) for n in ("quiet_r", "banned_r"))
    before = len(sb.calls)
    platform = h.app.activations.platform
    await platform.learn_names([quiet, banned])
    (read,) = [c for c in sb.calls[before:] if c.path == PROFILES]
    assert sorted(read.query["ids"].split(",")) == sorted(account_fullname(a) for a in (quiet, banned))
    reddit_side = platform.for_channel(quiet)
    assert reddit_side.mention(quiet) == "u/quiet_r"
    assert reddit_side.mention(banned) == sb.state.account("banned_r").fullname


async def test_a_subreddit_that_requires_a_flair_is_told_at_the_proposal(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """r/VeganCooking requires a flair on every post: an AMA proposed there before a sponsored flair is
    chosen is refused at once, saying what to do (before, it was approved and then refused by Reddit
    for good at its start). With the flair chosen, the proposal is made and the post carries it."""
    sb = reddit_sb
    sub = sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"), flairs=("Sponsored",))
    sub.flair_required = True
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[w.bob])
    options = {
        "brand": brand,
        "subreddit": "r/VeganCooking",
        "title": "Oat milk, asked",
        "starts": at(h, timedelta(minutes=10)),
        "ends": at(h, timedelta(hours=2)),
    }
    refused, none = await create(h, "reddit-qa", w.bob, options, permissions=BASIC)
    assert (
        none is None
        and "requires a flair" in refused["content"]
        and "/microvoice reddit flair" in refused["content"]
    )
    assert "will carry the flair" in await flair(h, "r/VeganCooking", "Sponsored")
    data, qa = await create(h, "reddit-qa", w.bob, options, permissions=BASIC)
    assert qa is not None, data
    await approve(h, qa)
    await move_to(h, h.clock.now + timedelta(minutes=11))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "live"
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    assert post.flair_text == "Sponsored"


async def test_giveaway_entrants_are_read_one_by_one_where_reddit_serves_no_bulk_profiles(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A Reddit API without `/api/user_data_by_account_ids` (it answers 404, as Reddit does when none
    of the ids resolves): every entrant is read with its own `/user/{name}/about`, so the entries are
    all there; a suspended one is still no entry."""
    sb = reddit_sb
    names = [f"fan{i}_r" for i in range(5)]
    sb.fail(PROFILES, status=404, times=1_000)
    h, giveaway, _ = await commented_giveaway(sb, launcher, names)
    sb.suspend(names[0])
    await rounds(h)
    assert await h.app.reddit_activations.sync_live() == 4
    entrants = await h.rows("SELECT member_id FROM giveaway_entries WHERE activation_id = ?", giveaway)
    assert sorted(r[0] for r in entrants) == sorted(
        ledger_id(sb.state.account(n).fullname) for n in names[1:]
    )


async def test_codes_cannot_be_attached_to_a_reddit_activation_and_its_post_is_left_alone(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A code is claimed with a Discord button and shown privately, which Reddit has neither of: a pool
    for a subreddit's giveaway or AMA is refused, nothing is stored, and the post stays as it was.
    Before, the pool was stored and the giveaway's Reddit post rewritten with the Discord giveaway's
    text (a raw `<t:…>` close time, no word on how to enter, codes nobody could claim); an AMA got a
    "Get a code" post with no way to get one."""
    from tests.e2e.test_codes import POOL, attach_codes

    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[w.bob])
    await h.app.store.update_settings(
        w.guild, {"max_sponsored_per_week": 50, "min_gap_hours": 0}, by=w.owner, now=h.clock.now
    )
    start = h.clock.now + timedelta(minutes=10)
    _, giveaway = await create(h, "reddit-giveaway", w.bob, giveaway_options(h, brand), permissions=BASIC)
    assert giveaway is not None
    await approve(h, giveaway)
    refused = await reply(await attach_codes(h, w.bob, giveaway, POOL))  # scheduled
    assert refused["content"] == i18n.t("en", "codes.error.not_on_discord")
    await move_to(h, start + timedelta(minutes=1))
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    body = post.body
    refused = await reply(await attach_codes(h, w.bob, giveaway, POOL))  # live
    assert refused["content"] == i18n.t("en", "codes.error.not_on_discord")
    await h.settle()
    assert post.body == body and post.edits == 0 and "top-level comment" in body

    ama = {"brand": brand, "subreddit": "r/VeganCooking", "title": "Oat milk, asked"}
    times = {"starts": at(h, timedelta(hours=3)), "ends": at(h, timedelta(hours=4))}
    data, qa = await create(h, "reddit-qa", w.bob, {**ama, **times}, permissions=BASIC)
    assert qa is not None, data
    await approve(h, qa)
    await move_to(h, h.clock.now + timedelta(hours=3, minutes=1))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "live"
    made = len(sb.made_by_app())
    refused = await reply(await attach_codes(h, w.bob, qa, POOL))
    assert refused["content"] == i18n.t("en", "codes.error.not_on_discord")
    await h.settle()
    assert await h.scalar("SELECT count(*) FROM activation_codes") == 0
    assert len(sb.made_by_app()) == made  # no "Get a code" post nobody could use


async def test_the_brands_own_top_level_comments_in_its_ama_are_no_questions(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """The brand's host posts a welcome as a top-level comment (the bot made the post): it asks nothing,
    and its author is the brand, not a member taking part. Only members' comments are questions, in
    the summary's top questions and in the activation's report. Before, the welcome was question and
    top question, and the brand's account one of the report's participants."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    fans = [f"fan{i}_r" for i in range(5)]
    for name in ("modjane", "acme_r", *fans):
        sb.add_account(name)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await link(h, sb, w.bob, "acme_r")  # bob is the brand's contact; acme_r its Reddit account
    qa, start = await propose_ama(h)
    await move_to(h, start + timedelta(minutes=1))
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    welcome = sb.comment(post, "acme_r", "Hi all, Jane from Acme here until five. Ask us anything!", score=40)
    for i, fan in enumerate(fans):
        question = sb.comment(post, fan, f"Question {i}?", score=i + 1)
        sb.comment(question, "acme_r", "Good one: yes.")
    sb.comment(welcome, "fan0_r", "Welcome!")
    await h.app.reddit_activations.sync_live()
    authors = {r[0] for r in await h.rows("SELECT author_id FROM qa_questions WHERE activation_id = ?", qa)}
    assert authors == {ledger_id(sb.state.account(n).fullname) for n in fans}

    await move_to(h, h.clock.now + timedelta(hours=3))
    (summary,) = [t for t in sb.made_by_app() if t.kind == "t1" and t.parent_id == post.fullname]
    assert "5 questions, 5 answered" in summary.body and "Jane from Acme" not in summary.body
    report = await h.app.reports.activation(w.guild, qa, member_id=None, moderator=True)
    participants = report.get("headline", "participants")
    assert participants is not None and participants.value == 5
    questions = report.get("headline", "questions")
    assert questions is not None and questions.value == 5


async def test_an_announcements_report_has_no_participant_figures(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Nobody takes part in a sponsored announcement (it is read, not entered): its report, posted to
    the moderators when it ends, shows the community's engagement during it and no participants, nor
    their repeat engagement, in the embed, the CSV and the chart alike. Before, it said "Unique
    participants: hidden (fewer than 5)", a count of what cannot happen read as a small group."""
    from tests.e2e.test_report_commands import assert_report_upload, csv_rows, report_channel_posts

    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    sb.add_account("modjane")
    h = await start_with_reddit(launcher, sb)
    w = h.world
    reports = h.sandbox.add_channel(w.guild, "mod-reports")
    await set_locale(h, "he", report_channel=reports)
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[w.bob])
    options = {
        "brand": brand,
        "subreddit": "r/VeganCooking",
        "title": "Oat milk is back",
        "text": "In stores now.",
        "starts": at(h, timedelta(minutes=10)),
        "ends": at(h, timedelta(hours=2)),
    }
    data, announcement = await create(h, "reddit-announcement", w.bob, options, permissions=BASIC)
    assert announcement is not None, data
    await approve(h, announcement)
    await move_to(h, h.clock.now + timedelta(minutes=11))
    await move_to(h, h.clock.now + timedelta(hours=2))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", announcement) == "ended"

    posted = await eventually(lambda: report_channel_posts(h, reports), "the announcement's report")
    embed = assert_report_upload(posted[0], f"activation-{announcement}")
    text = embed["description"]
    assert i18n.t("he", "report.metric.participants") not in text
    pending = i18n.t("he", "report.value.pending")
    for days in (7, 30):
        assert i18n.t("he", "report.repeat", days=days, participants=pending, comparable=pending) not in text
    assert i18n.t("he", "report.privacy_note", k=5) in text
    sections = {(r["section"], r["metric"]) for r in csv_rows(posted[0].files[1][1])}
    assert ("engagement", "events") in sections
    assert not {s for s in sections if s[0] == "repeat" or s[1] == "participants"}


async def unbind(h: Harness) -> str:
    interaction = await h.slash(
        "microvoice",
        h.world.owner,
        {"subreddit": "r/VeganCooking"},
        subcommand=["reddit", "remove"],
        permissions=MANAGE_GUILD,
    )
    return str((await reply(interaction))["content"])


async def test_a_subreddit_is_not_unbound_under_a_running_giveaway(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Unbinding a subreddit while its giveaway runs is refused, naming the activation: the giveaway
    reads the subreddit's moderators through the binding, and its moderators never count as entrants,
    also after a restart. Once it ended the subreddit is unbound. Before, the unbind went through, and
    the subreddit's moderator who commented was an entrant who could win."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    for name in ("modjane", "old_r", "old2_r"):
        sb.add_account(name)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[w.bob])
    start = h.clock.now + timedelta(minutes=10)
    _, giveaway = await create(h, "reddit-giveaway", w.bob, giveaway_options(h, brand), permissions=BASIC)
    assert giveaway is not None
    await approve(h, giveaway)
    refused = i18n.t("en", "reddit.remove_open_activations", name="VeganCooking", ids=f"#{giveaway}")
    assert await unbind(h) == refused  # scheduled
    await move_to(h, start + timedelta(minutes=1))
    assert await unbind(h) == refused  # live
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    for name in ("modjane", "old_r", "old2_r"):
        sb.comment(post, name, "me please")
    await launcher.stop(h)
    h = await start_with_reddit(launcher, sb)
    await move_to(h, h.clock.now + timedelta(hours=3))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", giveaway) == "ended"
    entrants = {r[0] for r in await h.rows("SELECT member_id FROM giveaway_entries")}
    assert entrants == {ledger_id(sb.state.account(n).fullname) for n in ("old_r", "old2_r")}
    assert await unbind(h) == i18n.t("en", "reddit.removed", name="VeganCooking")
    assert await h.scalar("SELECT count(*) FROM reddit_subreddits") == 0


async def test_the_activations_that_keep_a_subreddit_bound_are_listed_as_arabic_lists_them(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """The refused unbind names every activation still open there, separated with the Arabic comma
    (the catalog's list separator) in an Arabic server; before, they were joined with a Latin comma."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot",))
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[h.world.bob])
    ids = []
    for day in (0, 3):  # days apart: sponsored posts in one subreddit keep a gap
        when = {"starts": at(h, timedelta(days=day, minutes=10)), "ends": at(h, timedelta(days=day, hours=2))}
        data, giveaway = await create(
            h, "reddit-giveaway", h.world.bob, giveaway_options(h, brand, **when), permissions=BASIC
        )
        assert giveaway is not None, data
        await approve(h, giveaway)
        ids.append(giveaway)
    await set_locale(h, "ar")
    answer = await unbind(h)
    listed = f"#{ids[0]}\u060c #{ids[1]}"
    assert answer == i18n.t("ar", "reddit.remove_open_activations", name="VeganCooking", ids=listed)
    assert listed in answer and f"#{ids[0]}, " not in answer


async def test_replies_and_audit_lines_name_a_reddit_activations_subreddit_not_a_discord_channel(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A Discord mention of a subreddit's id shows "#unknown": the reply to `/giveaway end` and the audit
    line of the giveaway going live name it r/VeganCooking."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot",))
    h = await start_with_reddit(launcher, sb)
    w = h.world
    audit = h.sandbox.add_channel(w.guild, "mod-log")
    await (await h.slash("microvoice", w.owner, {"channel": audit}, subcommand="audit")).response()
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[w.bob])
    data, giveaway = await create(h, "reddit-giveaway", w.bob, giveaway_options(h, brand), permissions=BASIC)
    assert giveaway is not None, data
    await approve(h, giveaway)
    await move_to(h, h.clock.now + timedelta(minutes=11))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", giveaway) == "live"

    ended = await h.slash("giveaway", w.owner, {"id": giveaway}, subcommand="end", permissions=MANAGE_GUILD)
    text = reply_text(await ended.wait_followup())
    assert "r/VeganCooking" in text and "<#" not in text, text
    await h.settle()
    lines = [m["content"] for m in h.sandbox.messages(audit)]
    (live,) = [line for line in lines if "is live in" in line]
    assert live.endswith("is live in r/VeganCooking."), live


async def test_a_standing_in_a_subreddit_topic_names_the_topic_not_a_discord_channel(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    sb = reddit_sb
    sb.add_account("alice_r")
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await link(h, sb, w.alice, "alice_r")
    alice_r = ledger_id(sb.state.account("alice_r").fullname)
    topic = topic_id("t5_vegan", "Recipes")
    await h.app.store.db.execute(
        "INSERT INTO channels (platform, community_id, channel_id, name) VALUES ('reddit', ?, ?, ?)",
        (w.guild, topic, "r/VeganCooking · Recipes"),
    )
    for rank, member in enumerate((w.alice, alice_r), start=1):
        await h.app.store.db.execute(
            "INSERT INTO trust_scores (community_id, scope, member_id, rank, score, distinct_peers,"
            " trusted_peers, computed_at, why) VALUES (?, ?, ?, ?, ?, 5, 2, ?, ?)",
            (w.guild, f"channel:{topic}", member, rank, 0.3 / rank, h.clock.now.isoformat(), '{"parts": []}'),
        )
    await h.app.store.db.commit()

    theirs = await h.slash(
        "voices", w.owner, {"member": w.alice}, subcommand="member", permissions=MANAGE_GUILD
    )
    call = await theirs.response()
    data = call.json["data"] if call.json["type"] == 4 else (await theirs.wait_followup()).json
    standing = data["embeds"][0]["description"]
    assert "r/VeganCooking · Recipes" in standing and f"<#{topic}>" not in standing, standing
    status = await h.slash("link", w.alice, subcommand="status", permissions=BASIC)
    text = reply_text(await status.response())
    assert "r/VeganCooking · Recipes: rank 1" in text and f"channel:{topic}" not in text, text


async def test_an_activation_in_a_subreddit_unbound_before_its_approval_is_not_approved(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A pending giveaway does not keep its subreddit bound; once it is unbound, approving the giveaway
    is refused in the moderators' words and it stays pending. Before, it was scheduled in a subreddit no
    longer bound, whose post could not be made and whose moderators would have counted as entrants."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot",))
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    brand = await seed_brand(h, contacts=[h.world.bob])
    data, giveaway = await create(
        h, "reddit-giveaway", h.world.bob, giveaway_options(h, brand), permissions=BASIC
    )
    assert giveaway is not None, data
    assert await unbind(h) == i18n.t("en", "reddit.removed", name="VeganCooking")
    answer = (await approve(h, giveaway))["content"]
    assert answer == i18n.t("en", "activation.error.subreddit_unbound", where="r/VeganCooking")
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", giveaway) == "pending"
    assert await h.scalar("SELECT count(*) FROM activation_transitions WHERE to_state = 'scheduled'") == 0
