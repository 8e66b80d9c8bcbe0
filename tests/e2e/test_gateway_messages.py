"""Messages recorded straight from the gateway payload: the same record discord.py's `Message` gives,
and no `Message` built where no listener needs one."""

from __future__ import annotations

import asyncio
import copy
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.discord_adapter.gateway import GatewaySockets
from bot.discord_adapter.messages import seen_message, seen_payload
from tests.e2e.conftest import Harness, Launcher, eventually

EVENTS = "SELECT kind, actor_id, target_id, source_id FROM events ORDER BY id"


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the bot or discord.py logged as an error (a listener or a parser that raised)."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _created(harness: Harness, since: int) -> list[dict[str, Any]]:
    return [d for e, d in harness.sandbox.dispatched[since:] if e == "MESSAGE_CREATE"]


async def test_payload_record_equals_the_discord_py_message_record(harness: Harness):
    sb, w, bot = harness.sandbox, harness.world, harness.bot
    forum = sb.add_channel(w.guild, "recipes", type=15)
    hook = sb.add_webhook(w.cooking)
    await sb.flush()
    await harness.settle()
    since = len(sb.dispatched)
    root = await sb.send_message(w.cooking, w.alice)
    await sb.send_message(w.cooking, w.bob, reply_to=int(root["id"]))
    announced = await sb.send_message(w.cooking, w.helper_bot)
    await sb.send_message(w.cooking, w.carol, reply_to=int(announced["id"]))
    await sb.send_message(w.cooking, 0, webhook_id=hook)
    await sb.send_message(w.general, w.alice, type=7)  # a join notice
    news = await sb.send_message(w.general, w.owner, "@everyone")  # pings everyone
    await sb.send_message(w.general, w.bob, reply_to=int(news["id"]))
    await sb.pin_message(w.general, int(news["id"]), w.owner)  # the notice CHANNEL_PINNED_MESSAGE
    thread = await sb.create_thread(w.cooking, w.carol, "tofu tips")
    await sb.send_message(int(thread["id"]), w.bob)
    await sb.create_thread(forum, w.alice, "seitan")  # a forum post: its starter message
    await harness.settle()
    payloads = _created(harness, since)
    assert len(payloads) >= 12
    records = [seen_payload(p, harness.bot.get_guild(w.guild)) for p in payloads]  # type: ignore[arg-type]
    assert [r.message_id for r in records if r.pings_everyone] == [int(news["id"])]
    assert [r.author_id for r in records if r.reply_to_broadcast] == [w.bob]
    assert [(r.author_id, r.pinned) for r in records if r.pinned] == [(w.owner, int(news["id"]))]
    # Variants Discord also sends: no partial member (the cached member stands in), a reply whose
    # original was deleted (`referenced_message` null), a forward (reference type 1).
    reply = next(p for p in payloads if p.get("message_reference") and p["author"]["id"] == str(w.bob))
    no_member = {k: v for k, v in copy.deepcopy(payloads[0]).items() if k != "member"}
    deleted = {**copy.deepcopy(reply), "referenced_message": None}
    forward = copy.deepcopy(reply)
    forward["message_reference"]["type"] = 1
    forward.pop("referenced_message", None)
    state = bot._connection
    guild = bot.get_guild(w.guild)
    assert guild is not None
    for data in [*payloads, no_member, deleted, forward]:
        channel, _ = state._get_guild_channel(data)
        message = discord.Message(channel=channel, data=data, state=state)  # type: ignore[arg-type]
        assert seen_payload(data, guild) == seen_message(message, bot), data


async def test_member_messages_build_no_discord_message_unless_a_listener_needs_one(harness: Harness):
    sb, w, bot = harness.sandbox, harness.world, harness.bot
    root = await sb.send_message(w.cooking, w.alice)
    await harness.flush()
    cached = {m.id for m in bot.cached_messages}
    assert int(root["id"]) not in cached, "an ordinary member message is recorded from its payload"
    assert await harness.count("message") == 1
    assert bot.get_channel(w.cooking).last_message_id == int(root["id"])  # type: ignore[union-attr]

    seen: list[int] = []

    async def everything(message: discord.Message) -> None:
        seen.append(message.id)

    bot.add_listener(everything, "on_message")  # an extension that wants every message gets it
    other = await sb.send_message(w.cooking, w.bob)
    await harness.flush()
    assert int(other["id"]) in seen
    assert await harness.count("message") == 2, "recorded once, with or without the listener"


async def test_reactions_reach_discord_py_listeners_only_when_one_is_registered(harness: Harness):
    sb, w, bot = harness.sandbox, harness.world, harness.bot
    root = await sb.send_message(w.cooking, w.alice)
    await sb.add_reaction(w.cooking, int(root["id"]), w.bob, "🔥")
    await sb.add_reaction(w.cooking, int(root["id"]), w.helper_bot, "🔥")  # a bot: never engagement
    await harness.flush()
    assert await harness.rows("SELECT kind, actor_id, target_id FROM events WHERE kind = 'reaction'") == [
        ("reaction", w.bob, w.alice)
    ]
    assert w.helper_bot in harness.app.recorder.bots

    raw: list[tuple[str, int]] = []

    async def added(event: discord.RawReactionActionEvent) -> None:
        raw.append((event.event_type, event.user_id))

    async def removed(event: discord.RawReactionActionEvent) -> None:
        raw.append((event.event_type, event.user_id))

    bot.add_listener(added, "on_raw_reaction_add")
    bot.add_listener(removed, "on_raw_reaction_remove")
    await sb.add_reaction(w.cooking, int(root["id"]), w.carol, "👍")
    await sb.remove_reaction(w.cooking, int(root["id"]), w.carol, "👍")
    await harness.flush()
    assert raw == [("REACTION_ADD", w.carol), ("REACTION_REMOVE", w.carol)]
    assert await harness.rows(
        "SELECT kind, actor_id, target_id FROM events WHERE actor_id = ? ORDER BY id", w.carol
    ) == [("reaction", w.carol, w.alice), ("unreaction", w.carol, w.alice)]


async def test_a_paused_gateway_socket_holds_the_stream_until_resumed(harness: Harness):
    sb, w, bot = harness.sandbox, harness.world, harness.bot
    reading = GatewaySockets(bot)
    assert getattr(bot.ws.socket.receive, "_microvoice_shares_loop", False), "READY made it share the loop"
    assert reading(True), "the bot's gateway transport is reachable"
    sent = await sb.send_message(w.cooking, w.alice)
    await asyncio.sleep(0.3)
    assert harness.app.ingest.cached_author("discord", int(sent["id"])) is None, "read while paused"
    assert bot.is_ws_ratelimited() is False and not bot.is_closed()
    assert reading(False)
    await harness.flush()
    assert await harness.count("message") == 1


async def test_socket_event_type_reaches_a_listener_only_registered_later(harness: Harness):
    """The gateway skips `socket_event_type` while nothing listens, and dispatches it as discord.py
    does as soon as a listener is added."""
    sb, w, bot = harness.sandbox, harness.world, harness.bot
    types: list[str] = []

    async def on_socket_event_type(event: str) -> None:
        types.append(event)

    first = await sb.send_message(w.cooking, w.alice)
    await eventually(lambda: harness.app.ingest.cached_author("discord", int(first["id"])), "first read")
    bot.add_listener(on_socket_event_type)
    await sb.send_message(w.cooking, w.bob)
    await harness.flush()
    await asyncio.sleep(0)
    assert types and set(types) == {"MESSAGE_CREATE"}
    assert await harness.count("message") == 2


# -- payload variants Discord documents ----------------------------------------------------------------


async def test_each_message_type_and_author_kind_is_recorded_once_or_not_at_all(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    """Only members' ordinary messages (DEFAULT, REPLY, forwards) are engagement; system notices,
    command answers and bots' or webhooks' messages are not, and replying to those engages nobody."""
    caplog.set_level(logging.WARNING)
    sb, w = harness.sandbox, harness.world
    hook = sb.add_webhook(w.cooking)
    await sb.flush()
    await harness.settle()
    root = await sb.send_message(w.cooking, w.alice)  # DEFAULT
    reply = await sb.send_message(w.cooking, w.bob, reply_to=int(root["id"]))  # REPLY, original shown
    # REPLY whose original was deleted meanwhile: `referenced_message` is null, the reference stays.
    orphan = {**copy.deepcopy(reply), "id": str(int(reply["id"]) + 1), "referenced_message": None}
    orphan["author"] = copy.deepcopy(sb.state.users[w.carol])
    orphan.pop("member")
    await sb.dispatch("MESSAGE_CREATE", orphan)
    forward = await sb.send_message(w.general, w.carol, forward_of=int(root["id"]))
    assert forward["message_reference"]["type"] == 1 and forward["message_snapshots"]
    bare = await sb.send_message(w.cooking, w.carol, member=False)  # no partial `member`
    assert "member" not in bare
    thread = await sb.create_thread(w.cooking, w.bob, "tips", message_id=int(root["id"]))
    await sb.send_message(int(thread["id"]), w.bob, type=21)  # THREAD_STARTER_MESSAGE
    await sb.send_message(w.cooking, w.helper_bot, type=20)  # CHAT_INPUT_COMMAND answer
    await sb.send_message(w.general, w.alice, type=7)  # USER_JOIN
    await sb.send_message(w.general, w.alice, type=6)  # CHANNEL_PINNED_MESSAGE
    await sb.create_thread(w.general, w.carol, "notice")  # THREAD_CREATED (18) in #general
    hooked = await sb.send_message(w.cooking, 0, webhook_id=hook)
    await sb.send_message(w.cooking, w.carol, reply_to=int(hooked["id"]))
    announced = await sb.send_message(w.cooking, w.helper_bot)
    await sb.send_message(w.cooking, w.alice, reply_to=int(announced["id"]))
    await harness.flush()
    created = [d["type"] for e, d in sb.dispatched if e == "MESSAGE_CREATE"]
    assert {0, 6, 7, 18, 19, 20, 21} <= set(created)
    rows = await harness.rows(EVENTS)
    assert [(k, a, t) for k, a, t, _ in rows if k != "thread"] == [
        ("message", w.alice, None),
        ("reply", w.bob, w.alice),
        ("reply", w.carol, w.alice),  # the orphan: its original's author, known without the payload
        ("message", w.carol, None),  # a forward is its sender's message, engaging nobody
        ("message", w.carol, None),
        ("reply", w.carol, None),  # to a webhook's message
        ("reply", w.alice, None),  # to a bot's message
    ]
    assert [(k, a, t) for k, a, t, _ in rows if k == "thread"] == [
        ("thread", w.bob, w.alice),
        ("thread", w.carol, None),
    ]
    assert len({(k, a, s) for k, a, _, s in rows}) == len(rows)
    assert hook in harness.app.recorder.bots and w.helper_bot in harness.app.recorder.bots
    assert await harness.scalar("SELECT count(*) FROM members WHERE member_id = ?", hook) == 1
    assert await harness.scalar("SELECT is_bot FROM members WHERE member_id = ?", hook) == 1
    assert errors(caplog) == []


async def test_reaction_variants_count_once_each_and_clear_as_they_were_added(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    """With or without `member` and `message_author_id`, unicode or custom emoji, normal or super
    (`burst`): a member's reaction is one reaction of theirs, and each kind of removal takes back
    exactly what it removed."""
    caplog.set_level(logging.WARNING)
    sb, w = harness.sandbox, harness.world
    root = await sb.send_message(w.cooking, w.alice)
    mid = int(root["id"])
    added = [
        await sb.add_reaction(w.cooking, mid, w.bob, "🔥"),
        await sb.add_reaction(w.cooking, mid, w.bob, "🔥", burst=True),  # a super reaction
        await sb.add_reaction(w.cooking, mid, w.carol, "party:4242", without=("member",)),
        await sb.add_reaction(w.cooking, mid, w.mod, "🔥", without=("member", "message_author_id")),
        await sb.add_reaction(w.cooking, mid, w.owner, "🎉", burst=True, without=("message_author_id",)),
    ]
    assert added[1]["burst"] and "member" not in added[2] and "message_author_id" not in added[3]
    await sb.add_reaction(w.cooking, mid, w.bob, "🔥")  # again: Discord sends nothing
    await harness.flush()
    assert [r[:3] for r in await harness.rows(EVENTS) if r[0] == "reaction"] == [
        ("reaction", w.bob, w.alice),
        ("reaction", w.bob, w.alice),
        ("reaction", w.carol, w.alice),
        ("reaction", w.mod, w.alice),
        ("reaction", w.owner, w.alice),
    ]
    sightings = {r[0] for r in await harness.rows("SELECT member_id FROM members")}
    assert w.bob in sightings and w.carol not in sightings  # no member, no sighting to take from it

    # REMOVE carries no `member` nor `message_author_id`; a super reaction's names `burst`.
    await sb.remove_reaction(w.cooking, mid, w.owner, "🎉", burst=True)
    await sb.remove_reaction(w.cooking, mid, w.carol, "party:4242")
    await sb.clear_reactions(w.cooking, mid, "🔥")  # REMOVE_EMOJI: the normal and the super ones

    async def unreactions() -> list[tuple[Any, ...]]:
        await harness.flush()
        return sorted(
            await harness.rows("SELECT actor_id, target_id, source_id FROM events WHERE kind = 'unreaction'")
        )

    expected = sorted(
        [
            (w.owner, w.alice, f"{mid}:🎉:burst"),
            (w.carol, w.alice, f"{mid}:4242"),
            (w.bob, w.alice, f"{mid}:🔥"),
            (w.bob, w.alice, f"{mid}:🔥:burst"),
            (w.mod, w.alice, f"{mid}:🔥"),
        ]
    )
    await eventually(lambda: _equals(unreactions, expected), "the removals and the cleared emoji")
    assert errors(caplog) == []


async def _equals(read: Any, expected: Any) -> bool:
    return bool(await read() == expected)


async def test_threads_in_every_kind_of_channel_are_recorded_once(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    """Forum and media posts, a thread opened from a message, a private thread the bot is only added
    to later (THREAD_CREATE without `newly_created`), and THREAD_LIST_SYNC: each thread is one thread
    event of its owner, and talking in it engages the owner."""
    caplog.set_level(logging.WARNING)
    sb, w = harness.sandbox, harness.world
    forum = sb.add_channel(w.guild, "recipes", type=15)
    media = sb.add_channel(w.guild, "photos", type=16)
    await sb.flush()
    await harness.settle()
    post = await sb.create_thread(forum, w.alice, "seitan")
    shots = await sb.create_thread(media, w.bob, "plating", starter_first=True)
    await sb.send_message(int(post["id"]), w.bob)
    await sb.send_message(int(shots["id"]), w.carol)
    hidden = await sb.create_thread(w.cooking, w.carol, "planning", private=True, seen_by_bot=False)
    await sb.add_thread_member(int(hidden["id"]), sb.bot_user_id)  # the bot learns of it only now
    await sb.send_message(int(hidden["id"]), w.alice)
    public = await sb.create_thread(w.cooking, w.alice, "open")
    await sb.add_thread_member(int(public["id"]), sb.bot_user_id)  # seen created: THREAD_CREATE again
    await sb.sync_threads(w.guild)
    await sb.send_message(int(public["id"]), w.bob)
    await harness.flush()
    created = [d for e, d in sb.dispatched if e == "THREAD_CREATE"]
    assert [d.get("newly_created") for d in created if d["id"] == public["id"]] == [True, None]
    rows = await harness.rows(
        "SELECT kind, actor_id, source_id FROM events WHERE kind = 'thread' ORDER BY id"
    )
    assert sorted((a, int(s)) for _, a, s in rows) == sorted(
        [
            (w.alice, int(post["id"])),
            (w.bob, int(shots["id"])),
            (w.carol, int(hidden["id"])),
            (w.alice, int(public["id"])),
        ]
    )
    talk = await harness.rows("SELECT actor_id, target_id FROM events WHERE kind = 'message' ORDER BY id")
    assert talk == [(w.bob, w.alice), (w.carol, w.bob), (w.alice, w.carol), (w.bob, w.alice)]
    owners = dict(await harness.rows("SELECT channel_id, owner_id FROM channels WHERE owner_id IS NOT NULL"))
    assert owners[int(hidden["id"])] == w.carol
    assert errors(caplog) == []


async def test_a_member_never_seen_leaving_changes_nothing(
    launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """GUILD_MEMBER_REMOVE of someone the bot never saw (they joined and left while it was away, or
    before the members were chunked): nothing to end, nothing recorded, nothing raised."""
    caplog.set_level(logging.WARNING)
    h = await launcher.start(members_intent=True)
    sb, w = h.sandbox, h.world
    ghost = sb.add_user("ghost")
    sb.add_member(w.guild, ghost, dispatch=False)
    await sb.send_message(w.general, w.alice)
    await h.flush()
    before = await h.rows("SELECT * FROM events")
    sb.remove_member(w.guild, ghost)
    await h.flush()
    assert [d["user"]["id"] for e, d in sb.dispatched if e == "GUILD_MEMBER_REMOVE"] == [str(ghost)]
    assert await h.rows("SELECT * FROM events") == before
    assert await h.scalar("SELECT count(*) FROM members WHERE member_id = ?", ghost) == 0
    assert errors(caplog) == []


async def test_a_reaction_without_its_member_is_known_by_the_cached_member(
    launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """MESSAGE_REACTION_ADD may come without `member`: the reacting member as the bot knows it (the
    Server Members intent loads every member) says what the payload would have, as for a message
    without `member`. A bot's reaction is then no member's engagement."""
    caplog.set_level(logging.WARNING)
    launcher.build()
    sb, w = launcher.sandbox, launcher.world
    assert w is not None
    pollbot = sb.add_user("pollbot", bot=True)
    sb.add_member(w.guild, pollbot, dispatch=False)
    h = await launcher.start(members_intent=True)
    assert h.bot.get_guild(w.guild).get_member(pollbot) is not None  # type: ignore[union-attr]
    root = await sb.send_message(w.cooking, w.alice)
    mid = int(root["id"])
    await sb.add_reaction(w.cooking, mid, pollbot, "📊", without=("member",))
    await sb.add_reaction(w.cooking, mid, w.bob, "🔥", without=("member",))
    await h.flush()
    assert [r[:3] for r in await h.rows(EVENTS) if r[0] == "reaction"] == [("reaction", w.bob, w.alice)]
    assert pollbot in h.app.recorder.bots
    joined = await h.scalar("SELECT joined_at FROM members WHERE member_id = ?", w.bob)
    assert joined is not None and joined.startswith("2024-01-01")
    assert errors(caplog) == []


async def test_a_reply_to_a_webhooks_message_engages_nobody_without_a_bot_flag(
    launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """A webhook's message from before the bot came (never seen live, not in the ledger), whose
    author carries no `bot` flag (Discord documents a webhook author as id, name and avatar only): a
    reply to it engages no member, and the webhook is not counted as one."""
    caplog.set_level(logging.WARNING)
    w, sb = launcher.build(), launcher.sandbox
    hook = sb.add_webhook(w.cooking, author_bot=False)
    old = await sb.send_message(w.cooking, 0, webhook_id=hook)  # before the bot was added
    assert "bot" not in old["author"]
    h = await launcher.start()
    reply = await sb.send_message(w.cooking, w.bob, reply_to=int(old["id"]))
    assert reply["referenced_message"]["webhook_id"] == str(hook)
    await h.flush()
    assert [r[:3] for r in await h.rows(EVENTS)] == [("reply", w.bob, None)]
    assert hook in h.app.recorder.bots
    assert await h.scalar("SELECT count(*) FROM members WHERE member_id = ? AND is_bot = 0", hook) == 0
    assert errors(caplog) == []


async def test_a_reply_to_a_system_notice_engages_nobody(harness: Harness, caplog: pytest.LogCaptureFixture):
    """Discord's "Wave to say hi!" answers a member's join notice (USER_JOIN, 7) with a reply, and a
    pin notice (CHANNEL_PINNED_MESSAGE, 6) can be replied to as well. The notice is Discord's, not
    something the member wrote: replying to it is a reply that engages nobody, or every newcomer
    would collect one reply from each member who waved."""
    caplog.set_level(logging.WARNING)
    sb, w = harness.sandbox, harness.world
    joined = await sb.send_message(w.general, w.carol, type=7)
    pinned = await sb.send_message(w.general, w.alice, type=6)
    wave = await sb.send_message(w.general, w.bob, reply_to=int(joined["id"]))
    assert wave["type"] == 19 and wave["referenced_message"]["type"] == 7
    await sb.send_message(w.general, w.bob, reply_to=int(pinned["id"]))
    own = await sb.send_message(w.general, w.carol)
    await sb.send_message(w.general, w.bob, reply_to=int(own["id"]))  # her own message: engages her
    await harness.flush()
    assert [r[:3] for r in await harness.rows(EVENTS)] == [
        ("reply", w.bob, None),
        ("reply", w.bob, None),
        ("message", w.carol, None),
        ("reply", w.bob, w.carol),
    ]
    assert w.carol not in harness.app.recorder.bots and w.alice not in harness.app.recorder.bots
    # The same from discord.py's Message (the gap fill reads history through it).
    state, guild = harness.bot._connection, harness.bot.get_guild(w.guild)
    assert guild is not None
    channel, _ = state._get_guild_channel(wave)
    message = discord.Message(channel=channel, data=wave, state=state)  # type: ignore[arg-type]
    assert seen_payload(wave, guild) == seen_message(message, harness.bot)
    assert seen_payload(wave, guild).reply_to_notice
    assert errors(caplog) == []


async def test_a_message_whose_id_carries_no_time_is_dated_by_its_timestamp(harness: Harness):
    """Discord's ids carry the time they were minted, which the message's `timestamp` repeats; where
    they disagree (a replay, or an implementation that mints ids otherwise), the documented
    `timestamp` dates the message, and deleting it still retracts the reactions it drew."""
    sb, w = harness.sandbox, harness.world
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    ahead = discord.utils.time_snowflake(datetime.now(UTC) + timedelta(days=30))  # an id from the future
    behind = 4_194_304_001  # an id from Discord's first day
    for message_id in (ahead, behind):
        await sb.send_message(w.cooking, w.alice, message_id=message_id, timestamp=sent)
        await sb.add_reaction(w.cooking, message_id, w.bob, "🔥")
    await harness.flush()
    dated = await harness.rows(
        "SELECT source_id, created_at FROM events WHERE kind = 'message' AND actor_id = ? ORDER BY id",
        w.alice,
    )
    assert [(int(s), datetime.fromisoformat(c)) for s, c in dated] == [(ahead, sent), (behind, sent)]
    for message_id in (ahead, behind):
        await sb.delete_message(w.cooking, message_id)

    async def retracted() -> bool:
        await harness.flush()
        return await harness.count("unreaction") == 2

    await eventually(retracted, "both reactions retracted")


async def test_a_history_replayed_at_once_dates_reactions_where_the_stream_stands(harness: Harness):
    """Reactions carry no time: the bot dates them when it sees them. A server's past delivered at
    once (messages sent days ago arriving now) dates each reaction at the stream's position, the day
    of the messages around it, instead of putting every reaction on today; live, a reaction is now."""
    sb, w = harness.sandbox, harness.world
    now = harness.clock()  # the bot's time (whole seconds: ids carry milliseconds)
    days = [now - timedelta(days=3), now - timedelta(days=2)]
    for sent, reactor in zip(days, (w.bob, w.carol), strict=True):
        message_id = discord.utils.time_snowflake(sent)
        await sb.send_message(w.cooking, w.alice, message_id=message_id, timestamp=sent)
        await sb.add_reaction(w.cooking, message_id, reactor, "🔥")
    await harness.flush()  # a live message (the harness's marker): the stream is live again
    await sb.add_reaction(w.cooking, discord.utils.time_snowflake(days[0]), w.carol, "👍")
    await harness.flush()
    dated = await harness.rows("SELECT actor_id, created_at FROM events WHERE kind = 'reaction' ORDER BY id")
    at = [(actor, datetime.fromisoformat(c)) for actor, c in dated]
    assert [actor for actor, _ in at] == [w.bob, w.carol, w.carol]
    for (_, got), sent in zip(at, days, strict=False):
        assert timedelta(0) <= got - sent < timedelta(minutes=1)
    assert at[2][1] == now
