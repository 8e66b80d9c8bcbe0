"""Registering the slash commands with the platform, without ever holding up or stopping the bot.

Start-up never waits on it: the sync runs beside the gateway session, so the ledger records from the
first event even when the platform refuses the commands (400), fails (5xx), or answers with a long
rate limit (the daily command-create limit). A failure is logged once, with the platform's error and
the scope it concerns (the global commands, or a server named in MICROVOICE_COMMAND_GUILD_IDS).

A failure retrying can help (5xx, no answer, a network error) is retried with exponential backoff:
1 minute doubling up to 6 hours, then every 6 hours until it succeeds (about a dozen attempts in the
first day and four a day after, well inside Discord's 200 command creates a day). Each attempt gives
up waiting after `attempt_timeout` seconds (a long 429 is waited out by the next attempt, not by this
one). A refusal retrying cannot change (invalid commands, no access to a server, an unknown server)
raises `PermanentSyncError`: the sync stops at once, and the reason stays shown until the cause is
fixed and the bot restarted. The state is shown by `/microvoice status`.

Sharded processes share the application's commands and sync one at a time. A process finding
another one syncing (`SyncElsewhere`) says so, never that its commands are registered, and looks
again with the same backoff: by then the record shows them registered, or it registers them itself.

What was registered is recorded per application and scope (`record_key`), so another application
started on the same database registers its own commands, and a scope registered before but no longer
configured is emptied.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)

#: The scope of the global commands in a record; a server's scope is its id in decimal.
GLOBAL = "global"
#: Records written before they named the application: `command_tree:global`, `command_tree:<guild id>`.
LEGACY_PREFIX = "command_tree:"
NOT_RETRIED = "not retried until the bot restarts"
GUILDS_SETTING = "MICROVOICE_COMMAND_GUILD_IDS"

#: The platform's HTTP statuses that refuse a scope for good: the commands are invalid (400), the
#: token is not accepted (401), the application has no access there (403), the server is unknown (404).
REFUSED_STATUSES = frozenset({400, 401, 403, 404})
#: What a server's refusal means for the operator, by the platform's error code.
REFUSAL_HINTS = {
    10004: "the bot is not in that server, or the id is wrong",
    50001: "the bot has no access there: invite it again with the applications.commands scope",
}


def scope_label(scope: str, *, configured: bool = True) -> str:
    """A scope as the log and `/microvoice status` name it: the global commands, or which server and
    the setting that names it."""
    if scope == GLOBAL:
        return "the global scope"
    return f"guild {scope} {'in' if configured else 'no longer in'} {GUILDS_SETTING}"


def record_key(application_id: int) -> str:
    """The state key of what an application registered where (scope -> fingerprint of the commands)."""
    return f"command_tree:app:{application_id}"


def parse_record(raw: str | None) -> dict[str, str]:
    """A stored record as scope -> fingerprint (empty when absent or unreadable: everything is synced)."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(scope): str(fingerprint) for scope, fingerprint in value.items()}


def legacy_scope(key: str) -> str | None:
    """The scope a record written before records named the application was for, or None."""
    rest = key.removeprefix(LEGACY_PREFIX)
    if rest == key:
        return None
    return rest if rest == GLOBAL or rest.isdigit() else None


class _ScopedError(Exception):
    """A sync error with each failed scope's reason (`reasons`: scope -> why); the text joins them."""

    def __init__(self, message: str, reasons: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.reasons: dict[str, str] = dict(reasons or {})


class PermanentSyncError(_ScopedError):
    """A refusal retrying cannot change: the sync stops and its text stays in the state."""


class SyncFailed(_ScopedError):
    """Some scopes failed in a way worth retrying (the text names each, and any refused for good)."""


class SyncElsewhere(Exception):
    """Another process of this bot holds the sync lock: registering the commands is its to do now."""


@dataclass(frozen=True)
class SyncState:
    """`ok` once the commands are registered (or were already up to date). `permanent`: stopped on a
    refusal (`error` says which scope and why); no `next_attempt_at` until the bot restarts.
    `elsewhere`: left to another process of the bot, which was syncing; this one looks again at
    `next_attempt_at` (and then finds them registered, or registers them itself)."""

    ok: bool
    attempts: int
    error: str | None = None
    next_attempt_at: datetime | None = None
    permanent: bool = False
    elsewhere: bool = False
    #: Which scopes failed (GLOBAL or a server's id), each with its own reason: a server's moderators
    #: are told about the global scope and their own server only. Empty: the whole sync failed (a
    #: timeout, an error before any scope), which concerns every server.
    reasons: Mapping[str, str] = field(default_factory=dict)

    def concerning(self, guild_id: int) -> str | None:
        """What a server's moderators are told of a failing sync (None: nothing that concerns them)."""
        if self.ok or self.error is None:
            return None
        if not self.reasons:
            return self.error
        mine = [self.reasons[s] for s in (GLOBAL, str(guild_id)) if s in self.reasons]
        return "; ".join(mine) or None


class CommandSync:
    def __init__(
        self,
        sync: Callable[[], Awaitable[object]],
        *,
        clock: Callable[[], datetime],
        first_retry: timedelta = FIRST_RETRY,
        longest_retry: timedelta = LONGEST_RETRY,
        attempt_timeout: float = 30.0,
        describe: Callable[[Exception], str] = str,
    ) -> None:
        """`describe` turns the platform's exception into its error text for the log and status."""
        self._sync = sync
        self._describe = describe
        self.clock = clock
        self.first_retry = first_retry
        self.longest_retry = longest_retry
        self.attempt_timeout = attempt_timeout
        self.state = SyncState(ok=False, attempts=0)
        #: Scopes the platform refused for good since start, with the reason: `sync` skips them.
        self.refused: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sync in the background until it succeeds or is refused for good."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="microvoice-command-sync")

    async def wait(self) -> SyncState:
        """The state once the current round of attempts has finished (for tests and scripts)."""
        if self._task is not None:
            await asyncio.shield(self._task)
        return self.state

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self.first_retry
        while True:
            attempts = self.state.attempts + 1
            try:
                await asyncio.wait_for(self._sync(), timeout=self.attempt_timeout)
            except asyncio.CancelledError:
                raise
            except SyncElsewhere:
                retry_at = self.clock() + delay
                if not self.state.elsewhere:
                    log.info(
                        "another process of this bot is registering the commands; looking again at %s",
                        retry_at.isoformat(timespec="seconds"),
                    )
                self.state = SyncState(ok=False, attempts=attempts, next_attempt_at=retry_at, elsewhere=True)
                await asyncio.sleep(delay.total_seconds())
                delay = min(delay * 2, self.longest_retry)
                continue
            except PermanentSyncError as error:
                reason = f"{error}; {NOT_RETRIED}"
                reasons = {scope: f"{why}; {NOT_RETRIED}" for scope, why in error.reasons.items()}
                self.state = SyncState(
                    ok=False, attempts=attempts, error=reason, permanent=True, reasons=reasons
                )
                log.error("command sync refused: %s", reason)
                return
            except Exception as error:
                # TimeoutError: a long rate limit (or no answer); anything else: the platform's error.
                timed_out = isinstance(error, TimeoutError)
                reason = "no answer (rate limited)" if timed_out else self._describe(error)
                retry_at = self.clock() + delay
                if self.state.attempts == 0 or self.state.error is None:
                    log.warning(
                        "command sync failed: %s; the bot runs on, retrying at %s",
                        reason,
                        retry_at.isoformat(timespec="seconds"),
                    )
                else:
                    log.debug("command sync failed again (attempt %d): %s", attempts, reason)
                reasons = error.reasons if isinstance(error, _ScopedError) else {}
                self.state = SyncState(
                    ok=False, attempts=attempts, error=reason, next_attempt_at=retry_at, reasons=reasons
                )
                await asyncio.sleep(delay.total_seconds())
                delay = min(delay * 2, self.longest_retry)
                continue
            if self.state.error is not None:
                log.info("command sync succeeded after %d attempts", attempts)
            self.state = SyncState(ok=True, attempts=attempts)
            return
