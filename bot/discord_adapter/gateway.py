"""discord.py's gateway, from the bot's side: events recorded straight from their payloads, and the
socket's reading paused while the ingest writer catches up."""

from __future__ import annotations

import asyncio
import collections.abc
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import discord

from bot.discord_adapter.messages import BURST, RECORDED_CHANNELS, emoji_key, seen_payload, seen_reaction
from bot.engagement import EngagementRecorder

log = logging.getLogger(__name__)

_SELECTIVE = "__microvoice_selective_listener__"
F = TypeVar("F", bound=Callable[..., Any])


def selective_listener(func: F) -> F:
    """Marks an `on_message` listener that only needs messages where `GatewayRecorder.needs_message`
    says so (see there). Any other `on_message` listener gets every message, as discord.py gives it."""
    setattr(func, _SELECTIVE, True)
    return func


def listening(client: discord.Client, names: tuple[str, ...], *, selective_ok: bool = False) -> bool:
    """Whether a listener for one of the events `names` ("on_…") is registered on `client` (its own
    method or an added listener; with `selective_ok`, `selective_listener`s do not count)."""
    extra: dict[str, list[Any]] = getattr(client, "extra_events", {})
    for name in names:
        if hasattr(client, name):
            return True
        for listener in extra.get(name, ()):
            if not (selective_ok and getattr(listener, _SELECTIVE, False)):
                return True
    return False


class GatewayRecorder:
    """Records server messages and reactions straight from their gateway payloads, before discord.py
    builds its objects for them, and lets discord.py build them (and run the listeners) only where a
    listener needs them.

    A busy community sends mostly ordinary member messages and reactions, and the ledger needs only
    their metadata: building a full `discord.Message` (author, member, embeds, attachments) and
    starting a listener task for each cost about three quarters of the bot's time per message. This
    hook replaces discord.py's MESSAGE_CREATE and MESSAGE_REACTION_ADD/_REMOVE parsers; it records
    the event and then hands it to discord.py's own parser when a listener needs it:
    - messages: the `on_message` listeners marked `selective_listener` need it where
      `needs_message(guild_id, channel_id)` says so; any other `on_message` listener (an
      extension's, say) needs every message, so discord.py then works as usual. Messages from bots
      and webhooks always take discord.py's path too (they are few, and they keep the bot's own
      messages in its message cache);
    - reactions: whenever any reaction listener is registered.
    Events outside a server, or of a server discord.py does not know yet, always take discord.py's
    own path and are not recorded (as before: `discord.Message.guild` is unknown there).
    Cleared reactions (MESSAGE_REACTION_REMOVE_ALL / _EMOJI) and deleted messages (MESSAGE_DELETE /
    _BULK) are retracted in the background from the ledger, then parsed by discord.py as usual.
    """

    MESSAGE_LISTENERS = ("on_message",)
    REACTION_LISTENERS = (
        "on_raw_reaction_add",
        "on_raw_reaction_remove",
        "on_reaction_add",
        "on_reaction_remove",
    )

    def __init__(
        self,
        client: discord.Client,
        recorder: EngagementRecorder,
        clock: Callable[[], datetime],
        needs_message: Callable[[int, int], bool],
        sockets: GatewaySockets | None = None,
    ) -> None:
        self.client = client
        self.sockets = sockets
        self.recorder = recorder
        self.clock = clock
        self.needs_message = needs_message
        self._parsers: dict[str, Callable[[Any], None]] = client._connection.parsers
        self._original: dict[str, Callable[[Any], None]] = {}
        self._clearing: set[asyncio.Task[int]] = set()
        #: Called when a new session starts (READY), before any of its events is parsed.
        self.on_session: Callable[[], None] | None = None

    def install(self) -> None:
        if self._original:
            return
        ours = {
            "MESSAGE_CREATE": self.message_create,
            "MESSAGE_REACTION_ADD": self.reaction_add,
            "MESSAGE_REACTION_REMOVE": self.reaction_remove,
            "MESSAGE_REACTION_REMOVE_ALL": self.reactions_cleared,
            "MESSAGE_REACTION_REMOVE_EMOJI": self.emoji_cleared,
            "MESSAGE_DELETE": self.message_deleted,
            "MESSAGE_DELETE_BULK": self.messages_deleted,
            "READY": self.ready,
            "RESUMED": self.resumed,
        }
        for event, parse in ours.items():
            self._original[event] = self._parsers[event]
            self._parsers[event] = parse

    def uninstall(self) -> None:
        for event, parse in self._original.items():
            self._parsers[event] = parse
        self._original = {}

    def ready(self, data: dict[str, Any]) -> None:
        user = data.get("user") or {}
        if "id" in user:  # known from READY on, not only from `on_ready` (minutes later in a big bot)
            self.recorder.me = int(user["id"])
        if self.on_session is not None:
            self.on_session()
        self._original["READY"](data)
        if self.sockets is not None:
            self.sockets.share_loop()  # a new connection: its socket yields to the loop too

    def resumed(self, data: dict[str, Any]) -> None:
        self._original["RESUMED"](data)
        if self.sockets is not None:
            self.sockets.share_loop()

    def _guild(self, data: Mapping[str, Any]) -> discord.Guild | None:
        guild_id = data.get("guild_id")
        return self.client._connection._get_guild(int(guild_id)) if guild_id is not None else None

    def message_create(self, data: dict[str, Any]) -> None:
        guild = self._guild(data)
        if guild is None:
            self._original["MESSAGE_CREATE"](data)
            return
        channel = guild.get_channel_or_thread(int(data["channel_id"]))
        seen = seen_payload(data, guild, channel)
        self.recorder.message(seen, arrived=self.clock())
        # A thread's messages are wanted where its channel's are.
        where = channel.parent_id if isinstance(channel, discord.Thread) else seen.channel_id
        if (
            seen.author_is_bot
            or seen.from_webhook
            or self.needs_message(guild.id, where)
            or listening(self.client, self.MESSAGE_LISTENERS, selective_ok=True)
        ):
            self._original["MESSAGE_CREATE"](data)
            return
        if channel is not None and isinstance(channel, RECORDED_CHANNELS):
            channel.last_message_id = seen.message_id  # as discord.py's parser keeps it

    def reaction_add(self, data: dict[str, Any]) -> None:
        self._reaction("MESSAGE_REACTION_ADD", data, added=True)

    def reaction_remove(self, data: dict[str, Any]) -> None:
        self._reaction("MESSAGE_REACTION_REMOVE", data, added=False)

    def reactions_cleared(self, data: dict[str, Any]) -> None:
        self._cleared("MESSAGE_REACTION_REMOVE_ALL", data, ())

    def emoji_cleared(self, data: dict[str, Any]) -> None:
        key = emoji_key(data.get("emoji"))
        self._cleared("MESSAGE_REACTION_REMOVE_EMOJI", data, (key, key + BURST))

    def _cleared(self, event: str, data: dict[str, Any], emojis: tuple[str, ...]) -> None:
        """MESSAGE_REACTION_REMOVE_ALL / _REMOVE_EMOJI: Discord sends no removal per member, so the
        reactions still counted (all of the message's, or those with `emojis`) are looked up in the
        ledger and retracted (in the background)."""
        guild_id = data.get("guild_id")
        if guild_id is not None:
            message_id = int(data["message_id"])
            self._retract(
                self.recorder.reactions_cleared(
                    int(guild_id), message_id, discord.utils.snowflake_time(message_id), self.clock(), emojis
                )
            )
        self._original[event](data)

    def message_deleted(self, data: dict[str, Any]) -> None:
        self._deleted("MESSAGE_DELETE", data, [data["id"]])

    def messages_deleted(self, data: dict[str, Any]) -> None:
        self._deleted("MESSAGE_DELETE_BULK", data, data.get("ids") or [])

    def _deleted(self, event: str, data: dict[str, Any], ids: list[Any]) -> None:
        """MESSAGE_DELETE / _DELETE_BULK: a deleted message's reactions go with it, and Discord sends
        no removal for them, so those still counted are retracted (in the background)."""
        guild_id = data.get("guild_id")
        if guild_id is not None and ids:
            messages = [(int(i), discord.utils.snowflake_time(int(i))) for i in ids]
            self._retract(self.recorder.messages_deleted(int(guild_id), messages, self.clock()))
        self._original[event](data)

    def _retract(self, retracting: collections.abc.Coroutine[Any, Any, int]) -> None:
        task = asyncio.get_running_loop().create_task(retracting, name="microvoice-reactions-retracted")
        self._clearing.add(task)
        task.add_done_callback(self._retracted)

    def _retracted(self, task: asyncio.Task[int]) -> None:
        self._clearing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("reactions not retracted", exc_info=task.exception())

    def _reaction(self, event: str, data: dict[str, Any], *, added: bool) -> None:
        guild_id = data.get("guild_id")
        if guild_id is not None:
            guild = self._guild(data) if added and not data.get("member") else None
            self.recorder.reaction(seen_reaction(data, int(guild_id), added=added, guild=guild), self.clock())
        if guild_id is None or listening(self.client, self.REACTION_LISTENERS):
            self._original[event](data)


#: Longest stretch the gateway reader runs before it lets the event loop run other work.
SHARE_EVERY_SECONDS = 0.005
_SHARING = "_microvoice_shares_loop"


class GatewaySockets:
    """The gateway sockets under discord.py, made to share the event loop under load.

    - **Pause and resume** (`Ingest.pause_source`): while the ingest buffer is full, reading stops,
      so Discord's stream waits in the socket, and the event loop keeps running (heartbeats,
      commands, timers).
    - **Share the loop** (`share_loop`, after each READY and RESUMED): discord.py reads the socket in
      a loop, and aiohttp hands over frames it already holds without suspending, so under a flood
      the reader would run for seconds without letting a slash command, a heartbeat or a timer run.
      Each socket's `receive` yields to the loop once every `SHARE_EVERY_SECONDS`.

    discord.py exposes no switch for either, so this reaches each shard's aiohttp websocket (and its
    asyncio transport); where they are not found (another discord.py or aiohttp), pausing answers
    False, so the ingest buffer holds the caller instead, and the reader runs as discord.py has it.
    """

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self._warned = False

    def share_loop(self) -> None:
        for ws in self._sockets():
            socket = getattr(ws, "socket", None)
            receive = getattr(socket, "receive", None)
            if receive is not None and not getattr(receive, _SHARING, False):
                socket.receive = _sharing(receive, socket)  # type: ignore[union-attr]
            dispatch = getattr(ws, "_dispatch", None)
            if dispatch is not None and not getattr(dispatch, _SHARING, False):
                ws._dispatch = _quiet_dispatch(self.client, dispatch)  # type: ignore[union-attr]

    def __call__(self, pause: bool) -> bool:
        transports = self._transports()
        if not transports:
            if not self._warned:
                self._warned = True
                log.info("the gateway socket cannot be paused here: a full ingest buffer holds the loop")
            return False
        for transport in transports:
            if transport.is_closing():
                continue
            if pause:
                transport.pause_reading()
            else:
                transport.resume_reading()
        return True

    def _sockets(self) -> list[Any]:
        shards: Any = getattr(self.client, "shards", None)  # AutoShardedClient: {id: ShardInfo}
        if isinstance(shards, dict) and shards:
            return [getattr(getattr(info, "_parent", None), "ws", None) for info in shards.values()]
        return [getattr(self.client, "ws", None)]

    def _transports(self) -> list[asyncio.Transport]:
        found: list[asyncio.Transport] = []
        for ws in self._sockets():
            socket = getattr(ws, "socket", None)
            connection = getattr(socket, "_conn", None)
            transport = getattr(connection, "transport", None)
            if isinstance(transport, asyncio.Transport):
                found.append(transport)
        return found


def _sharing(receive: Callable[..., Any], socket: Any) -> Callable[..., Any]:
    """`receive`, yielding to the loop every `SHARE_EVERY_SECONDS`. A frame aiohttp already holds is
    taken without the read timeout (a timer armed and cancelled per frame, a tenth of the reader's
    time under a flood): the timeout only matters while waiting for the network."""
    last = time.monotonic()
    reader = getattr(socket, "_reader", None)
    held = getattr(reader, "_buffer", None)
    if not isinstance(held, collections.abc.Sized):
        held = ()

    async def receive_sharing(timeout: float | None = None) -> Any:  # noqa: ASYNC109 (aiohttp's signature)
        nonlocal last
        now = time.monotonic()
        if now - last >= SHARE_EVERY_SECONDS:
            await asyncio.sleep(0)
            last = time.monotonic()
        if held:
            return await receive(None)
        return await receive(timeout)

    setattr(receive_sharing, _SHARING, True)
    return receive_sharing


def _quiet_dispatch(client: discord.Client, dispatch: Callable[..., None]) -> Callable[..., None]:
    """The gateway's `_dispatch`, skipping the `socket_event_type` event (sent for every frame) while
    nothing listens for it: discord.py would look for listeners and log it once per frame."""

    def dispatch_quietly(event: str, /, *args: Any, **kwargs: Any) -> None:
        if event == "socket_event_type" and not (
            listening(client, ("on_socket_event_type",)) or client._listeners.get(event)
        ):
            return
        dispatch(event, *args, **kwargs)

    setattr(dispatch_quietly, _SHARING, True)
    return dispatch_quietly
