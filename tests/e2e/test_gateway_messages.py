"""Messages recorded straight from the gateway payload: the same record discord.py's `Message` gives,
and no `Message` built where no listener needs one."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import discord

from bot.discord_adapter.gateway import GatewaySockets
from bot.discord_adapter.messages import seen_message, seen_payload
from tests.e2e.conftest import Harness, eventually


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
    thread = await sb.create_thread(w.cooking, w.carol, "tofu tips")
    await sb.send_message(int(thread["id"]), w.bob)
    await sb.create_thread(forum, w.alice, "seitan")  # a forum post: its starter message
    await harness.settle()
    payloads = _created(harness, since)
    assert len(payloads) >= 9
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
