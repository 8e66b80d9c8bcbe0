"""The gateway: websocket connections, IDENTIFY/RESUME, per-session sequence numbers and replay buffers,
intent-gated event dispatch, and injected gateway faults."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from sandbox.discord_server.common import json_copy
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.protocol import (
    API_VERSION,
    APP_FLAG_APPLICATION_COMMAND_BADGE,
    APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED,
    APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED,
    APP_FLAG_GATEWAY_PRESENCE_LIMITED,
    EVENT_INTENTS,
    OP_DISPATCH,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE,
    OP_RECONNECT,
    OP_REQUEST_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE,
    TRACE,
    Intents,
)

log = logging.getLogger(__name__)


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


def encode_frame(frame: dict[str, Any]) -> str:
    try:
        return orjson.dumps(frame).decode()
    except TypeError:
        return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


class GatewayConnection:
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
        self.session: GatewaySession | None = None
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
                    text = encode_frame(frame)
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
class GatewaySession:
    id: str
    intents: int
    shard: tuple[int, int] | None
    large_threshold: int
    seq: int = 0
    valid: bool = True
    conn: GatewayConnection | None = None
    buffer: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=_BUFFER_LIMIT)
    )
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


class Gateway(SandboxCore):
    """Speaks the gateway protocol to discord.py and emits events to the sessions that want them."""

    # --------------------------------------------------------------------------------------------------------
    # gateway: emitting events
    # --------------------------------------------------------------------------------------------------------

    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.state.sessions.values() if s.valid]

    def _session_wants(self, session: GatewaySession, event: str, data: dict[str, Any]) -> bool:
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
        if guild_id is not None and event != "GUILD_DELETE" and guild_id not in self.state.guilds:
            return False
        if guild_id in self.state.outages and event not in ("GUILD_CREATE", "GUILD_DELETE"):
            return False  # an unavailable guild sends nothing until its GUILD_CREATE
        required = EVENT_INTENTS.get(event)
        if required is None:
            return True
        if isinstance(required, tuple):
            required = required[0] if guild_id is not None else required[1]
        if event == "GUILD_MEMBER_UPDATE" and data.get("user", {}).get("id") == str(self.bot_user_id):
            return True  # updates to the current user's member are always sent
        return bool(session.intents & required)

    def _emit_to(
        self,
        session: GatewaySession,
        event: str | None,
        data: Any,
        op: int = OP_DISPATCH,
        *,
        record: bool = True,
    ) -> asyncio.Future[None] | None:
        """Give ``data`` the session's next sequence number, buffer it for RESUME and send it if connected
        (the future of its delivery, or None when the session has no connection now)."""
        if op == OP_DISPATCH and record and event is not None:
            self.dispatched.append((event, json_copy(data)))
        if op == OP_DISPATCH:
            session.seq += 1
            frame = {"t": event, "s": session.seq, "op": op, "d": data}
            session.buffer.append(frame)  # a bounded deque: the oldest frame falls out
        else:
            frame = {"t": None, "s": None, "op": op, "d": data}
        if session.conn is not None and not session.conn.closed:
            return self._track(session.conn.enqueue(frame))
        return None

    def _track(self, future: asyncio.Future[None]) -> asyncio.Future[None]:
        self.state.pending_frames.add(future)
        future.add_done_callback(self.state.pending_frames.discard)
        return future

    def emit(
        self, event: str, data: dict[str, Any] | Callable[[GatewaySession], dict[str, Any]]
    ) -> list[asyncio.Future[None]]:
        """Dispatch an event to every live session that should see it (intents, shard, content redaction)."""
        futures: list[asyncio.Future[None]] = []
        # One copy of a given payload serves every session and the record of what was dispatched:
        # nothing changes a payload once it is emitted (redaction makes a new dict).
        copied = None if callable(data) else json_copy(data)
        canonical = copied
        for session in self.live_sessions():
            payload = data(session) if callable(data) else copied
            if canonical is None:
                canonical = json_copy(payload)
            if not self._session_wants(session, event, payload):
                continue
            if (
                event in ("MESSAGE_CREATE", "MESSAGE_UPDATE")
                and not session.intents & Intents.MESSAGE_CONTENT
            ):
                payload = self.redact(payload)
            if event == "GUILD_CREATE":
                session.guild_ids.add(int(payload["id"]))
            future = self._emit_to(session, event, payload, record=False)
            if future is not None and not future.done():
                futures.append(future)
        if canonical is not None:
            self.dispatched.append((event, canonical))
        self.notify()
        return futures

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Raw escape hatch: dispatch any event (intent-filtered, sequenced, buffered for RESUME)."""
        futures = self.emit(event, data)
        if futures:
            await asyncio.gather(*futures)

    # --------------------------------------------------------------------------------------------------------
    # gateway: connections
    # --------------------------------------------------------------------------------------------------------

    async def handle_gateway(self, request: web.Request) -> web.WebSocketResponse:
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
        conn = GatewayConnection(ws, request, compression, request.path)
        self.state.connections.append(conn)
        self._track(
            conn.enqueue(
                {
                    "t": None,
                    "s": None,
                    "op": OP_HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": TRACE},
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
                self.state.connections.remove(conn)
            self.notify()
        return ws

    async def _close(self, conn: GatewayConnection, code: int, reason: str) -> None:
        conn.closed_by_server = True  # type: ignore[attr-defined]
        await self.flush()
        conn.shutdown()
        if conn.session is not None and conn.session.conn is conn:
            conn.session.conn = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.ws.close(code=code, message=reason.encode()), 2)

    async def _on_gateway_payload(self, conn: GatewayConnection, text: str) -> None:
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
        self.notify()

    def _token_ok(self, token: Any) -> bool:
        if not isinstance(token, str):
            return False
        return token.removeprefix("Bot ") == self.token

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
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
        self.identify_payloads.append(json_copy(data))
        self.intents = intents
        threshold = min(max(int(data.get("large_threshold", 50)), 50), 250)
        session = GatewaySession(
            id=secrets.token_hex(16), intents=intents, shard=shard, large_threshold=threshold
        )
        session.conn = conn
        conn.session = session
        self.state.sessions[session.id] = session
        guild_ids = [gid for gid in self.state.guilds if session.owns_guild(gid)]
        session.guild_ids.update(guild_ids)
        bot_user = json_copy(self.state.users[self.bot_user_id])
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
            "application": {"id": str(self.application_id), "flags": self.application_flags()},
            "_trace": TRACE,
        }
        if shard is not None:
            ready["shard"] = list(shard)
        before = set(self.state.pending_frames)
        self._emit_to(session, "READY", ready)
        for gid in guild_ids:
            if gid in self.state.outages:  # still down: Discord says so, and sends it once it is back
                self._emit_to(session, "GUILD_CREATE", {"id": str(gid), "unavailable": True})
                continue
            self._emit_to(session, "GUILD_CREATE", self.guild_create_payload(gid, session, initial=True))
        futures = [f for f in self.state.pending_frames if f not in before]
        self.spawn(self._mark_ready(session, futures))

    async def _mark_ready(self, session: GatewaySession, futures: list[asyncio.Future[None]]) -> None:
        if futures:
            await asyncio.gather(*futures)
        session.ready = True
        self.ready_count += 1
        covered: set[int] = set()
        for other in self.live_sessions():
            if other.ready:
                covered |= other.guild_ids
        if set(self.state.guilds) <= covered:  # every shard holding a guild has been sent its GUILD_CREATEs
            self.state.ready.set()
        self.notify()

    def application_flags(self) -> int:
        flags = APP_FLAG_GATEWAY_PRESENCE_LIMITED | APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED
        flags |= APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED
        if self.state.global_commands or any(self.state.guild_commands.values()):
            flags |= APP_FLAG_APPLICATION_COMMAND_BADGE
        return flags

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        self.resume_payloads.append(json_copy(data))
        if not self._token_ok(data.get("token")):
            await self._close(conn, 4004, "Authentication failed.")
            return
        session = self.state.sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        if session is None or not session.valid or not isinstance(seq, int) or seq > session.seq:
            self.invalid_sessions_sent += 1
            self._track(conn.enqueue({"t": None, "s": None, "op": OP_INVALID_SESSION, "d": False}))
            return
        old = session.conn
        if old is not None and old is not conn:
            session.conn = None
            self.spawn(self._close(old, 4000, "Session resumed elsewhere."))
        session.conn = conn
        conn.session = session
        before = set(self.state.pending_frames)
        missed = [frame for frame in session.buffer if frame["s"] > seq]
        for frame in missed:
            self._track(conn.enqueue(frame))
        self.replay_counts.append(len(missed))
        self._emit_to(session, "RESUMED", {"_trace": TRACE})
        futures = [f for f in self.state.pending_frames if f not in before]
        self.spawn(self._mark_resumed(futures))

    async def _mark_resumed(self, futures: list[asyncio.Future[None]]) -> None:
        if futures:
            await asyncio.gather(*futures)
        self.resumed_count += 1
        self.notify()

    def _request_members(self, session: GatewaySession, data: dict[str, Any]) -> None:
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
            guild = self.state.guilds.get(gid)
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
                    or self.state.users[uid]["username"].lower().startswith(query)
                    or (guild.members[uid]["nick"] or "").lower().startswith(query)
                ]
            if limit:
                ids = ids[:limit]
            chunks = [ids[i : i + 1000] for i in range(0, len(ids), 1000)] or [[]]
            for index, chunk in enumerate(chunks):
                payload: dict[str, Any] = {
                    "guild_id": str(gid),
                    "members": [self.member_payload(gid, uid) for uid in chunk],
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
        for conn in list(self.state.connections):
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
        self.notify()

    async def request_reconnect(self) -> None:
        """Send OP 7 RECONNECT (discord.py closes and RESUMEs)."""
        for session in self.live_sessions():
            self._emit_to(session, None, None, op=OP_RECONNECT)
        await self.flush()

    async def invalidate_session(self, *, resumable: bool = False, shard: int | None = None) -> None:
        """Send OP 9 INVALID_SESSION; ``resumable=False`` forgets the session (the client re-IDENTIFYs).
        ``shard``: only the session of that shard."""
        for session in self.live_sessions():
            if session.conn is None:
                continue
            if shard is not None and (session.shard is None or session.shard[0] != shard):
                continue
            self._emit_to(session, None, resumable, op=OP_INVALID_SESSION)
            self.invalid_sessions_sent += 1
            if not resumable:
                session.valid = False
        await self.flush()

    async def request_heartbeat(self) -> None:
        """Send OP 1 HEARTBEAT; the client must answer with its own heartbeat immediately."""
        for session in self.live_sessions():
            if session.conn is not None:
                self._track(
                    session.conn.enqueue({"t": None, "s": None, "op": OP_HEARTBEAT, "d": session.seq})
                )
        await self.flush()
