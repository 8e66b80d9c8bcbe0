"""Registering the slash commands with the platform, without ever holding up or stopping the bot.

Start-up never waits on it: the sync runs beside the gateway session, so the ledger records from the
first event even when the platform refuses the commands (400), fails (5xx), or answers with a long
rate limit (the daily command-create limit). A failure is logged once, with the platform's error,
and retried with exponential backoff (1 minute doubling up to 6 hours: about a dozen attempts in the
first day, at most `max_attempts` in all, well inside Discord's 200 command creates a day); each
attempt gives up waiting after `attempt_timeout` seconds (a long 429 is waited out by the next
attempt, not by this one). The state is shown by `/microvoice status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


@dataclass(frozen=True)
class SyncState:
    """`ok` once the commands are registered (or were already up to date)."""

    ok: bool
    attempts: int
    error: str | None = None
    next_attempt_at: datetime | None = None


class CommandSync:
    def __init__(
        self,
        sync: Callable[[], Awaitable[object]],
        *,
        clock: Callable[[], datetime],
        first_retry: timedelta = FIRST_RETRY,
        longest_retry: timedelta = LONGEST_RETRY,
        attempt_timeout: float = 30.0,
        max_attempts: int = 24,
        describe: Callable[[Exception], str] = str,
    ) -> None:
        """`describe` turns the platform's exception into its error text for the log and status."""
        self._sync = sync
        self._describe = describe
        self.clock = clock
        self.first_retry = first_retry
        self.longest_retry = longest_retry
        self.attempt_timeout = attempt_timeout
        self.max_attempts = max_attempts
        self.state = SyncState(ok=False, attempts=0)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sync in the background until it succeeds (or the day's attempts are used up)."""
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
            except Exception as error:
                # TimeoutError: a long rate limit (or no answer); anything else: the platform's error.
                timed_out = isinstance(error, TimeoutError)
                reason = "no answer (rate limited)" if timed_out else self._describe(error)
                if attempts >= self.max_attempts:
                    self.state = SyncState(ok=False, attempts=attempts, error=reason)
                    log.error("command sync: giving up after %d attempts: %s", attempts, reason)
                    return
                retry_at = self.clock() + delay
                if self.state.attempts == 0 or self.state.error is None:
                    log.warning(
                        "command sync failed: %s; the bot runs on, retrying at %s",
                        reason,
                        retry_at.isoformat(timespec="seconds"),
                    )
                else:
                    log.debug("command sync failed again (attempt %d): %s", attempts, reason)
                self.state = SyncState(ok=False, attempts=attempts, error=reason, next_attempt_at=retry_at)
                await asyncio.sleep(delay.total_seconds())
                delay = min(delay * 2, self.longest_retry)
                continue
            if self.state.error is not None:
                log.info("command sync succeeded after %d attempts", attempts)
            self.state = SyncState(ok=True, attempts=attempts)
            return
