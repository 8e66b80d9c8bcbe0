"""REST routing: the route table, request parsing, authorization, injected faults, rate-limit headers, the
CDN, and the lookups and permission checks every route handler shares."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.discord_server import limits
from sandbox.discord_server.common import (
    PLACEHOLDER_PNG,
    ApiError,
    Reply,
    form_error,
    missing_permissions,
    not_found_error,
)
from sandbox.discord_server.core import SandboxCore
from sandbox.discord_server.protocol import ALL_PERMISSIONS, REASONS, Permissions
from sandbox.discord_server.recording import Fault, RecordedCall

log = logging.getLogger(__name__)


_Handler = Callable[[Any, "ApiRequest"], Awaitable[Any]]
_ROUTE_TABLE: list[tuple[str, str, str, bool]] = []


def api_route(method: str, template: str, *, auth: bool = True) -> Callable[[_Handler], _Handler]:
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
class ApiRequest:
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
            raise ApiError(400, 50109, "The request body contains invalid JSON.")
        return self.body


class RestRouting(SandboxCore):
    """Routes each REST request to its handler and turns errors into Discord-shaped responses."""

    # --------------------------------------------------------------------------------------------------------
    # REST: infrastructure
    # --------------------------------------------------------------------------------------------------------

    @functools.cached_property
    def _routes(self) -> list[_CompiledRoute]:
        """The route table compiled once, on the first request (every route module is imported by then)."""
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
        delay: float = 0.0,
        carried_out: bool = False,
    ) -> None:
        """Make the next ``times`` calls matching ``METHOD route`` fail with ``status``.

        429s carry ``Via``, ``Retry-After``, ``X-RateLimit-*`` (Remaining 0, Scope ``scope``) and a JSON body
        with ``retry_after`` and ``global`` (``scope='global'``), so discord.py waits and retries. Other
        statuses get a Discord error body ``{"message": ..., "code": ...}`` (discord.py retries 500/502/504
        after sleeping 1s+). ``carried_out=True`` carries the request out before answering with the fault
        (Discord made the message, the client only hears the error, as after a gateway timeout); the
        answer is sent after ``delay`` seconds.
        """
        fault = Fault(
            method.upper(), route, status, retry_after, times, code, message, scope, delay, carried_out
        )
        self.state.faults.append(fault)

    def hold_next(self, method: str, route: str, *, seconds: float, times: int = 1) -> None:
        """Carry out the next ``times`` calls matching ``METHOD route`` but answer each only after
        ``seconds``: a request in flight, during which a test can kill the client."""
        fault = Fault(method.upper(), route, 0, 0.0, times, None, None, "user", seconds, True)
        self.state.faults.append(fault)

    def _take_fault(self, call: RecordedCall) -> Fault | None:
        for fault in self.state.faults:
            if fault.times > 0 and call.matches(fault.method, fault.route):
                fault.times -= 1
                if fault.times == 0:
                    self.state.faults.remove(fault)
                return fault
        return None

    def _fault_reply(self, fault: Fault) -> tuple[int, dict[str, Any], dict[str, str]]:
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
        reason = REASONS.get(fault.status, "Error")
        body = {"message": fault.message or f"{fault.status}: {reason}", "code": fault.code or 0}
        return fault.status, body, {}

    async def _carry_out(
        self,
        request: web.Request,
        call: RecordedCall,
        route: _CompiledRoute | None,
        params: dict[str, str],
        method_ok: bool,
        body: Any,
        files: list[tuple[str, str, bytes]],
        bad_body: bool,
    ) -> tuple[int, Any]:
        """Route the request to its handler; (status, JSON payload or None)."""
        try:
            if route is None:
                raise ApiError(404, 0, "404: Not Found")
            if not method_ok:
                raise ApiError(405, 0, "405: Method Not Allowed")
            if route.auth and not self._authorized(request):
                raise ApiError(401, 0, "401: Unauthorized")
            if bad_body:
                raise ApiError(400, 50109, "The request body contains invalid JSON.")
            limits.check_audit_reason(request.headers.get("X-Audit-Log-Reason"))
            for name, value in params.items():
                if (name.endswith("_id") or name in ("target",)) and not value.isdigit():
                    raise form_error([name], "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')
            req = ApiRequest(request, params, dict(request.query), body, files, call)
            result = await getattr(self, route.handler)(req)
        except ApiError as error:
            return error.status, error.payload
        except Exception as error:
            log.exception("sandbox REST handler crashed for %s %s", request.method, call.path)
            self.internal_errors.append(f"{request.method} {call.path}: {error!r}")
            return 500, {"message": "500: Internal Server Error", "code": 0}
        if isinstance(result, Reply):
            return result.status, result.body
        if result is None:
            return 204, None
        return 200, result

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def handle_api(self, request: web.Request) -> web.StreamResponse:
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
        fault = self._take_fault(call)
        if fault is not None and not fault.carried_out:
            status, payload = 0, None
        else:
            status, payload = await self._carry_out(
                request, call, route, params, method_ok, body, files, bad_body
            )
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status:
                status, payload, extra = self._fault_reply(fault)
                headers.update(extra)
        call.status = status
        call.response = payload
        self.notify()
        if status == 204 or payload is None:
            return web.Response(status=status if status != 200 else 204, headers=headers)
        headers["Content-Type"] = "application/json"
        return web.Response(status=status, body=json.dumps(payload).encode(), headers=headers)

    async def handle_cdn(self, request: web.Request) -> web.Response:
        """Serve uploaded attachments and a placeholder PNG for avatars/icons/emojis."""
        tail = request.match_info["tail"]
        stored = self.state.cdn.get(tail)
        if stored is not None:
            await asyncio.sleep(self.cdn_delay)
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
            return web.Response(body=PLACEHOLDER_PNG, headers={"Content-Type": "image/png"})
        return web.Response(status=404, text="Not Found")

    # --------------------------------------------------------------------------------------------------------
    # REST: shared lookups and checks
    # --------------------------------------------------------------------------------------------------------

    def stored_channel(self, channel_id: int) -> dict[str, Any]:
        try:
            return self.state.channels[channel_id]
        except KeyError:
            raise not_found_error(10003, "Channel") from None

    def guild_id_of(self, channel: dict[str, Any]) -> int | None:
        raw = channel.get("guild_id")
        return int(raw) if raw is not None else None

    def bot_permissions(self, channel: dict[str, Any]) -> int:
        guild_id = self.guild_id_of(channel)
        if guild_id is None:
            return ALL_PERMISSIONS & ~(Permissions.MANAGE_MESSAGES | Permissions.MANAGE_CHANNELS)
        return self.compute_permissions(guild_id, self.bot_user_id, int(channel["id"]))

    def require_permissions(self, channel: dict[str, Any], *needed: int) -> int:
        """Bot needs VIEW_CHANNEL (else 50001 Missing Access) and, per entry, at least one of its bits."""
        perms = self.bot_permissions(channel)
        if not perms & Permissions.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        for bits in needed:
            if not perms & bits:
                raise missing_permissions()
        return perms

    def require_guild_permissions(self, guild_id: int, *needed: int) -> int:
        self.stored_guild(guild_id)
        perms = self.compute_permissions(guild_id, self.bot_user_id)
        for bits in needed:
            if not perms & bits:
                raise missing_permissions()
        return perms

    def _top_role_position(self, guild_id: int, user_id: int) -> int:
        guild = self.stored_guild(guild_id)
        member = guild.members.get(user_id)
        if member is None:
            return 0
        return max(
            (guild.roles[int(r)]["position"] for r in member["roles"] if int(r) in guild.roles), default=0
        )

    def check_hierarchy(
        self, guild_id: int, *, role_id: int | None = None, user_id: int | None = None
    ) -> None:
        """The bot can only manage roles/members strictly below its highest role (owners are untouchable)."""
        guild = self.stored_guild(guild_id)
        if str(self.bot_user_id) == guild.data["owner_id"]:
            return
        mine = self._top_role_position(guild_id, self.bot_user_id)
        if role_id is not None and guild.roles[role_id]["position"] >= mine:
            raise missing_permissions()
        if user_id is not None and (
            str(user_id) == guild.data["owner_id"] or self._top_role_position(guild_id, user_id) >= mine
        ):
            raise missing_permissions()

    def stored_message(self, channel_id: int, message_id: int) -> dict[str, Any]:
        stored = self.state.messages.get(message_id)
        if stored is None or stored["channel_id"] != str(channel_id) or stored.get("_ephemeral"):
            raise not_found_error(10008, "Message")
        return stored
