"""Batched engagement writer.

Gateway listeners must never wait on disk, so events are buffered and written in batches: when the
buffer reaches `batch_size`, every `flush_ms` milliseconds, and at shutdown. Writes use INSERT OR
IGNORE on the event's natural key, so a RESUME replay or a duplicate delivery never double counts.
A failed write keeps its batch for the next attempt: a transient database error loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from bot.ledger import ChannelInfo, EngagementEvent, MemberSighting
from bot.store import Store

log = logging.getLogger(__name__)


class Ingest:
    def __init__(
        self,
        store: Store,
        *,
        batch_size: int = 500,
        flush_ms: int = 1000,
        cache_size: int = 50_000,
        on_written: Callable[[set[int]], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        # Told which communities got new events after each successful write (the trust graph cache
        # applies them then, so a recompute does not re-read the ledger).
        self.on_written = on_written
        self.batch_size = batch_size
        self.flush_interval = flush_ms / 1000
        self._events: list[EngagementEvent] = []
        self._members: dict[tuple[str, int, int], MemberSighting] = {}
        self._channels: dict[tuple[str, int, int], ChannelInfo] = {}
        # Recently seen message authors, so a reply to a fresh message resolves without the store.
        self._authors: OrderedDict[tuple[str, int], int] = OrderedDict()
        self._cache_size = cache_size
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.written = 0

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="microvoice-ingest")

    async def stop(self) -> None:
        """Stop the timer and write whatever is buffered."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.flush_interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("ingest flush failed; %d events kept for the next attempt", self.pending)

    # -- input ------------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._events)

    def add(
        self,
        event: EngagementEvent | None = None,
        *,
        members: tuple[MemberSighting, ...] = (),
        channels: tuple[ChannelInfo, ...] = (),
    ) -> None:
        if event is not None:
            self._events.append(event)
            if event.platform == "discord" and event.kind in ("message", "reply"):
                self.remember_author(event.platform, int(event.source_id), event.actor_id)
        for m in members:
            key = (m.platform, m.community_id, m.member_id)
            previous = self._members.get(key)
            if previous is None or m.seen_at < previous.seen_at or (m.joined_at and not previous.joined_at):
                self._members[key] = m
        for c in channels:
            self._channels[(c.platform, c.community_id, c.channel_id)] = c
        if len(self._events) >= self.batch_size:
            self._wake.set()

    def remember_author(self, platform: str, message_id: int, author_id: int) -> None:
        key = (platform, message_id)
        self._authors[key] = author_id
        self._authors.move_to_end(key)
        if len(self._authors) > self._cache_size:
            self._authors.popitem(last=False)

    async def author_of(self, platform: str, message_id: int) -> int | None:
        """Author of a message: recent cache first, then the ledger."""
        cached = self._authors.get((platform, message_id))
        if cached is not None:
            return cached
        return await self.store.message_author(platform, message_id)

    async def thread_owner(self, platform: str, community_id: int, channel_id: int) -> int | None:
        pending = self._channels.get((platform, community_id, channel_id))
        if pending is not None and pending.owner_id is not None:
            return pending.owner_id
        return await self.store.thread_owner(platform, community_id, channel_id)

    # -- output -----------------------------------------------------------------------------------

    async def flush(self) -> int:
        async with self._lock:
            if not (self._events or self._members or self._channels):
                return 0
            events, members, channels = self._events, self._members, self._channels
            self._events, self._members, self._channels = [], {}, {}
            try:
                written = await self.store.record(events, members.values(), channels.values())
            except BaseException:
                # Put the batch back in front of anything that arrived meanwhile.
                self._events = events + self._events
                self._members = {**members, **self._members}
                self._channels = {**channels, **self._channels}
                raise
            self.written += written
            log.debug("ingest wrote %d new of %d events", written, len(events))
            if written and self.on_written is not None:
                try:
                    await self.on_written({e.community_id for e in events})
                except Exception:  # the batch is stored; a consumer catches up from the database
                    log.exception("after-write hook failed for %d new events", written)
            return written
