"""The sandbox core every protocol area builds on: configuration, recorded traffic, the stored state,
start/stop of the HTTP server, and waiting for things to happen."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Self

from aiohttp import web

from sandbox.discord_server.common import b64, utcnow
from sandbox.discord_server.protocol import API_VERSION, Intents
from sandbox.discord_server.recording import RecordedCall, RestLog
from sandbox.discord_server.state import SandboxState


class SandboxCore:
    """Configuration, recording, state, lifecycle and waiting; the protocol areas are mixins of this class."""

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
        #: Seconds within which an interaction must get its first response (Discord: 3); later, the
        #: callback gets 404 "Unknown interaction" (10062). None: not enforced (the default, so a slow
        #: test machine fails no test on timing alone).
        self.interaction_deadline: float | None = None
        #: Seconds the CDN takes to serve an uploaded attachment (a slow download).
        self.cdn_delay = 0.0
        self.privileged_intents = privileged_intents
        self.state = SandboxState()
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

        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()

        created = utcnow() - timedelta(days=400)
        self.bot_user_id: int = self.state.ids.next(created)
        # Apps created since 2016 share their id with their bot user.
        self.application_id: int = self.bot_user_id
        self.token: str = ".".join(
            (
                b64(str(self.bot_user_id).encode()),
                b64(int(time.time()).to_bytes(4, "big")),
                b64(secrets.token_bytes(20)),
            )
        )
        self.state.users[self.bot_user_id] = self.make_user(
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
        app.router.add_get("/gateway", self.handle_gateway)
        app.router.add_get("/gateway-resume", self.handle_gateway)
        app.router.add_get("/cdn/{tail:.*}", self.handle_cdn)
        app.router.add_route("*", "/{tail:.*}", self.handle_api)
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
        for conn in list(self.state.connections):
            conn.shutdown()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001, message=b"Sandbox shutting down"), 1)
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --------------------------------------------------------------------------------------------------------
    # waiting
    # --------------------------------------------------------------------------------------------------------

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:  # noqa: ASYNC109
        """Return ``predicate()`` once it is truthy (re-checked whenever the sandbox changes); time out naming
        ``what`` and the recent REST calls."""
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
        await self.wait_until(self.state.ready.is_set, timeout, "the bot to IDENTIFY and receive READY")

    async def wait_resumed(self, timeout: float = 10, *, count: int = 1) -> None:  # noqa: ASYNC109
        """Resolve once ``count`` RESUMEs succeeded (replayed events and RESUMED were sent)."""
        await self.wait_until(lambda: self.resumed_count >= count, timeout, f"{count} successful RESUME(s)")

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

        return await self.wait_until(check, timeout, f"{count} x {method.upper()} {route}")

    async def flush(self) -> None:
        """Wait until every gateway frame queued so far (e.g. by sync world-building calls) was written."""
        pending = [future for future in self.state.pending_frames if not future.done()]
        if pending:
            await asyncio.gather(*pending)
