"""A local Discord API v10 stand-in (REST + Gateway) that the unmodified discord.py client can run against.

Why: Microvoice's end-to-end tests and demo must exercise the real discord.py code paths (login, gateway
IDENTIFY/RESUME, zlib-stream compression, rate-limit handling, interaction callbacks, views, modals) without a
network or a real bot account. The sandbox therefore speaks the documented wire protocol with realistic
payload shapes (string snowflakes, ISO8601 timestamps, full user/member/channel/guild/message objects) and
enforces the Discord behaviours the bot must cope with: privileged-intent gating, MESSAGE_CONTENT redaction,
per-session sequence numbers with resumable buffering, 429s with ``retry_after``, Discord-style JSON errors,
permission checks and cheap validation (2000-char content, empty messages, embed limits, ...).

Tests drive it through :class:`DiscordSandbox`: build a world (guilds, roles, channels, users, members),
inject user actions (messages, reactions, threads, slash commands, button clicks, modal submits), inject
faults (``fail_next``, ``drop_gateway``) and observe every REST call in :attr:`DiscordSandbox.rest`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import json
import logging
import math
import mimetypes
import re
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "DiscordSandbox",
    "Intents",
    "Interaction",
    "Permissions",
    "RecordedCall",
    "RestLog",
    "snowflake_from_time",
    "snowflake_time",
]

log = logging.getLogger(__name__)

API_VERSION = 10
DISCORD_EPOCH_MS = 1_420_070_400_000
_TRACE = ['["gateway-prd-us-east1-b-sandbox",{"micros":1042,"calls":["id_created",{"micros":0}]}]']


class Intents:
    """Gateway intent bits (https://discord.com/developers/docs/events/gateway#gateway-intents)."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_EXPRESSIONS = 1 << 3
    GUILD_INTEGRATIONS = 1 << 4
    GUILD_WEBHOOKS = 1 << 5
    GUILD_INVITES = 1 << 6
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16
    AUTO_MODERATION_CONFIGURATION = 1 << 20
    AUTO_MODERATION_EXECUTION = 1 << 21
    GUILD_MESSAGE_POLLS = 1 << 24
    DIRECT_MESSAGE_POLLS = 1 << 25
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
    ALL = (1 << 26) - 1


class Permissions:
    """Permission bits used by the sandbox's permission checks."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    SEND_VOICE_MESSAGES = 1 << 46
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50
    PIN_MESSAGES = 1 << 51


ALL_PERMISSIONS = sum(1 << bit for bit in (*range(47), 48, 49, 50, 51, 52))
DEFAULT_EVERYONE_PERMISSIONS = (
    Permissions.CREATE_INSTANT_INVITE
    | Permissions.ADD_REACTIONS
    | Permissions.STREAM
    | Permissions.VIEW_CHANNEL
    | Permissions.SEND_MESSAGES
    | Permissions.EMBED_LINKS
    | Permissions.ATTACH_FILES
    | Permissions.READ_MESSAGE_HISTORY
    | Permissions.USE_EXTERNAL_EMOJIS
    | Permissions.CONNECT
    | Permissions.SPEAK
    | Permissions.USE_VAD
    | Permissions.CHANGE_NICKNAME
    | Permissions.USE_APPLICATION_COMMANDS
    | Permissions.CREATE_PUBLIC_THREADS
    | Permissions.CREATE_PRIVATE_THREADS
    | Permissions.USE_EXTERNAL_STICKERS
    | Permissions.SEND_MESSAGES_IN_THREADS
    | Permissions.USE_EMBEDDED_ACTIVITIES
    | Permissions.SEND_VOICE_MESSAGES
    | Permissions.SEND_POLLS
    | Permissions.USE_EXTERNAL_APPS
)

# Gateway opcodes.
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE_STATE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = (
    6,
    7,
    8,
    9,
    10,
    11,
)

# Event -> intent, or (intent for guild events, intent for DM events).
_EVENT_INTENTS: dict[str, int | tuple[int, int]] = {
    **dict.fromkeys(
        [
            "GUILD_CREATE",
            "GUILD_UPDATE",
            "GUILD_DELETE",
            "GUILD_ROLE_CREATE",
            "GUILD_ROLE_UPDATE",
            "GUILD_ROLE_DELETE",
            "CHANNEL_CREATE",
            "CHANNEL_UPDATE",
            "CHANNEL_DELETE",
            "THREAD_CREATE",
            "THREAD_UPDATE",
            "THREAD_DELETE",
            "THREAD_LIST_SYNC",
            "THREAD_MEMBER_UPDATE",
            "THREAD_MEMBERS_UPDATE",
            "STAGE_INSTANCE_CREATE",
            "STAGE_INSTANCE_UPDATE",
            "STAGE_INSTANCE_DELETE",
        ],
        Intents.GUILDS,
    ),
    "CHANNEL_PINS_UPDATE": (Intents.GUILDS, Intents.DIRECT_MESSAGES),
    **dict.fromkeys(
        ["GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"], Intents.GUILD_MEMBERS
    ),
    **dict.fromkeys(
        ["GUILD_AUDIT_LOG_ENTRY_CREATE", "GUILD_BAN_ADD", "GUILD_BAN_REMOVE"], Intents.GUILD_MODERATION
    ),
    **dict.fromkeys(["GUILD_EMOJIS_UPDATE", "GUILD_STICKERS_UPDATE"], Intents.GUILD_EXPRESSIONS),
    "GUILD_INTEGRATIONS_UPDATE": Intents.GUILD_INTEGRATIONS,
    "WEBHOOKS_UPDATE": Intents.GUILD_WEBHOOKS,
    **dict.fromkeys(["INVITE_CREATE", "INVITE_DELETE"], Intents.GUILD_INVITES),
    "VOICE_STATE_UPDATE": Intents.GUILD_VOICE_STATES,
    "PRESENCE_UPDATE": Intents.GUILD_PRESENCES,
    **dict.fromkeys(
        ["MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK"],
        (Intents.GUILD_MESSAGES, Intents.DIRECT_MESSAGES),
    ),
    **dict.fromkeys(
        [
            "MESSAGE_REACTION_ADD",
            "MESSAGE_REACTION_REMOVE",
            "MESSAGE_REACTION_REMOVE_ALL",
            "MESSAGE_REACTION_REMOVE_EMOJI",
        ],
        (Intents.GUILD_MESSAGE_REACTIONS, Intents.DIRECT_MESSAGE_REACTIONS),
    ),
    "TYPING_START": (Intents.GUILD_MESSAGE_TYPING, Intents.DIRECT_MESSAGE_TYPING),
    **dict.fromkeys(
        ["MESSAGE_POLL_VOTE_ADD", "MESSAGE_POLL_VOTE_REMOVE"],
        (Intents.GUILD_MESSAGE_POLLS, Intents.DIRECT_MESSAGE_POLLS),
    ),
}

# Channel types.
CH_TEXT, CH_DM, CH_VOICE, CH_CATEGORY, CH_NEWS, CH_NEWS_THREAD = 0, 1, 2, 4, 5, 10
CH_PUBLIC_THREAD, CH_PRIVATE_THREAD, CH_STAGE, CH_FORUM, CH_MEDIA = 11, 12, 13, 15, 16
_THREAD_TYPES = (CH_NEWS_THREAD, CH_PUBLIC_THREAD, CH_PRIVATE_THREAD)
_MESSAGEABLE_TYPES = (CH_TEXT, CH_DM, CH_VOICE, CH_NEWS, CH_STAGE, *_THREAD_TYPES)
_GUILD_CHANNEL_TYPES = (CH_TEXT, CH_VOICE, CH_CATEGORY, CH_NEWS, CH_STAGE, CH_FORUM, CH_MEDIA)

# Message flags.
FLAG_SUPPRESS_EMBEDS, FLAG_EPHEMERAL, FLAG_LOADING = 1 << 2, 1 << 6, 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS, FLAG_COMPONENTS_V2 = 1 << 12, 1 << 15
_SETTABLE_MESSAGE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
_INTERACTION_SETTABLE_FLAGS = _SETTABLE_MESSAGE_FLAGS | FLAG_EPHEMERAL

# Application flags reported in READY and /applications/@me (the "limited" variants of unverified apps).
APP_FLAG_GATEWAY_PRESENCE_LIMITED = 1 << 13
APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
APP_FLAG_APPLICATION_COMMAND_BADGE = 1 << 23

_SELECT_TYPES = (3, 5, 6, 7, 8)
_COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
_USER_MENTION_RE = re.compile(r"<@!?(\d{1,20})>")
_ROLE_MENTION_RE = re.compile(r"<@&(\d{1,20})>")
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# ------------------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------------------


def snowflake_time(snowflake: int) -> datetime:
    """Creation time encoded in a snowflake (the top 42 bits are ms since the Discord epoch)."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def snowflake_from_time(when: datetime, increment: int = 0) -> int:
    """Build a snowflake whose timestamp part is ``when`` (worker 1, process 0)."""
    ms = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (1 << 17) | (increment & 0xFFF)


def _iso(when: datetime) -> str:
    """Discord's timestamp format: ISO8601 with microseconds and an explicit +00:00 offset."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _now() -> datetime:
    return datetime.now(UTC)


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    """Deep copy of a stored object without the sandbox's private ``_``-prefixed bookkeeping keys."""
    return {key: copy.deepcopy(value) for key, value in obj.items() if not key.startswith("_")}


def _normalise_route(route: str) -> str:
    """Make route templates comparable regardless of placeholder names ('{id}' == '{channel_id}')."""
    return re.sub(r"\{[^}]*\}", "{}", route).rstrip("/") or "/"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _tiny_png() -> bytes:
    """A valid 1x1 PNG so avatar/icon downloads from the sandbox CDN decode as images."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 6, 0, 0, 0])
    pixels = zlib.compress(b"\x00\x58\x65\xf2\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


_PNG = _tiny_png()


class _Snowflakes:
    """Monotonic, unique snowflake generator (Discord ids sort by creation time; the bot may rely on it)."""

    def __init__(self) -> None:
        self._last_ms = 0
        self._increment = 0
        self._used: set[int] = set()

    def next(self, at: datetime | None = None) -> int:
        if at is None:
            ms = max(int(time.time() * 1000), self._last_ms)
            if ms == self._last_ms:
                self._increment += 1
                if self._increment > 0xFFF:
                    ms, self._increment = ms + 1, 0
            else:
                self._increment = 0
            self._last_ms = ms
            value = ((ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | self._increment
        else:
            value = snowflake_from_time(at)
            while value in self._used:
                value += 1
        self._used.add(value)
        return value

    def reserve(self, value: int) -> int:
        self._used.add(value)
        return value


class _ApiError(Exception):
    """Raised by REST handlers to produce a Discord-style JSON error response."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.payload: dict[str, Any] = {"message": message, "code": code}
        if errors:
            self.payload["errors"] = errors


def _form_error(path: Sequence[str | int], code: str, message: str) -> _ApiError:
    """400 'Invalid Form Body' (50035) with Discord's nested ``errors`` object pointing at ``path``."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path):
        errors = {str(part): errors}
    return _ApiError(400, 50035, "Invalid Form Body", errors)


def _not_found(code: int, what: str) -> _ApiError:
    return _ApiError(404, code, f"Unknown {what}")


def _missing_permissions() -> _ApiError:
    return _ApiError(403, 50013, "Missing Permissions")


@dataclass
class _Reply:
    """A handler result with an explicit status (handlers otherwise return a body for 200 or None for 204)."""

    status: int
    body: Any = None


# ------------------------------------------------------------------------------------------------------------
# REST recording
# ------------------------------------------------------------------------------------------------------------


@dataclass
class RecordedCall:
    """One REST request the bot made, as the sandbox saw it.

    ``status`` is 0 while the request is still being handled and the status actually sent afterwards.
    ``response`` holds the JSON body sent back (None for 204s).
    """

    method: str
    path: str
    route: str
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]]
    status: int
    headers: dict[str, str]
    response: Any = None

    def matches(self, method: str, route: str) -> bool:
        """True if this call has ``method`` and ``route`` is its template (any placeholder names) or path."""
        if self.method != method.upper():
            return False
        return route == self.path or _normalise_route(route) == _normalise_route(self.route)


class RestLog:
    """Every REST call in arrival order (recorded before fault injection decides the reply)."""

    def __init__(self) -> None:
        self.calls: list[RecordedCall] = []

    def find(self, method: str, route: str) -> list[RecordedCall]:
        """Calls with this method whose route template (placeholder names ignored) or concrete path match."""
        return [call for call in self.calls if call.matches(method, route)]

    def last(self, method: str, route: str) -> RecordedCall:
        """The most recent matching call; AssertionError listing what *was* called if there is none."""
        found = self.find(method, route)
        if not found:
            seen = "\n".join(f"  {c.method} {c.path}  [{c.route}] -> {c.status}" for c in self.calls)
            raise AssertionError(
                f"no {method.upper()} {route} call recorded; calls so far:\n{seen or '  (none)'}"
            )
        return found[-1]

    def clear(self) -> None:
        self.calls.clear()

    def __len__(self) -> int:
        return len(self.calls)


@dataclass
class _Fault:
    method: str
    route: str
    status: int
    retry_after: float
    times: int
    code: int | None
    message: str | None
    scope: str


# ------------------------------------------------------------------------------------------------------------
# Gateway plumbing
# ------------------------------------------------------------------------------------------------------------


def _make_compressor(kind: str | None) -> Callable[[bytes], bytes] | None:
    """One compression context per connection, flushed after every payload (zlib: Z_SYNC_FLUSH)."""
    if kind is None:
        return None
    if kind == "zlib-stream":
        context = zlib.compressobj()

        def compress_zlib(data: bytes) -> bytes:
            return context.compress(data) + context.flush(zlib.Z_SYNC_FLUSH)

        return compress_zlib
    if kind == "zstd-stream":
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError:
            from compression import zstd  # type: ignore[import-not-found]

            stdlib_ctx = zstd.ZstdCompressor()

            def compress_stdlib_zstd(data: bytes) -> bytes:
                return stdlib_ctx.compress(data, mode=zstd.ZstdCompressor.FLUSH_BLOCK)

            return compress_stdlib_zstd
        zstd_obj = zstandard.ZstdCompressor().compressobj()

        def compress_zstd(data: bytes) -> bytes:
            return zstd_obj.compress(data) + zstd_obj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

        return compress_zstd
    raise ValueError(kind)


def _zstd_available() -> bool:
    try:
        import zstandard  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        try:
            from compression import zstd  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            return False
    return True


class _Connection:
    """One gateway websocket: its compression context and an ordered outbound queue drained by a writer task.

    Why a queue: world-building helpers are synchronous but must emit events; the queue keeps frames in
    sequence order and lets callers await delivery when they care.
    """

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, compression: str | None, path: str
    ) -> None:
        self.ws = ws
        self.request = request
        self.path = path
        self.compression = compression
        self._compress = _make_compressor(compression)
        self.session: _Session | None = None
        self.closed = False
        self.sent: list[dict[str, Any]] = []
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[None]]] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name="sandbox-gateway-writer")

    def enqueue(self, frame: dict[str, Any]) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.closed:
            future.set_result(None)
        else:
            self._queue.put_nowait((frame, future))
        return future

    async def _write_loop(self) -> None:
        while True:
            frame, future = await self._queue.get()
            try:
                if not self.closed and not self.ws.closed:
                    text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
                    if self._compress is None:
                        await self.ws.send_str(text)
                    else:
                        await self.ws.send_bytes(self._compress(text.encode()))
                    self.sent.append(frame)
            except (ConnectionError, RuntimeError):
                self.closed = True
            finally:
                if not future.done():
                    future.set_result(None)

    def shutdown(self) -> None:
        """Stop writing; anything unsent stays in the session buffer and is replayed on RESUME."""
        self.closed = True
        self._writer.cancel()
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_result(None)


@dataclass
class _Session:
    id: str
    intents: int
    shard: tuple[int, int] | None
    large_threshold: int
    seq: int = 0
    valid: bool = True
    conn: _Connection | None = None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    guild_ids: set[int] = field(default_factory=set)
    ready: bool = False

    def owns_guild(self, guild_id: int | None) -> bool:
        """Guild sharding formula: shard_id = (guild_id >> 22) % num_shards; DMs go to shard 0."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % count == shard_id


_BUFFER_LIMIT = 5000


# ------------------------------------------------------------------------------------------------------------
# Interactions
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _InteractionState:
    id: int
    token: str
    type: int
    payload: dict[str, Any]
    guild_id: int | None
    channel_id: int
    user_id: int
    command_name: str | None = None
    command_type: int | None = None
    source_message_id: int | None = None
    response_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None


class Interaction:
    """Handle for an interaction the sandbox injected (slash command, click, modal submit, ...)."""

    def __init__(self, sandbox: DiscordSandbox, state: _InteractionState) -> None:
        self._sandbox = sandbox
        self._state = state
        self.id: int = state.id
        self.token: str = state.token
        self.payload: dict[str, Any] = state.payload

    def __repr__(self) -> str:
        return f"<Interaction id={self.id} type={self._state.type} responded={self._state.response_type}>"

    def _is_callback(self, call: RecordedCall) -> bool:
        return (
            call.status != 0
            and call.matches("POST", "/interactions/{}/{}/callback")
            and call.path.startswith(f"/interactions/{self.id}/")
        )

    async def response(self, timeout: float = 5) -> RecordedCall:  # noqa: ASYNC109
        """Wait for the bot's POST /interactions/{id}/{token}/callback (the first one)."""
        return await self._sandbox._wait_until(
            lambda: next((c for c in self._sandbox.rest.calls if self._is_callback(c)), None),
            timeout,
            f"interaction {self.id} callback",
        )

    def followups(self) -> list[RecordedCall]:
        """Followup messages the bot sent through POST /webhooks/{application_id}/{token}."""
        path = f"/webhooks/{self._sandbox.application_id}/{self.token}"
        return [c for c in self._sandbox.rest.calls if c.method == "POST" and c.path == path]

    async def wait_followup(self, count: int = 1, timeout: float = 5) -> RecordedCall:  # noqa: ASYNC109
        """Wait until ``count`` followups were answered; returns the ``count``-th."""

        def check() -> RecordedCall | None:
            done = [c for c in self.followups() if c.status]
            return done[count - 1] if len(done) >= count else None

        return await self._sandbox._wait_until(
            check, timeout, f"{count} followup(s) to interaction {self.id}"
        )

    @property
    def responded_with(self) -> int | None:
        """The interaction callback type the bot used (4, 5, 6, 7, 8, 9) or None if not yet acknowledged."""
        return self._state.response_type

    @property
    def message(self) -> dict[str, Any] | None:
        """The message the response created or updated (REST shape), e.g. to click its buttons next."""
        if self._state.original_message_id is None:
            return None
        return self._sandbox.message(self._state.original_message_id)

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened in response (callback type 9), if any."""
        return copy.deepcopy(self._state.modal)


# ------------------------------------------------------------------------------------------------------------
# The sandbox
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _Guild:
    data: dict[str, Any]
    roles: dict[int, dict[str, Any]]
    members: dict[int, dict[str, Any]]
    bans: dict[int, dict[str, Any]] = field(default_factory=dict)
    bot_role_id: int = 0


_Handler = Callable[["DiscordSandbox", "_Req"], Awaitable[Any]]
_ROUTE_TABLE: list[tuple[str, str, str, bool]] = []


def _route(method: str, template: str, *, auth: bool = True) -> Callable[[_Handler], _Handler]:
    """Register a REST handler for ``METHOD template`` (template syntax as in discord.py's Route)."""

    def register(func: _Handler) -> _Handler:
        _ROUTE_TABLE.append((method, template, func.__name__, auth))
        return func

    return register


@dataclass
class _CompiledRoute:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: str
    auth: bool
    literal_segments: int


@dataclass
class _Req:
    request: web.Request
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[tuple[str, str, bytes]]
    call: RecordedCall

    def id(self, name: str) -> int:
        return int(self.params[name])

    def obj(self) -> dict[str, Any]:
        """The JSON body as an object (Discord answers 50109 for bodies that are not JSON objects)."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise _ApiError(400, 50109, "The request body contains invalid JSON.")
        return self.body


class DiscordSandbox:
    """A local Discord (REST + Gateway + CDN) for discord.py; see the module docstring for the why.

    Typical use::

        sandbox = DiscordSandbox(); await sandbox.start()
        guild = sandbox.add_guild("Test"); chan = sandbox.add_channel(guild, "general")
        point_discord_at(sandbox.api_base, sandbox.gateway_url)
        task = asyncio.create_task(client.start(sandbox.token)); await sandbox.wait_ready()
    """

    def __init__(
        self,
        *,
        heartbeat_interval_ms: int = 41250,
        bot_username: str = "Microvoice",
        privileged_intents: int = Intents.PRIVILEGED,
        strict_client: bool = False,
    ) -> None:
        """Configure the stand-in.

        ``privileged_intents`` are those "enabled in the developer portal"; IDENTIFY asking for others gets
        close code 4014. ``strict_client=True`` makes injected interactions obey what the official Discord
        client enforces before anything reaches the bot (commands hidden by ``default_member_permissions``,
        option ``choices``/``min_value``/``max_value``/lengths/``channel_types``, required options and modal
        inputs, disabled components, select value counts) by raising in the test instead of dispatching.
        It is off by default so tests can also probe the bot's own server-side checks.
        """
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.strict_client = strict_client
        self.privileged_intents = privileged_intents
        self._ids = _Snowflakes()
        self.rest = RestLog()
        self.identify_payloads: list[dict[str, Any]] = []
        self.resume_payloads: list[dict[str, Any]] = []
        self.gateway_received: list[dict[str, Any]] = []
        self.gateway_connections: list[dict[str, Any]] = []
        self.dispatched: list[tuple[str, dict[str, Any]]] = []
        self.internal_errors: list[str] = []
        self.presence: dict[str, Any] | None = None
        self.intents: int = 0
        self.ready_count = 0
        self.resumed_count = 0
        self.replay_counts: list[int] = []  # frames replayed by each successful RESUME
        self.invalid_sessions_sent = 0

        self._users: dict[int, dict[str, Any]] = {}
        self._guilds: dict[int, _Guild] = {}
        self._channels: dict[int, dict[str, Any]] = {}
        self._messages: dict[int, dict[str, Any]] = {}
        self._channel_messages: dict[int, list[int]] = {}
        self._webhooks: dict[int, dict[str, Any]] = {}
        self._global_commands: dict[int, dict[str, Any]] = {}
        self._guild_commands: dict[int, dict[int, dict[str, Any]]] = {}
        self._interactions: dict[int, _InteractionState] = {}
        self._modals: dict[str, _InteractionState] = {}
        self._dm_channels: dict[int, int] = {}
        self._dms_closed: set[int] = set()
        self._cdn: dict[str, tuple[bytes, str]] = {}
        self._faults: list[_Fault] = []
        self._sessions: dict[str, _Session] = {}
        self._connections: list[_Connection] = []
        self._pending: set[asyncio.Future[None]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()
        self._ready_event = asyncio.Event()
        self._routes = self._compile_routes()

        created = _now() - timedelta(days=400)
        self.bot_user_id: int = self._ids.next(created)
        # Apps created since 2016 share their id with their bot user.
        self.application_id: int = self.bot_user_id
        self.token: str = ".".join(
            (
                _b64(str(self.bot_user_id).encode()),
                _b64(int(time.time()).to_bytes(4, "big")),
                _b64(secrets.token_bytes(20)),
            )
        )
        self._users[self.bot_user_id] = self._make_user(
            self.bot_user_id, bot_username, bot=True, discriminator=f"{secrets.randbelow(9000) + 1000}"
        )
        self.owner_user_id: int = self.add_user("sandbox_owner", created_at=created - timedelta(days=900))

        self._runner: web.AppRunner | None = None
        self.port = 0
        self.api_base = ""
        self.gateway_url = ""
        self.resume_gateway_url = ""
        self.cdn_base = ""

    # --------------------------------------------------------------------------------------------------------
    # lifecycle
    # --------------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind 127.0.0.1 on an ephemeral port and fill in the public URLs."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/gateway-resume", self._handle_gateway)
        app.router.add_get("/cdn/{tail:.*}", self._handle_cdn)
        app.router.add_route("*", "/{tail:.*}", self._handle_api)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # aiohttp always binds a socket here
        self.port = server.sockets[0].getsockname()[1]
        origin = f"127.0.0.1:{self.port}"
        self.api_base = f"http://{origin}/api/v{API_VERSION}"
        self.gateway_url = f"ws://{origin}/gateway"
        self.resume_gateway_url = f"ws://{origin}/gateway-resume"
        self.cdn_base = f"http://{origin}/cdn"

    async def stop(self) -> None:
        """Close every gateway connection (1001 Going Away) and the HTTP server."""
        for conn in list(self._connections):
            conn.shutdown()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001, message=b"Sandbox shutting down"), 1)
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --------------------------------------------------------------------------------------------------------
    # waiting
    # --------------------------------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                calls = "\n".join(f"  {c.method} {c.path} -> {c.status}" for c in self.rest.calls[-30:])
                raise TimeoutError(
                    f"timed out after {timeout}s waiting for {what}; recent REST calls:\n{calls}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_ready(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Resolve once a client IDENTIFYed and was sent READY plus GUILD_CREATE for all of its guilds."""
        await self._wait_until(self._ready_event.is_set, timeout, "the bot to IDENTIFY and receive READY")

    async def wait_resumed(self, timeout: float = 10, *, count: int = 1) -> None:  # noqa: ASYNC109
        """Resolve once ``count`` RESUMEs succeeded (replayed events and RESUMED were sent)."""
        await self._wait_until(lambda: self.resumed_count >= count, timeout, f"{count} successful RESUME(s)")

    async def wait_for_call(
        self,
        method: str,
        route: str,
        *,
        timeout: float = 5,  # noqa: ASYNC109 - the public API takes an explicit timeout
        count: int = 1,
    ) -> RecordedCall:
        """Wait until ``count`` matching calls were answered (ever, not only from now); return that one."""

        def check() -> RecordedCall | None:
            done = [call for call in self.rest.find(method, route) if call.status]
            return done[count - 1] if len(done) >= count else None

        return await self._wait_until(check, timeout, f"{count} x {method.upper()} {route}")

    async def flush(self) -> None:
        """Wait until every gateway frame queued so far (e.g. by sync world-building calls) was written."""
        pending = [future for future in self._pending if not future.done()]
        if pending:
            await asyncio.gather(*pending)

    # --------------------------------------------------------------------------------------------------------
    # world building
    # --------------------------------------------------------------------------------------------------------

    def _make_user(
        self,
        user_id: int,
        username: str,
        *,
        bot: bool = False,
        discriminator: str = "0",
        global_name: str | None = None,
    ) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": str(user_id),
            "username": username,
            "avatar": None,
            "discriminator": discriminator,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "global_name": global_name,
            "avatar_decoration_data": None,
            "collectibles": None,
            "display_name_styles": None,
            "banner_color": None,
            "clan": None,
            "primary_guild": None,
        }
        if bot:
            user["bot"] = True
        return user

    def add_user(
        self,
        username: str,
        *,
        bot: bool = False,
        user_id: int | None = None,
        created_at: datetime | None = None,
        global_name: str | None = None,
    ) -> int:
        """Create a user (account age follows ``created_at`` because it is encoded in the snowflake)."""
        if user_id is None:
            user_id = self._ids.next(created_at)
        else:
            self._ids.reserve(user_id)
        discriminator = f"{secrets.randbelow(9000) + 1000}" if bot else "0"
        self._users[user_id] = self._make_user(
            user_id, username, bot=bot, discriminator=discriminator, global_name=global_name
        )
        return user_id

    def add_guild(
        self,
        name: str,
        *,
        guild_id: int | None = None,
        owner_id: int | None = None,
        bot_permissions: int = Permissions.ADMINISTRATOR,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        features: Sequence[str] = (),
        locale: str = "en-US",
    ) -> int:
        """Create a guild the bot is in: @everyone (id == guild id), the bot's managed role, owner and bot.

        The bot's managed role gets ``bot_permissions`` (Administrator by default) and sits at the top of the
        hierarchy. Added after READY, the bot receives GUILD_CREATE as if it had just been invited.
        """
        gid = self._ids.reserve(guild_id) if guild_id is not None else self._ids.next()
        owner = owner_id if owner_id is not None else self.owner_user_id
        if owner not in self._users:
            raise KeyError(f"owner {owner} is not a known user (add_user first)")
        data: dict[str, Any] = {
            "id": str(gid),
            "name": name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(owner),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "features": list(features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": locale,
            "public_updates_channel_id": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "incidents_data": None,
            "hub_type": None,
            "latest_onboarding_question_id": None,
            "home_header": None,
            "emojis": [],
            "stickers": [],
        }
        guild = _Guild(data=data, roles={}, members={})
        guild.roles[gid] = self._make_role(gid, "@everyone", everyone_permissions, position=0)
        bot_role_id = self._ids.next()
        bot_role = self._make_role(bot_role_id, self._users[self.bot_user_id]["username"], bot_permissions, 1)
        bot_role["managed"] = True
        bot_role["tags"] = {"bot_id": str(self.bot_user_id)}
        guild.roles[bot_role_id] = bot_role
        guild.bot_role_id = bot_role_id
        self._guilds[gid] = guild
        created = snowflake_time(gid)
        guild.members[owner] = self._make_member(created, [])
        guild.members[self.bot_user_id] = self._make_member(_now(), [bot_role_id])
        for session in self._live_sessions():
            if session.owns_guild(gid):
                session.guild_ids.add(gid)
        self._emit("GUILD_CREATE", lambda session: self._guild_create_payload(gid, session, initial=False))
        return gid

    def _make_role(self, role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
        return {
            "id": str(role_id),
            "name": name,
            "description": None,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def _make_member(
        self, joined_at: datetime, roles: Iterable[int], nick: str | None = None
    ) -> dict[str, Any]:
        return {
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
            "deaf": False,
            "flags": 0,
            "joined_at": _iso(joined_at),
            "mute": False,
            "nick": nick,
            "pending": False,
            "premium_since": None,
            "roles": [str(r) for r in roles],
            "avatar_decoration_data": None,
            "collectibles": None,
        }

    def _guild(self, guild_id: int) -> _Guild:
        try:
            return self._guilds[guild_id]
        except KeyError:
            raise _not_found(10004, "Guild") from None

    def add_role(
        self,
        guild_id: int,
        name: str,
        *,
        permissions: int = 0,
        role_id: int | None = None,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
        position: int | None = None,
    ) -> int:
        """Create a role; by default just below the bot's role so the bot can manage it (pass ``position``
        to put it above the bot and exercise hierarchy errors). Dispatches GUILD_ROLE_CREATE after READY."""
        guild = self._guild(guild_id)
        rid = self._ids.reserve(role_id) if role_id is not None else self._ids.next()
        if position is None:
            position = int(guild.roles[guild.bot_role_id]["position"])
        self._shift_roles(guild, position)
        role = self._make_role(rid, name, permissions, position)
        role["color"] = color
        role["colors"]["primary_color"] = color
        role["hoist"] = hoist
        role["mentionable"] = mentionable
        guild.roles[rid] = role
        self._emit("GUILD_ROLE_CREATE", {"guild_id": str(guild_id), "role": _public(role)})
        return rid

    def _shift_roles(self, guild: _Guild, position: int) -> None:
        for role in guild.roles.values():
            if role["id"] != guild.data["id"] and role["position"] >= position:
                role["position"] += 1

    def add_channel(
        self,
        guild_id: int,
        name: str,
        *,
        type: int = CH_TEXT,  # mirrors Discord's field name
        parent_id: int | None = None,
        channel_id: int | None = None,
        topic: str | None = None,
        overwrites: Sequence[dict[str, Any]] = (),
        nsfw: bool = False,
    ) -> int:
        """Create a guild channel (0 text, 2 voice, 4 category, 5 news, 13 stage, 15 forum, 16 media).

        Threads are created with :meth:`create_thread`. Dispatches CHANNEL_CREATE after READY.
        """
        guild = self._guild(guild_id)
        if type not in _GUILD_CHANNEL_TYPES:
            raise ValueError(
                f"channel type {type} cannot be created with add_channel (threads: create_thread)"
            )
        if parent_id is not None and self._channels.get(parent_id, {}).get("type") != CH_CATEGORY:
            raise ValueError(f"parent {parent_id} is not a category channel")
        cid = self._ids.reserve(channel_id) if channel_id is not None else self._ids.next()
        channel = self._build_guild_channel(cid, guild_id, name, type, parent_id, topic, nsfw, overwrites)
        self._channels[cid] = channel
        self._channel_messages[cid] = []
        if guild.data["system_channel_id"] is None and type == CH_TEXT:
            guild.data["system_channel_id"] = str(cid)
        self._emit("CHANNEL_CREATE", _public(channel))
        return cid

    def _build_guild_channel(
        self,
        cid: int,
        guild_id: int,
        name: str,
        type_: int,
        parent_id: int | None,
        topic: str | None,
        nsfw: bool,
        overwrites: Sequence[dict[str, Any]],
    ) -> dict[str, Any]:
        position = sum(
            1 for c in self._channels.values() if c.get("guild_id") == str(guild_id) and c["type"] == type_
        )
        channel: dict[str, Any] = {
            "id": str(cid),
            "type": type_,
            "guild_id": str(guild_id),
            "name": name,
            "position": position,
            "permission_overwrites": [self._normalise_overwrite(o) for o in overwrites],
            "parent_id": str(parent_id) if parent_id is not None else None,
            "flags": 0,
        }
        if type_ != CH_CATEGORY:
            channel.update(nsfw=nsfw, rate_limit_per_user=0, last_message_id=None)
        if type_ in (CH_TEXT, CH_NEWS, CH_FORUM, CH_MEDIA):
            channel.update(
                topic=topic, default_auto_archive_duration=4320, default_thread_rate_limit_per_user=0
            )
            channel["last_pin_timestamp"] = None
        if type_ in (CH_VOICE, CH_STAGE):
            channel.update(bitrate=64000, user_limit=0, rtc_region=None, video_quality_mode=1)
        if type_ in (CH_FORUM, CH_MEDIA):
            channel.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
                template="",
            )
        return channel

    @staticmethod
    def _normalise_overwrite(overwrite: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(overwrite["id"]),
            "type": int(overwrite.get("type", 0)),
            "allow": str(overwrite.get("allow", "0")),
            "deny": str(overwrite.get("deny", "0")),
        }

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        roles: Sequence[int] = (),
        joined_at: datetime | None = None,
        dispatch: bool = True,
        nick: str | None = None,
        pending: bool = False,
    ) -> None:
        """Add a user to a guild. After READY this sends GUILD_MEMBER_ADD (GUILD_MEMBERS intent only)."""
        guild = self._guild(guild_id)
        if user_id not in self._users:
            raise KeyError(f"user {user_id} does not exist (add_user first)")
        for role_id in roles:
            if role_id not in guild.roles or role_id == guild_id:
                raise KeyError(f"role {role_id} is not a role of guild {guild_id}")
        member = self._make_member(joined_at or _now(), roles, nick)
        member["pending"] = pending
        guild.members[user_id] = member
        if dispatch:
            self._emit(
                "GUILD_MEMBER_ADD", {**self._member_payload(guild_id, user_id), "guild_id": str(guild_id)}
            )

    def remove_member(self, guild_id: int, user_id: int) -> None:
        """A member leaves: GUILD_MEMBER_REMOVE (GUILD_MEMBERS intent)."""
        guild = self._guild(guild_id)
        guild.members.pop(user_id, None)
        self._emit(
            "GUILD_MEMBER_REMOVE", {"guild_id": str(guild_id), "user": copy.deepcopy(self._users[user_id])}
        )

    def add_webhook(self, channel_id: int, name: str = "Captain Hook", *, user_id: int | None = None) -> int:
        """Create an incoming webhook owned by someone else (e.g. another integration) in a channel."""
        channel = self._channel(channel_id)
        creator = user_id if user_id is not None else self.owner_user_id
        return int(self._create_webhook(channel, name, creator, application_id=None)["id"])

    def open_dm(self, user_id: int) -> int:
        """Get or create the DM channel between the bot and ``user_id``."""
        if user_id not in self._users:
            raise KeyError(f"user {user_id} does not exist")
        if user_id in self._dm_channels:
            return self._dm_channels[user_id]
        cid = self._ids.next()
        self._channels[cid] = {
            "id": str(cid),
            "type": CH_DM,
            "last_message_id": None,
            "flags": 0,
            "recipients": [copy.deepcopy(self._users[user_id])],
            "_recipient_id": user_id,
        }
        self._channel_messages[cid] = []
        self._dm_channels[user_id] = cid
        return cid

    def close_dms(self, user_id: int) -> None:
        """Make the user refuse DMs from the bot (sending then fails with 50007)."""
        self._dms_closed.add(user_id)

    # --------------------------------------------------------------------------------------------------------
    # observation
    # --------------------------------------------------------------------------------------------------------

    def user(self, user_id: int) -> dict[str, Any]:
        return copy.deepcopy(self._users[user_id])

    def guild(self, guild_id: int) -> dict[str, Any]:
        return self._guild_object(guild_id)

    def channel(self, channel_id: int) -> dict[str, Any]:
        return _public(self._channels[channel_id])

    def member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        return self._member_payload(guild_id, user_id)

    def channel_overwrites(self, channel_id: int) -> list[dict[str, Any]]:
        """Current permission overwrites of a channel."""
        return copy.deepcopy(self._channels[channel_id]["permission_overwrites"])

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages in a channel, oldest first, REST-shaped (ephemeral interaction replies are not listed)."""
        return [
            self._render_message(self._messages[mid]) for mid in self._channel_messages.get(channel_id, [])
        ]

    def message(self, message_id: int) -> dict[str, Any] | None:
        """Any stored message by id (including ephemeral ones), REST-shaped."""
        stored = self._messages.get(message_id)
        return self._render_message(stored) if stored is not None else None

    def webhooks(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        return [
            _public(w)
            for w in self._webhooks.values()
            if channel_id is None or w["channel_id"] == str(channel_id)
        ]

    def roles(self, guild_id: int) -> list[dict[str, Any]]:
        """Roles of a guild sorted by position (@everyone first)."""
        guild = self._guild(guild_id)
        return [_public(r) for r in sorted(guild.roles.values(), key=lambda r: (r["position"], int(r["id"])))]

    def threads(self, guild_id: int | None = None, *, parent_id: int | None = None) -> list[dict[str, Any]]:
        return [
            _public(c)
            for c in self._channels.values()
            if c["type"] in _THREAD_TYPES
            and (guild_id is None or c["guild_id"] == str(guild_id))
            and (parent_id is None or c["parent_id"] == str(parent_id))
        ]

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Synced application commands (global, or for one guild)."""
        store = self._global_commands if guild_id is None else self._guild_commands.get(guild_id, {})
        return [copy.deepcopy(c) for c in store.values()]

    def compute_permissions(self, guild_id: int, user_id: int, channel_id: int | None = None) -> int:
        """Discord's permission algorithm: role permissions, Administrator/owner, then channel overwrites."""
        guild = self._guild(guild_id)
        if str(user_id) == guild.data["owner_id"]:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        if member is None:
            return 0
        perms = int(guild.roles[guild_id]["permissions"])
        for role_id in member["roles"]:
            role = guild.roles.get(int(role_id))
            if role is not None:
                perms |= int(role["permissions"])
        if perms & Permissions.ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel_id is not None:
            channel = self._channels[channel_id]
            if channel["type"] in _THREAD_TYPES:
                channel = self._channels[int(channel["parent_id"])]
            overwrites = {int(o["id"]): o for o in channel.get("permission_overwrites", [])}
            everyone = overwrites.get(guild_id)
            if everyone is not None:
                perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
            allow = deny = 0
            for role_id in member["roles"]:
                overwrite = overwrites.get(int(role_id))
                if overwrite is not None and overwrite["type"] == 0:
                    allow |= int(overwrite["allow"])
                    deny |= int(overwrite["deny"])
            perms = (perms & ~deny) | allow
            own = overwrites.get(user_id)
            if own is not None and own["type"] == 1:
                perms = (perms & ~int(own["deny"])) | int(own["allow"])
            if not perms & Permissions.VIEW_CHANNEL:
                return 0
            if not perms & Permissions.SEND_MESSAGES:
                perms &= ~(
                    Permissions.SEND_TTS_MESSAGES
                    | Permissions.MENTION_EVERYONE
                    | Permissions.EMBED_LINKS
                    | Permissions.ATTACH_FILES
                )
        until = member.get("communication_disabled_until")
        if until and datetime.fromisoformat(until) > _now():
            perms &= Permissions.VIEW_CHANNEL | Permissions.READ_MESSAGE_HISTORY
        return perms

    # --------------------------------------------------------------------------------------------------------
    # renderers (Discord-shaped objects from stored state)
    # --------------------------------------------------------------------------------------------------------

    def _member_payload(
        self, guild_id: int, user_id: int, *, with_user: bool = True, permissions: int | None = None
    ) -> dict[str, Any]:
        guild = self._guild(guild_id)
        try:
            member = copy.deepcopy(guild.members[user_id])
        except KeyError:
            raise _not_found(10007, "Member") from None
        if with_user:
            member["user"] = copy.deepcopy(self._users[user_id])
        if permissions is not None:
            member["permissions"] = str(permissions)
        return member

    def _guild_object(self, guild_id: int, *, with_counts: bool = False) -> dict[str, Any]:
        guild = self._guild(guild_id)
        data = copy.deepcopy(guild.data)
        data["roles"] = self.roles(guild_id)
        data["region"] = "deprecated"
        if with_counts:
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return data

    def _guild_create_payload(self, guild_id: int, session: _Session, *, initial: bool) -> dict[str, Any]:
        """GUILD_CREATE for a session: members are only self unless GUILD_PRESENCES and the guild is small."""
        guild = self._guild(guild_id)
        data = self._guild_object(guild_id)
        data.pop("region", None)
        member_count = len(guild.members)
        large = member_count > session.large_threshold
        if session.intents & Intents.GUILD_PRESENCES and not large:
            member_ids = list(guild.members)
        else:
            member_ids = [self.bot_user_id]
        channels = []
        threads = []
        for channel in self._channels.values():
            if channel.get("guild_id") != str(guild_id):
                continue
            if channel["type"] in _THREAD_TYPES:
                if not channel["thread_metadata"]["archived"]:
                    threads.append(_public(channel))
            else:
                rendered = _public(channel)
                rendered.pop("guild_id", None)
                channels.append(rendered)
        data.update(
            joined_at=guild.members[self.bot_user_id]["joined_at"],
            large=large,
            member_count=member_count,
            members=[self._member_payload(guild_id, uid) for uid in member_ids],
            channels=channels,
            threads=threads,
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
            embedded_activities=[],
            activity_instances=[],
            lazy=True,
            application_command_counts={"1": len(self._guild_commands.get(guild_id, {})), "2": 0, "3": 0},
            version=int(time.time() * 1000),
        )
        if initial:
            data["unavailable"] = False
        return data

    def _webhook_author(self, webhook_id: int, username: str | None = None) -> dict[str, Any]:
        webhook = self._webhooks.get(webhook_id)
        return {
            "id": str(webhook_id),
            "username": username or (webhook["name"] if webhook else "Captain Hook"),
            "avatar": None,
            "discriminator": "0000",
            "public_flags": 0,
            "flags": 0,
            "bot": True,
            "global_name": None,
            "clan": None,
            "primary_guild": None,
        }

    def _render_reactions(self, stored: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for reaction in stored.get("_reactions", {}).values():
            normal, burst = reaction["users"], reaction["burst_users"]
            if not normal and not burst:
                continue
            out.append(
                {
                    "count": len(normal) + len(burst),
                    "count_details": {"burst": len(burst), "normal": len(normal)},
                    "me": self.bot_user_id in normal,
                    "me_burst": self.bot_user_id in burst,
                    "burst_me": self.bot_user_id in burst,
                    "burst_colors": ["#f5c400"] if burst else [],
                    "burst_count": len(burst),
                    "emoji": copy.deepcopy(reaction["emoji"]),
                }
            )
        return out

    def _render_message(
        self, stored: dict[str, Any], *, gateway: bool = False, nested: bool = False
    ) -> dict[str, Any]:
        """REST or gateway shape of a stored message (gateway adds guild_id, member and mention members)."""
        out = _public(stored)
        guild_id = stored.get("_guild_id")
        reactions = self._render_reactions(stored)
        if reactions:
            out["reactions"] = reactions
        thread_id = stored.get("_thread_id")
        if thread_id is not None and thread_id in self._channels:
            out["thread"] = _public(self._channels[thread_id])
        reference = stored.get("message_reference")
        if reference is not None and reference.get("type", 0) == 0 and not nested:
            target = self._messages.get(int(reference["message_id"])) if "message_id" in reference else None
            out["referenced_message"] = (
                self._render_message(target, gateway=gateway, nested=True) if target is not None else None
            )
        if gateway and guild_id is not None:
            out["guild_id"] = str(guild_id)
            guild = self._guilds.get(guild_id)
            author_id = int(stored["author"]["id"])
            if not nested and guild is not None and "webhook_id" not in stored and author_id in guild.members:
                out["member"] = self._member_payload(guild_id, author_id, with_user=False)
            if guild is not None:
                for mention in out["mentions"]:
                    if int(mention["id"]) in guild.members:
                        mention["member"] = self._member_payload(
                            guild_id, int(mention["id"]), with_user=False
                        )
        return out

    def _content_exempt(self, message: dict[str, Any]) -> bool:
        """MESSAGE_CONTENT exemptions: the app's own messages, DMs, and messages that mention the app."""
        if message.get("guild_id") is None:
            return True
        if (message.get("author") or {}).get("id") == str(self.bot_user_id):
            return True
        return any(m.get("id") == str(self.bot_user_id) for m in message.get("mentions") or [])

    def _redact(self, message: dict[str, Any]) -> dict[str, Any]:
        if not self._content_exempt(message):
            message.update(content="", embeds=[], attachments=[], components=[])
            message.pop("poll", None)
            if "message_snapshots" in message:
                message["message_snapshots"] = []
        referenced = message.get("referenced_message")
        if isinstance(referenced, dict):
            if "guild_id" in message:
                referenced.setdefault("guild_id", message["guild_id"])
            message["referenced_message"] = self._redact(referenced)
        return message

    # --------------------------------------------------------------------------------------------------------
    # gateway: emitting events
    # --------------------------------------------------------------------------------------------------------

    def _live_sessions(self) -> list[_Session]:
        return [s for s in self._sessions.values() if s.valid]

    def _session_wants(self, session: _Session, event: str, data: dict[str, Any]) -> bool:
        guild_raw = data.get("guild_id")
        if (
            guild_raw is None
            and event.startswith("GUILD_")
            and "id" in data
            and event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE")
        ):
            guild_raw = data["id"]
        guild_id = int(guild_raw) if guild_raw is not None else None
        if not session.owns_guild(guild_id):
            return False
        if guild_id is not None and event != "GUILD_DELETE" and guild_id not in self._guilds:
            return False
        required = _EVENT_INTENTS.get(event)
        if required is None:
            return True
        if isinstance(required, tuple):
            required = required[0] if guild_id is not None else required[1]
        if event == "GUILD_MEMBER_UPDATE" and data.get("user", {}).get("id") == str(self.bot_user_id):
            return True  # updates to the current user's member are always sent
        return bool(session.intents & required)

    def _emit_to(
        self, session: _Session, event: str | None, data: Any, op: int = OP_DISPATCH, *, record: bool = True
    ) -> None:
        """Give ``data`` the session's next sequence number, buffer it for RESUME and send it if connected."""
        if op == OP_DISPATCH and record and event is not None:
            self.dispatched.append((event, copy.deepcopy(data)))
        if op == OP_DISPATCH:
            session.seq += 1
            frame = {"t": event, "s": session.seq, "op": op, "d": data}
            session.buffer.append(frame)
            if len(session.buffer) > _BUFFER_LIMIT:
                del session.buffer[: len(session.buffer) - _BUFFER_LIMIT]
        else:
            frame = {"t": None, "s": None, "op": op, "d": data}
        if session.conn is not None and not session.conn.closed:
            self._track(session.conn.enqueue(frame))

    def _track(self, future: asyncio.Future[None]) -> asyncio.Future[None]:
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def _emit(
        self, event: str, data: dict[str, Any] | Callable[[_Session], dict[str, Any]]
    ) -> list[asyncio.Future[None]]:
        """Dispatch an event to every live session that should see it (intents, shard, content redaction)."""
        before = set(self._pending)
        canonical = data if isinstance(data, dict) else None
        for session in self._live_sessions():
            payload = data(session) if callable(data) else copy.deepcopy(data)
            if canonical is None:
                canonical = payload
            if not self._session_wants(session, event, payload):
                continue
            if (
                event in ("MESSAGE_CREATE", "MESSAGE_UPDATE")
                and not session.intents & Intents.MESSAGE_CONTENT
            ):
                payload = self._redact(payload)
            if event == "GUILD_CREATE":
                session.guild_ids.add(int(payload["id"]))
            self._emit_to(session, event, payload, record=False)
        if canonical is not None:
            self.dispatched.append((event, copy.deepcopy(canonical)))
        self._notify()
        return [f for f in self._pending if f not in before]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Raw escape hatch: dispatch any event (intent-filtered, sequenced, buffered for RESUME)."""
        futures = self._emit(event, data)
        if futures:
            await asyncio.gather(*futures)

    # --------------------------------------------------------------------------------------------------------
    # gateway: connections
    # --------------------------------------------------------------------------------------------------------

    async def _handle_gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        query = request.query
        self.gateway_connections.append({"path": request.path, "query": dict(query)})
        if query.get("v") != str(API_VERSION):
            await ws.close(code=4012, message=b"Invalid API version")
            return ws
        if query.get("encoding", "json") != "json":
            await ws.close(code=4002, message=b"Error while decoding payload.")
            return ws
        compression = query.get("compress")
        if compression not in (None, "zlib-stream", "zstd-stream") or (
            compression == "zstd-stream" and not _zstd_available()
        ):
            await ws.close(code=4002, message=b"Unsupported compression")
            return ws
        conn = _Connection(ws, request, compression, request.path)
        self._connections.append(conn)
        self._track(
            conn.enqueue(
                {
                    "t": None,
                    "s": None,
                    "op": OP_HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": _TRACE},
                }
            )
        )
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_gateway_payload(conn, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await self._close(conn, 4002, "Error while decoding payload.")
                else:
                    break
        except Exception:  # pragma: no cover - defensive: a sandbox bug must not hang the client
            log.exception("sandbox gateway handler failed")
            self.internal_errors.append("gateway handler crashed")
        finally:
            conn.shutdown()
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if ws.close_code in (1000, 1001) and not getattr(conn, "closed_by_server", False):
                    session.valid = False  # a clean client close ends the session (not resumable)
            with contextlib.suppress(ValueError):
                self._connections.remove(conn)
            self._notify()
        return ws

    async def _close(self, conn: _Connection, code: int, reason: str) -> None:
        conn.closed_by_server = True  # type: ignore[attr-defined]
        await self.flush()
        conn.shutdown()
        if conn.session is not None and conn.session.conn is conn:
            conn.session.conn = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.ws.close(code=code, message=reason.encode()), 2)

    async def _on_gateway_payload(self, conn: _Connection, text: str) -> None:
        try:
            payload = json.loads(text)
            op = payload["op"]
        except (ValueError, KeyError, TypeError):
            await self._close(conn, 4002, "Error while decoding payload.")
            return
        self.gateway_received.append(payload)
        data = payload.get("d")
        if op == OP_HEARTBEAT:
            self._track(conn.enqueue({"t": None, "s": None, "op": OP_HEARTBEAT_ACK, "d": None}))
        elif op == OP_IDENTIFY:
            await self._identify(conn, data or {})
        elif op == OP_RESUME:
            await self._resume(conn, data or {})
        elif conn.session is None:
            await self._close(conn, 4003, "Not authenticated.")
        elif op == OP_PRESENCE:
            self.presence = data
        elif op == OP_VOICE_STATE:
            pass
        elif op == OP_REQUEST_MEMBERS:
            self._request_members(conn.session, data or {})
        else:
            await self._close(conn, 4001, "Unknown opcode.")
        self._notify()

    def _token_ok(self, token: Any) -> bool:
        if not isinstance(token, str):
            return False
        return token.removeprefix("Bot ") == self.token

    async def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            await self._close(conn, 4005, "Already authenticated.")
            return
        if not self._token_ok(data.get("token")):
            await self._close(conn, 4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~Intents.ALL:
            await self._close(conn, 4013, "Invalid intent(s).")
            return
        if intents & Intents.PRIVILEGED & ~self.privileged_intents:
            await self._close(conn, 4014, "Disallowed intent(s).")
            return
        shard = data.get("shard")
        if shard is not None:
            valid = isinstance(shard, list) and len(shard) == 2 and 0 <= shard[0] < shard[1]
            if not valid:
                await self._close(conn, 4010, "Invalid shard.")
                return
            shard = (int(shard[0]), int(shard[1]))
        self.identify_payloads.append(copy.deepcopy(data))
        self.intents = intents
        threshold = min(max(int(data.get("large_threshold", 50)), 50), 250)
        session = _Session(id=secrets.token_hex(16), intents=intents, shard=shard, large_threshold=threshold)
        session.conn = conn
        conn.session = session
        self._sessions[session.id] = session
        guild_ids = [gid for gid in self._guilds if session.owns_guild(gid)]
        session.guild_ids.update(guild_ids)
        bot_user = copy.deepcopy(self._users[self.bot_user_id])
        bot_user.update(verified=True, mfa_enabled=False, email=None, bot=True)
        ready: dict[str, Any] = {
            "v": API_VERSION,
            "user_settings": {},
            "user": bot_user,
            "session_type": "normal",
            "session_id": session.id,
            "resume_gateway_url": self.resume_gateway_url,
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guilds": [{"id": str(gid), "unavailable": True} for gid in guild_ids],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["us-east", "us-central", "atlanta", "us-south", "newark"],
            "game_relationships": [],
            "auth": {},
            "application": {"id": str(self.application_id), "flags": self._application_flags()},
            "_trace": _TRACE,
        }
        if shard is not None:
            ready["shard"] = list(shard)
        before = set(self._pending)
        self._emit_to(session, "READY", ready)
        for gid in guild_ids:
            self._emit_to(session, "GUILD_CREATE", self._guild_create_payload(gid, session, initial=True))
        futures = [f for f in self._pending if f not in before]
        self._spawn(self._mark_ready(session, futures))

    async def _mark_ready(self, session: _Session, futures: list[asyncio.Future[None]]) -> None:
        if futures:
            await asyncio.gather(*futures)
        session.ready = True
        self.ready_count += 1
        covered: set[int] = set()
        for other in self._live_sessions():
            if other.ready:
                covered |= other.guild_ids
        if set(self._guilds) <= covered:  # every shard holding a guild has been sent its GUILD_CREATEs
            self._ready_event.set()
        self._notify()

    def _application_flags(self) -> int:
        flags = APP_FLAG_GATEWAY_PRESENCE_LIMITED | APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED
        flags |= APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED
        if self._global_commands or any(self._guild_commands.values()):
            flags |= APP_FLAG_APPLICATION_COMMAND_BADGE
        return flags

    async def _resume(self, conn: _Connection, data: dict[str, Any]) -> None:
        self.resume_payloads.append(copy.deepcopy(data))
        if not self._token_ok(data.get("token")):
            await self._close(conn, 4004, "Authentication failed.")
            return
        session = self._sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        if session is None or not session.valid or not isinstance(seq, int) or seq > session.seq:
            self.invalid_sessions_sent += 1
            self._track(conn.enqueue({"t": None, "s": None, "op": OP_INVALID_SESSION, "d": False}))
            return
        old = session.conn
        if old is not None and old is not conn:
            session.conn = None
            self._spawn(self._close(old, 4000, "Session resumed elsewhere."))
        session.conn = conn
        conn.session = session
        before = set(self._pending)
        missed = [frame for frame in session.buffer if frame["s"] > seq]
        for frame in missed:
            self._track(conn.enqueue(frame))
        self.replay_counts.append(len(missed))
        self._emit_to(session, "RESUMED", {"_trace": _TRACE})
        futures = [f for f in self._pending if f not in before]
        self._spawn(self._mark_resumed(futures))

    async def _mark_resumed(self, futures: list[asyncio.Future[None]]) -> None:
        if futures:
            await asyncio.gather(*futures)
        self.resumed_count += 1
        self._notify()

    def _request_members(self, session: _Session, data: dict[str, Any]) -> None:
        """OP 8 -> GUILD_MEMBERS_CHUNK(s), 1000 members per chunk, echoing the nonce."""
        raw_ids = data.get("guild_id")
        guild_ids = raw_ids if isinstance(raw_ids, list) else [raw_ids]
        query = str(data.get("query") or "").lower()
        limit = int(data.get("limit") or 0)
        wanted = data.get("user_ids")
        if wanted is not None and not isinstance(wanted, list):
            wanted = [wanted]
        for raw in guild_ids:
            gid = int(raw)
            guild = self._guilds.get(gid)
            if guild is None:
                continue
            not_found: list[str] = []
            if wanted is not None:
                ids = [int(u) for u in wanted if int(u) in guild.members]
                not_found = [str(u) for u in wanted if int(u) not in guild.members]
            else:
                ids = [
                    uid
                    for uid in guild.members
                    if not query
                    or self._users[uid]["username"].lower().startswith(query)
                    or (guild.members[uid]["nick"] or "").lower().startswith(query)
                ]
            if limit:
                ids = ids[:limit]
            chunks = [ids[i : i + 1000] for i in range(0, len(ids), 1000)] or [[]]
            for index, chunk in enumerate(chunks):
                payload: dict[str, Any] = {
                    "guild_id": str(gid),
                    "members": [self._member_payload(gid, uid) for uid in chunk],
                    "chunk_index": index,
                    "chunk_count": len(chunks),
                }
                if not_found and index == 0:
                    payload["not_found"] = not_found
                if data.get("presences"):
                    payload["presences"] = []
                if data.get("nonce") is not None:
                    payload["nonce"] = data["nonce"]
                self._emit_to(session, "GUILD_MEMBERS_CHUNK", payload)

    # --------------------------------------------------------------------------------------------------------
    # gateway faults
    # --------------------------------------------------------------------------------------------------------

    async def drop_gateway(self, *, code: int | None = None) -> None:
        """Abruptly end the bot's gateway connection(s) so discord.py RESUMEs.

        ``code=None`` aborts the TCP transport (the client sees 1006 abnormal closure); otherwise a close
        frame with ``code`` is sent (4000-4003/4005/4008 keep the session resumable; 4007/4009 invalidate it,
        so the client's RESUME gets INVALID_SESSION and it re-IDENTIFYs). Events dispatched while
        disconnected are buffered and replayed after RESUME.
        """
        for conn in list(self._connections):
            session = conn.session
            conn.closed_by_server = True  # type: ignore[attr-defined]
            conn.shutdown()
            if session is not None and session.conn is conn:
                session.conn = None
                if code in (4007, 4009):
                    session.valid = False
            if code is None:
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
            else:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        conn.ws.close(code=code, message=b"Sandbox dropped the connection"), 2
                    )
        self._notify()

    async def request_reconnect(self) -> None:
        """Send OP 7 RECONNECT (discord.py closes and RESUMEs)."""
        for session in self._live_sessions():
            self._emit_to(session, None, None, op=OP_RECONNECT)
        await self.flush()

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send OP 9 INVALID_SESSION; ``resumable=False`` forgets the session (the client re-IDENTIFYs)."""
        for session in self._live_sessions():
            if session.conn is None:
                continue
            self._emit_to(session, None, resumable, op=OP_INVALID_SESSION)
            self.invalid_sessions_sent += 1
            if not resumable:
                session.valid = False
        await self.flush()

    async def request_heartbeat(self) -> None:
        """Send OP 1 HEARTBEAT; the client must answer with its own heartbeat immediately."""
        for session in self._live_sessions():
            if session.conn is not None:
                self._track(
                    session.conn.enqueue({"t": None, "s": None, "op": OP_HEARTBEAT, "d": session.seq})
                )
        await self.flush()

    # --------------------------------------------------------------------------------------------------------
    # REST: infrastructure
    # --------------------------------------------------------------------------------------------------------

    def _compile_routes(self) -> list[_CompiledRoute]:
        compiled = []
        for method, template, handler, auth in _ROUTE_TABLE:
            parts = template.strip("/").split("/")
            pattern = "".join(
                f"/(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else "/" + re.escape(p) for p in parts
            )
            literal = sum(1 for p in parts if not p.startswith("{"))
            compiled.append(
                _CompiledRoute(method, template, re.compile(f"^{pattern}$"), handler, auth, literal)
            )
        return compiled

    def _match(self, method: str, path: str) -> tuple[_CompiledRoute | None, dict[str, str], bool]:
        """Most specific template matching ``path``; third value False if only other methods match (405)."""
        best: tuple[_CompiledRoute, dict[str, str]] | None = None
        any_method: tuple[_CompiledRoute, dict[str, str]] | None = None
        for route in self._routes:
            found = route.regex.match(path)
            if found is None:
                continue
            if any_method is None or route.literal_segments > any_method[0].literal_segments:
                any_method = (route, found.groupdict())
            if route.method == method and (best is None or route.literal_segments > best[0].literal_segments):
                best = (route, found.groupdict())
        if best is not None:
            return best[0], best[1], True
        if any_method is not None:
            return any_method[0], any_method[1], False
        return None, {}, False

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[str, str, bytes]], bool]:
        """(JSON body or payload_json, [(field, filename, bytes)], body_was_invalid)."""
        if not request.can_read_body:
            return None, [], False
        if request.content_type.startswith("multipart/"):
            body: Any = None
            files: list[tuple[str, str, bytes]] = []
            fields: dict[str, str] = {}
            bad = False
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):  # nested multipart: not used by Discord
                    continue
                raw = bytes(await part.read(decode=False))
                if part.name == "payload_json":
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        bad = True
                elif part.filename is not None:
                    files.append((part.name or "", part.filename, raw))
                elif part.name:
                    fields[part.name] = raw.decode("utf-8", "replace")
            if body is None and fields:
                body = dict(fields)
            return body, files, bad
        raw_body = await request.read()
        if not raw_body:
            return None, [], False
        try:
            return json.loads(raw_body), [], False
        except ValueError:
            return None, [], True

    def _ratelimit_headers(self, route: str) -> dict[str, str]:
        """Headers Discord sends on every routed response; the sandbox never throttles unless told to."""
        bucket = hashlib.md5(route.encode(), usedforsecurity=False).hexdigest()
        return {
            "Via": "1.1 google",
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
        }

    def fail_next(
        self,
        method: str,
        route: str,
        *,
        status: int = 429,
        retry_after: float = 0.05,
        times: int = 1,
        code: int | None = None,
        message: str | None = None,
        scope: str = "user",
    ) -> None:
        """Make the next ``times`` calls matching ``METHOD route`` fail with ``status``.

        429s carry ``Via``, ``Retry-After``, ``X-RateLimit-*`` (Remaining 0, Scope ``scope``) and a JSON body
        with ``retry_after`` and ``global`` (``scope='global'``), so discord.py waits and retries. Other
        statuses get a Discord error body ``{"message": ..., "code": ...}`` (discord.py retries 500/502/504
        after sleeping 1s+).
        """
        self._faults.append(_Fault(method.upper(), route, status, retry_after, times, code, message, scope))

    def _take_fault(self, call: RecordedCall) -> _Fault | None:
        for fault in self._faults:
            if fault.times > 0 and call.matches(fault.method, fault.route):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _fault_reply(self, fault: _Fault) -> tuple[int, dict[str, Any], dict[str, str]]:
        if fault.status == 429:
            retry = fault.retry_after
            body: dict[str, Any] = {
                "message": "You are being rate limited.",
                "retry_after": retry,
                "global": fault.scope == "global",
            }
            if fault.code is not None:
                body["code"] = fault.code
            headers = {
                "Retry-After": str(max(1, math.ceil(retry))),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
                "X-RateLimit-Reset-After": f"{retry:.3f}",
                "X-RateLimit-Scope": fault.scope,
            }
            if fault.scope == "global":
                headers["X-RateLimit-Global"] = "true"
            return 429, body, headers
        reason = _REASONS.get(fault.status, "Error")
        body = {"message": fault.message or f"{fault.status}: {reason}", "code": fault.code or 0}
        return fault.status, body, {}

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        found = re.match(r"^/api(?:/v\d+)?(/.*)?$", request.path)
        sub = ((found.group(1) if found else None) or request.path).rstrip("/") or "/"
        route, params, method_ok = self._match(request.method, sub) if found else (None, {}, False)
        try:
            body, files, bad_body = await self._read_body(request)
        except (ValueError, UnicodeDecodeError, AssertionError):
            body, files, bad_body = None, [], True
        call = RecordedCall(
            method=request.method,
            path=sub,
            route=route.template if route is not None else sub,
            query=dict(request.query),
            json=body,
            files=[(filename, data) for _, filename, data in files],
            status=0,
            headers=dict(request.headers),
        )
        self.rest.calls.append(call)
        headers = self._ratelimit_headers(call.route)
        status: int
        payload: Any
        try:
            fault = self._take_fault(call)
            if fault is not None:
                status, payload, extra = self._fault_reply(fault)
                headers.update(extra)
            elif route is None:
                raise _ApiError(404, 0, "404: Not Found")
            elif not method_ok:
                raise _ApiError(405, 0, "405: Method Not Allowed")
            else:
                if route.auth and not self._authorized(request):
                    raise _ApiError(401, 0, "401: Unauthorized")
                if bad_body:
                    raise _ApiError(400, 50109, "The request body contains invalid JSON.")
                for name, value in params.items():
                    if (name.endswith("_id") or name in ("target",)) and not value.isdigit():
                        raise _form_error([name], "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')
                req = _Req(request, params, dict(request.query), body, files, call)
                result = await getattr(self, route.handler)(req)
                if isinstance(result, _Reply):
                    status, payload = result.status, result.body
                elif result is None:
                    status, payload = 204, None
                else:
                    status, payload = 200, result
        except _ApiError as error:
            status, payload = error.status, error.payload
        except Exception as error:
            log.exception("sandbox REST handler crashed for %s %s", request.method, sub)
            self.internal_errors.append(f"{request.method} {sub}: {error!r}")
            status, payload = 500, {"message": "500: Internal Server Error", "code": 0}
        call.status = status
        call.response = payload
        self._notify()
        if status == 204 or payload is None:
            return web.Response(status=status if status != 200 else 204, headers=headers)
        headers["Content-Type"] = "application/json"
        return web.Response(status=status, body=json.dumps(payload).encode(), headers=headers)

    async def _handle_cdn(self, request: web.Request) -> web.Response:
        """Serve uploaded attachments and a placeholder PNG for avatars/icons/emojis."""
        tail = request.match_info["tail"]
        stored = self._cdn.get(tail)
        if stored is not None:
            data, content_type = stored
            return web.Response(body=data, headers={"Content-Type": content_type})
        if tail.split("/", 1)[0] in (
            "embed",
            "avatars",
            "icons",
            "banners",
            "app-icons",
            "role-icons",
            "emojis",
            "guilds",
            "splashes",
            "avatar-decoration-presets",
        ):
            return web.Response(body=_PNG, headers={"Content-Type": "image/png"})
        return web.Response(status=404, text="Not Found")

    # --------------------------------------------------------------------------------------------------------
    # REST: shared lookups and checks
    # --------------------------------------------------------------------------------------------------------

    def _channel(self, channel_id: int) -> dict[str, Any]:
        try:
            return self._channels[channel_id]
        except KeyError:
            raise _not_found(10003, "Channel") from None

    def _guild_id_of(self, channel: dict[str, Any]) -> int | None:
        raw = channel.get("guild_id")
        return int(raw) if raw is not None else None

    def _bot_permissions(self, channel: dict[str, Any]) -> int:
        guild_id = self._guild_id_of(channel)
        if guild_id is None:
            return ALL_PERMISSIONS & ~(Permissions.MANAGE_MESSAGES | Permissions.MANAGE_CHANNELS)
        return self.compute_permissions(guild_id, self.bot_user_id, int(channel["id"]))

    def _require(self, channel: dict[str, Any], *needed: int) -> int:
        """Bot needs VIEW_CHANNEL (else 50001 Missing Access) and, per entry, at least one of its bits."""
        perms = self._bot_permissions(channel)
        if not perms & Permissions.VIEW_CHANNEL:
            raise _ApiError(403, 50001, "Missing Access")
        for bits in needed:
            if not perms & bits:
                raise _missing_permissions()
        return perms

    def _require_guild(self, guild_id: int, *needed: int) -> int:
        self._guild(guild_id)
        perms = self.compute_permissions(guild_id, self.bot_user_id)
        for bits in needed:
            if not perms & bits:
                raise _missing_permissions()
        return perms

    def _top_role_position(self, guild_id: int, user_id: int) -> int:
        guild = self._guild(guild_id)
        member = guild.members.get(user_id)
        if member is None:
            return 0
        return max(
            (guild.roles[int(r)]["position"] for r in member["roles"] if int(r) in guild.roles), default=0
        )

    def _check_hierarchy(
        self, guild_id: int, *, role_id: int | None = None, user_id: int | None = None
    ) -> None:
        """The bot can only manage roles/members strictly below its highest role (owners are untouchable)."""
        guild = self._guild(guild_id)
        if str(self.bot_user_id) == guild.data["owner_id"]:
            return
        mine = self._top_role_position(guild_id, self.bot_user_id)
        if role_id is not None and guild.roles[role_id]["position"] >= mine:
            raise _missing_permissions()
        if user_id is not None and (
            str(user_id) == guild.data["owner_id"] or self._top_role_position(guild_id, user_id) >= mine
        ):
            raise _missing_permissions()

    def _stored_message(self, channel_id: int, message_id: int) -> dict[str, Any]:
        stored = self._messages.get(message_id)
        if stored is None or stored["channel_id"] != str(channel_id) or stored.get("_ephemeral"):
            raise _not_found(10008, "Message")
        return stored

    # --------------------------------------------------------------------------------------------------------
    # messages: validation and construction (shared by bot REST, webhooks, interactions and injected messages)
    # --------------------------------------------------------------------------------------------------------

    @staticmethod
    def _walk_components(components: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        for component in components:
            yield component
            yield from DiscordSandbox._walk_components(component.get("components") or [])
            for key in ("component", "accessory"):
                child = component.get(key)
                if isinstance(child, dict):
                    yield from DiscordSandbox._walk_components([child])

    @staticmethod
    def _assign_component_ids(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Discord fills in missing numeric component ``id``s with an increasing sequence."""
        components = copy.deepcopy(components)
        walked = list(DiscordSandbox._walk_components(components))
        used = {c["id"] for c in walked if isinstance(c.get("id"), int)}
        counter = 0
        for component in walked:
            if not isinstance(component.get("id"), int):
                counter += 1
                while counter in used:
                    counter += 1
                component["id"] = counter
                used.add(counter)
        return components

    def _validate_message(
        self, payload: dict[str, Any], files: Sequence[Any], *, existing_attachments: int = 0
    ) -> None:
        """Cheap versions of Discord's message validation (limits, empty messages, component rules)."""
        content = payload.get("content")
        if content is not None and len(str(content)) > 2000:
            raise _form_error(["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = payload.get("embeds") or []
        if len(embeds) > 10:
            raise _form_error(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        limits = {"title": 256, "description": 4096}
        for index, embed in enumerate(embeds):
            for key, limit in limits.items():
                value = embed.get(key) or ""
                total += len(value)
                if len(value) > limit:
                    raise _form_error(
                        ["embeds", index, key], "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."
                    )
            fields = embed.get("fields") or []
            if len(fields) > 25:
                raise _form_error(
                    ["embeds", index, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            for f_index, fld in enumerate(fields):
                for key, limit in (("name", 256), ("value", 1024)):
                    value = str(fld.get(key) or "")
                    total += len(value)
                    if not value:
                        raise _form_error(
                            ["embeds", index, "fields", f_index, key],
                            "BASE_TYPE_REQUIRED",
                            "This field is required",
                        )
                    if len(value) > limit:
                        raise _form_error(
                            ["embeds", index, "fields", f_index, key],
                            "BASE_TYPE_MAX_LENGTH",
                            f"Must be {limit} or fewer in length.",
                        )
            footer = (embed.get("footer") or {}).get("text") or ""
            author = (embed.get("author") or {}).get("name") or ""
            if len(footer) > 2048 or len(author) > 256:
                raise _form_error(["embeds", index], "BASE_TYPE_MAX_LENGTH", "Embed footer/author too long.")
            total += len(footer) + len(author)
        if total > 6000:
            raise _form_error(
                ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
        components = payload.get("components") or []
        flags = int(payload.get("flags") or 0)
        if flags & FLAG_COMPONENTS_V2:
            if content or embeds or payload.get("poll"):
                raise _form_error(
                    ["content"],
                    "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                    "The 'content' and 'embeds' fields cannot be used when using "
                    "MessageFlags.IS_COMPONENTS_V2",
                )
        else:
            if len(components) > 5:
                raise _form_error(["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            for index, row in enumerate(components):
                if row.get("type") != 1:
                    raise _form_error(
                        ["components", index, "type"],
                        "UNION_TYPE_CHOICES",
                        'Value of field "type" must be one of (1,).',
                    )
                children = row.get("components") or []
                if not children or len(children) > 5:
                    raise _form_error(
                        ["components", index, "components"],
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 5 in length.",
                    )
                if any(c.get("type") in _SELECT_TYPES for c in children) and len(children) > 1:
                    raise _form_error(
                        ["components", index, "components"],
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "The specified component exceeds the maximum width",
                    )
        seen: set[str] = set()
        for component in self._walk_components(components):
            custom_id = component.get("custom_id")
            if component.get("type") == 2:
                if component.get("style") == 5:
                    if not component.get("url") or custom_id:
                        raise _form_error(
                            ["components"], "BUTTON_COMPONENT_INVALID_URL", "Link buttons need a url"
                        )
                elif component.get("style") != 6 and not custom_id:
                    raise _form_error(
                        ["components"], "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id is required"
                    )
                if len(component.get("label") or "") > 80:
                    raise _form_error(
                        ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length."
                    )
            if custom_id is not None:
                if len(custom_id) > 100:
                    raise _form_error(
                        ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."
                    )
                if custom_id in seen:
                    raise _form_error(
                        ["components"],
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)
        has_body = (
            bool(content)
            or bool(embeds)
            or bool(files)
            or existing_attachments > 0
            or bool(components)
            or bool(payload.get("sticker_ids"))
            or bool(payload.get("poll"))
        )
        if not has_body:
            raise _ApiError(400, 50006, "Cannot send an empty message")

    def _make_attachments(
        self,
        channel_id: int,
        payload: dict[str, Any],
        files: Sequence[tuple[str, str, bytes]],
        existing: dict[str, dict[str, Any]] | None = None,
        *,
        ephemeral: bool = False,
    ) -> list[dict[str, Any]]:
        """Turn multipart ``files[n]`` + the ``attachments`` array into attachments served by the CDN."""
        by_index: dict[int, tuple[str, bytes]] = {}
        for position, (field_name, filename, data) in enumerate(files):
            found = re.fullmatch(r"files\[(\d+)\]", field_name)
            by_index[int(found.group(1)) if found else position] = (filename, data)
        specs = payload.get("attachments")
        if specs is None:
            specs = [{"id": index} for index in sorted(by_index)]
        result = []
        for index, spec in enumerate(specs):
            raw_id = spec.get("id")
            if existing is not None and str(raw_id) in existing:
                result.append(copy.deepcopy(existing[str(raw_id)]))
                continue
            try:
                filename, data = by_index[int(raw_id)]
            except (KeyError, TypeError, ValueError):
                raise _form_error(
                    ["attachments", index], "ATTACHMENT_NOT_FOUND", "Attachment not found"
                ) from None
            filename = spec.get("filename") or filename
            result.append(
                self._store_attachment(channel_id, filename, data, spec.get("description"), ephemeral)
            )
        return result

    def _store_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> dict[str, Any]:
        attachment_id = self._ids.next()
        safe_name = re.sub(r"[^\w.\-]", "_", filename) or "unknown"
        path = f"attachments/{channel_id}/{attachment_id}/{safe_name}"
        content_type = mimetypes.guess_type(safe_name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type == "application/json":
            content_type += "; charset=utf-8"
        self._cdn[path] = (data, content_type)
        issued = int(time.time())
        signature = hashlib.sha256(f"{path}{issued}".encode()).hexdigest()
        url = f"{self.cdn_base}/{path}?ex={issued + 86400:x}&is={issued:x}&hm={signature}&"
        attachment: dict[str, Any] = {
            "id": str(attachment_id),
            "filename": safe_name,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }
        if description:
            attachment["description"] = description
        if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
            attachment["width"] = int.from_bytes(data[16:20], "big")
            attachment["height"] = int.from_bytes(data[20:24], "big")
        if ephemeral:
            attachment["ephemeral"] = True
        return attachment

    def _resolve_mentions(
        self,
        guild_id: int | None,
        content: str,
        allowed: dict[str, Any] | None,
        *,
        author_perms: int,
        reply_author: int | None,
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        """Which users/roles/@everyone a message really mentions, honouring ``allowed_mentions``."""
        user_ids: list[int] = []
        for raw in _USER_MENTION_RE.findall(content):
            uid = int(raw)
            if uid in self._users and uid not in user_ids:
                user_ids.append(uid)
        guild = self._guilds.get(guild_id) if guild_id is not None else None
        role_ids: list[int] = []
        if guild is not None:
            for raw in _ROLE_MENTION_RE.findall(content):
                rid = int(raw)
                role = guild.roles.get(rid)
                if (
                    role is not None
                    and rid not in role_ids
                    and (role["mentionable"] or author_perms & Permissions.MENTION_EVERYONE)
                ):
                    role_ids.append(rid)
        everyone = ("@everyone" in content or "@here" in content) and bool(
            author_perms & Permissions.MENTION_EVERYONE
        )
        replied = True
        if allowed is not None:
            parse = allowed.get("parse") or []
            if "users" not in parse:
                explicit = {int(u) for u in allowed.get("users") or []}
                user_ids = [u for u in user_ids if u in explicit]
            if "roles" not in parse:
                explicit_roles = {int(r) for r in allowed.get("roles") or []}
                role_ids = [r for r in role_ids if r in explicit_roles]
            everyone = everyone and "everyone" in parse
            replied = bool(allowed.get("replied_user", False))
        if reply_author is not None and replied and reply_author not in user_ids:
            user_ids.append(reply_author)
        return [copy.deepcopy(self._users[u]) for u in user_ids], [str(r) for r in role_ids], everyone

    def _create_message(
        self,
        channel: dict[str, Any],
        author: dict[str, Any],
        payload: dict[str, Any],
        files: Sequence[tuple[str, str, bytes]] = (),
        *,
        msg_type: int | None = None,
        flags: int = 0,
        author_perms: int = ALL_PERMISSIONS,
        message_id: int | None = None,
        timestamp: datetime | None = None,
        extra: dict[str, Any] | None = None,
        ephemeral: bool = False,
        attachments: list[dict[str, Any]] | None = None,
        store: bool = True,
    ) -> dict[str, Any]:
        """Build and store a message; callers validate first and emit MESSAGE_CREATE themselves."""
        channel_id = int(channel["id"])
        guild_id = self._guild_id_of(channel)
        if message_id is None:
            message_id = self._ids.next(timestamp)
            when = timestamp or snowflake_time(message_id)
        else:
            self._ids.reserve(message_id)
            when = timestamp or _now()
        content = "" if payload.get("content") is None else str(payload["content"])
        reference = payload.get("message_reference")
        reply_author = None
        if reference is not None and reference.get("type", 0) == 0:
            target = self._messages.get(int(reference["message_id"]))
            if target is not None and "webhook_id" not in target:
                reply_author = int(target["author"]["id"])
        mentions, mention_roles, everyone = self._resolve_mentions(
            guild_id,
            content,
            payload.get("allowed_mentions"),
            author_perms=author_perms,
            reply_author=reply_author,
        )
        embeds = []
        for embed in payload.get("embeds") or []:
            clean = {k: v for k, v in embed.items() if v is not None}
            clean.setdefault("type", "rich")
            clean["content_scan_version"] = 0
            embeds.append(clean)
        message: dict[str, Any] = {
            "type": msg_type
            if msg_type is not None
            else (
                19
                if reply_author is not None or (reference is not None and reference.get("type", 0) == 0)
                else 0
            ),
            "content": content,
            "mentions": mentions,
            "mention_roles": mention_roles,
            "attachments": attachments
            if attachments is not None
            else self._make_attachments(channel_id, payload, files, ephemeral=ephemeral),
            "embeds": embeds,
            "timestamp": _iso(when),
            "edited_timestamp": None,
            "flags": flags,
            "components": self._assign_component_ids(payload.get("components") or []),
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": copy.deepcopy(author),
            "pinned": False,
            "mention_everyone": everyone,
            "tts": bool(payload.get("tts", False)),
        }
        if payload.get("nonce") is not None:
            message["nonce"] = payload["nonce"]
        if reference is not None:
            message["message_reference"] = {
                "type": reference.get("type", 0),
                "channel_id": str(reference.get("channel_id") or channel_id),
                "message_id": str(reference["message_id"]),
            }
            if guild_id is not None:
                message["message_reference"]["guild_id"] = str(reference.get("guild_id") or guild_id)
        if payload.get("sticker_ids"):
            message["sticker_items"] = [
                {"id": str(s), "name": "sticker", "format_type": 1} for s in payload["sticker_ids"]
            ]
        if payload.get("poll"):
            message["poll"] = self._make_poll(payload["poll"], when)
        if extra:
            message.update(extra)
        if guild_id is not None:
            message["_guild_id"] = guild_id
        message["_reactions"] = {}
        if ephemeral:
            message["_ephemeral"] = True
        if channel["type"] in _THREAD_TYPES and not ephemeral and store:
            message["position"] = channel.get("total_message_sent", 0)
        if store:
            self._messages[message_id] = message
            if not ephemeral:
                self._channel_messages.setdefault(channel_id, []).append(message_id)
                channel["last_message_id"] = str(message_id)
                if channel["type"] in _THREAD_TYPES:
                    channel["message_count"] = channel.get("message_count", 0) + 1
                    channel["total_message_sent"] = channel.get("total_message_sent", 0) + 1
        return message

    def _make_poll(self, poll: dict[str, Any], when: datetime) -> dict[str, Any]:
        answers = [
            {"answer_id": index + 1, "poll_media": answer.get("poll_media", {})}
            for index, answer in enumerate(poll.get("answers") or [])
        ]
        return {
            "question": poll.get("question", {}),
            "answers": answers,
            "expiry": _iso(when + timedelta(hours=int(poll.get("duration") or 24))),
            "allow_multiselect": bool(poll.get("allow_multiselect", False)),
            "layout_type": int(poll.get("layout_type") or 1),
            "results": {"is_finalized": False, "answer_counts": []},
        }

    def _edit_message(
        self,
        stored: dict[str, Any],
        payload: dict[str, Any],
        files: Sequence[tuple[str, str, bytes]],
        *,
        author_perms: int = ALL_PERMISSIONS,
        flag_mask: int = _SETTABLE_MESSAGE_FLAGS,
    ) -> dict[str, Any]:
        """Apply a PATCH-style edit (content/embeds/components/attachments/flags), then MESSAGE_UPDATE."""
        candidate = {
            "content": payload.get("content", stored["content"]),
            "embeds": payload.get("embeds", stored["embeds"]),
            "components": payload.get("components", stored["components"]),
            "flags": payload.get("flags", stored["flags"]),
            "sticker_ids": [s["id"] for s in stored.get("sticker_items", [])],
            "poll": stored.get("poll"),
        }
        existing = {a["id"]: a for a in stored["attachments"]}
        if "attachments" in payload or files:
            attachments = self._make_attachments(
                int(stored["channel_id"]), payload, files, existing, ephemeral=bool(stored.get("_ephemeral"))
            )
        else:
            attachments = stored["attachments"]
        self._validate_message(candidate, [], existing_attachments=len(attachments))
        if "content" in payload:
            content = "" if payload["content"] is None else str(payload["content"])
            stored["content"] = content
            guild_id = stored.get("_guild_id")
            mentions, roles, everyone = self._resolve_mentions(
                guild_id,
                content,
                payload.get("allowed_mentions"),
                author_perms=author_perms,
                reply_author=None,
            )
            stored.update(mentions=mentions, mention_roles=roles, mention_everyone=everyone)
        if "embeds" in payload:
            stored["embeds"] = [
                {**{k: v for k, v in e.items() if v is not None}, "type": e.get("type") or "rich"}
                for e in payload["embeds"] or []
            ]
        if "components" in payload:
            stored["components"] = self._assign_component_ids(payload["components"] or [])
        if "flags" in payload and payload["flags"] is not None:
            keep = stored["flags"] & ~flag_mask
            stored["flags"] = keep | (int(payload["flags"]) & flag_mask)
        stored["attachments"] = attachments
        stored["flags"] &= ~FLAG_LOADING
        stored["edited_timestamp"] = _iso(_now())
        if not stored.get("_ephemeral"):
            self._emit("MESSAGE_UPDATE", self._render_message(stored, gateway=True))
        return stored

    def _delete_message(self, stored: dict[str, Any]) -> None:
        message_id = int(stored["id"])
        channel_id = int(stored["channel_id"])
        self._messages.pop(message_id, None)
        with contextlib.suppress(ValueError):
            self._channel_messages.get(channel_id, []).remove(message_id)
        channel = self._channels.get(channel_id)
        if channel is not None and channel["type"] in _THREAD_TYPES:
            channel["message_count"] = max(0, channel.get("message_count", 0) - 1)
        if stored.get("_ephemeral"):
            return
        payload: dict[str, Any] = {"id": str(message_id), "channel_id": str(channel_id)}
        if stored.get("_guild_id") is not None:
            payload["guild_id"] = str(stored["_guild_id"])
        self._emit("MESSAGE_DELETE", payload)

    def _check_reference(self, channel: dict[str, Any], payload: dict[str, Any]) -> None:
        """Replies must point at an existing message in the same channel (unless fail_if_not_exists=false)."""
        reference = payload.get("message_reference")
        if reference is None:
            return
        try:
            message_id = int(reference["message_id"])
        except (KeyError, TypeError, ValueError):
            raise _form_error(
                ["message_reference", "message_id"], "BASE_TYPE_REQUIRED", "This field is required"
            ) from None
        ref_type = int(reference.get("type", 0))
        target_channel = int(reference.get("channel_id") or channel["id"])
        target = self._messages.get(message_id)
        exists = (
            target is not None
            and target["channel_id"] == str(target_channel)
            and not target.get("_ephemeral")
        )
        if ref_type == 0 and target_channel != int(channel["id"]):
            raise _form_error(
                ["message_reference"],
                "REPLIES_CANNOT_REFERENCE_OTHER_CHANNEL",
                "Cannot reply to a message in a different channel",
            )
        if not exists:
            if reference.get("fail_if_not_exists", True):
                raise _form_error(
                    ["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
            del payload["message_reference"]
            return
        if ref_type == 1 and target is not None:
            if payload.get("content") or payload.get("embeds"):
                raise _form_error(["content"], "MESSAGE_FORWARD_INVALID", "Forwards cannot have content")
            snapshot = {
                key: copy.deepcopy(target[key])
                for key in (
                    "type",
                    "content",
                    "embeds",
                    "attachments",
                    "timestamp",
                    "edited_timestamp",
                    "flags",
                    "mentions",
                    "mention_roles",
                    "components",
                )
            }
            payload["_snapshot"] = [{"message": snapshot}]

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: users, gateway, application
    # --------------------------------------------------------------------------------------------------------

    def _bot_me(self) -> dict[str, Any]:
        me = copy.deepcopy(self._users[self.bot_user_id])
        me.update(bot=True, verified=True, mfa_enabled=False, locale="en-US", email=None, bio="")
        return me

    @_route("GET", "/users/@me")
    async def _get_me(self, req: _Req) -> Any:
        return self._bot_me()

    @_route("PATCH", "/users/@me")
    async def _patch_me(self, req: _Req) -> Any:
        body = req.obj()
        user = self._users[self.bot_user_id]
        if "username" in body:
            name = str(body["username"])
            if not 2 <= len(name) <= 32:
                raise _form_error(["username"], "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 32 in length.")
            user["username"] = name
        if "avatar" in body:
            user["avatar"] = secrets.token_hex(16) if body["avatar"] else None
        self._emit("USER_UPDATE", self._bot_me())
        return self._bot_me()

    @_route("GET", "/users/{user_id}")
    async def _get_user(self, req: _Req) -> Any:
        try:
            return copy.deepcopy(self._users[req.id("user_id")])
        except KeyError:
            raise _not_found(10013, "User") from None

    @_route("GET", "/users/@me/guilds")
    async def _get_my_guilds(self, req: _Req) -> Any:
        return [
            {
                "id": g.data["id"],
                "name": g.data["name"],
                "icon": None,
                "banner": None,
                "owner": g.data["owner_id"] == str(self.bot_user_id),
                "permissions": str(self.compute_permissions(int(g.data["id"]), self.bot_user_id)),
                "features": list(g.data["features"]),
            }
            for g in self._guilds.values()
        ]

    @_route("POST", "/users/@me/channels")
    async def _create_dm(self, req: _Req) -> Any:
        body = req.obj()
        try:
            recipient = int(body["recipient_id"])
        except (KeyError, TypeError, ValueError):
            raise _form_error(["recipient_id"], "BASE_TYPE_REQUIRED", "This field is required") from None
        if recipient not in self._users:
            raise _not_found(10013, "User")
        return self.channel(self.open_dm(recipient))

    @_route("GET", "/gateway", auth=False)
    async def _get_gateway(self, req: _Req) -> Any:
        return {"url": self.gateway_url}

    @_route("GET", "/gateway/bot")
    async def _get_gateway_bot(self, req: _Req) -> Any:
        return {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": max(0, 1000 - len(self.identify_payloads)),
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self._users[self.bot_user_id]["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": hashlib.sha256(self.token.encode()).hexdigest(),
            "flags": self._application_flags(),
            "owner": copy.deepcopy(self._users[self.owner_user_id]),
            "team": None,
            "bot": copy.deepcopy(self._users[self.bot_user_id]),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "approximate_guild_count": len(self._guilds),
            "approximate_user_install_count": 0,
            "integration_types_config": {"0": {}},
            "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "8"},
            "rpc_origins": [],
        }

    @_route("GET", "/applications/@me")
    async def _get_application(self, req: _Req) -> Any:
        return self._application()

    @_route("GET", "/oauth2/applications/@me")
    async def _get_oauth_application(self, req: _Req) -> Any:
        return self._application()

    @_route("GET", "/applications/{application_id}/emojis")
    async def _get_app_emojis(self, req: _Req) -> Any:
        self._check_app(req)
        return {"items": []}

    @_route("GET", "/applications/{application_id}/entitlements")
    async def _get_entitlements(self, req: _Req) -> Any:
        self._check_app(req)
        return []

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: application commands
    # --------------------------------------------------------------------------------------------------------

    def _check_app(self, req: _Req) -> None:
        if req.id("application_id") != self.application_id:
            raise _ApiError(403, 50001, "Missing Access")

    def _command_store(self, req: _Req) -> tuple[dict[int, dict[str, Any]], int | None]:
        self._check_app(req)
        if "guild_id" in req.params:
            guild_id = req.id("guild_id")
            self._guild(guild_id)
            return self._guild_commands.setdefault(guild_id, {}), guild_id
        return self._global_commands, None

    def _validate_options(self, options: list[dict[str, Any]], path: list[str | int]) -> None:
        if len(options) > 25:
            raise _form_error([*path, "options"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        names: set[str] = set()
        seen_optional = False
        for index, option in enumerate(options):
            where = [*path, "options", index]
            name = option.get("name")
            if not isinstance(name, str) or not _COMMAND_NAME_RE.match(name) or name != name.lower():
                raise _form_error(
                    [*where, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            if name in names:
                raise _form_error(
                    [*where, "name"],
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Option name already exists",
                )
            names.add(name)
            description = option.get("description") or ""
            if not 1 <= len(description) <= 100:
                raise _form_error(
                    [*where, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            if option.get("type") in (1, 2):
                self._validate_options(option.get("options") or [], where)
                continue
            if option.get("required"):
                if seen_optional:
                    raise _form_error(
                        [*path, "options"],
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
            if len(option.get("choices") or []) > 25:
                raise _form_error(
                    [*where, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )

    def _validate_command(self, command: Any, path: list[str | int]) -> None:
        if not isinstance(command, dict):
            raise _form_error(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        kind = int(command.get("type", 1))
        name = command.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            raise _form_error([*path, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
        if kind == 1:
            if not _COMMAND_NAME_RE.match(name) or name != name.lower():
                raise _form_error(
                    [*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            if not 1 <= len(command.get("description") or "") <= 100:
                raise _form_error(
                    [*path, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            self._validate_options(command.get("options") or [], path)
        elif command.get("description"):
            raise _form_error(
                [*path, "description"],
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have description",
            )

    def _store_command(
        self, store: dict[int, dict[str, Any]], guild_id: int | None, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        kind = int(body.get("type", 1))
        existing = next((c for c in store.values() if c["name"] == body["name"] and c["type"] == kind), None)
        command_id = int(existing["id"]) if existing else self._ids.next()
        command: dict[str, Any] = {
            "id": str(command_id),
            "application_id": str(self.application_id),
            "version": str(self._ids.next()),
            "default_member_permissions": body.get("default_member_permissions"),
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations"),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": bool(body.get("nsfw", False)),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        else:
            command["dm_permission"] = body.get("dm_permission", True)
        if body.get("options"):
            command["options"] = copy.deepcopy(body["options"])
        store[command_id] = command
        return copy.deepcopy(command), existing is None

    @_route("GET", "/applications/{application_id}/commands")
    async def _get_global_commands(self, req: _Req) -> Any:
        store, _ = self._command_store(req)
        return [copy.deepcopy(c) for c in store.values()]

    @_route("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _get_guild_commands(self, req: _Req) -> Any:
        return await self._get_global_commands(req)

    @_route("PUT", "/applications/{application_id}/commands")
    async def _put_global_commands(self, req: _Req) -> Any:
        store, guild_id = self._command_store(req)
        body = req.body if req.body is not None else []
        if not isinstance(body, list):
            raise _form_error([], "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        if len(body) > 100:
            raise _form_error([], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        keys = set()
        for index, command in enumerate(body):
            self._validate_command(command, [index])
            key = (command["name"], int(command.get("type", 1)))
            if key in keys:
                raise _form_error(
                    [index, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            keys.add(key)
        previous = dict(store)
        store.clear()
        result = []
        for command in body:
            match = next(
                (
                    c
                    for c in previous.values()
                    if c["name"] == command["name"] and c["type"] == int(command.get("type", 1))
                ),
                None,
            )
            if match is not None:
                store[int(match["id"])] = match  # keep the id Discord already assigned
            stored, _ = self._store_command(store, guild_id, command)
            result.append(stored)
        return result

    @_route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _put_guild_commands(self, req: _Req) -> Any:
        return await self._put_global_commands(req)

    @_route("POST", "/applications/{application_id}/commands")
    async def _post_global_command(self, req: _Req) -> Any:
        store, guild_id = self._command_store(req)
        body = req.obj()
        self._validate_command(body, [])
        stored, created = self._store_command(store, guild_id, body)
        return _Reply(201 if created else 200, stored)

    @_route("POST", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _post_guild_command(self, req: _Req) -> Any:
        return await self._post_global_command(req)

    def _command(self, req: _Req) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
        store, _ = self._command_store(req)
        try:
            return store, store[req.id("command_id")]
        except KeyError:
            raise _not_found(10063, "application command") from None

    @_route("GET", "/applications/{application_id}/commands/{command_id}")
    async def _get_command(self, req: _Req) -> Any:
        return copy.deepcopy(self._command(req)[1])

    @_route("GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
    async def _get_guild_command(self, req: _Req) -> Any:
        return await self._get_command(req)

    @_route("PATCH", "/applications/{application_id}/commands/{command_id}")
    async def _patch_command(self, req: _Req) -> Any:
        _, command = self._command(req)
        body = req.obj()
        merged = {**command, **{k: v for k, v in body.items() if k != "id"}}
        self._validate_command(merged, [])
        command.update({k: v for k, v in body.items() if k != "id"})
        command["version"] = str(self._ids.next())
        return copy.deepcopy(command)

    @_route("PATCH", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
    async def _patch_guild_command(self, req: _Req) -> Any:
        return await self._patch_command(req)

    @_route("DELETE", "/applications/{application_id}/commands/{command_id}")
    async def _delete_command(self, req: _Req) -> Any:
        store, command = self._command(req)
        del store[int(command["id"])]
        return None

    @_route("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
    async def _delete_guild_command(self, req: _Req) -> Any:
        return await self._delete_command(req)

    @_route("GET", "/applications/{application_id}/guilds/{guild_id}/commands/permissions")
    async def _get_command_permissions(self, req: _Req) -> Any:
        self._command_store(req)
        return []

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: channels and messages
    # --------------------------------------------------------------------------------------------------------

    def _render_channel(self, channel: dict[str, Any]) -> dict[str, Any]:
        return _public(channel)

    @_route("GET", "/channels/{channel_id}")
    async def _get_channel(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel)
        return self._render_channel(channel)

    @_route("PATCH", "/channels/{channel_id}")
    async def _patch_channel(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        body = req.obj()
        is_thread = channel["type"] in _THREAD_TYPES
        if channel["type"] == CH_DM:
            raise _ApiError(403, 50003, "Cannot execute action on a DM channel")
        if is_thread:
            perms = self._require(channel)
            owner = channel.get("owner_id") == str(self.bot_user_id)
            if not perms & Permissions.MANAGE_THREADS and not (
                owner and set(body) <= {"name", "archived", "auto_archive_duration"}
            ):
                raise _missing_permissions()
        else:
            self._require(channel, Permissions.MANAGE_CHANNELS)
            if "permission_overwrites" in body:
                self._require(channel, Permissions.MANAGE_ROLES)
        if "name" in body:
            name = str(body["name"] or "")
            if not 1 <= len(name) <= 100:
                raise _form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            channel["name"] = self._channel_name(name, channel["type"])
        if "topic" in body:
            limit = 4096 if channel["type"] in (CH_FORUM, CH_MEDIA) else 1024
            if body["topic"] is not None and len(body["topic"]) > limit:
                raise _form_error(["topic"], "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
            channel["topic"] = body["topic"]
        if "rate_limit_per_user" in body:
            value = int(body["rate_limit_per_user"] or 0)
            if not 0 <= value <= 21600:
                raise _form_error(["rate_limit_per_user"], "NUMBER_TYPE_MAX", "int value should be <= 21600.")
            channel["rate_limit_per_user"] = value
        for key in (
            "nsfw",
            "position",
            "default_auto_archive_duration",
            "bitrate",
            "user_limit",
            "flags",
            "available_tags",
            "default_reaction_emoji",
            "applied_tags",
            "type",
        ):
            if key in body:
                channel[key] = body[key]
        if "parent_id" in body and not is_thread:
            parent = body["parent_id"]
            if parent is not None and self._channels.get(int(parent), {}).get("type") != CH_CATEGORY:
                raise _form_error(["parent_id"], "CHANNEL_PARENT_INVALID_TYPE", "Not a category")
            channel["parent_id"] = str(parent) if parent is not None else None
        if "permission_overwrites" in body and not is_thread:
            channel["permission_overwrites"] = [
                self._normalise_overwrite(o) for o in body["permission_overwrites"] or []
            ]
        if is_thread:
            metadata = channel["thread_metadata"]
            for key in ("archived", "locked", "invitable", "auto_archive_duration"):
                if key in body:
                    metadata[key] = body[key]
            if "archived" in body:
                metadata["archive_timestamp"] = _iso(_now())
            self._emit("THREAD_UPDATE", self._render_channel(channel))
        else:
            self._emit("CHANNEL_UPDATE", self._render_channel(channel))
        return self._render_channel(channel)

    @_route("DELETE", "/channels/{channel_id}")
    async def _delete_channel(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        if channel["type"] == CH_DM:
            return self._render_channel(channel)
        is_thread = channel["type"] in _THREAD_TYPES
        self._require(channel, Permissions.MANAGE_THREADS if is_thread else Permissions.MANAGE_CHANNELS)
        rendered = self._render_channel(channel)
        del self._channels[int(channel["id"])]
        for message_id in self._channel_messages.pop(int(channel["id"]), []):
            self._messages.pop(message_id, None)
        if is_thread:
            self._emit(
                "THREAD_DELETE",
                {
                    "id": channel["id"],
                    "guild_id": channel["guild_id"],
                    "parent_id": channel["parent_id"],
                    "type": channel["type"],
                },
            )
        else:
            self._emit("CHANNEL_DELETE", rendered)
        return rendered

    @_route("GET", "/channels/{channel_id}/messages")
    async def _get_messages(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.READ_MESSAGE_HISTORY)
        try:
            limit = int(req.query.get("limit", 50))
        except ValueError:
            raise _form_error(["limit"], "NUMBER_TYPE_COERCE", "Value is not int.") from None
        if not 1 <= limit <= 100:
            raise _form_error(["limit"], "NUMBER_TYPE_MAX", "int value should be <= 100 and >= 1.")
        ids = sorted(self._channel_messages.get(int(channel["id"]), []))
        if "before" in req.query:
            before = int(req.query["before"])
            ids = [i for i in ids if i < before][-limit:]
        elif "after" in req.query:
            after = int(req.query["after"])
            ids = [i for i in ids if i > after][:limit]
        elif "around" in req.query:
            around = int(req.query["around"])
            older = [i for i in ids if i < around][-(limit // 2) :] if limit > 1 else []
            newer = [i for i in ids if i >= around][: limit - len(older)]
            ids = older + newer
        else:
            ids = ids[-limit:]
        return [self._render_message(self._messages[i]) for i in reversed(ids)]

    @_route("GET", "/channels/{channel_id}/messages/{message_id}")
    async def _get_message(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.READ_MESSAGE_HISTORY)
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        message = self._render_message(stored)
        if not self.privileged_intents & Intents.MESSAGE_CONTENT:
            message = self._redact(
                {**message, "guild_id": channel.get("guild_id")} if channel.get("guild_id") else message
            )
            message.pop("guild_id", None)
        return message

    def _check_can_send(self, channel: dict[str, Any], payload: dict[str, Any], files: Sequence[Any]) -> int:
        if channel["type"] == CH_DM:
            recipient = int(channel["_recipient_id"])
            shares_guild = any(recipient in g.members for g in self._guilds.values())
            if self._users[recipient].get("bot") or recipient in self._dms_closed or not shares_guild:
                raise _ApiError(403, 50007, "Cannot send messages to this user")
            return ALL_PERMISSIONS
        if channel["type"] not in _MESSAGEABLE_TYPES:
            raise _ApiError(400, 50008, "Cannot send messages in a non-text channel")
        send = (
            Permissions.SEND_MESSAGES_IN_THREADS
            if channel["type"] in _THREAD_TYPES
            else Permissions.SEND_MESSAGES
        )
        perms = self._require(channel, send)
        if files:
            self._require(channel, Permissions.ATTACH_FILES)
        if payload.get("message_reference") is not None:
            self._require(channel, Permissions.READ_MESSAGE_HISTORY)
        if channel["type"] in _THREAD_TYPES:
            metadata = channel["thread_metadata"]
            if metadata["locked"] and not perms & Permissions.MANAGE_THREADS:
                raise _ApiError(400, 50083, "Thread is locked")
            if metadata["archived"]:
                metadata["archived"] = False
                metadata["archive_timestamp"] = _iso(_now())
                self._emit("THREAD_UPDATE", self._render_channel(channel))
        return perms

    @_route("POST", "/channels/{channel_id}/messages")
    async def _post_message(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        payload = copy.deepcopy(req.obj())
        perms = self._check_can_send(channel, payload, req.files)
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            for message_id in reversed(self._channel_messages.get(int(channel["id"]), [])[-50:]):
                earlier = self._messages[message_id]
                recent = snowflake_time(message_id) > _now() - timedelta(minutes=2)
                if (
                    earlier.get("nonce") == nonce
                    and earlier["author"]["id"] == str(self.bot_user_id)
                    and recent
                ):
                    return self._render_message(earlier)
        self._check_reference(channel, payload)
        snapshot = payload.pop("_snapshot", None)
        if snapshot is None:
            self._validate_message(payload, req.files)
        flags = int(payload.get("flags") or 0) & _SETTABLE_MESSAGE_FLAGS
        extra = {"message_snapshots": snapshot} if snapshot else None
        stored = self._create_message(
            channel,
            self._users[self.bot_user_id],
            payload,
            req.files,
            flags=flags,
            author_perms=perms,
            extra=extra,
        )
        self._emit("MESSAGE_CREATE", self._render_message(stored, gateway=True))
        return self._render_message(stored)

    @_route("PATCH", "/channels/{channel_id}/messages/{message_id}")
    async def _patch_message(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        body = req.obj()
        perms = self._bot_permissions(channel)
        if stored["author"]["id"] != str(self.bot_user_id):
            if set(body) - {"flags"}:
                raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
            self._require(channel, Permissions.MANAGE_MESSAGES)
            self._edit_message(stored, body, [], author_perms=perms, flag_mask=FLAG_SUPPRESS_EMBEDS)
        else:
            self._edit_message(stored, body, req.files, author_perms=perms)
        return self._render_message(stored)

    @_route("DELETE", "/channels/{channel_id}/messages/{message_id}")
    async def _delete_message_route(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        if stored["author"]["id"] != str(self.bot_user_id):
            self._require(channel, Permissions.MANAGE_MESSAGES)
        self._delete_message(stored)
        return None

    @_route("POST", "/channels/{channel_id}/messages/bulk-delete")
    async def _bulk_delete(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.MANAGE_MESSAGES)
        ids = [int(i) for i in req.obj().get("messages") or []]
        if not 2 <= len(ids) <= 100:
            raise _form_error(["messages"], "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.")
        cutoff = _now() - timedelta(days=14)
        if any(snowflake_time(i) < cutoff for i in ids):
            raise _ApiError(400, 50034, "You can only bulk delete messages that are under 14 days old.")
        deleted = []
        for message_id in ids:
            stored = self._messages.get(message_id)
            if stored is not None and stored["channel_id"] == channel["id"]:
                self._messages.pop(message_id)
                with contextlib.suppress(ValueError):
                    self._channel_messages[int(channel["id"])].remove(message_id)
                deleted.append(str(message_id))
        payload: dict[str, Any] = {"ids": deleted, "channel_id": channel["id"]}
        if channel.get("guild_id"):
            payload["guild_id"] = channel["guild_id"]
        self._emit("MESSAGE_DELETE_BULK", payload)
        return None

    @_route("POST", "/channels/{channel_id}/typing")
    async def _typing(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.SEND_MESSAGES | Permissions.SEND_MESSAGES_IN_THREADS)
        return None

    @_route("PUT", "/channels/{channel_id}/permissions/{target}")
    async def _put_overwrite(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        if channel["type"] in _THREAD_TYPES or channel["type"] == CH_DM:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        self._require(channel, Permissions.MANAGE_ROLES)
        body = req.obj()
        target = req.id("target")
        kind = body.get("type")
        if kind not in (0, 1, "0", "1"):
            raise _form_error(["type"], "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.")
        kind = int(kind)
        guild = self._guild(int(channel["guild_id"]))
        if kind == 0 and target not in guild.roles:
            raise _not_found(10011, "Role")
        if kind == 1 and target not in self._users:
            raise _not_found(10013, "User")
        overwrite = self._normalise_overwrite(
            {"id": target, "type": kind, "allow": body.get("allow") or "0", "deny": body.get("deny") or "0"}
        )
        overwrites = [o for o in channel["permission_overwrites"] if o["id"] != str(target)]
        overwrites.append(overwrite)
        channel["permission_overwrites"] = overwrites
        self._emit("CHANNEL_UPDATE", self._render_channel(channel))
        return None

    @_route("DELETE", "/channels/{channel_id}/permissions/{target}")
    async def _delete_overwrite(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.MANAGE_ROLES)
        target = str(req.id("target"))
        channel["permission_overwrites"] = [o for o in channel["permission_overwrites"] if o["id"] != target]
        self._emit("CHANNEL_UPDATE", self._render_channel(channel))
        return None

    def _pin(self, req: _Req, pinned: bool) -> None:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.MANAGE_MESSAGES | Permissions.PIN_MESSAGES)
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        if stored["pinned"] == pinned:
            return
        stored["pinned"] = pinned
        stored["_pinned_at"] = _iso(_now()) if pinned else None
        self._emit("MESSAGE_UPDATE", self._render_message(stored, gateway=True))
        pins_payload: dict[str, Any] = {
            "channel_id": channel["id"],
            "last_pin_timestamp": stored["_pinned_at"],
        }
        if channel.get("guild_id"):
            pins_payload["guild_id"] = channel["guild_id"]
        self._emit("CHANNEL_PINS_UPDATE", pins_payload)
        if pinned:
            system = self._create_message(
                channel,
                self._users[self.bot_user_id],
                {
                    "content": "",
                    "message_reference": {"type": 0, "message_id": stored["id"], "channel_id": channel["id"]},
                },
                msg_type=6,
            )
            self._emit("MESSAGE_CREATE", self._render_message(system, gateway=True))

    @_route("PUT", "/channels/{channel_id}/messages/pins/{message_id}")
    async def _pin_message(self, req: _Req) -> Any:
        self._pin(req, True)

    @_route("DELETE", "/channels/{channel_id}/messages/pins/{message_id}")
    async def _unpin_message(self, req: _Req) -> Any:
        self._pin(req, False)

    @_route("PUT", "/channels/{channel_id}/pins/{message_id}")
    async def _pin_message_legacy(self, req: _Req) -> Any:
        self._pin(req, True)

    @_route("DELETE", "/channels/{channel_id}/pins/{message_id}")
    async def _unpin_message_legacy(self, req: _Req) -> Any:
        self._pin(req, False)

    def _pinned(self, channel: dict[str, Any]) -> list[dict[str, Any]]:
        pinned = [self._messages[i] for i in self._channel_messages.get(int(channel["id"]), [])]
        return sorted((m for m in pinned if m["pinned"]), key=lambda m: m["_pinned_at"], reverse=True)

    @_route("GET", "/channels/{channel_id}/messages/pins")
    async def _get_pins(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.READ_MESSAGE_HISTORY)
        items = [
            {"pinned_at": m["_pinned_at"], "message": self._render_message(m)} for m in self._pinned(channel)
        ]
        limit = int(req.query.get("limit", 50))
        return {"items": items[:limit], "has_more": len(items) > limit}

    @_route("GET", "/channels/{channel_id}/pins")
    async def _get_pins_legacy(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.READ_MESSAGE_HISTORY)
        return [self._render_message(m) for m in self._pinned(channel)]

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: reactions
    # --------------------------------------------------------------------------------------------------------

    @staticmethod
    def _parse_emoji(raw: str) -> tuple[str, dict[str, Any]]:
        """'👍' or 'name:id' (as discord.py sends them) -> (key, partial emoji object); 10014 if invalid."""
        if ":" in raw:
            parts = raw.split(":")
            name, emoji_id = parts[-2], parts[-1]
            if not emoji_id.isdigit():
                raise _ApiError(400, 10014, "Unknown Emoji")
            emoji: dict[str, Any] = {"id": emoji_id, "name": name}
            if raw.startswith("a:"):
                emoji["animated"] = True
            return emoji_id, emoji
        if not raw or raw.isascii():
            raise _ApiError(400, 10014, "Unknown Emoji")
        return raw, {"id": None, "name": raw}

    def _reaction_payload(
        self, stored: dict[str, Any], user_id: int, emoji: dict[str, Any], *, burst: bool, add: bool
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "user_id": str(user_id),
            "type": 1 if burst else 0,
            "message_id": stored["id"],
            "channel_id": stored["channel_id"],
            "emoji": copy.deepcopy(emoji),
            "burst": burst,
        }
        guild_id = stored.get("_guild_id")
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        if add:
            payload["message_author_id"] = stored["author"]["id"]
            if guild_id is not None and user_id in self._guilds[guild_id].members:
                payload["member"] = self._member_payload(guild_id, user_id)
            if burst:
                payload["burst_colors"] = ["#f5c400"]
        return payload

    def _react(
        self, stored: dict[str, Any], user_id: int, raw_emoji: str, *, burst: bool, add: bool
    ) -> dict[str, Any] | None:
        """Add/remove one reaction in state; returns the event payload, or None if nothing changed."""
        key, emoji = self._parse_emoji(raw_emoji)
        reactions = stored.setdefault("_reactions", {})
        entry = reactions.setdefault(key, {"emoji": emoji, "users": [], "burst_users": []})
        bucket = entry["burst_users"] if burst else entry["users"]
        if add == (user_id in bucket):
            return None
        if add:
            bucket.append(user_id)
        else:
            bucket.remove(user_id)
            if not entry["users"] and not entry["burst_users"]:
                del reactions[key]
        payload = self._reaction_payload(stored, user_id, entry["emoji"], burst=burst, add=add)
        self._emit("MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE", payload)
        return payload

    @_route("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def _put_reaction(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        key, _ = self._parse_emoji(req.params["emoji"])
        needed = [Permissions.READ_MESSAGE_HISTORY]
        if key not in stored.get("_reactions", {}):
            needed.append(Permissions.ADD_REACTIONS)
        self._require(channel, *needed)
        burst = req.query.get("type") == "1"
        self._react(stored, self.bot_user_id, req.params["emoji"], burst=burst, add=True)
        return None

    @_route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def _delete_own_reaction(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        self._react(stored, self.bot_user_id, req.params["emoji"], burst=False, add=False)
        return None

    @_route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}")
    async def _delete_user_reaction(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        user_id = req.id("user_id")
        if user_id != self.bot_user_id:
            self._require(channel, Permissions.MANAGE_MESSAGES)
        for burst in (False, True):
            self._react(stored, user_id, req.params["emoji"], burst=burst, add=False)
        return None

    @_route("GET", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}")
    async def _get_reaction_users(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.READ_MESSAGE_HISTORY)
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        key, _ = self._parse_emoji(req.params["emoji"])
        entry = stored.get("_reactions", {}).get(key)
        if entry is None:
            return []
        users = sorted(entry["burst_users"] if req.query.get("type") == "1" else entry["users"])
        after = int(req.query.get("after", 0))
        limit = int(req.query.get("limit", 25))
        return [copy.deepcopy(self._users[u]) for u in users if u > after][:limit]

    @_route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}")
    async def _clear_emoji(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.MANAGE_MESSAGES)
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        key, emoji = self._parse_emoji(req.params["emoji"])
        if stored.get("_reactions", {}).pop(key, None) is not None:
            payload: dict[str, Any] = {
                "channel_id": channel["id"],
                "message_id": stored["id"],
                "emoji": emoji,
            }
            if channel.get("guild_id"):
                payload["guild_id"] = channel["guild_id"]
            self._emit("MESSAGE_REACTION_REMOVE_EMOJI", payload)
        return None

    @_route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions")
    async def _clear_reactions(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.MANAGE_MESSAGES)
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        stored["_reactions"] = {}
        payload: dict[str, Any] = {"channel_id": channel["id"], "message_id": stored["id"]}
        if channel.get("guild_id"):
            payload["guild_id"] = channel["guild_id"]
        self._emit("MESSAGE_REACTION_REMOVE_ALL", payload)
        return None

    # --------------------------------------------------------------------------------------------------------
    # threads
    # --------------------------------------------------------------------------------------------------------

    @staticmethod
    def _channel_name(name: str, channel_type: int) -> str:
        """Discord lower-cases text-like channel names and turns spaces into dashes."""
        if channel_type in (CH_TEXT, CH_NEWS, CH_FORUM, CH_MEDIA):
            return re.sub(r"\s+", "-", name.strip()).lower()
        return name

    def _build_thread(
        self,
        parent: dict[str, Any],
        owner_id: int,
        name: str,
        *,
        thread_id: int | None = None,
        thread_type: int = CH_PUBLIC_THREAD,
        auto_archive_duration: int = 4320,
        rate_limit_per_user: int = 0,
        applied_tags: Sequence[int] = (),
        invitable: bool = True,
    ) -> dict[str, Any]:
        if not 1 <= len(name) <= 100:
            raise _form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        tid = self._ids.reserve(thread_id) if thread_id is not None else self._ids.next()
        now = _iso(_now())
        metadata: dict[str, Any] = {
            "archived": False,
            "archive_timestamp": now,
            "auto_archive_duration": auto_archive_duration,
            "locked": False,
            "create_timestamp": now,
        }
        if thread_type == CH_PRIVATE_THREAD:
            metadata["invitable"] = invitable
        thread: dict[str, Any] = {
            "id": str(tid),
            "type": thread_type,
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "owner_id": str(owner_id),
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": rate_limit_per_user,
            "flags": 0,
            "total_message_sent": 0,
            "thread_metadata": metadata,
            "_members": {owner_id: now},
        }
        if parent["type"] in (CH_FORUM, CH_MEDIA):
            thread["applied_tags"] = [str(t) for t in applied_tags]
        self._channels[tid] = thread
        self._channel_messages[tid] = []
        return thread

    def _thread_create_payload(self, thread: dict[str, Any]) -> dict[str, Any]:
        payload = {**self._render_channel(thread), "newly_created": True}
        if self.bot_user_id in thread["_members"]:
            payload["member"] = {
                "id": thread["id"],
                "user_id": str(self.bot_user_id),
                "join_timestamp": thread["_members"][self.bot_user_id],
                "flags": 1,
            }
        return payload

    @_route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    async def _thread_from_message(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        if channel["type"] not in (CH_TEXT, CH_NEWS):
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        self._require(channel, Permissions.CREATE_PUBLIC_THREADS, Permissions.READ_MESSAGE_HISTORY)
        stored = self._stored_message(int(channel["id"]), req.id("message_id"))
        if stored.get("_thread_id") is not None:
            raise _ApiError(400, 160004, "A thread has already been created for this message")
        body = req.obj()
        thread = self._build_thread(
            channel,
            self.bot_user_id,
            str(body.get("name") or ""),
            thread_id=int(stored["id"]),
            thread_type=CH_NEWS_THREAD if channel["type"] == CH_NEWS else CH_PUBLIC_THREAD,
            auto_archive_duration=int(
                body.get("auto_archive_duration") or channel.get("default_auto_archive_duration", 4320)
            ),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
        )
        stored["_thread_id"] = int(thread["id"])
        self._emit("THREAD_CREATE", self._thread_create_payload(thread))
        self._emit("MESSAGE_UPDATE", self._render_message(stored, gateway=True))
        return self._render_channel(thread)

    @_route("POST", "/channels/{channel_id}/threads")
    async def _thread_without_message(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        body = copy.deepcopy(req.obj())
        if channel["type"] in (CH_FORUM, CH_MEDIA):
            return self._create_forum_post(channel, body, req.files, self.bot_user_id)
        if channel["type"] not in (CH_TEXT, CH_NEWS):
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        thread_type = int(body.get("type") or CH_PRIVATE_THREAD)
        self._require(
            channel,
            Permissions.CREATE_PRIVATE_THREADS
            if thread_type == CH_PRIVATE_THREAD
            else Permissions.CREATE_PUBLIC_THREADS,
        )
        thread = self._build_thread(
            channel,
            self.bot_user_id,
            str(body.get("name") or ""),
            thread_type=thread_type,
            auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
            invitable=bool(body.get("invitable", True)),
        )
        self._emit("THREAD_CREATE", self._thread_create_payload(thread))
        if thread_type == CH_PUBLIC_THREAD:
            self._thread_created_notice(channel, thread, self.bot_user_id)
        return self._render_channel(thread)

    def _thread_created_notice(self, parent: dict[str, Any], thread: dict[str, Any], author_id: int) -> None:
        """Discord posts a THREAD_CREATED (type 18) system message in the parent for message-less threads."""
        notice = self._create_message(
            parent,
            self._users[author_id],
            {
                "content": thread["name"],
                "message_reference": {"type": 0, "channel_id": thread["id"], "message_id": thread["id"]},
            },
            msg_type=18,
        )
        notice["mentions"] = []
        self._emit("MESSAGE_CREATE", self._render_message(notice, gateway=True))

    def _create_forum_post(
        self,
        forum: dict[str, Any],
        body: dict[str, Any],
        files: Sequence[tuple[str, str, bytes]],
        author_id: int,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        if author_id == self.bot_user_id:
            self._require(forum, Permissions.SEND_MESSAGES)
        message_payload = body.get("message")
        if not isinstance(message_payload, dict):
            raise _form_error(["message"], "BASE_TYPE_REQUIRED", "This field is required")
        self._validate_message(message_payload, files)
        thread = self._build_thread(
            forum,
            author_id,
            str(body.get("name") or ""),
            thread_id=thread_id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
            applied_tags=[int(t) for t in body.get("applied_tags") or []],
        )
        starter = self._create_message(
            thread,
            self._users[author_id],
            message_payload,
            files,
            message_id=int(thread["id"]),
            flags=int(message_payload.get("flags") or 0) & _SETTABLE_MESSAGE_FLAGS,
        )
        self._emit("THREAD_CREATE", self._thread_create_payload(thread))
        self._emit("MESSAGE_CREATE", self._render_message(starter, gateway=True))
        return {**self._render_channel(thread), "message": self._render_message(starter)}

    @_route("PUT", "/channels/{channel_id}/thread-members/@me")
    async def _join_thread(self, req: _Req) -> Any:
        return self._thread_membership(req, self.bot_user_id, add=True)

    @_route("DELETE", "/channels/{channel_id}/thread-members/@me")
    async def _leave_thread(self, req: _Req) -> Any:
        return self._thread_membership(req, self.bot_user_id, add=False)

    @_route("PUT", "/channels/{channel_id}/thread-members/{user_id}")
    async def _add_thread_member(self, req: _Req) -> Any:
        return self._thread_membership(req, req.id("user_id"), add=True)

    @_route("DELETE", "/channels/{channel_id}/thread-members/{user_id}")
    async def _remove_thread_member(self, req: _Req) -> Any:
        return self._thread_membership(req, req.id("user_id"), add=False)

    def _thread_membership(self, req: _Req, user_id: int, *, add: bool) -> None:
        thread = self._channel(req.id("channel_id"))
        if thread["type"] not in _THREAD_TYPES:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        self._require(thread)
        if user_id not in self._users:
            raise _not_found(10013, "User")
        members = thread["_members"]
        if add and user_id not in members:
            members[user_id] = _iso(_now())
        elif not add and user_id in members:
            del members[user_id]
        else:
            return
        thread["member_count"] = len(members)
        payload: dict[str, Any] = {
            "id": thread["id"],
            "guild_id": thread["guild_id"],
            "member_count": len(members),
        }
        if add:
            payload["added_members"] = [
                {"id": thread["id"], "user_id": str(user_id), "join_timestamp": members[user_id], "flags": 0}
            ]
        else:
            payload["removed_member_ids"] = [str(user_id)]
        self._emit("THREAD_MEMBERS_UPDATE", payload)

    @_route("GET", "/channels/{channel_id}/thread-members")
    async def _get_thread_members(self, req: _Req) -> Any:
        thread = self._channel(req.id("channel_id"))
        self._require(thread)
        return [
            {"id": thread["id"], "user_id": str(u), "join_timestamp": ts, "flags": 0}
            for u, ts in thread.get("_members", {}).items()
        ]

    @_route("GET", "/guilds/{guild_id}/threads/active")
    async def _active_threads(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        self._guild(guild_id)
        threads = [t for t in self.threads(guild_id) if not t["thread_metadata"]["archived"]]
        return {"threads": threads, "members": []}

    @_route("GET", "/channels/{channel_id}/threads/archived/public")
    async def _archived_threads(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.READ_MESSAGE_HISTORY)
        threads = [t for t in self.threads(parent_id=int(channel["id"])) if t["thread_metadata"]["archived"]]
        return {"threads": threads, "members": [], "has_more": False}

    # --------------------------------------------------------------------------------------------------------
    # webhooks
    # --------------------------------------------------------------------------------------------------------

    def _create_webhook(
        self, channel: dict[str, Any], name: str, creator: int, *, application_id: int | None
    ) -> dict[str, Any]:
        if channel["type"] not in (CH_TEXT, CH_NEWS, CH_VOICE, CH_STAGE, CH_FORUM, CH_MEDIA):
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        if not 1 <= len(name) <= 80:
            raise _form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
        if "clyde" in name.lower() or "discord" in name.lower():
            raise _form_error(["name"], "WEBHOOK_INVALID_USERNAME", f'Username cannot be "{name}"')
        webhook_id = self._ids.next()
        webhook = {
            "application_id": str(application_id) if application_id is not None else None,
            "avatar": None,
            "channel_id": channel["id"],
            "guild_id": channel["guild_id"],
            "id": str(webhook_id),
            "name": name,
            "type": 1,
            "user": copy.deepcopy(self._users[creator]),
            "token": secrets.token_urlsafe(51),
        }
        self._webhooks[webhook_id] = webhook
        self._emit("WEBHOOKS_UPDATE", {"guild_id": channel["guild_id"], "channel_id": channel["id"]})
        return webhook

    @_route("POST", "/channels/{channel_id}/webhooks")
    async def _post_webhook(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.MANAGE_WEBHOOKS)
        body = req.obj()
        if sum(1 for w in self._webhooks.values() if w["channel_id"] == channel["id"]) >= 15:
            raise _ApiError(400, 30007, "Maximum number of webhooks reached (15)")
        webhook = self._create_webhook(
            channel, str(body.get("name") or ""), self.bot_user_id, application_id=self.application_id
        )
        if body.get("avatar"):
            webhook["avatar"] = secrets.token_hex(16)
        return _public(webhook)

    @_route("GET", "/channels/{channel_id}/webhooks")
    async def _get_channel_webhooks(self, req: _Req) -> Any:
        channel = self._channel(req.id("channel_id"))
        self._require(channel, Permissions.MANAGE_WEBHOOKS)
        return self.webhooks(int(channel["id"]))

    @_route("GET", "/guilds/{guild_id}/webhooks")
    async def _get_guild_webhooks(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        self._require_guild(guild_id, Permissions.MANAGE_WEBHOOKS)
        return [_public(w) for w in self._webhooks.values() if w["guild_id"] == str(guild_id)]

    def _webhook(self, req: _Req, *, check_token: bool) -> dict[str, Any]:
        webhook = self._webhooks.get(req.id("webhook_id"))
        if webhook is None or (check_token and webhook["token"] != req.params.get("webhook_token")):
            raise _not_found(10015, "Webhook")
        return webhook

    @_route("GET", "/webhooks/{webhook_id}")
    async def _get_webhook(self, req: _Req) -> Any:
        webhook = self._webhook(req, check_token=False)
        self._require(self._channel(int(webhook["channel_id"])), Permissions.MANAGE_WEBHOOKS)
        return _public(webhook)

    @_route("GET", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
    async def _get_webhook_with_token(self, req: _Req) -> Any:
        webhook = _public(self._webhook(req, check_token=True))
        webhook.pop("user", None)
        return webhook

    def _patch_webhook_fields(
        self, webhook: dict[str, Any], body: dict[str, Any], *, allow_channel: bool
    ) -> None:
        if "name" in body:
            name = str(body["name"] or "")
            if not 1 <= len(name) <= 80:
                raise _form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
            webhook["name"] = name
        if "avatar" in body:
            webhook["avatar"] = secrets.token_hex(16) if body["avatar"] else None
        if allow_channel and body.get("channel_id"):
            channel = self._channel(int(body["channel_id"]))
            webhook["channel_id"] = channel["id"]
        self._emit("WEBHOOKS_UPDATE", {"guild_id": webhook["guild_id"], "channel_id": webhook["channel_id"]})

    @_route("PATCH", "/webhooks/{webhook_id}")
    async def _patch_webhook(self, req: _Req) -> Any:
        webhook = self._webhook(req, check_token=False)
        self._require(self._channel(int(webhook["channel_id"])), Permissions.MANAGE_WEBHOOKS)
        self._patch_webhook_fields(webhook, req.obj(), allow_channel=True)
        return _public(webhook)

    @_route("PATCH", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
    async def _patch_webhook_with_token(self, req: _Req) -> Any:
        webhook = self._webhook(req, check_token=True)
        self._patch_webhook_fields(webhook, req.obj(), allow_channel=False)
        rendered = _public(webhook)
        rendered.pop("user", None)
        return rendered

    @_route("DELETE", "/webhooks/{webhook_id}")
    async def _delete_webhook(self, req: _Req) -> Any:
        webhook = self._webhook(req, check_token=False)
        self._require(self._channel(int(webhook["channel_id"])), Permissions.MANAGE_WEBHOOKS)
        del self._webhooks[int(webhook["id"])]
        self._emit("WEBHOOKS_UPDATE", {"guild_id": webhook["guild_id"], "channel_id": webhook["channel_id"]})
        return None

    @_route("DELETE", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
    async def _delete_webhook_with_token(self, req: _Req) -> Any:
        webhook = self._webhook(req, check_token=True)
        del self._webhooks[int(webhook["id"])]
        self._emit("WEBHOOKS_UPDATE", {"guild_id": webhook["guild_id"], "channel_id": webhook["channel_id"]})
        return None

    def _interaction_for_token(self, req: _Req) -> _InteractionState | None:
        if req.id("webhook_id") != self.application_id:
            return None
        token = req.params["webhook_token"]
        state = next((s for s in self._interactions.values() if s.token == token), None)
        if state is None:
            raise _not_found(10015, "Webhook")
        return state

    @_route("POST", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
    async def _execute_webhook(self, req: _Req) -> Any:
        interaction = self._interaction_for_token(req)
        payload = copy.deepcopy(req.obj())
        if interaction is not None:
            return self._followup(interaction, payload, req.files)
        webhook = self._webhook(req, check_token=True)
        channel = self._channel(int(webhook["channel_id"]))
        if req.query.get("thread_id"):
            channel = self._channel(int(req.query["thread_id"]))
            if channel.get("parent_id") != webhook["channel_id"]:
                raise _ApiError(400, 10003, "Unknown Channel")
        if channel["type"] in (CH_FORUM, CH_MEDIA):
            if not payload.get("thread_name"):
                raise _ApiError(
                    400, 220001, "Webhooks posted to forum channels must have a thread_name or thread_id"
                )
            body = {
                "name": payload.pop("thread_name"),
                "applied_tags": payload.pop("applied_tags", []),
                "message": payload,
            }
            post = self._create_forum_post(channel, body, req.files, self.owner_user_id)
            starter = self._messages[int(post["id"])]
            starter["author"] = self._webhook_author(int(webhook["id"]), payload.get("username"))
            starter["webhook_id"] = webhook["id"]
            return self._render_message(starter) if req.query.get("wait") in ("true", "1", "True") else None
        self._validate_message(payload, req.files)
        extra: dict[str, Any] = {"webhook_id": webhook["id"]}
        if webhook.get("application_id"):
            extra["application_id"] = webhook["application_id"]
        stored = self._create_message(
            channel,
            self._webhook_author(int(webhook["id"]), payload.get("username")),
            payload,
            req.files,
            msg_type=0,
            flags=int(payload.get("flags") or 0) & _SETTABLE_MESSAGE_FLAGS,
            extra=extra,
        )
        self._emit("MESSAGE_CREATE", self._render_message(stored, gateway=True))
        if req.query.get("wait") in ("true", "1", "True"):
            return self._render_message(stored)
        return None

    def _webhook_message(self, req: _Req) -> tuple[dict[str, Any], _InteractionState | None]:
        """Resolve /webhooks/{id}/{token}/messages/{message_id|@original} for webhooks and interactions."""
        interaction = self._interaction_for_token(req)
        raw = req.params.get("message_id", "@original")
        if interaction is not None:
            if raw == "@original":
                if interaction.original_message_id is None:
                    raise _not_found(10008, "Message")
                message_id = interaction.original_message_id
            else:
                message_id = int(raw)
                if (
                    message_id not in interaction.followup_ids
                    and message_id != interaction.original_message_id
                ):
                    raise _not_found(10008, "Message")
        else:
            webhook = self._webhook(req, check_token=True)
            if raw == "@original":
                raise _not_found(10008, "Message")
            message_id = int(raw)
            stored = self._messages.get(message_id)
            if stored is None or stored.get("webhook_id") != webhook["id"]:
                raise _not_found(10008, "Message")
        stored = self._messages.get(message_id)
        if stored is None:
            raise _not_found(10008, "Message")
        return stored, interaction

    @_route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
    async def _get_original(self, req: _Req) -> Any:
        return self._render_message(self._webhook_message(req)[0])

    @_route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
    async def _get_webhook_message(self, req: _Req) -> Any:
        return self._render_message(self._webhook_message(req)[0])

    @_route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
    async def _patch_original(self, req: _Req) -> Any:
        stored, interaction = self._webhook_message(req)
        mask = (
            _SETTABLE_MESSAGE_FLAGS if interaction is None else _SETTABLE_MESSAGE_FLAGS & ~FLAG_COMPONENTS_V2
        )
        self._edit_message(stored, req.obj(), req.files, flag_mask=mask)
        return self._render_message(stored)

    @_route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
    async def _patch_webhook_message(self, req: _Req) -> Any:
        return await self._patch_original(req)

    @_route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
    async def _delete_original(self, req: _Req) -> Any:
        stored, _ = self._webhook_message(req)
        self._delete_message(stored)
        return None

    @_route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
    async def _delete_webhook_message(self, req: _Req) -> Any:
        return await self._delete_original(req)

    # --------------------------------------------------------------------------------------------------------
    # interaction callbacks and followups
    # --------------------------------------------------------------------------------------------------------

    def _interaction_extra(self, state: _InteractionState, *, followup: bool = False) -> dict[str, Any]:
        """application_id, webhook_id, interaction_metadata (+ legacy ``interaction``) of replies."""
        user = copy.deepcopy(self._users[state.user_id])
        metadata: dict[str, Any] = {
            "id": str(state.id),
            "type": state.type,
            "user": user,
            "authorizing_integration_owners": (
                {"0": str(state.guild_id)} if state.guild_id is not None else {"1": str(state.user_id)}
            ),
        }
        if state.type == 2:
            metadata["name"] = state.command_name
            metadata["command_type"] = state.command_type
        if state.source_message_id is not None:
            metadata["interacted_message_id"] = str(state.source_message_id)
        if followup and state.original_message_id is not None:
            metadata["original_response_message_id"] = str(state.original_message_id)
        extra: dict[str, Any] = {
            "application_id": str(self.application_id),
            "webhook_id": str(self.application_id),
            "interaction_metadata": metadata,
        }
        if state.type == 2:
            legacy: dict[str, Any] = {
                "id": str(state.id),
                "type": 2,
                "name": state.command_name,
                "user": user,
            }
            if state.guild_id is not None:
                legacy["member"] = self._member_payload(state.guild_id, state.user_id, with_user=False)
            extra["interaction"] = legacy
        return extra

    def _interaction_message_type(self, state: _InteractionState) -> int:
        if state.type == 2:
            return {1: 20, 2: 23, 3: 23}.get(state.command_type or 1, 20)
        return 0

    def _interaction_message(
        self,
        state: _InteractionState,
        payload: dict[str, Any],
        files: Sequence[tuple[str, str, bytes]],
        *,
        loading: bool = False,
        followup: bool = False,
    ) -> dict[str, Any]:
        channel = self._channel(state.channel_id)
        flags = int(payload.get("flags") or 0) & _INTERACTION_SETTABLE_FLAGS
        if loading:
            flags |= FLAG_LOADING
        else:
            self._validate_message(payload, files)
        ephemeral = bool(flags & FLAG_EPHEMERAL)
        stored = self._create_message(
            channel,
            self._users[self.bot_user_id],
            {} if loading else payload,
            () if loading else files,
            msg_type=self._interaction_message_type(state),
            flags=flags,
            extra=self._interaction_extra(state, followup=followup),
            ephemeral=ephemeral,
        )
        if not ephemeral:
            self._emit("MESSAGE_CREATE", self._render_message(stored, gateway=True))
        return stored

    @_route("POST", "/interactions/{interaction_id}/{interaction_token}/callback", auth=False)
    async def _interaction_callback(self, req: _Req) -> Any:
        state = self._interactions.get(req.id("interaction_id"))
        if state is None or state.token != req.params["interaction_token"]:
            raise _not_found(10062, "interaction")
        if state.response_type is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = req.obj()
        kind = body.get("type")
        data = body.get("data") or {}
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(state.type, set())
        if state.type == 5 and state.source_message_id is None:
            allowed = {4, 5}
        if kind not in allowed:
            raise _form_error(
                ["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Interaction response type {kind} is not valid for this interaction",
            )
        resource: dict[str, Any] | None = None
        info: dict[str, Any] = {"id": str(state.id), "type": state.type}
        if kind in (4, 5):
            stored = self._interaction_message(state, data, req.files, loading=kind == 5)
            state.original_message_id = int(stored["id"])
            resource = {"type": kind, "message": self._render_message(stored)}
            info.update(
                response_message_id=stored["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(stored["flags"] & FLAG_EPHEMERAL),
            )
        elif kind in (6, 7):
            assert state.source_message_id is not None  # guaranteed by ``allowed`` above
            stored = self._messages.get(state.source_message_id)
            if stored is None:
                raise _not_found(10008, "Message")
            state.original_message_id = state.source_message_id
            if kind == 7:
                self._edit_message(
                    stored, data, req.files, flag_mask=_SETTABLE_MESSAGE_FLAGS & ~FLAG_COMPONENTS_V2
                )
                resource = {"type": 7, "message": self._render_message(stored)}
            info.update(
                response_message_id=stored["id"],
                response_message_loading=False,
                response_message_ephemeral=bool(stored["flags"] & FLAG_EPHEMERAL),
            )
        elif kind == 9:
            for key in ("custom_id", "title", "components"):
                if not data.get(key):
                    raise _form_error(["data", key], "BASE_TYPE_REQUIRED", "This field is required")
            if len(data["title"]) > 45:
                raise _form_error(["data", "title"], "BASE_TYPE_MAX_LENGTH", "Must be 45 or fewer in length.")
            state.modal = self._assign_component_ids(data["components"])
            state.modal = {"custom_id": data["custom_id"], "title": data["title"], "components": state.modal}
            self._modals[str(data["custom_id"])] = state
        elif kind == 8 and len(data.get("choices") or []) > 25:
            raise _form_error(["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        state.response_type = kind
        if req.query.get("with_response") not in ("1", "true", "True"):
            return None
        response: dict[str, Any] = {"interaction": info}
        if resource is not None:
            response["resource"] = resource
        return response

    def _followup(
        self, state: _InteractionState, payload: dict[str, Any], files: Sequence[tuple[str, str, bytes]]
    ) -> Any:
        if state.response_type is None:
            raise _not_found(10015, "Webhook")
        stored = self._interaction_message(state, payload, files, followup=True)
        state.followup_ids.append(int(stored["id"]))
        return self._render_message(stored)

    # --------------------------------------------------------------------------------------------------------
    # REST handlers: guilds, members, roles
    # --------------------------------------------------------------------------------------------------------

    @_route("GET", "/guilds/{guild_id}")
    async def _get_guild(self, req: _Req) -> Any:
        return self._guild_object(
            req.id("guild_id"), with_counts=req.query.get("with_counts") in ("true", "1")
        )

    @_route("PATCH", "/guilds/{guild_id}")
    async def _patch_guild(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        self._require_guild(guild_id, Permissions.MANAGE_GUILD)
        guild = self._guild(guild_id)
        for key, value in req.obj().items():
            if key in (
                "name",
                "description",
                "system_channel_id",
                "rules_channel_id",
                "preferred_locale",
                "afk_timeout",
                "verification_level",
                "default_message_notifications",
                "features",
            ):
                guild.data[key] = value
        self._emit("GUILD_UPDATE", self._guild_object(guild_id))
        return self._guild_object(guild_id)

    @_route("GET", "/guilds/{guild_id}/channels")
    async def _get_guild_channels(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        self._guild(guild_id)
        return [
            self._render_channel(c)
            for c in self._channels.values()
            if c.get("guild_id") == str(guild_id) and c["type"] not in _THREAD_TYPES
        ]

    @_route("POST", "/guilds/{guild_id}/channels")
    async def _post_guild_channel(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        self._require_guild(guild_id, Permissions.MANAGE_CHANNELS)
        body = req.obj()
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            raise _form_error(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        kind = int(body.get("type") or CH_TEXT)
        if kind not in _GUILD_CHANNEL_TYPES:
            raise _form_error(["type"], "BASE_TYPE_CHOICES", "Value must be one of the guild channel types.")
        if body.get("permission_overwrites"):
            self._require_guild(guild_id, Permissions.MANAGE_ROLES)
        parent = body.get("parent_id")
        if parent is not None and self._channels.get(int(parent), {}).get("type") != CH_CATEGORY:
            raise _form_error(["parent_id"], "CHANNEL_PARENT_INVALID_TYPE", "Not a category")
        channel_id = self.add_channel(
            guild_id,
            self._channel_name(name, kind),
            type=kind,
            parent_id=int(parent) if parent else None,
            topic=body.get("topic"),
            overwrites=body.get("permission_overwrites") or (),
            nsfw=bool(body.get("nsfw")),
        )
        channel = self._channels[channel_id]
        for key in (
            "rate_limit_per_user",
            "position",
            "bitrate",
            "user_limit",
            "default_auto_archive_duration",
        ):
            if body.get(key) is not None:
                channel[key] = body[key]
        return _Reply(201, self._render_channel(channel))

    @_route("PATCH", "/guilds/{guild_id}/channels")
    async def _patch_channel_positions(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        self._require_guild(guild_id, Permissions.MANAGE_CHANNELS)
        for entry in req.body or []:
            channel = self._channel(int(entry["id"]))
            if entry.get("position") is not None:
                channel["position"] = int(entry["position"])
            if "parent_id" in entry:
                channel["parent_id"] = str(entry["parent_id"]) if entry["parent_id"] else None
            self._emit("CHANNEL_UPDATE", self._render_channel(channel))
        return None

    @_route("GET", "/guilds/{guild_id}/members/{user_id}")
    async def _get_member(self, req: _Req) -> Any:
        return self._member_payload(req.id("guild_id"), req.id("user_id"))

    @_route("GET", "/guilds/{guild_id}/members")
    async def _list_members(self, req: _Req) -> Any:
        guild = self._guild(req.id("guild_id"))
        if not self.privileged_intents & Intents.GUILD_MEMBERS:
            raise _ApiError(403, 50001, "Missing Access")
        limit = int(req.query.get("limit", 1))
        if not 1 <= limit <= 1000:
            raise _form_error(["limit"], "NUMBER_TYPE_MAX", "int value should be <= 1000 and >= 1.")
        after = int(req.query.get("after", 0))
        ids = sorted(u for u in guild.members if u > after)[:limit]
        return [self._member_payload(req.id("guild_id"), u) for u in ids]

    @_route("GET", "/guilds/{guild_id}/members/search")
    async def _search_members(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        guild = self._guild(guild_id)
        query = req.query.get("query", "").lower()
        limit = int(req.query.get("limit", 1))
        found = [
            uid
            for uid in guild.members
            if self._users[uid]["username"].lower().startswith(query)
            or (guild.members[uid]["nick"] or "").lower().startswith(query)
            or (self._users[uid]["global_name"] or "").lower().startswith(query)
        ]
        return [self._member_payload(guild_id, u) for u in found[:limit]]

    def _member_updated(self, guild_id: int, user_id: int) -> dict[str, Any]:
        payload = {**self._member_payload(guild_id, user_id), "guild_id": str(guild_id)}
        self._emit("GUILD_MEMBER_UPDATE", payload)
        return self._member_payload(guild_id, user_id)

    @_route("PATCH", "/guilds/{guild_id}/members/{user_id}")
    async def _patch_member(self, req: _Req) -> Any:
        guild_id, user_id = req.id("guild_id"), req.id("user_id")
        guild = self._guild(guild_id)
        member = guild.members.get(user_id)
        if member is None:
            raise _not_found(10007, "Member")
        body = req.obj()
        if "nick" in body:
            needed = (
                Permissions.CHANGE_NICKNAME if user_id == self.bot_user_id else Permissions.MANAGE_NICKNAMES
            )
            self._require_guild(guild_id, needed)
            if user_id != self.bot_user_id:
                self._check_hierarchy(guild_id, user_id=user_id)
            nick = body["nick"] or None
            if nick is not None and len(nick) > 32:
                raise _form_error(["nick"], "BASE_TYPE_MAX_LENGTH", "Must be 32 or fewer in length.")
            member["nick"] = nick
        if "roles" in body:
            self._require_guild(guild_id, Permissions.MANAGE_ROLES)
            new_roles = [int(r) for r in body["roles"] or []]
            old_roles = {int(r) for r in member["roles"]}
            for role_id in set(new_roles) ^ old_roles:
                if role_id not in guild.roles:
                    raise _not_found(10011, "Role")
                if guild.roles[role_id]["managed"]:
                    raise _missing_permissions()
                self._check_hierarchy(guild_id, role_id=role_id)
            member["roles"] = [str(r) for r in dict.fromkeys(new_roles)]
        if "communication_disabled_until" in body:
            self._require_guild(guild_id, Permissions.MODERATE_MEMBERS)
            if self.compute_permissions(guild_id, user_id) & Permissions.ADMINISTRATOR:
                raise _missing_permissions()
            self._check_hierarchy(guild_id, user_id=user_id)
            member["communication_disabled_until"] = body["communication_disabled_until"]
        for key in ("mute", "deaf", "flags"):
            if key in body:
                member[key] = body[key]
        return self._member_updated(guild_id, user_id)

    @_route("PATCH", "/guilds/{guild_id}/members/@me")
    async def _patch_me_member(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        self._require_guild(guild_id, Permissions.CHANGE_NICKNAME)
        member = self._guild(guild_id).members[self.bot_user_id]
        if "nick" in req.obj():
            member["nick"] = req.obj()["nick"] or None
        return self._member_updated(guild_id, self.bot_user_id)

    def _member_role(self, req: _Req, *, add: bool) -> None:
        guild_id, user_id, role_id = req.id("guild_id"), req.id("user_id"), req.id("role_id")
        guild = self._guild(guild_id)
        self._require_guild(guild_id, Permissions.MANAGE_ROLES)
        member = guild.members.get(user_id)
        if member is None:
            raise _not_found(10007, "Member")
        role = guild.roles.get(role_id)
        if role is None or role_id == guild_id:
            raise _not_found(10011, "Role")
        if role["managed"]:
            raise _missing_permissions()
        self._check_hierarchy(guild_id, role_id=role_id)
        has = str(role_id) in member["roles"]
        if add and not has:
            member["roles"].append(str(role_id))
        elif not add and has:
            member["roles"].remove(str(role_id))
        else:
            return
        self._member_updated(guild_id, user_id)

    @_route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def _add_member_role(self, req: _Req) -> Any:
        self._member_role(req, add=True)

    @_route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def _remove_member_role(self, req: _Req) -> Any:
        self._member_role(req, add=False)

    @_route("DELETE", "/guilds/{guild_id}/members/{user_id}")
    async def _kick_member(self, req: _Req) -> Any:
        guild_id, user_id = req.id("guild_id"), req.id("user_id")
        self._require_guild(guild_id, Permissions.KICK_MEMBERS)
        if user_id not in self._guild(guild_id).members:
            raise _not_found(10007, "Member")
        self._check_hierarchy(guild_id, user_id=user_id)
        self.remove_member(guild_id, user_id)
        return None

    @_route("GET", "/guilds/{guild_id}/bans")
    async def _get_bans(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        self._require_guild(guild_id, Permissions.BAN_MEMBERS)
        return list(copy.deepcopy(self._guild(guild_id).bans).values())

    @_route("GET", "/guilds/{guild_id}/bans/{user_id}")
    async def _get_ban(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        self._require_guild(guild_id, Permissions.BAN_MEMBERS)
        ban = self._guild(guild_id).bans.get(req.id("user_id"))
        if ban is None:
            raise _not_found(10026, "Ban")
        return copy.deepcopy(ban)

    @_route("PUT", "/guilds/{guild_id}/bans/{user_id}")
    async def _ban(self, req: _Req) -> Any:
        guild_id, user_id = req.id("guild_id"), req.id("user_id")
        self._require_guild(guild_id, Permissions.BAN_MEMBERS)
        if user_id not in self._users:
            raise _not_found(10013, "User")
        guild = self._guild(guild_id)
        if user_id in guild.members:
            self._check_hierarchy(guild_id, user_id=user_id)
        reason = req.request.headers.get("X-Audit-Log-Reason")
        guild.bans[user_id] = {"reason": reason, "user": copy.deepcopy(self._users[user_id])}
        self._emit("GUILD_BAN_ADD", {"guild_id": str(guild_id), "user": copy.deepcopy(self._users[user_id])})
        if user_id in guild.members:
            self.remove_member(guild_id, user_id)
        return None

    @_route("DELETE", "/guilds/{guild_id}/bans/{user_id}")
    async def _unban(self, req: _Req) -> Any:
        guild_id, user_id = req.id("guild_id"), req.id("user_id")
        self._require_guild(guild_id, Permissions.BAN_MEMBERS)
        if self._guild(guild_id).bans.pop(user_id, None) is None:
            raise _not_found(10026, "Ban")
        self._emit(
            "GUILD_BAN_REMOVE", {"guild_id": str(guild_id), "user": copy.deepcopy(self._users[user_id])}
        )
        return None

    @_route("GET", "/guilds/{guild_id}/roles")
    async def _get_roles(self, req: _Req) -> Any:
        return self.roles(req.id("guild_id"))

    @_route("GET", "/guilds/{guild_id}/roles/{role_id}")
    async def _get_role(self, req: _Req) -> Any:
        role = self._guild(req.id("guild_id")).roles.get(req.id("role_id"))
        if role is None:
            raise _not_found(10011, "Role")
        return _public(role)

    @_route("POST", "/guilds/{guild_id}/roles")
    async def _post_role(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        perms = self._require_guild(guild_id, Permissions.MANAGE_ROLES)
        body = req.obj()
        requested = int(body.get("permissions") or 0)
        if requested & ~perms and not perms & Permissions.ADMINISTRATOR:
            raise _missing_permissions()
        name = str(body.get("name") or "new role")
        if len(name) > 100:
            raise _form_error(["name"], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        role_id = self.add_role(
            guild_id,
            name,
            permissions=requested,
            color=int(body.get("color") or 0),
            hoist=bool(body.get("hoist")),
            mentionable=bool(body.get("mentionable")),
            position=1,
        )
        return _public(self._guild(guild_id).roles[role_id])

    @_route("PATCH", "/guilds/{guild_id}/roles/{role_id}")
    async def _patch_role(self, req: _Req) -> Any:
        guild_id, role_id = req.id("guild_id"), req.id("role_id")
        self._require_guild(guild_id, Permissions.MANAGE_ROLES)
        guild = self._guild(guild_id)
        role = guild.roles.get(role_id)
        if role is None:
            raise _not_found(10011, "Role")
        self._check_hierarchy(guild_id, role_id=role_id)
        body = req.obj()
        for key in ("name", "hoist", "mentionable", "icon", "unicode_emoji"):
            if key in body:
                role[key] = body[key]
        if "permissions" in body:
            role["permissions"] = str(int(body["permissions"] or 0))
        if "color" in body:
            role["color"] = int(body["color"] or 0)
            role["colors"]["primary_color"] = role["color"]
        self._emit("GUILD_ROLE_UPDATE", {"guild_id": str(guild_id), "role": _public(role)})
        return _public(role)

    @_route("PATCH", "/guilds/{guild_id}/roles")
    async def _patch_role_positions(self, req: _Req) -> Any:
        guild_id = req.id("guild_id")
        self._require_guild(guild_id, Permissions.MANAGE_ROLES)
        guild = self._guild(guild_id)
        for entry in req.body or []:
            role = guild.roles.get(int(entry["id"]))
            if role is None:
                raise _not_found(10011, "Role")
            self._check_hierarchy(guild_id, role_id=int(entry["id"]))
            role["position"] = int(entry["position"])
            self._emit("GUILD_ROLE_UPDATE", {"guild_id": str(guild_id), "role": _public(role)})
        return self.roles(guild_id)

    @_route("DELETE", "/guilds/{guild_id}/roles/{role_id}")
    async def _delete_role(self, req: _Req) -> Any:
        guild_id, role_id = req.id("guild_id"), req.id("role_id")
        self._require_guild(guild_id, Permissions.MANAGE_ROLES)
        guild = self._guild(guild_id)
        role = guild.roles.get(role_id)
        if role is None or role_id == guild_id:
            raise _not_found(10011, "Role")
        if role["managed"]:
            raise _ApiError(400, 50028, "Invalid Role")
        self._check_hierarchy(guild_id, role_id=role_id)
        del guild.roles[role_id]
        for member in guild.members.values():
            if str(role_id) in member["roles"]:
                member["roles"].remove(str(role_id))
        self._emit("GUILD_ROLE_DELETE", {"guild_id": str(guild_id), "role_id": str(role_id)})
        return None

    @_route("GET", "/guilds/{guild_id}/emojis")
    async def _get_emojis(self, req: _Req) -> Any:
        return copy.deepcopy(self._guild(req.id("guild_id")).data["emojis"])

    @_route("GET", "/guilds/{guild_id}/stickers")
    async def _get_stickers(self, req: _Req) -> Any:
        return copy.deepcopy(self._guild(req.id("guild_id")).data["stickers"])

    @_route("GET", "/guilds/{guild_id}/invites")
    async def _get_invites(self, req: _Req) -> Any:
        self._require_guild(req.id("guild_id"), Permissions.MANAGE_GUILD)
        return []

    @_route("GET", "/guilds/{guild_id}/scheduled-events")
    async def _get_events(self, req: _Req) -> Any:
        self._guild(req.id("guild_id"))
        return []

    @_route("GET", "/guilds/{guild_id}/audit-logs")
    async def _get_audit_log(self, req: _Req) -> Any:
        self._require_guild(req.id("guild_id"), Permissions.VIEW_AUDIT_LOG)
        return {
            "audit_log_entries": [],
            "users": [],
            "integrations": [],
            "webhooks": [],
            "guild_scheduled_events": [],
            "threads": [],
            "application_commands": [],
            "auto_moderation_rules": [],
        }

    # --------------------------------------------------------------------------------------------------------
    # injected user activity
    # --------------------------------------------------------------------------------------------------------

    def _require_member(self, guild_id: int | None, user_id: int) -> None:
        if user_id not in self._users:
            raise KeyError(f"user {user_id} does not exist (add_user first)")
        if guild_id is not None and user_id not in self._guild(guild_id).members:
            raise ValueError(f"user {user_id} is not a member of guild {guild_id} (add_member first)")

    async def send_message(
        self,
        channel_id: int,
        author_id: int,
        content: str = "",
        *,
        reply_to: int | None = None,
        message_id: int | None = None,
        timestamp: datetime | None = None,
        webhook_id: int | None = None,
        type: int | None = None,  # Discord's field name
        embeds: Sequence[dict[str, Any]] = (),
        attachments: Sequence[tuple[str, bytes]] = (),
        components: Sequence[dict[str, Any]] = (),
        mention_replied: bool = True,
        flags: int = 0,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        """A user (or webhook ``webhook_id``) posts a message: it is stored and MESSAGE_CREATE goes out.

        Returns the full gateway payload (the bot itself gets a redacted copy if it lacks MESSAGE_CONTENT).
        Replies get type 19, ``message_reference`` and — if ``mention_replied`` — the replied-to author in
        ``mentions`` (the Discord client's default reply ping).
        """
        channel = self._channels[channel_id]
        guild_id = self._guild_id_of(channel)
        extra: dict[str, Any] = {}
        if webhook_id is not None:
            author = self._webhook_author(webhook_id)
            extra["webhook_id"] = str(webhook_id)
            perms = ALL_PERMISSIONS
        else:
            self._require_member(guild_id, author_id)
            if channel["type"] == CH_DM and author_id not in (channel["_recipient_id"], self.bot_user_id):
                raise ValueError(f"user {author_id} is not a participant of DM channel {channel_id}")
            author = self._users[author_id]
            perms = self.compute_permissions(guild_id, author_id, channel_id) if guild_id else ALL_PERMISSIONS
        payload: dict[str, Any] = {"content": content, "embeds": list(embeds), "components": list(components)}
        if nonce is not None:
            payload["nonce"] = nonce
        if reply_to is not None:
            self._stored_message(channel_id, reply_to)
            payload["message_reference"] = {"type": 0, "message_id": reply_to, "channel_id": channel_id}
            payload["allowed_mentions"] = {
                "parse": ["users", "roles", "everyone"],
                "replied_user": mention_replied,
            }
        files = [(f"files[{i}]", name, data) for i, (name, data) in enumerate(attachments)]
        if channel["type"] in _THREAD_TYPES and webhook_id is None:
            channel["_members"].setdefault(author_id, _iso(_now()))
            channel["member_count"] = len(channel["_members"])
        stored = self._create_message(
            channel,
            author,
            payload,
            files,
            msg_type=type,
            flags=flags,
            author_perms=perms,
            message_id=message_id,
            timestamp=timestamp,
            extra=extra,
        )
        rendered = self._render_message(stored, gateway=True)
        await self.dispatch("MESSAGE_CREATE", rendered)
        return rendered

    async def edit_message(self, channel_id: int, message_id: int, content: str) -> dict[str, Any]:
        """A user edits their message: MESSAGE_UPDATE with the full message."""
        stored = self._stored_message(channel_id, message_id)
        self._edit_message(stored, {"content": content}, [])
        await self.flush()
        return self._render_message(stored, gateway=True)

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        """A user (or moderator) deletes a message: MESSAGE_DELETE."""
        self._delete_message(self._stored_message(channel_id, message_id))
        await self.flush()

    async def add_reaction(
        self, channel_id: int, message_id: int, user_id: int, emoji: str = "👍", *, burst: bool = False
    ) -> dict[str, Any]:
        """A user reacts: MESSAGE_REACTION_ADD with member, message_author_id, burst and type.

        ``emoji`` is a unicode emoji or ``'name:id'`` for a custom one. Reacting twice is a no-op (nothing is
        dispatched) like on Discord; the payload is returned either way.
        """
        stored = self._stored_message(channel_id, message_id)
        self._require_member(stored.get("_guild_id"), user_id)
        payload = self._react(stored, user_id, emoji, burst=burst, add=True)
        await self.flush()
        if payload is None:
            _, parsed = self._parse_emoji(emoji)
            payload = self._reaction_payload(stored, user_id, parsed, burst=burst, add=True)
        return payload

    async def remove_reaction(
        self, channel_id: int, message_id: int, user_id: int, emoji: str = "👍", *, burst: bool = False
    ) -> dict[str, Any]:
        """A user removes a reaction: MESSAGE_REACTION_REMOVE (no member/message_author_id, like Discord)."""
        stored = self._stored_message(channel_id, message_id)
        payload = self._react(stored, user_id, emoji, burst=burst, add=False)
        await self.flush()
        if payload is None:
            _, parsed = self._parse_emoji(emoji)
            payload = self._reaction_payload(stored, user_id, parsed, burst=burst, add=False)
        return payload

    async def create_thread(
        self,
        channel_id: int,
        owner_id: int,
        name: str,
        *,
        message_id: int | None = None,
        thread_id: int | None = None,
        private: bool = False,
        content: str | None = None,
        applied_tags: Sequence[int] = (),
    ) -> dict[str, Any]:
        """A user opens a thread (THREAD_CREATE with ``newly_created``) and returns that payload.

        Under a forum/media channel this is a forum post: a type-11 thread plus its starter message (same id,
        ``content`` defaulting to ``name``) dispatched as MESSAGE_CREATE after THREAD_CREATE. With
        ``message_id`` the thread hangs off that message (thread id == message id). Otherwise public threads
        also get Discord's THREAD_CREATED (type 18) notice in the parent.
        """
        parent = self._channels[channel_id]
        self._require_member(self._guild_id_of(parent), owner_id)
        if parent["type"] in (CH_FORUM, CH_MEDIA):
            body = {"name": name, "message": {"content": content or name}, "applied_tags": list(applied_tags)}
            post = self._create_forum_post(parent, body, [], owner_id, thread_id=thread_id)
            thread = self._channels[int(post["id"])]
        elif message_id is not None:
            stored = self._stored_message(channel_id, message_id)
            if stored.get("_thread_id") is not None:
                raise ValueError(f"message {message_id} already has a thread")
            thread = self._build_thread(parent, owner_id, name, thread_id=message_id)
            stored["_thread_id"] = int(thread["id"])
            self._emit("THREAD_CREATE", self._thread_create_payload(thread))
            self._emit("MESSAGE_UPDATE", self._render_message(stored, gateway=True))
        else:
            kind = CH_PRIVATE_THREAD if private else CH_PUBLIC_THREAD
            thread = self._build_thread(parent, owner_id, name, thread_id=thread_id, thread_type=kind)
            self._emit("THREAD_CREATE", self._thread_create_payload(thread))
            if not private:
                self._thread_created_notice(parent, thread, owner_id)
        await self.flush()
        return self._thread_create_payload(thread)

    # --------------------------------------------------------------------------------------------------------
    # injected interactions
    # --------------------------------------------------------------------------------------------------------

    def _resolved_channel(self, channel_id: int, user_perms: int) -> dict[str, Any]:
        channel = self._channels[channel_id]
        keys = (
            "id",
            "name",
            "type",
            "guild_id",
            "parent_id",
            "flags",
            "last_message_id",
            "nsfw",
            "position",
            "rate_limit_per_user",
            "topic",
            "thread_metadata",
            "owner_id",
            "member_count",
            "message_count",
            "total_message_sent",
            "permission_overwrites",
        )
        resolved = {k: copy.deepcopy(channel[k]) for k in keys if k in channel}
        resolved["permissions"] = str(user_perms)
        return resolved

    def _new_interaction(
        self,
        kind: int,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        data: dict[str, Any],
        *,
        locale: str,
        permissions: int | None = None,
        message: dict[str, Any] | None = None,
        command: dict[str, Any] | None = None,
        source_message_id: int | None = None,
    ) -> _InteractionState:
        channel = self._channels[channel_id]
        self._require_member(guild_id, user_id)
        interaction_id = self._ids.next()
        token = _b64(f"interaction:{interaction_id}:{secrets.token_urlsafe(48)}".encode())
        payload: dict[str, Any] = {
            "app_permissions": str(self._bot_permissions(channel)),
            "application_id": str(self.application_id),
            "attachment_size_limit": 10_485_760,
            "channel": {**self._render_channel(channel)},
            "channel_id": str(channel_id),
            "data": data,
            "entitlement_sku_ids": [],
            "entitlements": [],
            "id": str(interaction_id),
            "locale": locale,
            "token": token,
            "type": kind,
            "version": 1,
        }
        if guild_id is not None:
            guild = self._guild(guild_id)
            perms = (
                permissions
                if permissions is not None
                else self.compute_permissions(guild_id, user_id, channel_id)
            )
            payload["channel"]["permissions"] = str(perms)
            payload["authorizing_integration_owners"] = {"0": str(guild_id)}
            payload["context"] = 0
            payload["guild"] = {
                "features": list(guild.data["features"]),
                "id": str(guild_id),
                "locale": guild.data["preferred_locale"],
            }
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = guild.data["preferred_locale"]
            payload["member"] = self._member_payload(guild_id, user_id, permissions=perms)
        else:
            payload["channel"].pop("_recipient_id", None)
            payload["authorizing_integration_owners"] = {"1": str(user_id)}
            payload["context"] = 1
            payload["user"] = copy.deepcopy(self._users[user_id])
        if message is not None:
            payload["message"] = message
        state = _InteractionState(
            id=interaction_id,
            token=token,
            type=kind,
            payload=payload,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            command_name=command["name"] if command else None,
            command_type=command["type"] if command else None,
            source_message_id=source_message_id,
        )
        self._interactions[interaction_id] = state
        return state

    async def _dispatch_interaction(self, state: _InteractionState) -> Interaction:
        await self.dispatch("INTERACTION_CREATE", state.payload)
        return Interaction(self, state)

    def _find_command(self, guild_id: int | None, name: str, kind: int) -> dict[str, Any]:
        stores = [self._guild_commands.get(guild_id, {})] if guild_id is not None else []
        stores.append(self._global_commands)
        for store in stores:
            for command in store.values():
                if command["name"] == name and command["type"] == kind:
                    return command
        known = sorted(c["name"] for s in stores for c in s.values())
        raise LookupError(f"no synced command {name!r} (type {kind}) for guild {guild_id}; synced: {known}")

    def _client_rule(self, ok: bool, message: str) -> None:
        """A check the official client performs; only enforced with ``strict_client``."""
        if self.strict_client and not ok:
            raise ValueError(message)

    def _check_command_permissions(self, command: dict[str, Any], perms: int) -> None:
        required = command.get("default_member_permissions")
        hidden = required is not None and not perms & Permissions.ADMINISTRATOR and int(required) & ~perms
        if self.strict_client and hidden:
            raise PermissionError(
                f"Discord hides /{command['name']} from this member (default_member_permissions={required})"
            )

    def _option_value(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        definition: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
    ) -> Any:
        """Convert a test-supplied option value to what Discord sends, filling ``resolved`` for entities."""
        kind = definition["type"]
        name = definition["name"]
        if kind == 3:
            value = str(value)
            length_ok = definition.get("min_length", 0) <= len(value) <= definition.get("max_length", 6000)
            self._client_rule(length_ok, f"option {name}: length outside [min_length, max_length]")
        elif kind == 4:
            value = int(value)
        elif kind == 10:
            value = float(value) if not isinstance(value, int) else value
        elif kind == 5:
            value = bool(value)
        if kind in (4, 10):
            low, high = definition.get("min_value"), definition.get("max_value")
            in_range = not ((low is not None and value < low) or (high is not None and value > high))
            self._client_rule(in_range, f"option {name}: {value} outside [{low}, {high}]")
        choices = definition.get("choices")
        if choices:
            allowed = [c["value"] for c in choices]
            self._client_rule(
                value in allowed, f"option {name}: {value!r} is not one of the choices {allowed}"
            )
        if kind == 11:
            filename, data = value if isinstance(value, tuple) else ("file.bin", bytes(value))
            attachment = self._store_attachment(channel_id, filename, data, ephemeral=True)
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            return attachment["id"]
        if kind not in (6, 7, 8, 9):
            return value
        entity_id = int(getattr(value, "id", value))
        guild = self._guilds.get(guild_id) if guild_id is not None else None
        if kind in (6, 9) and entity_id in self._users:
            resolved.setdefault("users", {})[str(entity_id)] = copy.deepcopy(self._users[entity_id])
            if guild is not None and entity_id in guild.members:
                perms = self.compute_permissions(int(guild.data["id"]), entity_id, channel_id)
                member = self._member_payload(
                    int(guild.data["id"]), entity_id, with_user=False, permissions=perms
                )
                resolved.setdefault("members", {})[str(entity_id)] = member
            return str(entity_id)
        if kind in (8, 9) and guild is not None and entity_id in guild.roles:
            resolved.setdefault("roles", {})[str(entity_id)] = _public(guild.roles[entity_id])
            return str(entity_id)
        if kind == 7 and entity_id in self._channels:
            allowed_types = definition.get("channel_types")
            channel_type = self._channels[entity_id]["type"]
            self._client_rule(
                not allowed_types or channel_type in allowed_types,
                f"option {name}: channel type {channel_type} not in {allowed_types}",
            )
            perms = self.compute_permissions(guild_id, user_id, entity_id) if guild_id else 0
            resolved.setdefault("channels", {})[str(entity_id)] = self._resolved_channel(entity_id, perms)
            return str(entity_id)
        what = {6: "user", 7: "channel", 8: "role", 9: "user or role"}[kind]
        raise ValueError(f"option {name}: {entity_id} is not a known {what}")

    def _build_options(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        definitions: list[dict[str, Any]],
        options: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        *,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        by_name = {d["name"]: d for d in definitions}
        unknown = set(options) - set(by_name)
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)}; command defines {sorted(by_name)}")
        built = []
        for definition in definitions:
            name = definition["name"]
            if name not in options:
                self._client_rule(
                    not definition.get("required") or name == focused, f"required option {name!r} missing"
                )
                continue
            if name == focused:
                built.append(
                    {"name": name, "type": definition["type"], "value": str(options[name]), "focused": True}
                )
                continue
            value = self._option_value(guild_id, channel_id, user_id, definition, options[name], resolved)
            built.append({"name": name, "type": definition["type"], "value": value})
        return built

    def _command_data(
        self,
        command: dict[str, Any],
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        options: dict[str, Any],
        subcommand: str | Sequence[str] | None,
        *,
        focused: str | None = None,
    ) -> dict[str, Any]:
        path = [subcommand] if isinstance(subcommand, str) else list(subcommand or [])
        definitions = command.get("options") or []
        chain: list[dict[str, Any]] = []
        for part in path:
            match = next((d for d in definitions if d["name"] == part and d["type"] in (1, 2)), None)
            if match is None:
                raise LookupError(f"/{command['name']} has no subcommand (group) {part!r}")
            chain.append(match)
            definitions = match.get("options") or []
        if any(d["type"] in (1, 2) for d in definitions):
            raise ValueError(f"/{command['name']} needs a subcommand: {[d['name'] for d in definitions]}")
        resolved: dict[str, dict[str, Any]] = {}
        built = self._build_options(
            guild_id, channel_id, user_id, definitions, options, resolved, focused=focused
        )
        for link in reversed(chain):
            built = [{"name": link["name"], "type": link["type"], "options": built}]
        data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": command["type"]}
        if built:
            data["options"] = built
        if resolved:
            data["resolved"] = resolved
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        return data

    async def slash(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | Sequence[str] | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> Interaction:
        """A member runs ``/name`` (type 2, CHAT_INPUT) — only possible for a synced command, as on Discord.

        Option types come from the synced definition: users/roles/channels/mentionables (ids or objects
        with ``.id``) are sent as ids with ``resolved`` data, attachments as ``(filename, bytes)``.
        ``subcommand`` is ``'sub'`` or ``['group', 'sub']``. ``permissions`` overrides the member's computed
        channel permissions. With ``strict_client`` a command hidden by ``default_member_permissions``
        raises PermissionError and invalid option values raise ValueError.
        """
        command = self._find_command(guild_id, name, 1)
        perms = permissions
        if perms is None and guild_id is not None:
            perms = self.compute_permissions(guild_id, user_id, channel_id)
        self._check_command_permissions(command, perms if perms is not None else ALL_PERMISSIONS)
        data = self._command_data(command, guild_id, channel_id, user_id, options or {}, subcommand)
        state = self._new_interaction(
            2, guild_id, channel_id, user_id, data, locale=locale, permissions=perms, command=command
        )
        return await self._dispatch_interaction(state)

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        focused: str,
        options: dict[str, Any],
        *,
        subcommand: str | Sequence[str] | None = None,
        locale: str = "en-US",
    ) -> Interaction:
        """Autocomplete (type 4) for option ``focused`` while the user types ``options[focused]``."""
        command = self._find_command(guild_id, name, 1)
        data = self._command_data(
            command, guild_id, channel_id, user_id, options, subcommand, focused=focused
        )
        data.pop("resolved", None)
        state = self._new_interaction(4, guild_id, channel_id, user_id, data, locale=locale, command=command)
        return await self._dispatch_interaction(state)

    async def context_menu(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        target_id: int,
        *,
        kind: int = 2,
        locale: str = "en-US",
    ) -> Interaction:
        """A user/message context-menu command (kind 2 = user, 3 = message) on ``target_id``."""
        command = self._find_command(guild_id, name, kind)
        resolved: dict[str, Any] = {}
        if kind == 2:
            self._option_value(
                guild_id, channel_id, user_id, {"type": 6, "name": "target"}, target_id, resolved
            )
        else:
            stored = self._messages[target_id]
            resolved["messages"] = {str(target_id): self._render_message(stored)}
        data = {
            "id": command["id"],
            "name": name,
            "type": kind,
            "target_id": str(target_id),
            "resolved": resolved,
        }
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        state = self._new_interaction(2, guild_id, channel_id, user_id, data, locale=locale, command=command)
        return await self._dispatch_interaction(state)

    async def click(
        self,
        message: dict[str, Any] | int,
        custom_id: str,
        user_id: int,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        values: Sequence[Any] | None = None,
        locale: str = "en-US",
        permissions: int | None = None,
    ) -> Interaction:
        """A user clicks a button / uses a select (type 3) on a message the bot posted.

        ``message`` is a message dict or id (e.g. ``interaction.message`` or an entry of ``messages()``).
        Raises LookupError if that message has no component with ``custom_id`` and (with ``strict_client``)
        ValueError if it is disabled — the Discord client would not let the user do either. ``values`` are
        for selects.
        """
        message_id = message if isinstance(message, int) else int(message["id"])
        stored = self._messages.get(message_id)
        if stored is None:
            raise LookupError(f"unknown message {message_id}")
        component = next(
            (c for c in self._walk_components(stored["components"]) if c.get("custom_id") == custom_id), None
        )
        if component is None:
            ids = [
                c.get("custom_id") for c in self._walk_components(stored["components"]) if c.get("custom_id")
            ]
            raise LookupError(f"message {message_id} has no component {custom_id!r}; it has {ids}")
        self._client_rule(not component.get("disabled"), f"component {custom_id!r} is disabled")
        channel_id = channel_id if channel_id is not None else int(stored["channel_id"])
        if guild_id is None:
            guild_id = stored.get("_guild_id")
        data: dict[str, Any] = {
            "custom_id": custom_id,
            "component_type": component["type"],
            "id": component["id"],
        }
        if component["type"] in _SELECT_TYPES:
            picked = list(values or [])
            low, high = component.get("min_values", 1), component.get("max_values", 1)
            self._client_rule(
                low <= len(picked) <= high,
                f"select {custom_id!r} needs between {low} and {high} values, got {len(picked)}",
            )
            if component["type"] == 3:
                valid = [o["value"] for o in component.get("options", [])]
                self._client_rule(
                    all(str(v) in valid for v in picked),
                    f"select {custom_id!r}: values must be among {valid}",
                )
                data["values"] = [str(v) for v in picked]
            else:
                resolved: dict[str, dict[str, Any]] = {}
                kind = {5: 6, 6: 8, 7: 9, 8: 7}[component["type"]]
                definition = {"type": kind, "name": custom_id}
                data["values"] = [
                    self._option_value(guild_id, channel_id, user_id, definition, v, resolved) for v in picked
                ]
                data["resolved"] = resolved
        elif values:
            raise ValueError("values are only valid for select menus")
        rendered = self._render_message(stored)
        state = self._new_interaction(
            3,
            guild_id,
            channel_id,
            user_id,
            data,
            locale=locale,
            permissions=permissions,
            message=rendered,
            source_message_id=message_id,
        )
        return await self._dispatch_interaction(state)

    def _modal_components(
        self, definition: list[dict[str, Any]], values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        used: set[str] = set()

        def render(component: dict[str, Any]) -> dict[str, Any]:
            kind = component.get("type")
            if kind == 1:
                return {
                    "type": 1,
                    "id": component.get("id"),
                    "components": [render(c) for c in component["components"]],
                }
            if kind == 18:
                return {"type": 18, "id": component.get("id"), "component": render(component["component"])}
            custom_id = component.get("custom_id")
            if kind == 4:
                value = str(values.get(custom_id, component.get("value") or ""))
                used.add(custom_id)
                self._client_rule(
                    bool(value) or not component.get("required", True),
                    f"text input {custom_id!r} is required",
                )
                self._client_rule(
                    component.get("min_length", 0) <= len(value) <= component.get("max_length", 4000),
                    f"text input {custom_id!r}: length outside [min_length, max_length]",
                )
                return {"type": 4, "id": component.get("id"), "custom_id": custom_id, "value": value}
            if kind in _SELECT_TYPES or kind in (19, 21, 22, 23):
                used.add(custom_id)
                picked = values.get(custom_id, [])
                picked = [picked] if isinstance(picked, str) else list(picked)
                return {
                    "type": kind,
                    "id": component.get("id"),
                    "custom_id": custom_id,
                    "values": [str(v) for v in picked],
                }
            return {"type": kind, "id": component.get("id")}

        rendered = [render(c) for c in definition]
        unknown = set(values) - used
        if unknown:
            raise KeyError(f"modal has no inputs {sorted(unknown)}")
        return rendered

    async def submit_modal(
        self,
        custom_id: str,
        values: dict[str, Any],
        user_id: int,
        *,
        guild_id: int | None,
        channel_id: int,
        locale: str = "en-US",
    ) -> Interaction:
        """A user submits a modal (type 5). ``values`` maps input custom_id -> text (or list for selects).

        If the bot opened this modal (callback type 9) the submission mirrors its layout (action rows or
        labels, component ids) and carries the originating message for component-opened modals; otherwise
        it falls back to one action row per text input.
        """
        opener = self._modals.get(custom_id)
        message = None
        source = None
        if opener is not None and opener.modal is not None:
            components = self._modal_components(opener.modal["components"], values)
            if opener.source_message_id is not None and opener.source_message_id in self._messages:
                source = opener.source_message_id
                message = self._render_message(self._messages[source])
        else:
            components = [
                {
                    "type": 1,
                    "id": 2 * i + 1,
                    "components": [{"type": 4, "id": 2 * i + 2, "custom_id": key, "value": str(value)}],
                }
                for i, (key, value) in enumerate(values.items())
            ]
        data = {"custom_id": custom_id, "components": components}
        state = self._new_interaction(
            5, guild_id, channel_id, user_id, data, locale=locale, message=message, source_message_id=source
        )
        return await self._dispatch_interaction(state)
