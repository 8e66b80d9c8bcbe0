"""Subreddits as communities: the real praw against the Reddit sandbox, the real bot against Discord's.

Streamed comments and posts land in the ledger with the right targets and topics; a restart resumes
with no duplicates and no gap; injected 5xx, 429, a slow response and an expired token are survived;
refused credentials stop only the Reddit side; binding is checked against Reddit's moderator list;
account linking works, is refused with a wrong code or from the wrong account, and can be undone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import prawcore
import pytest

from bot import i18n
from bot.config import Settings
from bot.subreddits import SubredditService, ledger_id
from bot.subreddits.ids import topic_id
from reddit import adapter as reddit_adapter
from reddit import platform as reddit_platform
from reddit.client import build_reddit
from sandbox.reddit_server import RedditSandbox
from sandbox.reddit_server import server as reddit_server
from tests.e2e.activation_helpers import EPHEMERAL
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher, eventually
from tests.e2e.reddit_helpers import (  # noqa: F401 - fixtures
    CODE,
    fast_praw_fixture,
    reddit_sb_fixture,
    reddit_settings,
    reply_text,
    rounds,
    start_with_reddit,
)


async def bind(h: Harness, name: str, user: int | None = None) -> str:
    interaction = await h.slash(
        "microvoice",
        user or h.world.owner,
        {"subreddit": name},
        subcommand=["reddit", "add"],
        permissions=MANAGE_GUILD,
    )
    return reply_text(await interaction.wait_followup())


def vegan(sb: RedditSandbox, *, bot_moderates: bool = True):
    sub = sb.add_subreddit(
        "VeganCooking",
        moderators=("MicrovoiceBot", "modjane") if bot_moderates else ("modjane",),
        flairs=("Recipes", "Question"),
    )
    for name in ("modjane", "alice_r", "bob_r", "carol_r", "gone_r"):
        sb.add_account(name)
    return sub


async def following(sb: RedditSandbox, launcher: Launcher, **settings: Any) -> tuple[Any, Harness]:
    """r/VeganCooking bound and followed (both streams started): the subreddit and the bot."""
    sub = vegan(sb)
    h = await start_with_reddit(launcher, sb, **settings)
    await bind(h, "r/VeganCooking")
    await rounds(h)
    return sub, h


def ten_deep(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read reaches ten items back (pages of five, two pages a read), as Reddit's listings reach a
    thousand: a subreddit's history deeper than its listings is a few items, not a thousand."""
    monkeypatch.setattr(reddit_adapter, "PAGE", 5)
    monkeypatch.setattr(reddit_adapter, "MAX_PAGES", 2)


def busy_post(sb: RedditSandbox, sub: Any, comments: int) -> tuple[Any, list[Any]]:
    """A post of two days ago and `comments` comments on it from a day ago, a second apart."""
    now = time.time()
    post = sb.post(sub, "alice_r", "recent", at=now - 2 * 86_400.0)
    return post, [sb.comment(post, "bob_r", f"{i}", at=now - 86_400.0 + i) for i in range(comments)]


def month_old_posts(sb: RedditSandbox, sub: Any, n: int) -> list[Any]:
    """`n` posts of a month ago and more, a day apart, newest first."""
    now = time.time()
    return [sb.post(sub, "carol_r", f"old {i}", at=now - (30 + i) * 86_400.0) for i in range(n)]


def old_answers(sb: RedditSandbox, posts: list[Any]) -> list[Any]:
    """A comment on each of `posts` (newest first, a day apart), 29 days ago and more."""
    now, day = time.time(), 86_400.0
    return [sb.comment(p, "alice_r", "old answer", at=now - (29 + i) * day) for i, p in enumerate(posts)]


async def bind_and_read(
    launcher: Launcher, sb: RedditSandbox, caplog: pytest.LogCaptureFixture, n: int
) -> Harness:
    """The bot started, r/VeganCooking bound and `n` rounds read, its warnings caught."""
    h = await start_with_reddit(launcher, sb)
    with caplog.at_level(logging.WARNING, logger="reddit.adapter"):
        await bind(h, "r/VeganCooking")
        await rounds(h, n)
    return h


async def recorded(h: Harness) -> list[str]:
    """The fullnames of every Reddit item in the ledger, in the order they were written."""
    return [r[0] for r in await h.rows("SELECT source_id FROM events")]


async def test_streamed_comments_and_posts_land_in_the_ledger_with_targets(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    sb = reddit_sb
    sub = vegan(sb)
    old = sb.post(sub, "carol_r", "Posted before the subreddit was bound", flair="Question")
    h = await start_with_reddit(launcher, sb)
    assert "now part of this community" in await bind(h, "r/VeganCooking")
    await rounds(h)
    p1 = sb.post(sub, "alice_r", "Best tofu press?", flair="Recipes")
    c1 = sb.comment(p1, "bob_r", "This one")
    c2 = sb.comment(c1, "alice_r", "Thanks")
    c3 = sb.comment(old, "bob_r", "Late answer")  # to a post read back when the subreddit was bound
    gone = sb.comment(p1, "gone_r", "bye")
    sb.delete_account_of(gone)
    removed = sb.comment(p1, "carol_r", "spam")
    sb.remove(removed)  # the bot moderates: it still sees the author, with who removed it
    on_removed = sb.comment(removed, "alice_r", "answering what was removed")
    own = sb.comment(p1, "MicrovoiceBot", "the bot's own comment is not engagement")
    await rounds(h)

    rows = await h.rows("SELECT kind, source_id, actor_id, target_id, channel_id, community_id FROM events")
    acct = {n: ledger_id(sb.state.account(n).fullname) for n in ("alice_r", "bob_r", "carol_r")}
    topic = {source: channel for _, source, _, _, channel, _ in rows}
    recipes, question = topic[p1.fullname], topic[c3.fullname]
    assert recipes != question
    assert sorted(rows) == sorted(
        [
            ("submission", p1.fullname, acct["alice_r"], None, recipes, h.world.guild),
            ("comment", c1.fullname, acct["bob_r"], acct["alice_r"], recipes, h.world.guild),
            ("comment", c2.fullname, acct["alice_r"], acct["bob_r"], recipes, h.world.guild),
            ("comment", c3.fullname, acct["bob_r"], acct["carol_r"], question, h.world.guild),
            ("comment", on_removed.fullname, acct["alice_r"], None, recipes, h.world.guild),
            # Posted before the binding: read back when the subreddit was followed for the first time.
            ("submission", old.fullname, acct["carol_r"], None, question, h.world.guild),
        ]
    )
    assert not {own.fullname, gone.fullname, removed.fullname} & {r[1] for r in rows}
    # A subreddit is a category; each link flair is a topic channel inside it.
    channels = dict(await h.rows("SELECT channel_id, name FROM channels WHERE platform = 'reddit'"))
    assert channels[recipes] == "r/VeganCooking · Recipes"
    assert channels[question] == "r/VeganCooking · Question"
    assert channels[ledger_id(sub.fullname, "t5")] == "r/VeganCooking"
    # Reddit shows no join date, but an account's age: it is read once per new author and kept.
    created = dict(await h.rows("SELECT member_id, account_created_at FROM members WHERE joined_at IS NULL"))
    made = datetime.fromtimestamp(sb.state.account("alice_r").created_utc, UTC)
    assert created[acct["alice_r"]][:16] == made.isoformat()[:16]
    # Engagement received feeds the trust graph like a Discord reply.
    assert (
        await h.scalar(
            "SELECT sum(n) FROM engagement_daily WHERE target_id = ? AND kind = 'comment'", acct["alice_r"]
        )
        == 1
    )
    assert {ua for ua in sb.user_agents} == {
        "python:microvoice:v0.1.0 (by /u/microvoice_dev) PRAW/8.0.3 prawcore/4.0.0"
    }
    # /microvoice status names a subreddit's topics as recorded (a Discord mention of them shows nothing)
    status = await h.slash("microvoice", h.world.owner, subcommand="status", permissions=MANAGE_GUILD)
    text = (await status.wait_followup()).json["embeds"][0]["description"]
    assert "r/VeganCooking · Recipes" in text and f"<#{recipes}>" not in text


async def test_a_subreddit_followed_for_the_first_time_is_read_back_as_far_as_its_listing_goes(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """A subreddit bound today is read back at once: its comments as far as Reddit's comments listing
    goes (ten here), its posts as far as its posts listing goes, and each post older than those
    comments with its comment tree (two posts a round here), so nothing it still shows is missing.
    Its records then begin at the oldest item read back, not at the binding; new items follow as
    usual."""
    ten_deep(monkeypatch)
    monkeypatch.setattr(reddit_adapter, "DEEPEN_PER_ROUND", 2)
    sb = reddit_sb
    sub = vegan(sb)
    day = 86_400.0
    start = time.time()
    long_ago = sb.post(sub, "carol_r", "A month ago", at=start - 40 * day)
    first = sb.post(sub, "alice_r", "Nine days ago", at=start - 9 * day)
    second = sb.post(sub, "bob_r", "Six and a half days ago", at=start - 6.5 * day)
    third = sb.post(sub, "carol_r", "Three days ago", at=start - 3 * day)
    on_long_ago = sb.comment(long_ago, "alice_r", "answered a month ago", at=start - 39 * day)
    parents = [first] * 5 + [second] * 5 + [third] * 4
    authors = ["alice_r", "bob_r", "carol_r"]
    comments = [
        sb.comment(post, authors[i % 3], f"comment {i}", at=start - (8 - i / 2) * day)
        for i, post in enumerate(parents)
    ]  # 8 days ago to a day and a half ago; the newest ten from 6 days ago
    h = await start_with_reddit(launcher, sb)
    with caplog.at_level(logging.INFO, logger="reddit.adapter"):
        await bind(h, "r/VeganCooking")
        # The comments; then the posts and two older posts' trees; then the last older post's (and
        # a round under way when the subreddit was bound).
        await rounds(h, 5)
    later = sb.post(sub, "alice_r", "After the binding")
    await rounds(h)

    everything = [long_ago, first, second, third, on_long_ago, *comments, later]
    assert sorted(await recorded(h)) == sorted(t.fullname for t in everything)
    assert any("read back 3 older posts with their comments" in r.getMessage() for r in caplog.records)
    (bound,) = await h.app.store.bound_subreddits(h.world.guild)
    oldest = datetime.fromtimestamp(long_ago.created_utc, UTC)
    assert bound.records_from is not None and bound.records_begin == bound.records_from
    assert abs(datetime.fromisoformat(bound.records_from) - oldest).total_seconds() < 1
    alice = ledger_id(sb.state.account("alice_r").fullname)
    targets = dict(await h.rows("SELECT source_id, target_id FROM events WHERE kind = 'comment'"))
    assert targets[comments[4].fullname] == alice  # to a post read back with its tree
    assert targets[on_long_ago.fullname] == ledger_id(sb.state.account("carol_r").fullname)


async def test_deleted_items_make_no_member_and_an_edited_comment_read_again_counts_once(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """What its author deleted shows "[deleted]" as author and text, to moderators too, and no
    `author_fullname`; a deleted account's items keep their text under "[deleted]". None of them is
    recorded or makes a member, and a reply to one engages nobody, whether its parent was streamed
    or looked up with `/api/info`. A comment edited since it was recorded (`edited`: a timestamp) and
    read again is recorded once, and a reply to a post or to a comment engages its author."""
    sb = reddit_sb
    sub = vegan(sb)
    old = sb.post(sub, "carol_r", "Posted before the subreddit was bound")
    old_comment = sb.comment(old, "carol_r", "an old comment")
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await rounds(h)
    # The old post and comment read back (their authors remembered) before anything below happens.
    wanted = {old.fullname, old_comment.fullname}
    await eventually(lambda: _recorded_all(h, wanted), "the subreddit read back", timeout=15)
    post = sb.post(sub, "alice_r", "Tofu?")
    deleted_comment = sb.comment(post, "bob_r", "first thoughts")
    on_deleted_comment = sb.comment(deleted_comment, "alice_r", "answering it")
    sb.delete(deleted_comment)
    deleted_post = sb.post(sub, "bob_r", "Oops")
    on_deleted_post = sb.comment(deleted_post, "alice_r", "answering the post")
    sb.delete(deleted_post)
    gone_post = sb.post(sub, "gone_r", "Leaving soon")
    on_gone = sb.comment(gone_post, "alice_r", "bye")
    sb.delete_account_of(gone_post)
    late = sb.comment(old_comment, "bob_r", "late answer")  # to a comment deleted after this answer
    sb.delete(old_comment)
    edited = sb.comment(post, "carol_r", "press it")
    await rounds(h)
    sb.edit(edited, "press it for an hour")
    await rounds(h)
    # Read again from before the edited comment (a restart behind it): it is seen with `edited` set.
    await h.app.store.db.execute(
        "UPDATE reddit_cursors SET fullname = ? WHERE stream = 'comments'", (late.fullname,)
    )
    await h.app.store.db.commit()
    await launcher.stop(h)
    # An answer to the post read back, then the post deleted: after the restart its author is looked
    # up with /api/info, which shows it deleted.
    looked_up = sb.comment(old, "alice_r", "answering the old post")
    sb.delete(old)
    h = await start_with_reddit(launcher, sb)
    await rounds(h, 3)
    assert any(c.path == "/r/VeganCooking/comments" for c in sb.calls[-10:])
    assert sb.count("GET", "/api/info") >= 1

    acct = {n: ledger_id(sb.state.account(n).fullname) for n in ("alice_r", "bob_r", "carol_r")}
    rows = await h.rows("SELECT source_id, actor_id, target_id FROM events ORDER BY source_id")
    assert sorted(rows) == sorted(
        [
            (post.fullname, acct["alice_r"], None),
            (on_deleted_comment.fullname, acct["alice_r"], None),
            (on_deleted_post.fullname, acct["alice_r"], None),
            (on_gone.fullname, acct["alice_r"], None),
            # Answered while it stood (it was read back, its author remembered): engages her.
            (late.fullname, acct["bob_r"], acct["carol_r"]),
            (edited.fullname, acct["carol_r"], acct["alice_r"]),
            (looked_up.fullname, acct["alice_r"], None),
            # Read back when the subreddit was bound, before the old comment was deleted (its author
            # answering her own post: kept in the ledger as her own, engaging no one).
            (old.fullname, acct["carol_r"], None),
            (old_comment.fullname, acct["carol_r"], acct["carol_r"]),
        ]
    )
    members = {m for (m,) in await h.rows("SELECT member_id FROM members WHERE platform = 'reddit'")}
    assert members == {acct["alice_r"], acct["bob_r"], acct["carol_r"]}


async def test_a_subreddit_bound_today_is_ranked_from_its_regulars(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """Reddit shows no join date and the records begin at the binding: the regulars first seen then
    were there before, so `/voices top` ranks them at once, each named as u/name (a Discord
    mention of a Reddit account would show no one)."""
    sb = reddit_sb
    sub = vegan(sb)
    regulars = [f"regular{i}_r" for i in range(8)]
    for name in regulars:
        sb.add_account(name)
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await rounds(h)
    posts = [sb.post(sub, name, f"Tofu question from {name}", flair="Recipes") for name in regulars]
    for i, post in enumerate(posts):
        for step in range(1, 6):  # five distinct regulars answer each post
            sb.comment(post, regulars[(i + step) % len(regulars)], "Press it overnight")
    await rounds(h)
    interaction = await h.slash("voices", h.world.owner, subcommand="recompute", permissions=MANAGE_GUILD)
    await interaction.response()
    assert "recomputed" in (await interaction.wait_followup(timeout=30)).json["content"].lower()
    interaction = await h.slash("voices", h.world.owner, subcommand="top", permissions=MANAGE_GUILD)
    embed = (await interaction.response()).json["data"]["embeds"][0]
    lines = embed["description"].splitlines()
    assert len(lines) == 5 and "Page 1 of 2" in embed["footer"]["text"]  # all eight, five a page
    named = [line.split("** ", 1)[1].split(" ", 1)[0].rstrip(":") for line in lines]
    # Markdown in a name is escaped: "regular0_r" is not half in italics.
    assert named == [f"u/regular{i}\\_r" for i in range(5)], named
    assert "<@" not in embed["description"] and "<#" not in embed["description"]
    # A subreddit's topic is named as recorded, not as a Discord channel.
    assert "most active in r/VeganCooking · Recipes" in lines[0], lines[0]
    # The subreddit's own ranking, from the Reddit commands, paged like `/voices top`.
    interaction = await h.slash(
        "microvoice",
        h.world.owner,
        {"subreddit": "r/VeganCooking"},
        subcommand=["reddit", "voices"],
        permissions=MANAGE_GUILD,
    )
    data = (await interaction.response()).json["data"]
    assert data["flags"] & EPHEMERAL
    embed = data["embeds"][0]
    assert "r/VeganCooking" in embed["title"] and "Page 1 of 2" in embed["footer"]["text"]
    assert embed["description"].startswith("**#1** u/regular0\\_r")
    refused = await h.slash(
        "microvoice",
        h.world.owner,
        {"subreddit": "r/Elsewhere"},
        subcommand=["reddit", "voices"],
        permissions=MANAGE_GUILD,
    )
    assert "r/Elsewhere is not bound to this server" in reply_text(await refused.response())
    # After a restart nobody has been streamed yet: the stored ranking's accounts are named all the
    # same, looked up on Reddit by their fullnames. A slow Reddit does not hold the reply past
    # Discord's deadline: it goes out with the fullnames, and the names come with the next one.
    await launcher.stop(h)
    h = await start_with_reddit(launcher, sb)

    async def named() -> list[str]:
        interaction = await h.slash("voices", h.world.owner, subcommand="top", permissions=MANAGE_GUILD)
        lines = (await interaction.response()).json["data"]["embeds"][0]["description"].splitlines()
        return [line.split("** ", 1)[1].split(":", 1)[0] for line in lines]

    async def named_as(wanted: list[str]) -> bool:
        return await named() == wanted

    monkeypatch.setattr(reddit_platform, "NAME_LOOKUP_SECONDS", 0.3)
    sb.stall("/api/user_data_by_account_ids", 3)
    assert all(name.startswith("t2\\_") for name in await named())
    wanted = [f"u/regular{i}\\_r" for i in range(5)]
    assert await eventually(lambda: named_as(wanted), "the names, once Reddit answers", timeout=15)


async def test_automoderator_official_notices_and_the_bot_are_no_members(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """AutoModerator's megathread and comments, a moderator's distinguished notice and the bot's own
    comment are not recorded, and members answering them engage nobody: a megathread everyone
    comments in does not make its poster the subreddit's top voice."""
    sb = reddit_sb
    sub = vegan(sb)
    sb.add_account("AutoModerator")
    regulars = [f"regular{i}_r" for i in range(8)]
    for name in regulars:
        sb.add_account(name)
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await rounds(h)
    weekly = sb.post(sub, "AutoModerator", "Weekly questions thread")
    weekly.distinguished, weekly.stickied = "moderator", True
    answers = [sb.comment(weekly, name, "What do I swap for eggs?") for name in regulars]
    posts = [sb.post(sub, name, f"Tofu question from {name}", flair="Recipes") for name in regulars[:4]]
    reminders = [sb.comment(post, "AutoModerator", "Remember rule 2") for post in posts]
    thanks = [sb.comment(r, regulars[4], "thanks bot") for r in reminders]
    notice = sb.comment(posts[0], "modjane", "Locked: off topic")
    notice.distinguished = "moderator"
    why = sb.comment(notice, regulars[0], "Why?")
    own = sb.comment(posts[1], "MicrovoiceBot", "Giveaway: comment to enter")
    entries = [sb.comment(own, name, "in") for name in regulars[4:]]
    chat = sb.comment(posts[2], "modjane", "Try pressing it longer")  # a moderator as a member
    await rounds(h)

    rows = await h.rows("SELECT source_id, target_id FROM events")
    recorded = dict(rows)
    for unrecorded in (weekly, *reminders, notice, own):
        assert unrecorded.fullname not in recorded
    for answer in (*answers, *thanks, why, *entries):
        assert recorded[answer.fullname] is None, answer.body
    mod = ledger_id(sb.state.account("modjane").fullname)
    assert recorded[chat.fullname] == ledger_id(sb.state.account(posts[2].author).fullname)
    assert await h.scalar("SELECT count(*) FROM events WHERE actor_id = ?", mod) == 1
    auto = ledger_id(sb.state.account("AutoModerator").fullname)
    assert await h.scalar("SELECT count(*) FROM engagement_daily WHERE target_id = ?", auto) == 0
    interaction = await h.slash("voices", h.world.owner, subcommand="recompute", permissions=MANAGE_GUILD)
    await interaction.response()
    await interaction.wait_followup(timeout=30)
    interaction = await h.slash("voices", h.world.owner, subcommand="top", permissions=MANAGE_GUILD)
    data = (await interaction.response()).json["data"]
    shown = json.dumps(data)
    assert "AutoModerator" not in shown and "MicrovoiceBot" not in shown


async def test_restart_resumes_with_no_duplicates_and_no_gap(reddit_sb: RedditSandbox, launcher: Launcher):
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    p1 = sb.post(sub, "alice_r", "One")
    before = [sb.comment(p1, "bob_r", f"before {i}") for i in range(3)]
    await rounds(h)
    assert await h.count() == 4
    await launcher.stop(h)

    while_down = [sb.comment(p1, "carol_r", f"while down {i}") for i in range(130)]  # more than a page
    p2 = sb.post(sub, "bob_r", "Two")
    h2 = await start_with_reddit(launcher, sb)
    await rounds(h2, 3)
    sources = [r[0] for r in await h2.rows("SELECT source_id FROM events ORDER BY id")]
    expected = [p1.fullname, *(c.fullname for c in before), *(c.fullname for c in while_down), p2.fullname]
    assert sorted(sources) == sorted(expected)
    assert len(sources) == len(set(sources))
    assert (
        await h2.scalar("SELECT fullname FROM reddit_cursors WHERE stream = 'comments'")
        == while_down[-1].fullname
    )


async def test_more_than_a_page_between_two_polls_is_all_recorded_once(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A stream that started on an empty subreddit, and one whose last poll found nothing, both have
    no `before` anchor in praw's stream; a burst of more than a listing page between two polls must
    still be read back to the stored cursor."""
    sb = reddit_sb
    sub = vegan(sb)
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await rounds(h)  # both streams start on an empty subreddit
    assert h.app.reddit.state == "running"
    # The sandbox answers on this event loop, so nothing is polled while the burst is posted.
    p1 = sb.post(sub, "alice_r", "Burst")
    first = [sb.comment(p1, ("bob_r", "carol_r")[i % 2], f"first {i}") for i in range(140)]
    posts = [sb.post(sub, "bob_r", f"post {i}") for i in range(105)]
    await rounds(h)
    await rounds(h)  # a poll that finds nothing new (praw's stream drops its anchor after one)
    second = [sb.comment(p1, "alice_r", f"second {i}") for i in range(230)]
    await rounds(h)

    sources = await recorded(h)
    expected = [p1.fullname, *(t.fullname for t in (*first, *posts, *second))]
    assert len(sources) == len(set(sources)) == len(expected)
    assert set(sources) == set(expected)
    cursors = dict(await h.rows("SELECT stream, fullname FROM reddit_cursors"))
    assert cursors == {"comments": second[-1].fullname, "submissions": posts[-1].fullname}


async def test_an_approved_post_at_the_front_of_the_listing_loses_nothing(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Reddit's listings are not in id order: a post a moderator approves out of the spam filter
    enters `/new` at the front with its old id. Every post behind it is still read, and so is it."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    held = sb.post(sub, "carol_r", "Caught by the spam filter", filtered=True)
    first = sb.post(sub, "alice_r", "Read before the approval")
    await rounds(h)
    # In one round: posts, then the approval (the held post now before them), then more posts.
    behind = [sb.post(sub, "bob_r", f"behind {i}") for i in range(5)]
    sb.approve(held)
    ahead = [sb.post(sub, "alice_r", f"ahead {i}") for i in range(2)]
    listed = [t.fullname for t in sb.state.listing_of(sub, "t3")]
    assert listed[:8] == [t.fullname for t in (*ahead[::-1], held, *behind[::-1])]
    await rounds(h, 2)

    sources = await recorded(h)
    assert sorted(sources) == sorted(t.fullname for t in (first, *behind, held, *ahead))
    # The cursor stays at the newest post, not at the approved one's old id.
    cursor = await h.scalar("SELECT fullname FROM reddit_cursors WHERE stream = 'submissions'")
    assert cursor == ahead[-1].fullname


async def test_an_approval_at_the_front_of_more_than_a_page_of_new_posts_loses_nothing(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """An old post approved out of the spam filter stands at the front of `/new`, ahead of more than
    a page of new posts: the read pages on to the cursor (the first page's last item), not stopping
    at the old id on its first page."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    held = sb.post(sub, "carol_r", "Caught by the spam filter", filtered=True)
    first = sb.post(sub, "alice_r", "Read before the approval")
    await rounds(h)
    behind = [sb.post(sub, "bob_r", f"behind {i}") for i in range(150)]
    sb.approve(held)
    assert sb.state.listing_of(sub, "t3")[0] is held
    await rounds(h, 2)

    sources = await recorded(h)
    assert sorted(sources) == sorted(t.fullname for t in (first, *behind, held))
    cursor = await h.scalar("SELECT fullname FROM reddit_cursors WHERE stream = 'submissions'")
    assert cursor == behind[-1].fullname


async def test_an_approval_put_back_where_its_age_places_it_is_found_behind_the_cursor(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """An API whose listings keep strict age order puts a post approved out of the spam filter back
    behind more than a page of newer posts, past the cursor, where no read for new items goes: every
    so often (`SWEEP_SECONDS`) a stream reads on behind its cursor, five pages at most and no further
    back than what it remembers having read, and the post is recorded then, once."""
    monkeypatch.setattr(reddit_adapter, "SWEEP_SECONDS", 0.0)
    sb = reddit_sb
    sb.state.by_age = True
    sub, h = await following(sb, launcher)
    first = sb.post(sub, "alice_r", "Read before the held post")
    await rounds(h)
    held = sb.post(sub, "carol_r", "Caught by the spam filter", filtered=True)
    later = [sb.post(sub, "bob_r", f"after {i}") for i in range(150)]
    await rounds(h)
    sb.approve(held)
    listed = [t.fullname for t in sb.state.listing_of(sub, "t3")]
    assert listed.index(held.fullname) == 150  # behind a page and a half of newer posts
    await eventually(lambda: _has(h, held.fullname), "the approved post", timeout=15)
    await rounds(h, 2)
    sources = await recorded(h)
    assert len(sources) == len(set(sources)) == 152
    assert set(sources) == {t.fullname for t in (first, held, *later)}


@pytest.mark.parametrize("by_age", [False, True], ids=["approved-to-the-front", "listings-by-age"])
async def test_posts_comments_and_late_approvals_in_any_mix_are_each_recorded_once(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch, by_age: bool
):
    """Rounds of posts and comments, a tenth of them held by the spam filter and approved some
    rounds later (put back at the listing's front, or where their age places it): in the end every
    item is in the ledger exactly once, whichever round read it."""
    monkeypatch.setattr(reddit_adapter, "SWEEP_SECONDS", 0.0)
    sb = reddit_sb
    sb.state.by_age = by_age
    sub, h = await following(sb, launcher)
    rng = random.Random(48)
    posts = [sb.post(sub, "alice_r", "The first post")]
    shown, held = list(posts), []
    for _ in range(6):
        for _ in range(rng.randint(20, 80)):
            author = rng.choice(("alice_r", "bob_r", "carol_r"))
            filtered = rng.random() < 0.1
            if rng.random() < 0.4:
                item = sb.post(sub, author, "A post", filtered=filtered)
                if not filtered:
                    posts.append(item)
            else:
                item = sb.comment(rng.choice(posts), author, "A comment", filtered=filtered)
            (held if filtered else shown).append(item)
        for item in [t for t in held if rng.random() < 0.5]:
            sb.approve(item)
            held.remove(item)
            shown.append(item)
        await rounds(h, 1)
    for item in held:
        sb.approve(item)
        shown.append(item)
    wanted = {t.fullname for t in shown}
    await eventually(lambda: _recorded_all(h, wanted), "every item", timeout=20)
    await rounds(h, 2)
    sources = await recorded(h)
    assert len(sources) == len(set(sources)) and set(sources) == wanted


async def _recorded_all(h: Harness, wanted: set[str]) -> bool:
    return wanted <= set(await recorded(h))


async def test_a_post_read_while_removed_is_recorded_once_approved(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A post read while removed is no engagement; a moderator approving it later puts it back at
    the front of the listing with its old id, and it is recorded then."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    doubted = sb.post(sub, "carol_r", "Removed at first")
    sb.remove(doubted)
    other = sb.post(sub, "alice_r", "Another")
    await rounds(h)
    assert await recorded(h) == [other.fullname]
    sb.approve(doubted)
    await rounds(h, 2)
    sources = await recorded(h)
    assert sorted(sources) == sorted([other.fullname, doubted.fullname])


async def test_a_comment_read_while_removed_is_recorded_once_approved_where_the_bot_is_no_moderator(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Where the bot does not moderate, a removed comment reads as Reddit shows it to anyone: author
    "[deleted]", text "[removed]", nothing naming the removal. It is no engagement; approved later,
    it is recorded then, once."""
    sb = reddit_sb
    sub = vegan(sb, bot_moderates=False)
    h = await start_with_reddit(launcher, sb)
    await link(h, sb, h.world.owner, "modjane")
    await bind(h, "r/VeganCooking")
    await rounds(h)
    post = sb.post(sub, "alice_r", "A question")
    doubted = sb.comment(post, "carol_r", "Removed at first")
    sb.remove(doubted)
    other = sb.comment(post, "bob_r", "An answer")
    await rounds(h)
    assert sorted(await recorded(h)) == sorted([post.fullname, other.fullname])
    sb.approve(doubted)
    await rounds(h, 2)
    assert sorted(await recorded(h)) == sorted([post.fullname, other.fullname, doubted.fullname])


@pytest.mark.parametrize("status", [404, 400, 414])
async def test_account_ages_are_read_from_profiles_where_the_bulk_look_up_is_not_served(
    reddit_sb: RedditSandbox, launcher: Launcher, caplog: pytest.LogCaptureFixture, status: int
):
    """An API without `/api/user_data_by_account_ids` (praw reads its 404 as "none found"), or that
    refuses the request (400, 414), still gives the authors' account ages: from their profiles, said
    once in a warning."""
    sb = reddit_sb
    sb.fail("/api/user_data_by_account_ids", status=status, times=10_000)
    with caplog.at_level(logging.WARNING, logger="reddit.adapter"):
        sub, h = await following(sb, launcher)
        post = sb.post(sub, "alice_r", "A question")
        sb.comment(post, "bob_r", "An answer")
        await rounds(h)
        later = sb.post(sub, "carol_r", "Another")
        sb.comment(later, "alice_r", "Thanks")
        await rounds(h)
    created = dict(await h.rows("SELECT member_id, account_created_at FROM members WHERE joined_at IS NULL"))
    for name in ("alice_r", "bob_r", "carol_r"):
        made = datetime.fromtimestamp(sb.state.account(name).created_utc, UTC)
        assert created[ledger_id(sb.state.account(name).fullname)][:16] == made.isoformat()[:16]
    said = [r.getMessage() for r in caplog.records if "reading their profiles" in r.getMessage()]
    assert len(said) == 1


async def test_a_flair_set_after_posting_is_the_topic_of_later_comments(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """A post is often flaired after it was posted (by a moderator or AutoModerator): the comments on
    it after that are in the flair's topic, once the post's flair as read is `FLAIR_SECONDS` old."""
    monkeypatch.setattr(reddit_adapter, "FLAIR_SECONDS", 0.0)
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    post = sb.post(sub, "alice_r", "Unflaired at first")
    before = sb.comment(post, "bob_r", "Answered before the flair")
    await rounds(h)
    sb.set_flair(post, "Recipes")
    after = sb.comment(post, "carol_r", "Answered after it")
    await rounds(h)
    topic = dict(await h.rows("SELECT source_id, channel_id FROM events"))
    general, recipes = topic_id(sub.fullname, None), topic_id(sub.fullname, "Recipes")
    assert [topic[t.fullname] for t in (post, before, after)] == [general, general, recipes]


async def test_an_anchor_removed_between_two_page_requests_loses_nothing(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A read pages back `after=` the last item of the page before; if that item leaves the listing
    in between (AutoModerator removes it), Reddit answers with an empty page. The read goes on from
    an item before it: nothing behind the anchor is lost (the anchor itself was read on the page
    before)."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    posts = [sb.post(sub, ("bob_r", "carol_r")[i % 2], f"post {i}") for i in range(160)]  # two pages

    def remove_anchor(query: dict[str, str]) -> bool:
        if not query.get("after"):
            return False
        sb.state.things[query["after"]].filtered = True  # gone from the listing before it is answered
        return True

    sb.before("/r/VeganCooking/new", remove_anchor)
    await rounds(h)
    assert sum(t.filtered for t in posts) == 1  # the anchor left the listing
    sources = await recorded(h)
    assert len(sources) == len(set(sources)) and set(sources) == {t.fullname for t in posts}


async def test_a_failed_parent_look_up_reads_the_round_again(reddit_sb: RedditSandbox, launcher: Launcher):
    """The parents' authors are looked up after the listings are read; when that fails beyond
    prawcore's retries, the streams stay where they were and the next round records the items."""
    sb = reddit_sb
    sub = vegan(sb)
    old = sb.post(sub, "carol_r", "Posted before the subreddit was bound")
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await rounds(h)  # the post is read back
    # ... and its stream's cursor stored, so the next start does not read it back again (a busy
    # machine may take more rounds: the posts are read back after the comments).
    await eventually(lambda: _cursors_at(h.app.store, old.fullname), "the post's cursor", timeout=15)
    await launcher.stop(h)
    h = await start_with_reddit(launcher, sb)  # its author is no longer remembered
    await rounds(h)
    sb.fail("/api/info", status=503, times=3)  # more than prawcore's own two retries
    late = sb.comment(old, "bob_r", "Late answer")  # its parent was streamed before the restart
    await eventually(lambda: _count_is(h, 2), "the comment", timeout=15)
    assert sb.count("GET", "/api/info") >= 4 and h.app.reddit.errors >= 1
    rows = await h.rows("SELECT source_id, target_id FROM events")
    assert rows == [(old.fullname, None), (late.fullname, ledger_id(sb.state.account("carol_r").fullname))]


async def _restarted_with_old_posts(
    sb: RedditSandbox, launcher: Launcher, authors: tuple[str, ...]
) -> tuple[Harness, list[Any]]:
    """Posts by `authors` read back, their cursors stored, and the bot started again: it no longer
    remembers who wrote them, so replies to them need `/api/info`."""
    sub = vegan(sb)
    old = [sb.post(sub, name, f"Posted before the subreddit was bound, by {name}") for name in authors]
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await rounds(h)
    newest = max(old, key=lambda t: t.fullname)
    await eventually(lambda: _cursors_at(h.app.store, newest.fullname), "the posts' cursor", timeout=15)
    await launcher.stop(h)
    h = await start_with_reddit(launcher, sb)
    await rounds(h)
    return h, old


def _replies_in_one_listing(sb: RedditSandbox, posts: list[Any], author: str) -> list[Any]:
    """A reply by `author` to each of `posts`, all made just before the bot's next read of the
    comments listing, so that one round looks their parents up together."""
    made: list[Any] = []

    def reply(_query: dict[str, str]) -> bool:
        made.extend(sb.comment(post, author, "Late answer") for post in posts)
        return True

    sb.before("/r/VeganCooking/comments", reply)
    return made


async def test_parents_are_looked_up_in_smaller_requests_where_the_api_refuses_a_hundred(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """An API that takes fewer ids a look-up than Reddit does (414 beyond them): the refused look-up
    is asked again in halves, and every reply is recorded with the author it engages."""
    sb = reddit_sb
    authors = ("carol_r", "alice_r", "modjane")
    h, old = await _restarted_with_old_posts(sb, launcher, authors)
    sb.info_limit = 1
    before = len(sb.calls)
    late = _replies_in_one_listing(sb, old, "bob_r")
    await eventually(lambda: _count_is(h, 6), "the replies", timeout=15)
    rows = dict(await h.rows("SELECT source_id, target_id FROM events"))
    assert [rows[c.fullname] for c in late] == [ledger_id(sb.state.account(a).fullname) for a in authors]
    # Three ids refused, then one and two, then the two halves of those: five requests.
    asked = [(len(c.query["id"].split(",")), c.status) for c in sb.calls[before:] if c.path == "/api/info"]
    assert asked == [(3, 414), (1, 200), (2, 414), (1, 200), (1, 200)]


async def test_a_refused_parent_look_up_holds_back_no_reply(
    reddit_sb: RedditSandbox, launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """A look-up refused whatever it asks (a 400 on every request): the replies are recorded all the
    same, without the author of a parent nobody could look up, instead of every round being read
    again forever; the refusal is logged, and the look-up is left alone for a while."""
    sb = reddit_sb
    h, old = await _restarted_with_old_posts(sb, launcher, ("carol_r", "alice_r"))
    sb.fail("/api/info", status=400, times=1000)
    before = sb.count("GET", "/api/info")
    late = _replies_in_one_listing(sb, old, "bob_r")
    await eventually(lambda: _count_is(h, 4), "the replies", timeout=15)
    rows = dict(await h.rows("SELECT source_id, target_id FROM events"))
    assert [rows[c.fullname] for c in late] == [None, None]
    assert sb.count("GET", "/api/info") - before == 3  # the two ids, then each alone
    assert "parent items not looked up (HTTP 400" in caplog.text
    fresh = sb.comment(old[0], "alice_r", "Another late answer")
    await eventually(lambda: _has(h, fresh.fullname), "the next reply", timeout=15)
    assert h.app.reddit.failing is None


async def test_5xx_429_timeouts_and_an_expired_token_are_survived(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    sb = reddit_sb
    sub, h = await following(sb, launcher, reddit_timeout=2)
    adapter = h.app.reddit
    sb.fail("/r/VeganCooking/comments", status=503, times=4)  # more than prawcore's own two retries
    sb.rate_limit("/r/VeganCooking/new", times=2)
    sb.stall("/r/VeganCooking/comments", seconds=2.3)  # beyond the 2 s client timeout
    sb.expire_tokens()
    p1 = sb.post(sub, "alice_r", "Still here?")
    c1 = sb.comment(p1, "bob_r", "yes")
    await eventually(lambda: h.count(), "the items to arrive", timeout=15)
    await eventually(lambda: _count_is(h, 2), "both items", timeout=15)
    assert adapter.state == "running" and adapter.errors >= 2
    statuses = [c.status for c in sb.calls]
    assert 503 in statuses and 429 in statuses and 401 in statuses
    assert sb.count("POST", "/api/v1/access_token") >= 2  # signed in again after the token expired
    assert {r[0] for r in await h.rows("SELECT source_id FROM events")} == {p1.fullname, c1.fullname}


async def test_every_request_waits_for_reddit_no_longer_than_the_timeout_setting(reddit_sb: RedditSandbox):
    """`MICROVOICE_REDDIT_TIMEOUT_SECONDS` (1 s here) bounds the sign-in and every API request; a
    stalled read is abandoned and tried again, not waited out."""
    sb = reddit_sb
    vegan(sb)
    reddit = build_reddit(Settings(**reddit_settings(sb, reddit_timeout=1)))
    sb.stall("/api/v1/access_token", seconds=5, times=10)

    def sign_in() -> float:
        began = time.monotonic()
        with pytest.raises(prawcore.RequestException):
            reddit.user.me()
        return time.monotonic() - began

    # Three attempts (prawcore tries a timed-out request twice more) of 1 s each, not the stall's 5 s.
    assert await asyncio.to_thread(sign_in) < 4.5
    sb.faults.clear()
    sb.stall("/r/VeganCooking/about", seconds=3)

    def read() -> tuple[str, float]:
        began = time.monotonic()
        name = reddit.subreddit("VeganCooking").display_name_prefixed
        reddit.subreddit("VeganCooking")._fetch()
        return name, time.monotonic() - began

    name, took = await asyncio.to_thread(read)
    assert name == "r/VeganCooking" and took < 2.5  # abandoned after 1 s, answered on the retry
    assert sb.count("GET", "/r/VeganCooking/about") == 2


async def _two_bound(sb: RedditSandbox, launcher: Launcher) -> tuple[Any, Any, Harness]:
    """r/VeganCooking and r/OatBakers bound and read once: the two subreddits and the bot."""
    sub = vegan(sb)
    other = sb.add_subreddit("OatBakers", moderators=("MicrovoiceBot",))
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await bind(h, "r/OatBakers")
    await rounds(h)
    return sub, other, h


async def test_one_subreddit_failing_holds_back_neither_another_nor_the_inbox(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """One subreddit's comment listing keeps answering 503: that stream backs off on its own, while
    the other subreddit's items are recorded and a link code in the inbox is read; once its listing
    answers again, nothing of it is lost."""
    sb = reddit_sb
    sub, other, h = await _two_bound(sb, launcher)
    sb.fail("/r/VeganCooking/comments", status=503, times=10_000)
    p1 = sb.post(sub, "alice_r", "Held back")
    c1 = sb.comment(p1, "bob_r", "behind a failing listing")
    p2 = sb.post(other, "carol_r", "Fine here")
    c2 = sb.comment(p2, "alice_r", "recorded")
    await eventually(lambda: _count_is(h, 3), "the other subreddit's items and the first's post", timeout=15)
    await link(h, sb, h.world.alice, "alice_r")
    alice_r = ledger_id(sb.state.account("alice_r").fullname)
    assert await h.app.store.linked_member(h.world.guild, alice_r) == h.world.alice
    assert h.app.reddit.state == "running"
    sb.faults.clear()
    await eventually(lambda: _count_is(h, 4), "the held-back comment", timeout=15)
    assert sorted(await recorded(h)) == sorted(t.fullname for t in (p1, c1, p2, c2))


async def test_a_listing_that_ends_is_not_asked_past_its_end(reddit_sb: RedditSandbox, launcher: Launcher):
    """A subreddit read back from the beginning: a page shorter than asked for is the listing's end
    (praw asks on until it has the page, or Reddit says there is no more), so a listing that fits
    in one page costs one request (before, the first read asked past the end once more)."""
    sb = reddit_sb
    sub = vegan(sb)
    post = sb.post(sub, "alice_r", "A question", at=time.time() - 3_600)
    sb.comment(post, "bob_r", "An answer", at=time.time() - 1_800)
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await rounds(h, 3)
    assert len(await recorded(h)) == 2
    listings = [c for c in sb.calls if c.path in ("/r/VeganCooking/comments", "/r/VeganCooking/new")]
    assert listings and not [c for c in listings if c.query.get("after")]


async def test_a_failing_inbox_holds_back_neither_the_streams_nor_their_pace(
    reddit_sb: RedditSandbox, launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """The inbox keeps answering 503: it backs off on its own, with a warning, while the streams go
    on at their poll interval (no round's back-off, status does not say Reddit is failing) and
    record what is posted; once the inbox answers again a link code sent meanwhile is read."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    adapter = h.app.reddit
    sb.fail("/message/unread", status=503, times=10_000)
    with caplog.at_level(logging.WARNING, logger="reddit.adapter"):
        await rounds(h, 6, timeout=5)  # the round's back-off would have waited 2 + 5 + 15 s
    assert adapter.failing is None and adapter.state == "running"
    assert any("the inbox not read" in r.getMessage() for r in caplog.records)
    p1 = sb.post(sub, "alice_r", "While the inbox fails")
    c1 = sb.comment(p1, "bob_r", "still recorded")
    await rounds(h, 2, timeout=5)
    assert {p1.fullname, c1.fullname} <= set(await recorded(h))
    sb.faults.clear()
    adapter._inbox_resting_until = 0.0  # the inbox's own back-off, not waited out here
    await link(h, sb, h.world.alice, "alice_r")
    alice_r = ledger_id(sb.state.account("alice_r").fullname)
    assert await h.app.store.linked_member(h.world.guild, alice_r) == h.world.alice


async def test_a_token_refused_after_a_fresh_sign_in_is_tried_again_later(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """prawcore signs in again after a 401 itself; a 401 that outlasts that (Reddit's side, not the
    credentials: the token endpoint accepted them) backs off like a 5xx instead of switching Reddit
    off until a restart."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    sb.fail("/r/VeganCooking/comments", status=401, times=4)
    p1 = sb.post(sub, "alice_r", "Still here?")
    c1 = sb.comment(p1, "bob_r", "yes")
    await eventually(lambda: _count_is(h, 2), "both items", timeout=15)
    assert h.app.reddit.state == "running" and h.app.reddit.errors >= 1
    assert {r[0] for r in await h.rows("SELECT source_id FROM events")} == {p1.fullname, c1.fullname}


async def test_reddit_refusing_every_read_is_said_in_status_until_it_answers_again(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A token Reddit keeps refusing after a fresh sign-in (401 on every read, as when it revoked the
    app's access) backs off without stopping the thread, and moderators' status says Reddit keeps
    failing, also while the streams rest between tries, until it answers again; nothing is lost."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    sb.fail("/r/VeganCooking", status=401, times=10_000)
    post = sb.post(sub, "alice_r", "Still here?")
    await eventually(lambda: h.app.reddit.failing is not None, "the failures to be noticed", timeout=10)
    adapter = h.app.reddit
    for _ in range(3):  # failed rounds and rounds of resting streams alike
        assert "Reddit keeps failing to answer (HTTP 401 (InvalidToken))" in await status_text(h)
        tries = adapter.errors + adapter.rounds
        adapter.poll_now()
        await eventually(lambda: adapter.errors + adapter.rounds >= tries + 2, "two more tries", timeout=10)  # noqa: B023
    assert h.app.reddit.state == "running"
    sb.faults.clear()
    await eventually(lambda: _count_is(h, 1), "the post", timeout=15)
    await eventually(lambda: h.app.reddit.failing is None, "Reddit answering again", timeout=10)
    assert "Reddit keeps failing" not in await status_text(h)
    assert await recorded(h) == [post.fullname]


def lock_cursor_writes(monkeypatch: pytest.MonkeyPatch, store: Any, *, times: int) -> list[int]:
    """Make the store's stream-cursor writes fail as a locked SQLite database does, `times` times;
    returns the count of refusals so far (one item)."""
    real = store.set_reddit_cursors
    refused = [0]

    async def locked(*args: object, **kwargs: object) -> None:
        if refused[0] < times:
            refused[0] += 1
            raise sqlite3.OperationalError("database is locked")
        await real(*args, **kwargs)

    monkeypatch.setattr(store, "set_reddit_cursors", locked)
    return refused


async def test_a_locked_database_defers_a_round_and_loses_nothing(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """The database refuses a round's write (SQLite locked past its busy timeout): the streams go
    back to where they were and the next round records the same items, once; Reddit keeps running."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    adapter, store = h.app.reddit, h.app.store
    refused = lock_cursor_writes(monkeypatch, store, times=2)
    p1 = sb.post(sub, "alice_r", "Anyone?")
    c1 = sb.comment(p1, "bob_r", "here")
    await eventually(lambda: _count_is(h, 2), "both items", timeout=15)
    await eventually(lambda: _cursors_at(store, c1.fullname), "the cursors past the items", timeout=15)
    assert refused == [2] and adapter.state == "running" and adapter.errors >= 2
    p2 = sb.post(sub, "carol_r", "Later")
    await eventually(lambda: _count_is(h, 3), "a later item", timeout=15)
    assert sorted(await recorded(h)) == sorted([p1.fullname, c1.fullname, p2.fullname])


async def test_a_database_error_in_the_first_round_after_a_restart_loses_nothing(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """Any error the database raises while a round's items are recorded (here a disk I/O error, not a
    lock) puts the streams back where they were, also in the first round after a restart, when the
    stream does not yet remember what it read: the next round records the items, once."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    p1 = sb.post(sub, "alice_r", "One")
    await rounds(h)
    await launcher.stop(h)

    while_down = [sb.comment(p1, "carol_r", f"while down {i}") for i in range(3)]
    real = SubredditService.accept
    failed = [0]

    async def failing(self: SubredditService, items: Any) -> int:
        if failed[0] == 0 and items:
            failed[0] += 1
            raise sqlite3.OperationalError("disk I/O error")
        return await real(self, items)

    monkeypatch.setattr(SubredditService, "accept", failing)
    h2 = await start_with_reddit(launcher, sb)
    await rounds(h2, 3)
    assert failed == [1]
    sources = [r[0] for r in await h2.rows("SELECT source_id FROM events")]
    assert sorted(sources) == sorted([p1.fullname, *(c.fullname for c in while_down)])
    cursor = await h2.scalar("SELECT fullname FROM reddit_cursors WHERE stream = 'comments'")
    assert cursor == while_down[-1].fullname


async def test_an_unexpected_error_in_a_round_is_logged_and_the_round_read_again(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """An error nothing classifies (an item this code did not expect) does not switch Reddit off
    until a restart: it is logged with its traceback, the thread backs off, and the next round reads
    the same items again, recorded once."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    real = reddit_adapter.RedditAdapter._items
    raised = [0]

    def surprising(self: reddit_adapter.RedditAdapter, reddit: Any, things: list[Any], *rest: Any) -> Any:
        if raised[0] == 0:
            raised[0] += 1
            raise AttributeError("'Comment' object has no attribute 'unexpected'")
        return real(self, reddit, things, *rest)

    monkeypatch.setattr(reddit_adapter.RedditAdapter, "_items", surprising)
    p1 = sb.post(sub, "alice_r", "Anyone?")
    c1 = sb.comment(p1, "bob_r", "here")
    with caplog.at_level(logging.ERROR, logger="reddit.adapter"):
        await eventually(lambda: _count_is(h, 2), "both items", timeout=15)
    assert raised == [1] and h.app.reddit.state == "running"
    assert any(r.exc_info and "unexpected error" in r.getMessage() for r in caplog.records)
    assert sorted(await recorded(h)) == sorted([p1.fullname, c1.fullname])


async def test_a_locked_database_when_a_stream_is_read_back_is_tried_again(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """A newly followed stream's first read (its history, read back) is recorded like any round: a
    database that refuses it leaves the stream unstarted, the next round reads it back again, and
    every item is recorded once; the Reddit side keeps running."""
    sb = reddit_sb
    sub = vegan(sb)
    p1 = sb.post(sub, "alice_r", "Before the binding")
    c1 = sb.comment(p1, "bob_r", "also before")
    h = await start_with_reddit(launcher, sb)
    adapter, store = h.app.reddit, h.app.store
    refused = lock_cursor_writes(monkeypatch, store, times=2)
    await bind(h, "r/VeganCooking")
    await eventually(lambda: _cursors_at(store, c1.fullname), "the comments read back", timeout=15)
    await eventually(lambda: _cursors_at(store, p1.fullname), "the posts read back", timeout=15)
    sb.post(sub, "carol_r", "First after it")
    await eventually(lambda: _count_is(h, 3), "the new item", timeout=15)
    assert refused == [2] and adapter.state == "running" and adapter.errors >= 1
    assert sorted(await recorded(h))[:2] == sorted([c1.fullname, p1.fullname])


async def test_a_round_the_database_takes_too_long_for_is_read_again(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """A write that hangs past the adapter's patience (a database stalled by a long write or an
    unreachable server) defers the round like a refused one: nothing is lost, Reddit keeps running."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    adapter, store = h.app.reddit, h.app.store
    monkeypatch.setattr(reddit_adapter, "ACCEPT_SECONDS", 0.5)
    real = store.set_reddit_cursors
    stalled = 0

    async def stalls_once(*args: object, **kwargs: object) -> None:
        nonlocal stalled
        if stalled == 0:
            stalled += 1
            await asyncio.sleep(1.5)
        await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "set_reddit_cursors", stalls_once)
    p1 = sb.post(sub, "alice_r", "Anyone?")
    await eventually(lambda: _cursors_at(store, p1.fullname), "the cursors past the item", timeout=15)
    p2 = sb.post(sub, "carol_r", "Later")
    await eventually(lambda: _count_is(h, 2), "a later item", timeout=15)
    assert stalled == 1 and adapter.state == "running" and adapter.errors >= 1
    written = sorted(await recorded(h))
    assert written == sorted([p1.fullname, p2.fullname])


async def _cursors_at(store: object, fullname: str) -> bool:
    return fullname in (await store.reddit_cursors()).values()  # type: ignore[attr-defined]


async def _has(h: Harness, fullname: str) -> bool:
    return fullname in await recorded(h)


async def _count_is(h: Harness, n: int) -> bool:
    return await h.count() == n


async def status_text(h: Harness) -> str:
    """What `/microvoice status` shows the server's owner."""
    status = await h.slash("microvoice", h.world.owner, subcommand="status", permissions=MANAGE_GUILD)
    return (await status.wait_followup()).json["embeds"][0]["description"]


async def test_a_subreddit_reddit_will_not_show_is_left_alone_shown_in_status_and_read_again(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """Reddit answers a private subreddit's listings 403 `{"reason": "private"}` (to anyone but its
    moderators), a quarantined one's 403 `"quarantined"`, a banned one's 404 `"banned"`: reading it
    stops without a traceback, the other subreddit goes on, moderators' status says why, and once
    Reddit shows it again what was posted meanwhile is recorded, once. Before, status said nothing
    and every retry logged the same warning again."""
    monkeypatch.setattr(reddit_adapter, "SUBREDDIT_RETRY_SECONDS", 0.05)
    sb = reddit_sb
    sub, other, h = await _two_bound(sb, launcher)
    post = sb.post(sub, "alice_r", "Before")
    await rounds(h)
    sub.moderators.remove("MicrovoiceBot")  # bound through a moderator's linked account, say
    expected = {post.fullname}
    for access, why in (
        ("private", "r/VeganCooking is not being read: it is private"),
        ("quarantined", "r/VeganCooking is not being read: Reddit has quarantined it."),
        ("banned", "r/VeganCooking is not being read: Reddit has banned it."),
    ):
        sb.set_access(sub, access)
        with caplog.at_level(logging.WARNING, logger="reddit.adapter"):
            await rounds(h, 4)
        meanwhile = sb.comment(post, "bob_r", f"while {access}")
        elsewhere = sb.post(other, "carol_r", f"elsewhere while {access}")
        await rounds(h, 4)
        assert elsewhere.fullname in await recorded(h)
        assert meanwhile.fullname not in await recorded(h)
        assert why in await status_text(h)
        warned = [r for r in caplog.records if "cannot read r/VeganCooking" in r.getMessage()]
        assert len(warned) == 1 and not warned[0].exc_info, access  # once, not at every retry
        caplog.clear()
        sb.set_access(sub, "public")
        made = meanwhile.fullname
        await eventually(lambda: _has(h, made), f"the comment made while {access}", timeout=10)  # noqa: B023
        expected |= {meanwhile.fullname, elsewhere.fullname}
        assert "not being read" not in await status_text(h)
    sources = await recorded(h)
    assert set(sources) == expected and len(sources) == len(expected)
    assert h.app.reddit.state == "running"


async def test_a_listing_answered_with_another_4xx_is_said_as_a_refused_request_not_a_forbidden_subreddit(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """An API that answers a subreddit's listing 400 (a request it does not take) has refused the
    request, not the subreddit: moderators' status says so rather than that Reddit will not show the
    subreddit to the bot, the log names the answer once, the other subreddit goes on, and reading
    resumes with nothing lost once the listing is answered again."""
    monkeypatch.setattr(reddit_adapter, "SUBREDDIT_RETRY_SECONDS", 0.05)
    sb = reddit_sb
    sub, other, h = await _two_bound(sb, launcher)
    post = sb.post(sub, "alice_r", "Before")
    await rounds(h)
    sb.fail("/r/VeganCooking/comments", status=400, times=10_000)
    with caplog.at_level(logging.WARNING, logger="reddit.adapter"):
        await rounds(h, 4)
    meanwhile = sb.comment(post, "bob_r", "While refused")
    elsewhere = sb.post(other, "carol_r", "Elsewhere")
    await eventually(lambda: _has(h, elsewhere.fullname), "the other subreddit's post", timeout=10)
    status = await status_text(h)
    assert "r/VeganCooking is not being read: Reddit rejects the bot's requests for it" in status
    assert "refuses to show it" not in status
    warned = [r.getMessage() for r in caplog.records if "cannot read r/VeganCooking" in r.getMessage()]
    assert len(warned) == 1 and "refused: HTTP 400" in warned[0]
    sb.faults.clear()
    await eventually(lambda: _has(h, meanwhile.fullname), "the comment made meanwhile", timeout=10)
    assert "not being read" not in await status_text(h)


async def test_a_suspended_bot_account_is_said_once_and_reading_resumes_when_it_ends(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """A suspended account is refused (403, no reason) on every call but its own profile, which says
    `is_suspended`. The adapter logs it once, moderators' status says so (not that every subreddit
    is forbidden), nothing is retried in a loop meanwhile, and reading resumes when it ends with
    nothing lost. Before, each subreddit was taken for one Reddit would not show, and each retry
    logged it again."""
    monkeypatch.setattr(reddit_adapter, "SUBREDDIT_RETRY_SECONDS", 0.05)
    monkeypatch.setattr(reddit_adapter, "SUSPENDED_RETRY_SECONDS", 0.2)
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    adapter = h.app.reddit
    post = sb.post(sub, "alice_r", "Before")
    await rounds(h)
    with caplog.at_level(logging.WARNING, logger="reddit.adapter"):
        sb.suspend(sb.app_account.name)
        await eventually(lambda: adapter.suspended, "the suspension to be noticed", timeout=10)
        meanwhile = sb.comment(post, "bob_r", "while the bot is suspended")
        text = await status_text(h)
        assert "suspended the bot's account u/MicrovoiceBot" in text and "not being read" not in text
        calls = len(sb.calls)
        await asyncio.sleep(0.5)  # two checks of the account at most, no loop of refused reads
        assert len(sb.calls) - calls <= 4
        sb.app_account.suspended = False
        await eventually(lambda: not adapter.suspended, "the end of the suspension", timeout=10)
        await rounds(h)
    said = [r for r in caplog.records if "suspended the bot's account" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.ERROR and not said[0].exc_info
    assert not [r for r in caplog.records if "cannot read r/" in r.getMessage()]
    assert sorted(await recorded(h)) == sorted([post.fullname, meanwhile.fullname])
    assert "suspended" not in await status_text(h) and adapter.state == "running"


async def test_refused_credentials_stop_reddit_and_discord_keeps_working(
    reddit_sb: RedditSandbox, launcher: Launcher, caplog
):
    vegan(reddit_sb)
    with caplog.at_level(logging.ERROR, logger="reddit.adapter"):
        h = await start_with_reddit(launcher, reddit_sb, reddit_password="wrong")
        await eventually(lambda: h.app.reddit.state == "refused", "the Reddit side to stop")
    refusals = [r for r in caplog.records if "refused the bot's credentials" in r.getMessage()]
    assert len(refusals) == 1 and "wrong" not in refusals[0].getMessage()
    assert "invalid_grant" in refusals[0].getMessage()
    # Discord is untouched: messages are recorded, commands answer; Reddit commands say it is off.
    await h.sandbox.send_message(h.world.general, h.world.alice, "hello")
    await h.flush()
    assert await h.count("message") == 1
    assert "not available" in await bind(h, "r/VeganCooking")


async def test_binding_needs_a_moderator_of_the_subreddit(reddit_sb: RedditSandbox, launcher: Launcher):
    sb = reddit_sb
    vegan(sb, bot_moderates=False)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    assert "moderates r/VeganCooking" in await bind(h, "r/VeganCooking")
    assert await h.scalar("SELECT count(*) FROM reddit_subreddits") == 0
    refused = await h.slash(
        "microvoice",
        w.alice,
        {"subreddit": "r/VeganCooking"},
        subcommand=["reddit", "add"],
        permissions=BASIC,
    )
    assert "moderators" in reply_text(await refused.response()).lower()
    # The owner links their own Reddit account, which moderates the subreddit: now it binds.
    await link(h, sb, w.owner, "modjane")
    text = await bind(h, "r/VeganCooking")
    assert "now part of this community" in text and "does not moderate" in text
    listed = await h.slash("microvoice", w.owner, subcommand=["reddit", "list"], permissions=MANAGE_GUILD)
    assert "r/VeganCooking" in reply_text(await listed.response())
    removed = await h.slash(
        "microvoice",
        w.owner,
        {"subreddit": "VeganCooking"},
        subcommand=["reddit", "remove"],
        permissions=MANAGE_GUILD,
    )
    assert "no longer part" in reply_text(await removed.response())
    assert await h.scalar("SELECT count(*) FROM reddit_subreddits") == 0


async def link(
    h: Harness, sb: RedditSandbox, member: int, reddit_name: str, *, sender: str | None = None
) -> str:
    started = await h.slash(
        "link", member, {"username": f"u/{reddit_name}"}, subcommand="reddit", permissions=BASIC
    )
    text = reply_text(await started.response())
    code = CODE.search(text)
    assert code, text
    sb.send_message(
        sender or reddit_name, sb.app_account.name, "Microvoice link", f"my code: {code.group(0)}"
    )
    await rounds(h)
    return code.group(0)


async def test_linking_with_a_code_refuses_the_wrong_code_or_sender_and_can_be_undone(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    sb = reddit_sb
    vegan(sb)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    # A wrong code links nothing.
    await h.slash("link", w.alice, {"username": "alice_r"}, subcommand="reddit", permissions=BASIC)
    sb.send_message("alice_r", sb.app_account.name, "link", "MV-AAAAAAAAAA")
    await rounds(h)
    assert await h.scalar("SELECT count(*) FROM reddit_links") == 0
    # The right code from someone else's account links nothing either.
    code = await link(h, sb, w.alice, "alice_r", sender="bob_r")
    assert await h.scalar("SELECT count(*) FROM reddit_links") == 0
    assert not [m for m in sb.state.messages.values() if m.new]  # read and dealt with
    # Sent from the named account, it links.
    sb.send_message("alice_r", sb.app_account.name, "link", code)
    await rounds(h)
    alice_r = ledger_id(sb.state.account("alice_r").fullname)
    assert await h.rows("SELECT member_id, reddit_id, reddit_name FROM reddit_links") == [
        (w.alice, alice_r, "alice_r")
    ]
    assert await h.scalar("SELECT count(*) FROM reddit_link_codes") == 0  # a code works once
    # Both sides are told: a private message on Reddit to the linked account (and only to it), and one
    # on Discord to the member.
    assert not sb.messages_to("bob_r")
    [confirmed] = sb.messages_to("alice_r")
    assert confirmed.author == sb.app_account.name and confirmed.subject == "Linked to Discord"
    assert "u/alice_r is now linked" in confirmed.body and "/link remove" in confirmed.body
    [note] = h.sandbox.messages(h.sandbox.open_dm(w.alice))
    assert note["content"] == i18n.t("en", "link.confirm_discord", name="alice_r")
    status = await h.slash("link", w.alice, subcommand="status", permissions=BASIC)
    assert "u/alice_r" in reply_text(await status.response())
    removed = await h.slash("link", w.alice, subcommand="remove", permissions=BASIC)
    assert "unlinked" in reply_text(await removed.response())
    assert await h.scalar("SELECT count(*) FROM reddit_links") == 0


async def test_a_link_code_behind_a_crowd_of_comment_replies_is_read(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Comment replies to the bot land in its inbox too: all are marked read, and a link code sent
    behind more than a page of them is still found."""
    sb = reddit_sb
    sub = vegan(sb)
    h = await start_with_reddit(launcher, sb)
    post = sb.post(sub, "alice_r", "Thread")
    mine = sb.comment(post, sb.app_account.name, "the bot's comment")
    started = await h.slash(
        "link", h.world.alice, {"username": "u/alice_r"}, subcommand="reddit", permissions=BASIC
    )
    code = CODE.search(reply_text(await started.response()))
    assert code
    sb.send_message("alice_r", sb.app_account.name, "link", code.group(0))
    for i in range(130):
        sb.comment(mine, ("bob_r", "carol_r")[i % 2], f"reply {i}")
    app = sb.app_account.name
    assert len([n for n in sb.state.notices.values() if n.new and n.dest == app]) == 130
    await rounds(h)
    assert await h.scalar("SELECT reddit_name FROM reddit_links") == "alice_r"
    assert not [n for n in sb.state.notices.values() if n.new and n.dest == app]  # none to pile up
    assert not [m for m in sb.state.messages.values() if m.new and m.dest == app]


async def test_a_link_confirmation_reddit_asks_to_wait_for_is_sent_later_once(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Reddit's rate limit on a new account's messages ("you are doing that too much"): the
    confirmation is sent on a later round, and the member is told on Discord once."""
    sb = reddit_sb
    vegan(sb)
    h = await start_with_reddit(launcher, sb)
    sb.refuse("/api/compose", "RATELIMIT", times=2)
    await link(h, sb, h.world.alice, "alice_r")
    await rounds(h, 3)
    [confirmed] = sb.messages_to("alice_r")
    assert confirmed.subject == "Linked to Discord"
    assert await h.scalar("SELECT count(*) FROM reddit_links WHERE confirmed_at IS NOT NULL") == 1
    notes = h.sandbox.messages(h.sandbox.open_dm(h.world.alice))
    assert [n["content"] for n in notes] == [i18n.t("en", "link.confirm_discord", name="alice_r")]


async def test_export_and_erasure_cover_the_linked_reddit_account(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    sb = reddit_sb
    sub = vegan(sb)
    h = await start_with_reddit(launcher, sb)
    w = h.world
    await bind(h, "r/VeganCooking")
    await rounds(h)
    await link(h, sb, w.alice, "alice_r")
    p1 = sb.post(sub, "alice_r", "Mine")
    theirs = sb.comment(p1, "bob_r", "Theirs")
    await rounds(h)
    alice_r = ledger_id(sb.state.account("alice_r").fullname)
    platform = h.app.activations.platform.platforms["reddit"]
    assert (await platform.account(alice_r)) is not None  # its profile (age, karma) now kept in memory
    doc = await h.app.privacy.export(w.guild, w.alice)
    exported = json.loads(doc.data)
    linked = exported["linked_identities"]
    assert [part["identity"] for part in linked] == [str(alice_r)]
    events = {e["source_id"]: e for e in linked[0]["tables"]["events"]}
    assert set(events) == {p1.fullname, theirs.fullname}  # their post, and the comment engaging with it
    assert events[theirs.fullname]["actor_id"] is None  # someone else's id is not exported
    assert exported["tables"]["reddit_links"][0]["reddit_name"] == "alice_r"
    await h.app.privacy.erase(w.guild, w.alice)
    assert await h.scalar("SELECT count(*) FROM events WHERE actor_id = ?", alice_r) == 0
    assert await h.scalar("SELECT count(*) FROM events WHERE target_id = ?", alice_r) == 0
    assert await h.scalar("SELECT count(*) FROM reddit_links") == 0
    assert await h.count() == 1  # bob_r's comment stays, no longer pointing at alice_r
    # Nothing of the account is kept in memory either (its name, its profile), and a new answer to its
    # post engages nobody.
    assert platform.mention(alice_r) == sb.state.account("alice_r").fullname  # no name known
    profiles = sb.count("GET", "/api/user_data_by_account_ids")
    await platform.account(alice_r)
    assert sb.count("GET", "/api/user_data_by_account_ids") == profiles + 1  # read anew: none was kept
    assert sb.state.account("alice_r").fullname not in h.app.reddit._created
    late = sb.comment(p1, "carol_r", "Late to the thread")
    await rounds(h)
    assert await h.scalar("SELECT target_id FROM events WHERE source_id = ?", late.fullname) is None


async def test_discord_only_registers_no_reddit_command(launcher: Launcher):
    h = await launcher.start()
    assert h.app.reddit is None and h.app.subreddits is None and h.app.links is None
    names = {c.qualified_name for c in h.bot.tree.walk_commands()}
    assert not {n for n in names if n.startswith(("link", "microvoice reddit"))}


async def test_a_subreddits_topics_are_named_as_recorded_in_the_community_report(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """A subreddit's topics are named in reports as `/microvoice status` and the rankings name them
    ("r/name · Flair"), in the embed, the CSV and the chart; Discord channels keep their #. Before, a
    '#' was put before them ("#r/VeganCooking · Recipes"), a channel nobody has."""
    from tests.e2e.test_report_commands import csv_rows

    sb = reddit_sb
    sub, h = await following(sb, launcher)
    names = [f"fan{i}_r" for i in range(6)]
    for name in names:
        sb.add_account(name)
    post = sb.post(sub, "alice_r", "Tofu?", flair="Recipes")
    for name in names:
        sb.comment(post, name, "press it")
    await rounds(h)
    report = await h.slash(
        "report", h.world.owner, {"days": 7}, subcommand="community", permissions=MANAGE_GUILD
    )
    followup = await report.wait_followup(timeout=30)
    assert "r/VeganCooking · Recipes" in followup.json["embeds"][0]["description"]
    assert "#r/VeganCooking" not in followup.json["embeds"][0]["description"]
    topics = {r["item"] for r in csv_rows(followup.files[1][1]) if r["section"] == "topic"}
    assert topics == {"r/VeganCooking · Recipes"}


async def test_a_malformed_listed_item_is_skipped_once_not_read_again_forever(
    reddit_sb: RedditSandbox, launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """An item a listing shows without what recording needs (here no posting time) would fail every
    round it is read in and hold its stream for good: it is skipped, with one warning, and the items
    around it are recorded."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    p1 = sb.post(sub, "alice_r", "Anyone?")
    bad = sb.comment(p1, "bob_r", "no time")
    bad.created_utc = None  # type: ignore[assignment]
    good = sb.comment(p1, "carol_r", "here")
    with caplog.at_level(logging.WARNING, logger="reddit.adapter"):
        await rounds(h, 3)
        later = sb.comment(p1, "bob_r", "later")
        await rounds(h, 2)
    assert sorted(await recorded(h)) == sorted([p1.fullname, good.fullname, later.fullname])
    assert h.app.reddit.state == "running"
    assert sum("lacks what recording needs" in r.getMessage() for r in caplog.records) == 1


async def test_accounts_ages_unreadable_are_told_once_and_the_items_recorded(
    reddit_sb: RedditSandbox, launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """A Reddit that refuses the accounts' creation times (here a 403 every time, to the bulk look-up
    and to every profile; a 404 means no such account to praw) costs the ranking their ages only:
    the items are recorded, and the log says so once, not every round."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    sb.fail("/api/user_data_by_account_ids", status=403, times=1_000)
    sb.fail("/user/", status=403, times=1_000)  # every profile
    with caplog.at_level(logging.WARNING, logger="reddit.adapter"):
        p1 = sb.post(sub, "alice_r", "Anyone?")
        await rounds(h)
        c1 = sb.comment(p1, "bob_r", "here")
        await rounds(h)
        c2 = sb.comment(c1, "carol_r", "me too")
        await rounds(h)
    assert sorted(await recorded(h)) == sorted([p1.fullname, c1.fullname, c2.fullname])
    assert sum("creation times of" in r.getMessage() for r in caplog.records) == 1


async def test_reads_reach_as_deep_as_reddit_lists_and_say_so(
    reddit_sb: RedditSandbox, launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """Reddit's listings reach back their newest thousand items. Read back at the binding, a
    subreddit with more comments is read to that depth (an info line), and a post older than those
    with its comment tree; more new items than that between two reads lose the older ones, with a
    warning."""
    sb = reddit_sb
    sub = vegan(sb)
    day, start = 86_400.0, time.time()
    early = sb.post(sub, "carol_r", "Long ago", at=start - 30 * day)
    recent = sb.post(sub, "alice_r", "Recently", at=start - 2 * day)
    before = [
        sb.comment(recent if i >= 5 else early, "bob_r", f"{i}", at=start - 20 * day + i * 60)
        for i in range(1005)
    ]
    h = await start_with_reddit(launcher, sb)
    with caplog.at_level(logging.INFO, logger="reddit.adapter"):
        await bind(h, "r/VeganCooking")
        await rounds(h, 4)
        written = set(await recorded(h))
        # The oldest comments, beyond the listing, come with their post's tree.
        assert written == {c.fullname for c in before} | {recent.fullname, early.fullname}
        assert any("read back its newest 1000 comments" in r.getMessage() for r in caplog.records)
        flood = [sb.comment(recent, "carol_r", f"{i}") for i in range(1003)]
        await rounds(h, 2)
    assert set(await recorded(h)) - written == {c.fullname for c in flood[3:]}
    assert any("more than 1000 new comments" in r.getMessage() for r in caplog.records)


async def test_a_burst_is_read_again_at_once_not_after_the_poll_interval(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Items coming faster than a listing page a poll: the round that needed more than one page is
    followed at once by the next (as the request budget allows), so a burst is read before Reddit's
    listing lets its oldest items go; a quiet round waits the poll interval (a minute here)."""
    sb = reddit_sb
    sub = vegan(sb)
    h = await start_with_reddit(launcher, sb, reddit_poll_seconds=60, reddit_requests_per_minute=1000)
    adapter = h.app.reddit
    await bind(h, "r/VeganCooking")
    for _ in range(3):  # one round at a time, each woken by the test: both streams started
        await rounds(h, 1)
    while True:  # then idle: no round under way, none woken (a poke during a round wakes one more)
        settled = adapter.rounds
        await asyncio.sleep(1)
        if adapter.rounds == settled:
            break
    p1 = sb.post(sub, "alice_r", "Busy thread")
    burst = [sb.comment(p1, "bob_r", f"{i}") for i in range(150)]
    start = adapter.rounds
    adapter.poll_now()
    await eventually(
        lambda: adapter.rounds >= start + 2, "the round after the burst, without a poll", timeout=5
    )
    await asyncio.sleep(0.5)
    assert adapter.rounds == start + 2  # that one read a page: the next waits the poll interval
    assert len(await recorded(h)) == 1 + len(burst)


async def test_an_older_post_whose_tree_cannot_be_read_now_is_read_next_round(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """Reading a subreddit back, a post whose comment tree Reddit does not give now (a 503 beyond
    prawcore's retries) is left for the next round, with a warning; the posts read before it are
    recorded, and in the end every item once."""
    ten_deep(monkeypatch)
    sb = reddit_sb
    sub = vegan(sb)
    day, start = 86_400.0, time.time()
    old = [sb.post(sub, "carol_r", f"old {i}", at=start - (30 - i) * day) for i in range(3)]
    answers = [sb.comment(post, "bob_r", "answer", at=start - (29 - i) * day) for i, post in enumerate(old)]
    recent, busy = busy_post(sb, sub, 10)
    sb.fail(f"/comments/{old[1].id}", status=503, times=3)
    h = await bind_and_read(launcher, sb, caplog, 5)
    everything = [*old, *answers, recent, *busy]
    assert sorted(await recorded(h)) == sorted(t.fullname for t in everything)
    assert any("older posts' comments not read" in r.getMessage() for r in caplog.records)


async def test_older_posts_whose_trees_reddit_refuses_are_skipped_then_given_up(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """An older post whose comment tree Reddit refuses to show (here 403; a post deleted since, say)
    is skipped, with a warning; refusals in a row (two here) give up the rest, said once, instead of
    a warning a post or a round for good. The rest of the subreddit is recorded as usual."""
    ten_deep(monkeypatch)
    monkeypatch.setattr(reddit_adapter, "DEEPEN_ATTEMPTS", 2)
    sb = reddit_sb
    sub = vegan(sb)
    old = month_old_posts(sb, sub, 3)
    recent, busy = busy_post(sb, sub, 12)
    for post in old:
        sb.fail(f"/comments/{post.id}", status=403, times=1_000)
    h = await bind_and_read(launcher, sb, caplog, 6)
    # The recent post is older than its newest ten comments: it comes with its tree, the two others.
    assert sorted(await recorded(h)) == sorted([recent.fullname, *(c.fullname for c in busy)])
    said = [r.getMessage() for r in caplog.records if "comments not read back" in r.getMessage()]
    assert len(said) == 2 and "skipped" in said[0] and "2 older posts" in said[1] and "given up" in said[1]
    assert await h.app.store.read_back_pending() == {}  # nothing left to read after a restart


@pytest.mark.parametrize("listed", [10, 9])
async def test_older_posts_are_read_back_when_the_listing_ends_short_of_its_depth(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch, listed: int
):
    """Reddit's listings reach "about" a thousand items: fewer where items were removed since. A
    first read whose comments listing ends before the adapter's own page limit, one short of the
    depth or at it, still reads the older posts back with their comment trees (here the listing goes
    ten deep, or nine, and the adapter would read a hundred)."""
    monkeypatch.setattr(reddit_adapter, "PAGE", 5)
    monkeypatch.setattr(reddit_adapter, "MAX_PAGES", 20)
    monkeypatch.setattr(reddit_adapter, "LISTING_DEPTH", 10)
    monkeypatch.setattr(reddit_server, "LISTING_DEPTH", listed)
    sb = reddit_sb
    sub = vegan(sb)
    old = month_old_posts(sb, sub, 3)
    answers = old_answers(sb, old)
    busy_post(sb, sub, 12)
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await rounds(h, 6)
    got = set(await recorded(h))
    assert {t.fullname for t in [*old, *answers]} <= got


async def test_a_subreddit_refused_for_a_round_keeps_its_older_posts_to_read_back(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """Older posts are being read back (their trees fail with a 503 for a while) when the subreddit
    is banned for a round: the queue is not spent on refusals that name the whole subreddit. Once it
    can be read again, every older post's comments are recorded."""
    ten_deep(monkeypatch)
    monkeypatch.setattr(reddit_adapter, "SUBREDDIT_RETRY_SECONDS", 0.05)
    sb = reddit_sb
    sub = vegan(sb)
    old = month_old_posts(sb, sub, 6)
    answers = old_answers(sb, old)
    busy_post(sb, sub, 12)
    for post in old:
        sb.fail(f"/comments/{post.id}", status=503, times=1_000)
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await rounds(h, 4)
    assert sum(map(len, (await h.app.store.read_back_pending()).values())) == 6
    sb.faults.clear()
    sub.access = "banned"
    await rounds(h, 1)
    assert sum(map(len, (await h.app.store.read_back_pending()).values())) == 6
    sub.access = "public"
    await asyncio.sleep(0.1)
    await rounds(h, 3)
    assert {t.fullname for t in answers} <= set(await recorded(h))


async def test_a_restart_while_older_posts_are_read_back_goes_on_where_it_stopped(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """The older posts still to be read back are kept in the store: a restart in the middle of
    reading them goes on with the rest (their trees read then), and every item is recorded once."""
    ten_deep(monkeypatch)
    monkeypatch.setattr(reddit_adapter, "DEEPEN_PER_ROUND", 1)
    sb = reddit_sb
    sub = vegan(sb)
    old = month_old_posts(sb, sub, 4)
    start = time.time()
    answers = [
        sb.comment(post, "alice_r", "answer", at=start - (29 + i) * 86_400.0) for i, post in enumerate(old)
    ]
    recent, busy = busy_post(sb, sub, 10)
    sb.fail(f"/comments/{old[1].id}", status=503, times=1_000)  # the reading stops there
    h = await start_with_reddit(launcher, sb)
    await bind(h, "r/VeganCooking")
    await rounds(h, 5)
    assert old[0].fullname in await recorded(h) and old[1].fullname not in await recorded(h)
    pending = {f for names in (await h.app.store.read_back_pending()).values() for f in names}
    assert pending == {p.fullname for p in old[1:]}
    await launcher.stop(h)
    sb.faults.clear()
    h = await start_with_reddit(launcher, sb)
    await rounds(h, 6)
    everything = [*old, *answers, recent, *busy]
    assert sorted(await recorded(h)) == sorted(t.fullname for t in everything)
    assert await h.app.store.read_back_pending() == {}


async def test_an_old_post_approved_later_does_not_move_where_the_records_begin(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Only what is read back when a subreddit is first followed says where its records begin: a
    month-old post a moderator approves out of the spam filter later is recorded, but one item is no
    records, and the records still begin at the binding (or the oldest item read back then)."""
    sb = reddit_sb
    sub, h = await following(sb, launcher)
    held = sb.post(sub, "carol_r", "A month old, caught by the spam filter", filtered=True)
    held.created_utc = time.time() - 30 * 86_400.0
    await rounds(h)
    sb.approve(held)
    await rounds(h)
    assert held.fullname in await recorded(h)
    (bound,) = await h.app.store.bound_subreddits(h.world.guild)
    assert bound.records_from is None and bound.records_begin == bound.added_at
