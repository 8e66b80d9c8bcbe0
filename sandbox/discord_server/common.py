"""Small shared helpers: snowflakes, timestamps, Discord-style API errors and replies."""

from __future__ import annotations

import base64
import copy
import functools
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from sandbox.discord_server.protocol import DISCORD_EPOCH_MS

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


def iso(when: datetime) -> str:
    """Discord's timestamp format: ISO8601 with microseconds and an explicit +00:00 offset."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def utcnow() -> datetime:
    return datetime.now(UTC)


_ATOMS = (str, int, float, bool, type(None))
# orjson refuses (TypeError) everything that is not plain JSON under these options, so a round trip
# through it copies exactly what the wire would carry (a tuple comes back a list and a NaN null, as
# a client would see them).
_PLAIN = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _raise(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def json_copy(value: Any) -> Any:
    """Deep copy of JSON-shaped data (dicts, lists, atoms): through orjson (C) where the data is
    plain JSON, which is what makes a gateway flood cheap for the sandbox; otherwise item by item,
    anything that is not JSON-shaped handed to `copy.deepcopy`."""
    if isinstance(value, dict | list):
        try:
            text = orjson.dumps(value, default=_raise, option=_PLAIN)
        except (TypeError, orjson.JSONEncodeError):
            return _copy_items(value)
        return orjson.loads(text)
    return _copy_items(value)


def _copy_items(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy_items(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_items(item) for item in value]
    if isinstance(value, _ATOMS):
        return value
    return copy.deepcopy(value)


def public_copy(obj: dict[str, Any]) -> dict[str, Any]:
    """Deep copy of a stored object without the sandbox's private ``_``-prefixed bookkeeping keys."""
    return {key: json_copy(value) for key, value in obj.items() if not key.startswith("_")}


@functools.lru_cache(maxsize=4096)
def normalise_route(route: str) -> str:
    """Make route templates comparable regardless of placeholder names ('{id}' == '{channel_id}').
    Cached: tests' waits compare every recorded call's route again whenever the sandbox changes."""
    return re.sub(r"\{[^}]*\}", "{}", route).rstrip("/") or "/"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _tiny_png() -> bytes:
    """A valid 1x1 PNG so avatar/icon downloads from the sandbox CDN decode as images."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 6, 0, 0, 0])
    pixels = zlib.compress(b"\x00\x58\x65\xf2\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PLACEHOLDER_PNG = _tiny_png()


class Snowflakes:
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


class ApiError(Exception):
    """Raised by REST handlers to produce a Discord-style JSON error response."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.payload: dict[str, Any] = {"message": message, "code": code}
        if errors:
            self.payload["errors"] = errors


def form_error(path: Sequence[str | int], code: str, message: str) -> ApiError:
    """400 'Invalid Form Body' (50035) with Discord's nested ``errors`` object pointing at ``path``."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path):
        errors = {str(part): errors}
    return ApiError(400, 50035, "Invalid Form Body", errors)


def not_found_error(code: int, what: str) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


@dataclass
class Reply:
    """A handler result with an explicit status (handlers otherwise return a body for 200 or None for 204)."""

    status: int
    body: Any = None
