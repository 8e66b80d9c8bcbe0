"""Engagement ledger, end to end: gateway events in, rows in SQLite out, nothing else kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from tests.e2e.conftest import Harness, Launcher, World, eventually

SENTINEL = "zq-SENTINEL-7f3a91-secret-recipe"


@pytest.mark.both_backends
async def test_messages_replies_reactions_threads_are_recorded_as_metadata(harness: Harness):
    w, sb = harness.world, harness.sandbox
    assert not harness.sandbox.intents & (1 << 15), "the bot must not ask for Message Content"
    root = await sb.send_message(w.cooking, w.alice, "")
    reply = await sb.send_message(w.cooking, w.bob, "", reply_to=int(root["id"]))
    await sb.add_reaction(w.cooking, int(root["id"]), w.carol, "🔥")
    await sb.add_reaction(w.cooking, int(root["id"]), w.alice, "🔥")  # self-reaction
    await sb.add_reaction(w.cooking, int(reply["id"]), w.alice, "👍")
    await sb.remove_reaction(w.cooking, int(reply["id"]), w.alice, "👍")
    thread = await sb.create_thread(w.cooking, w.carol, "tofu tips", message_id=int(root["id"]))
    await sb.send_message(int(thread["id"]), w.bob, "")  # plain message in carol's thread
    await harness.flush()

    rows = await harness.rows("SELECT kind, actor_id, target_id, channel_id, is_self FROM events ORDER BY id")
    tid = int(thread["id"])
    assert rows == [
        ("message", w.alice, None, w.cooking, 0),
        ("reply", w.bob, w.alice, w.cooking, 0),
        ("reaction", w.carol, w.alice, w.cooking, 0),
        ("reaction", w.alice, w.alice, w.cooking, 1),
        ("reaction", w.alice, w.bob, w.cooking, 0),
        ("unreaction", w.alice, w.bob, w.cooking, 0),
        ("thread", w.carol, w.alice, w.cooking, 0),
        ("message", w.bob, w.carol, tid, 0),
    ]
    # tenure without the members intent: joined_at from the partial member in the message payload
    joined = await harness.scalar("SELECT joined_at FROM members WHERE member_id = ?", w.alice)
    assert joined.startswith("2024-01-01")
    # the thread is known with its parent and owner, so topic scopes can map it
    assert await harness.rows("SELECT parent_id, owner_id FROM channels WHERE channel_id = ?", tid) == [
        (w.cooking, w.carol)
    ]


@pytest.mark.both_backends
async def test_engagement_with_a_message_that_pinged_everyone_credits_nobody(launcher: Launcher):
    """An announcement that pinged @everyone reaches every member by notification: its reactions and
    replies are recorded, engaging nobody, also after a restart and when the reply's payload does
    not carry the announcement. The announcement is still its author's message, and their other
    messages are engaged with as any member's."""
    sb = launcher.sandbox
    h = await launcher.start()
    w = h.world
    news = await sb.send_message(w.general, w.owner, "@everyone the new recipe book is out")
    assert news["mention_everyone"], "the owner may ping everyone"
    plain = await sb.send_message(w.general, w.owner, "")
    await sb.add_reaction(w.general, int(news["id"]), w.alice, "🎉")
    await sb.send_message(w.general, w.bob, "", reply_to=int(news["id"]))
    await sb.add_reaction(w.general, int(plain["id"]), w.carol, "👍")
    await h.flush()
    assert await h.rows("SELECT kind, actor_id, target_id FROM events ORDER BY id") == [
        ("message", w.owner, None),
        ("message", w.owner, None),
        ("reaction", w.alice, None),
        ("reply", w.bob, None),
        ("reaction", w.carol, w.owner),
    ]
    await launcher.stop(h)

    h = await launcher.start()  # nothing of the announcement in memory, but its id in the store
    await sb.add_reaction(w.general, int(news["id"]), w.carol, "❤️")
    await sb.dispatch("MESSAGE_CREATE", bare_reply(w, w.carol, int(news["id"])))  # no referenced_message
    await h.flush()
    assert await h.rows("SELECT kind, target_id FROM events WHERE actor_id = ? ORDER BY id", w.carol) == [
        ("reaction", w.owner),
        ("reaction", None),
        ("reply", None),
    ]
    counted = "SELECT coalesce(sum(n), 0) FROM engagement_daily WHERE target_id = ?"
    assert await h.scalar(counted, w.owner) == 1  # carol's reaction to the plain message only


async def test_a_message_its_author_pins_credits_nobody_from_then_on(harness: Harness):
    """Pinning one's own message gives it the channel's top spot, a moderator's privilege: from the
    pin on, its reactions and replies engage nobody. A member's message that someone else pinned
    (an answer a moderator highlights) stays engaged with as before."""
    w, sb = harness.world, harness.sandbox
    own = await sb.send_message(w.general, w.owner, "")
    answer = await sb.send_message(w.general, w.alice, "")
    await sb.add_reaction(w.general, int(own["id"]), w.bob, "👍")  # before the pin
    await harness.flush()
    notice = await sb.pin_message(w.general, int(own["id"]), w.owner)
    assert notice["type"] == 6 and notice["author"]["id"] == str(w.owner)
    await sb.pin_message(w.general, int(answer["id"]), w.owner)
    await sb.add_reaction(w.general, int(own["id"]), w.carol, "👍")
    await sb.send_message(w.general, w.bob, "", reply_to=int(own["id"]))
    await sb.add_reaction(w.general, int(answer["id"]), w.carol, "🔥")
    await harness.flush()
    rows = await harness.rows(
        "SELECT kind, actor_id, target_id FROM events WHERE kind != 'message' ORDER BY id"
    )
    assert rows == [
        ("reaction", w.bob, w.owner),
        ("reaction", w.carol, None),
        ("reply", w.bob, None),
        ("reaction", w.carol, w.alice),
    ]


@pytest.mark.both_backends
async def test_reactions_a_moderator_clears_are_retracted(harness: Harness):
    """Discord sends one event for a cleared emoji or a cleared message, none per member: every
    reaction it removes stops counting, as its own removal would. A super reaction is one of its own."""
    w, sb = harness.world, harness.sandbox
    root = await sb.send_message(w.cooking, w.alice, "")
    other = await sb.send_message(w.cooking, w.bob, "")
    mid = int(root["id"])
    await sb.add_reaction(w.cooking, mid, w.bob, "👍")
    await sb.add_reaction(w.cooking, mid, w.carol, "👍")
    await sb.add_reaction(w.cooking, mid, w.carol, "👍", burst=True)
    await sb.add_reaction(w.cooking, mid, w.bob, "🔥")
    await sb.add_reaction(w.cooking, int(other["id"]), w.carol, "👍")  # another message: untouched

    async def counted(target: int) -> int:
        await harness.flush()
        n = await harness.scalar(
            "SELECT coalesce(sum(n), 0) FROM engagement_daily WHERE target_id = ? AND kind = 'reaction'",
            target,
        )
        return int(n)

    await harness.flush()
    assert await counted(w.alice) == 4
    await sb.clear_reactions(w.cooking, mid, "👍")  # the normal and the super ones
    await eventually(lambda: _counted_is(counted, w.alice, 1), "the cleared emoji to be retracted")
    await sb.clear_reactions(w.cooking, mid)
    await eventually(lambda: _counted_is(counted, w.alice, 0), "the cleared message to be retracted")
    assert await counted(w.bob) == 1
    unreactions = await harness.rows("SELECT actor_id, source_id FROM events WHERE kind = 'unreaction'")
    assert sorted(unreactions) == sorted(
        [(w.bob, f"{mid}:👍"), (w.carol, f"{mid}:👍"), (w.carol, f"{mid}:👍:burst"), (w.bob, f"{mid}:🔥")]
    )


@pytest.mark.both_backends
async def test_reactions_on_deleted_messages_are_retracted(harness: Harness):
    """A deleted message takes its reactions with it (a moderator removing a reaction-farmed post, a
    purge): Discord sends only MESSAGE_DELETE or MESSAGE_DELETE_BULK, so each reaction still counted
    on it is retracted. The deleted messages themselves, and other messages' reactions, still count."""
    w, sb = harness.world, harness.sandbox
    spam = [await sb.send_message(w.cooking, w.alice, "") for _ in range(3)]
    kept = await sb.send_message(w.cooking, w.alice, "")
    for m in [*spam, kept]:
        await sb.add_reaction(w.cooking, int(m["id"]), w.bob, "👍")
        await sb.add_reaction(w.cooking, int(m["id"]), w.carol, "🔥")
    await sb.remove_reaction(w.cooking, int(spam[0]["id"]), w.bob, "👍")  # retracted already: once only

    async def counted() -> int:
        await harness.flush()
        n = await harness.scalar(
            "SELECT coalesce(sum(n), 0) FROM engagement_daily WHERE target_id = ? AND kind = 'reaction'",
            w.alice,
        )
        return int(n)

    assert await counted() == 7
    await sb.delete_message(w.cooking, int(spam[0]["id"]))
    await eventually(lambda: _counted_is_value(counted, 6), "the deleted message's reaction to be retracted")
    await sb.bulk_delete_messages(w.cooking, [int(spam[1]["id"]), int(spam[2]["id"])])
    await eventually(lambda: _counted_is_value(counted, 2), "the purged messages' reactions to be retracted")
    late = await sb.send_message(w.cooking, w.alice, "")
    await sb.add_reaction(w.cooking, int(late["id"]), w.carol, "👍")  # still in the ingest buffer:
    await sb.delete_message(w.cooking, int(late["id"]))  # deleted before it is written
    await eventually(lambda: _counted_is_value(counted, 2), "the buffered reaction to be retracted")
    unreactions = await harness.rows(
        "SELECT source_id, count(*) FROM events WHERE kind = 'unreaction' GROUP BY source_id"
    )
    assert all(n == 1 for _, n in unreactions) and len(unreactions) == 7
    assert not any(src.startswith(kept["id"]) for src, _ in unreactions)
    messages = await harness.scalar(
        "SELECT count(*) FROM events WHERE kind = 'message' AND actor_id = ?", w.alice
    )
    assert messages == 5


async def _counted_is_value(counted: Any, n: int) -> bool:
    return await counted() == n


async def _counted_is(counted: Any, target: int, n: int) -> bool:
    return await counted(target) == n


async def test_bots_webhooks_and_system_messages_are_not_recorded(harness: Harness):
    w, sb = harness.world, harness.sandbox
    await sb.send_message(w.general, w.helper_bot, "")
    await sb.send_message(w.general, w.alice, "", webhook_id=4242)
    await sb.send_message(w.general, w.alice, "", type=7)  # member join system message
    msg = await sb.send_message(w.general, w.alice, "")
    await sb.add_reaction(w.general, int(msg["id"]), w.helper_bot)
    bot_msg = await sb.send_message(w.general, w.helper_bot, "")
    await sb.send_message(w.general, w.bob, "", reply_to=int(bot_msg["id"]))
    await harness.flush()
    assert await harness.rows("SELECT kind, actor_id, target_id FROM events ORDER BY id") == [
        ("message", w.alice, None),
        ("reply", w.bob, None),  # a reply to a bot engages with no peer
    ]
    # the bot is known only as a bot, so nothing can rank it
    assert await harness.rows("SELECT is_bot FROM members WHERE member_id = ?", w.helper_bot) == [(1,)]


async def test_webhooks_and_bots_stay_known_as_such_after_a_restart(launcher: Launcher):
    """A webhook posts under its own id (Discord does not promise `bot` on it) and another bot answers
    a command through its application's webhook; after a restart, a member's reactions to those
    messages (Discord names their author in the reaction) engage nobody. Before, both were known in
    memory only, and the reactions made the webhook and the bot engaged members."""
    sb = launcher.sandbox
    h = await launcher.start()
    w = h.world
    hook = sb.add_user("Recipes Feed")  # a webhook's author is the webhook itself: its id, no bot flag
    feed = await sb.send_message(w.general, hook, "", webhook_id=hook)
    answer = await sb.send_message(w.general, w.helper_bot, "", webhook_id=424242)  # an app's answer
    await h.flush()
    await launcher.stop(h)

    h = await launcher.start()
    for message in (feed, answer):
        await sb.add_reaction(w.general, int(message["id"]), w.alice, "👍")
    await h.flush()
    assert await h.rows("SELECT kind, target_id FROM events WHERE actor_id = ?", w.alice) == [
        ("reaction", None),
        ("reaction", None),
    ]
    bots = {m for (m,) in await h.rows("SELECT member_id FROM members WHERE is_bot = 1")}
    assert {hook, int(answer["author"]["id"])} <= bots  # only the fact that they are no members
    assert w.alice not in bots


@pytest.mark.both_backends
async def test_a_removed_reaction_to_a_message_the_ledger_lacks_stops_counting(launcher: Launcher):
    """Discord names the message's author in a reaction's addition but not in its removal; for a
    message the ledger does not hold (older than the bot, or purged) and a process that did not see
    it, the removal still takes back what the reaction added, from the member the reaction engaged."""
    sb = launcher.sandbox
    h = await launcher.start()
    w = h.world
    old = await sb.send_message(w.general, w.alice, "")
    await h.flush()
    await h.app.store.write("DELETE FROM events WHERE source_id = ?", (old["id"],))  # as if purged
    await launcher.stop(h)
    h = await launcher.start()  # nothing of the message in memory either
    await sb.add_reaction(w.general, int(old["id"]), w.bob, "👍")
    await h.flush()
    counted = "SELECT coalesce(sum(n), 0) FROM engagement_daily WHERE actor_id = ? AND target_id = ?"
    assert await h.scalar(counted, w.bob, w.alice) == 1
    await sb.remove_reaction(w.general, int(old["id"]), w.bob, "👍")
    await h.flush()
    assert await h.scalar(counted, w.bob, w.alice) == 0


@pytest.mark.both_backends
async def test_a_reaction_removed_and_added_again_counts_again(launcher: Launcher):
    """A member takes a reaction back and adds it again: Discord sends the second addition with the
    same message, emoji and member as the first. It counts again (it was ignored as a duplicate),
    and taking it back once more stops it counting, whether or not a batch lies in between."""
    sb = launcher.sandbox
    h = await launcher.start()
    w = h.world
    post = await sb.send_message(w.general, w.alice, "")
    counted = "SELECT coalesce(sum(n), 0) FROM engagement_daily WHERE actor_id = ? AND target_id = ?"

    async def toggle(add: bool) -> None:
        launcher.clock.now += timedelta(seconds=1)  # the bot dates a reaction when it sees it
        if add:
            await sb.add_reaction(w.general, int(post["id"]), w.bob, "👍")
        else:
            await sb.remove_reaction(w.general, int(post["id"]), w.bob, "👍")

    await toggle(True)
    await h.flush()
    await toggle(False)
    await h.flush()
    assert await h.scalar(counted, w.bob, w.alice) == 0
    await toggle(True)
    await h.flush()
    assert await h.scalar(counted, w.bob, w.alice) == 1
    for add in (False, True, False):  # within one batch
        await toggle(add)
    await h.flush()
    assert await h.scalar(counted, w.bob, w.alice) == 0
    await launcher.stop(h)


async def test_talking_in_a_bots_thread_engages_nobody(harness: Harness):
    """A thread a bot opened (a ticket, a Q&A's): its messages engage no peer, as a reply to a bot
    does not. Before, each one engaged the bot, which could then be ranked."""
    w, sb = harness.world, harness.sandbox
    await sb.send_message(w.general, w.helper_bot, "")  # known as a bot
    thread = await sb.create_thread(w.general, w.helper_bot, "ticket-1")
    await sb.send_message(int(thread["id"]), w.alice, "")
    await harness.flush()
    assert await harness.rows("SELECT kind, target_id FROM events WHERE actor_id = ?", w.alice) == [
        ("message", None)
    ]


def bare_reply(world: World, author: int, reply_to: int) -> dict[str, Any]:
    """A MESSAGE_CREATE of `author`'s reply in #general to `reply_to`, without `referenced_message`
    (Discord leaves it out when it could not load the message)."""
    return {
        "id": str(discord.utils.time_snowflake(datetime.now(UTC))),
        "channel_id": str(world.general),
        "guild_id": str(world.guild),
        "author": {
            "id": str(author),
            "username": "member",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
        },
        "member": {
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        },
        "content": "",
        "timestamp": datetime.now(UTC).isoformat(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 19,
        "message_reference": {
            "type": 0,
            "message_id": str(reply_to),
            "channel_id": str(world.general),
            "guild_id": str(world.guild),
        },
    }


async def test_reply_target_resolves_from_the_store_when_not_in_payload_or_cache(launcher: Launcher):
    sandbox = launcher.sandbox
    h = await launcher.start()
    world = h.world
    root = await sandbox.send_message(world.general, world.alice, "")
    await h.flush()
    await launcher.stop(h)

    # A fresh process has an empty message cache; the payload omits referenced_message.
    h = await launcher.start()
    payload = bare_reply(world, world.bob, int(root["id"]))
    await sandbox.dispatch("MESSAGE_CREATE", payload)
    await h.flush()
    assert await h.rows("SELECT kind, actor_id, target_id FROM events WHERE kind = 'reply'") == [
        ("reply", world.bob, world.alice)
    ]


async def test_message_text_never_reaches_the_database(launcher: Launcher, tmp_path: Path):
    """Even with the Message Content intent granted, the text is never written anywhere."""
    sandbox = launcher.sandbox
    h = await launcher.start("db.sqlite3", message_content_intent=True)
    bot, world = h.bot, h.world
    assert sandbox.intents & (1 << 15)
    seen: list[str] = []

    async def keep(message: discord.Message) -> None:
        seen.append(message.content)

    bot.add_listener(keep, "on_message")
    root = await sandbox.send_message(world.cooking, world.alice, SENTINEL)
    await sandbox.send_message(world.cooking, world.bob, f"re: {SENTINEL}", reply_to=int(root["id"]))
    await sandbox.create_thread(world.cooking, world.bob, SENTINEL[:20])
    await h.flush()
    assert SENTINEL in seen, "the bot did receive the text"
    assert await h.count() == 3
    await launcher.stop(h)
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("db.sqlite3"))
    assert blob, "database files exist"
    for needle in (SENTINEL, SENTINEL[:20]):
        found = [enc for enc in ("utf-8", "utf-16-le") if needle.encode(enc) in blob]
        assert found == [], f"{needle!r} found in the database files"


@pytest.mark.both_backends
async def test_duplicate_delivery_is_counted_once(harness: Harness):
    w, sb = harness.world, harness.sandbox
    msg = await sb.send_message(w.general, w.alice, "")
    await sb.dispatch("MESSAGE_CREATE", msg)
    await sb.add_reaction(w.general, int(msg["id"]), w.bob)
    await sb.add_reaction(w.general, int(msg["id"]), w.bob)
    await harness.flush()
    assert await harness.count("message") == 1
    assert await harness.count("reaction") == 1


@pytest.mark.both_backends
async def test_gateway_drop_resume_loses_nothing_and_doubles_nothing(harness: Harness):
    w, sb = harness.world, harness.sandbox
    before = [await sb.send_message(w.general, w.alice, "") for _ in range(3)]
    await harness.flush()
    await sb.drop_gateway()
    during = [await sb.send_message(w.cooking, w.bob, "") for _ in range(5)]
    await sb.add_reaction(w.cooking, int(during[0]["id"]), w.carol)
    await sb.wait_resumed(timeout=15)
    after = [await sb.send_message(w.general, w.carol, "") for _ in range(2)]
    await harness.flush()
    assert sb.resume_payloads, "the bot resumed rather than re-identifying"
    ids = sorted(int(m["id"]) for m in before + during + after)
    recorded = [int(r[0]) for r in await harness.rows("SELECT source_id FROM events WHERE kind = 'message'")]
    assert sorted(recorded) == ids
    assert await harness.count("reaction") == 1


async def test_buffered_events_are_written_at_shutdown(launcher: Launcher):
    h = await launcher.start()
    for _ in range(4):
        await launcher.sandbox.send_message(h.world.general, h.world.alice, "")
    await h.settle()
    assert h.app.ingest.pending >= 4
    await launcher.stop(h)
    h = await launcher.start()
    assert await h.count("message") == 4


async def test_member_joins_need_the_members_intent(launcher: Launcher):
    sandbox = launcher.sandbox
    h = await launcher.start("a.sqlite3")
    world = h.world
    newcomer = sandbox.add_user("newcomer")
    sandbox.add_member(world.guild, newcomer)
    await h.flush()
    assert await h.count("join") == 0
    await launcher.stop(h)

    h = await launcher.start("b.sqlite3", members_intent=True)
    late = sandbox.add_user("late")
    sandbox.add_member(world.guild, late, joined_at=datetime(2026, 2, 2, tzinfo=UTC))
    await h.flush()
    assert await h.rows("SELECT kind, actor_id FROM events") == [("join", late)]
    assert (await h.scalar("SELECT joined_at FROM members WHERE member_id = ?", late)).startswith(
        "2026-02-02"
    )


@pytest.mark.parametrize("starter_first", [False, True], ids=["thread-first", "starter-first"])
async def test_a_forum_post_is_one_post_whichever_of_its_events_comes_first(
    harness: Harness, starter_first: bool
):
    """A forum post is a thread and its starter message with the thread's id; the gateway does not
    promise which of THREAD_CREATE and MESSAGE_CREATE comes first. Either way the post is recorded
    once, as its thread (which names its own author, as a thread from one's own message does), and
    replies and reactions in it engage its author."""
    w, sb = harness.world, harness.sandbox
    forum = sb.add_channel(w.guild, "recipes", type=15)
    await sb.flush()
    await harness.settle()
    post = await sb.create_thread(forum, w.alice, "seitan", starter_first=starter_first)
    tid = int(post["id"])
    await sb.send_message(tid, w.bob, "")
    await sb.add_reaction(tid, tid, w.carol, "🔥")  # on the post's opening message
    await harness.flush()
    rows = await harness.rows(
        "SELECT kind, actor_id, target_id FROM events WHERE channel_id IN (?, ?) ORDER BY id", forum, tid
    )
    assert sorted(rows, key=repr) == sorted(
        [("thread", w.alice, w.alice), ("message", w.bob, w.alice), ("reaction", w.carol, w.alice)], key=repr
    )
