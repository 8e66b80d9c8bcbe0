"""The engagement writer: gateway listeners hand events over in memory, a thread writes them.

Guarantees:

- **Listeners never wait on the database.** `add` appends to an in-memory buffer and returns; a
  reply whose target is not in the recent-author cache carries the referenced message id and the
  writer resolves it inside its transaction.
- **Writes proceed during a flood.** A writer thread with its own SQLite connection (never queued
  behind the bot's reads) takes the whole buffer as one batch as soon as it holds `batch_size`
  events, or when its oldest entry is `flush_ms` old, whichever comes first. Its clock is its own:
  a busy event loop cannot postpone a flush.
- **Bounded loss.** A SIGKILL loses what was buffered or in the batch being written: the events of
  the last flush window while the writer keeps up. When it does not, the buffer is bounded by
  `capacity`: the platform adapter's `pause_source` stops reading the event stream until the
  writer has taken the buffer (the event loop keeps running: heartbeats, commands and timers go
  on), so Discord's stream waits on its side instead of in our memory. Without a pausable source,
  or past twice the capacity, `add` holds the event loop until the writer has made room, for at
  most `FULL_WAIT_SECONDS` in a row. That is logged once (then at most every ten minutes with a
  count). If the writer is failing, or stalled past that wait, waiting longer would stall the bot
  for nothing: events beyond the bound are dropped and counted instead, and `add` returns False so
  a caller that can read its items again (the Reddit streams) does not move past them. A dropped
  Discord message is read back by the gap fill only if the bot restarts (or starts a new gateway
  session) before a newer message of its channel is written; a dropped reaction is lost.
- **Replays never double count.** Every write is INSERT OR IGNORE on the event's natural key.
- A failed write keeps its batch for the next attempt, retried with backoff: at most
  `RECONNECT_RETRY_SECONDS` apart while the database is briefly unavailable (a lost connection, a
  restart, a failover: writing resumes within seconds of its return), up to `MAX_RETRY_SECONDS`
  for other failures (a full disk). `stop` keeps trying for at most `STOP_SECONDS`.

After each write the communities that got new events are passed to `on_written` (the trust graph
cache), coalesced and at most every `absorb_seconds`, on the event loop and off the writer's path.
An `Ingest` that was never started (scripts, tests) writes on the caller's path in `flush`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot import allocator
from bot.ledger import ChannelInfo, EngagementEvent, MemberSighting
from bot.store import Store
from bot.store.base import store_unavailable_briefly
from bot.store.ledger import LedgerWriter, StoreWriter

log = logging.getLogger(__name__)

#: Seconds between two log lines about a full buffer (the first one is logged at once).
FULL_LOG_EVERY = 600.0
#: The writer hands memory back once it has written this many batches' worth of events since it last
#: did and finds the buffer empty (see `_run`).
RELEASE_AFTER_BATCHES = 20
#: Longest pause between two attempts of a failing write.
MAX_RETRY_SECONDS = 30.0
#: Longest pause between two attempts while the database is briefly unavailable (`store_unavailable_briefly`):
#: events beyond the buffer are dropped until a write succeeds, so a quick retry loses fewer of them.
RECONNECT_RETRY_SECONDS = 2.0
#: Longest `add` holds the event loop waiting for room in a full buffer (without a pausable source, or
#: past twice the capacity). Beyond it the writer is taken to be stalled (a statement waiting on the
#: database's timeout) and events are dropped and counted until it takes the buffer.
FULL_WAIT_SECONDS = 2.0
#: How long `stop` waits for what is buffered to be written: the writer retries until then (each
#: attempt bounded by the database's own timeouts), then gives the rest up.
STOP_SECONDS = 10.0


@dataclass
class _Batch:
    events: list[EngagementEvent] = field(default_factory=list)
    members: dict[tuple[str, int, int], MemberSighting] = field(default_factory=dict)
    channels: dict[tuple[str, int, int], ChannelInfo] = field(default_factory=dict)
    seq: int = 0  # the `add` sequence number of the last item in it

    def __bool__(self) -> bool:
        return bool(self.events or self.members or self.channels)

    def put_back(self, newer: _Batch) -> _Batch:
        """This (older, failed) batch in front of what arrived meanwhile."""
        return _Batch(
            self.events + newer.events,
            {**self.members, **newer.members},
            {**self.channels, **newer.channels},
            max(self.seq, newer.seq),
        )


def _merged(seen: MemberSighting, m: MemberSighting) -> MemberSighting:
    """Two sightings of one member in a batch as one: the earlier time, the newer join time (a member
    may leave and join again), the first known account age, a bot if either says so."""
    return MemberSighting(
        platform=m.platform,
        community_id=m.community_id,
        member_id=m.member_id,
        seen_at=min(seen.seen_at, m.seen_at),
        joined_at=m.joined_at or seen.joined_at,
        account_created_at=seen.account_created_at or m.account_created_at,
        is_bot=seen.is_bot or m.is_bot,
    )


class RecentAuthors:
    """Authors of the most recent messages, by message id: the last `size // 2` to `size` messages.

    Two generations of plain dicts (when the newer one holds `size // 2` entries it becomes the older
    one, and the older one is dropped), so a lookup is two dict probes and nothing is reordered.
    Author ids are shared between the entries of a generation (a community's messages come from far
    fewer authors than messages). About 90 bytes an entry, where an `OrderedDict` of
    `(platform, id)` tuples held about 300.
    """

    def __init__(self, size: int) -> None:
        self.generation = max(1, size // 2)
        self._new: dict[int, int] = {}
        self._old: dict[int, int] = {}
        self._ids: dict[int, int] = {}  # one int object per author in the newer generation

    def __len__(self) -> int:
        return len(self._new) + len(self._old)

    def put(self, message_id: int, author_id: int) -> None:
        if len(self._new) >= self.generation and message_id not in self._new:
            self._old, self._new, self._ids = self._new, {}, {}
        self._new[message_id] = self._ids.setdefault(author_id, author_id)

    def get(self, message_id: int) -> int | None:
        author = self._new.get(message_id)
        return author if author is not None else self._old.get(message_id)


@dataclass
class IngestStats:
    """What the writer did since start: for `/microvoice status` and the benchmarks."""

    written: int = 0
    batches: int = 0
    full_waits: int = 0
    dropped: int = 0
    failures: int = 0
    releases: int = 0  # backlogs written after which the writer handed its memory back


class Ingest:
    def __init__(
        self,
        store: Store,
        *,
        batch_size: int = 500,
        flush_ms: int = 1000,
        capacity: int | None = None,
        cache_size: int = 20_000,
        on_written: Callable[[set[int]], Awaitable[None]] | None = None,
        absorb_seconds: float = 5.0,
    ) -> None:
        self.store = store
        self.on_written = on_written
        self.batch_size = batch_size
        self.flush_interval = flush_ms / 1000
        # Ten batches: enough to keep the writer busy at any offered rate; beyond it the gateway
        # socket is paused (twice the capacity at most while it stops), ~1 KB an event with its sighting.
        self.capacity = capacity if capacity is not None else max(10 * batch_size, 5_000)
        self.absorb_seconds = absorb_seconds
        self.stats = IngestStats()
        self._buffer = _Batch()
        self._in_flight = 0  # events of the batch being written
        self._oldest: float | None = None  # monotonic time the oldest buffered item arrived
        self._seq = 0  # items added
        self._committed = 0  # items written (or given up)
        self._flush_to = 0  # write at once up to this sequence number
        self._cond = threading.Condition()
        #: Stops (True) or resumes (False) reading the platform's event stream; returns whether it
        #: could. Set by the platform adapter; called on the event loop.
        self.pause_source: Callable[[bool], bool] | None = None
        self._source_paused = False
        self._holds = 0  # `hold` calls not yet released: timed writes wait
        self._stopping = False
        self._stop_by = 0.0  # monotonic time by which a stopping writer gives up
        self._healthy = True
        self._stalled = False  # a wait for room ran out: drop, not wait, until the writer takes the buffer
        self._last_full_log = -FULL_LOG_EVERY
        self._full_since_log = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._absorb_pending: set[int] = set()
        self._absorb_wake = asyncio.Event()
        self._absorb_task: asyncio.Task[None] | None = None
        self._inline_lock = asyncio.Lock()
        # Recently seen message authors, so a reply to a fresh message resolves without the store:
        # the last 10,000 to 20,000 messages (about 90 bytes each); a reply to an older one is
        # resolved by the writer, one index lookup in its transaction.
        self._cache_size = cache_size
        self._authors: dict[str, RecentAuthors] = {}
        # Erased members, by (community, member): when they were erased (what they did up to then
        # is not recorded again, however it arrives: a gap fill, a Reddit stream read again, a
        # replay), and those still unlinked as targets and thread owners (until they are active
        # again: engagement with what they post after the erasure is theirs).
        self._erased_at: dict[tuple[int, int], datetime] = {}
        self._unlinked: set[tuple[int, int]] = set()

    @property
    def written(self) -> int:
        return self.stats.written

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (it opens its own connection to the database file)."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        writer = self.store.ledger_writer()
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, args=(writer,), name="microvoice-ingest-writer", daemon=True
        )
        self._thread.start()
        if self.on_written is not None:
            self._absorb_task = asyncio.create_task(self._absorb_loop(), name="microvoice-ingest-absorb")

    async def stop(self) -> None:
        """Write whatever is buffered, then stop the writer: within `STOP_SECONDS` (and a second for
        an attempt under way); what could not be written by then is given up, and logged."""
        thread = self._thread
        abandoned = False
        if thread is not None:
            with self._cond:
                self._stopping = True
                self._stop_by = time.monotonic() + STOP_SECONDS
                self._cond.notify_all()
            self._resume_source()
            await asyncio.to_thread(thread.join, STOP_SECONDS + 1.0)
            if thread.is_alive():  # an attempt still waiting on the database: leave it behind
                abandoned = True
                log.error(
                    "ingest stopped with %d events that could not be written (the database did not"
                    " answer within %.0f s)",
                    self.pending,
                    STOP_SECONDS,
                )
            self._thread = None
            self._fail_waiters(None)
        if self._absorb_task is not None:
            self._absorb_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._absorb_task
            self._absorb_task = None
        if self._buffer and not abandoned:  # never started, or the writer gave up: one last attempt here
            await self.flush()

    # -- input (event loop) -----------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Events handed over and not yet written."""
        return len(self._buffer.events) + self._in_flight

    async def load_erased(self) -> None:
        """The members erased before (from the consent log's erasure notes), read once at start."""
        for community_id, member_id, at in await self.store.erased_members():
            self.erased(community_id, member_id, at)

    def erased(self, community_id: int, member_id: int, at: datetime) -> None:
        """A member was erased at `at`: see `add`."""
        key = (community_id, member_id)
        self._erased_at[key] = max(at, self._erased_at.get(key, at))
        self._unlinked.add(key)

    def erased_after(self, community_id: int, member_id: int, at: datetime) -> bool:
        """Whether the member was erased at or after `at` (what they did then is not recorded again)."""
        erased = self._erased_at.get((community_id, member_id))
        return erased is not None and at <= erased

    def _without_erased(
        self,
        event: EngagementEvent | None,
        members: Iterable[MemberSighting],
        channels: Iterable[ChannelInfo],
    ) -> tuple[EngagementEvent | None, list[MemberSighting], list[ChannelInfo]]:
        """What may be recorded of an event, sightings and channels once members were erased: nothing
        an erased member did up to their erasure, and no erased member as a target or a thread's
        owner until they are active again."""
        unlinked = self._unlinked
        if event is not None and self.erased_after(event.community_id, event.actor_id, event.created_at):
            event = None  # from before the erasure: read again, not new
        elif event is not None:
            unlinked.discard((event.community_id, event.actor_id))  # active (again)
        if event is not None and (event.community_id, event.target_id) in unlinked:
            event = replace(event, target_id=None, target_message_id=None)
        kept = [m for m in members if not self.erased_after(m.community_id, m.member_id, m.seen_at)]
        shown = [
            replace(c, owner_id=None)
            if c.owner_id is not None and (c.community_id, c.owner_id) in unlinked
            else c
            for c in channels
        ]
        return event, kept, shown

    def add(
        self,
        event: EngagementEvent | None = None,
        *,
        members: Iterable[MemberSighting] = (),
        channels: Iterable[ChannelInfo] = (),
    ) -> bool:
        """Hand an event (and what it taught about members and channels) to the writer. False when the
        event was dropped (and counted): the buffer is full and the writer failing or stalled."""
        if self._erased_at:
            event, members, channels = self._without_erased(event, members, channels)
        with self._cond:
            full = event is not None and len(self._buffer.events) >= self.capacity
            if full and not self._paused_source() and not self._wait_for_room():
                self.stats.dropped += 1
                return False
            buffer = self._buffer
            if event is not None:
                buffer.events.append(event)
                if event.platform == "discord" and event.kind in ("message", "reply"):
                    self.remember_author(event.platform, int(event.source_id), event.actor_id)
            for m in members:
                key = (m.platform, m.community_id, m.member_id)
                seen = buffer.members.get(key)
                if seen is None:
                    buffer.members[key] = m
                elif m.seen_at < seen.seen_at or (m.joined_at and m.joined_at != seen.joined_at):
                    buffer.members[key] = _merged(seen, m)
            for c in channels:
                buffer.channels[(c.platform, c.community_id, c.channel_id)] = c
            self._seq += 1
            buffer.seq = self._seq
            if self._oldest is None:
                self._oldest = time.monotonic()
                self._cond.notify_all()  # the writer starts this buffer's flush window
            elif len(buffer.events) >= self.batch_size:
                self._cond.notify_all()
        return True

    def _paused_source(self) -> bool:
        """With the buffer full: stop reading the source while the writer is healthy; True when the
        event may be buffered without waiting (up to twice the capacity). Condition held."""
        if (
            self.pause_source is None
            or self._thread is None
            or not self._healthy
            or self._stopping
            or len(self._buffer.events) >= 2 * self.capacity
        ):
            return False
        if not self.pause_source(True):
            return False
        if not self._source_paused:
            self._source_paused = True
            self.stats.full_waits += 1
            self._log_full()
        return True

    def _resume_source(self) -> None:
        """On the event loop, once the writer took the buffer (or is failing: nothing to wait for)."""
        with self._cond:
            if not self._source_paused:
                return
            if self._healthy and not self._stopping and len(self._buffer.events) >= self.capacity:
                return
            self._source_paused = False
        if self.pause_source is not None:
            self.pause_source(False)

    def _log_full(self) -> None:
        now = time.monotonic()
        self._full_since_log += 1
        if now - self._last_full_log >= FULL_LOG_EVERY:
            log.warning(
                "ingest buffer full (%d events, %d times since the last notice): the gateway waits"
                " for the database writer",
                self.capacity,
                self._full_since_log,
            )
            self._last_full_log, self._full_since_log = now, 0

    def _wait_for_room(self) -> bool:
        """Hold the caller (the event loop) until the writer made room, for at most
        `FULL_WAIT_SECONDS`; False to drop the event because the writer is failing, stalled (a wait
        already ran out and the writer has not taken the buffer since) or not running. Called with
        the condition held."""
        if self._thread is None or not self._healthy or self._stopping or self._stalled:
            return False
        self.stats.full_waits += 1
        self._log_full()
        self._cond.notify_all()
        deadline = time.monotonic() + FULL_WAIT_SECONDS
        while len(self._buffer.events) >= self.capacity:
            left = deadline - time.monotonic()
            if self._thread is None or not self._healthy or self._stopping:
                return False
            if left <= 0:
                self._stalled = True
                log.warning(
                    "ingest writer stalled for %.0f s with the buffer full: events are dropped and"
                    " counted until it takes the buffer",
                    FULL_WAIT_SECONDS,
                )
                return False
            self._cond.wait(min(0.05, left))
        return True

    def has_sighting(self, key: tuple[str, int, int], seen_at: datetime, joined_at: datetime | None) -> bool:
        """Whether the buffer already holds a sighting of member `key` that says all one seen at
        `seen_at` (joined at `joined_at`) would: as early, and the same join time if that one has
        it. A busy member's messages then carry no sighting of their own. Read without the lock: a
        buffer the writer took meanwhile is being written with that sighting."""
        seen = self._buffer.members.get(key)
        return (
            seen is not None
            and seen.seen_at <= seen_at
            and (joined_at is None or seen.joined_at == joined_at)
        )

    def remember_author(self, platform: str, message_id: int, author_id: int) -> None:
        recent = self._authors.get(platform)
        if recent is None:
            recent = self._authors[platform] = RecentAuthors(self._cache_size)
        recent.put(message_id, author_id)

    def cached_author(self, platform: str, message_id: int) -> int | None:
        """Author of a recent message from memory; None if not seen lately (the writer resolves it)."""
        recent = self._authors.get(platform)
        return recent.get(message_id) if recent is not None else None

    # -- output -----------------------------------------------------------------------------------

    def hold(self) -> None:
        """Keep what arrives in the buffer, without the timed write, until `release`: a new gateway
        session's gap fill reads where each channel's recorded messages end before the session's
        own messages move it. A full batch, an explicit `flush` and stopping still write."""
        with self._cond:
            self._holds += 1

    def release(self) -> None:
        with self._cond:
            self._holds = max(0, self._holds - 1)
            self._cond.notify_all()

    async def flush(self) -> int:
        """Write everything handed over so far; returns how many new events were written meanwhile."""
        if self._thread is None:
            return await self._flush_inline()
        before = self.stats.written
        with self._cond:
            target = self._seq
            if self._committed >= target:
                return 0
            self._flush_to = max(self._flush_to, target)
            self._cond.notify_all()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        await future
        return self.stats.written - before

    async def caught_up(self) -> None:
        """Wait until everything handed over so far is written, at the writer's own pace (unlike
        `flush`, no early write: a stream of callers does not turn into a stream of commits)."""
        if self._thread is None:
            await self._flush_inline()
            return
        with self._cond:
            target = self._seq
            if self._committed >= target:
                return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        await future

    async def _flush_inline(self) -> int:
        """Not started: write the buffer through the store's main connection, here."""
        async with self._inline_lock:
            with self._cond:
                batch, self._buffer, self._oldest = self._buffer, _Batch(), None
            if not batch:
                return 0
            try:
                written = await self.store.record(
                    batch.events, batch.members.values(), batch.channels.values()
                )
            except BaseException:
                with self._cond:
                    self._buffer = batch.put_back(self._buffer)
                raise
            self.stats.written += written
            self.stats.batches += 1
            if written and self.on_written is not None:
                try:
                    await self.on_written({e.community_id for e in batch.events})
                except Exception:  # the batch is stored; a consumer catches up from the database
                    log.exception("after-write hook failed for %d new events", written)
            return written

    # -- the writer thread ------------------------------------------------------------------------

    def _due(self) -> float | None:
        """0 when a batch should be written now, else seconds until the oldest item is due (None:
        nothing buffered). Called with the condition held."""
        buffer = self._buffer
        if not buffer:
            return None
        if self._stopping or len(buffer.events) >= self.batch_size or self._flush_to > self._committed:
            return 0.0
        if self._holds:
            return self.flush_interval  # `release` wakes the writer before then
        assert self._oldest is not None
        return max(0.0, self._oldest + self.flush_interval - time.monotonic())

    def _run(self, writer: LedgerWriter | StoreWriter) -> None:
        retry = 0.1
        since_release = 0  # events written since the writer last released memory
        try:
            while True:
                with self._cond:
                    while True:
                        wait = self._due()
                        if wait == 0.0:
                            break
                        if wait is None and self._stopping:
                            return
                        self._cond.wait(wait)
                    batch, self._buffer, self._oldest = self._buffer, _Batch(), None
                    self._in_flight = len(batch.events)
                    self._stalled = False
                    self._cond.notify_all()  # room for callers waiting on a full buffer
                    if self._source_paused:
                        self._call_soon(self._resume_source)
                try:
                    written = writer.write(batch.events, batch.members.values(), batch.channels.values())
                except Exception as error:
                    retry = self._write_failed(batch, error, retry)
                    self._pause(retry)
                    if self._stopping and time.monotonic() >= self._stop_by:
                        self._give_up()
                        return
                    continue
                retry = 0.1
                with self._cond:
                    self._in_flight = 0
                    self._committed = batch.seq
                    self._healthy = True
                    self.stats.written += written
                    self.stats.batches += 1
                    self._cond.notify_all()
                    drained = not self._buffer
                communities = {e.community_id for e in batch.events}
                self._call_soon(self._committed_now, batch.seq, communities, written)
                since_release += len(batch.events)
                del batch
                if drained and since_release >= RELEASE_AFTER_BATCHES * self.batch_size:
                    # A backlog (a flood, a gap fill) is written and nothing more is waiting: hand its
                    # memory back (the page cache, the freed batches) instead of keeping it resident
                    # until the next one. Never while events keep coming: the next batch would find
                    # the cache cold, and `malloc_trim` holds each arena's lock while it runs.
                    since_release = 0
                    writer.release()
                    allocator.trim()
                    with self._cond:
                        self.stats.releases += 1
        finally:
            writer.close()

    def _pause(self, retry: float) -> None:
        """Wait before the next attempt: `retry` seconds, cut short by `stop`; once stopping, at most
        half a second and never past the stop's deadline."""
        with self._cond:
            if not self._stopping:
                self._cond.wait_for(lambda: self._stopping, timeout=retry)
                return
            left = self._stop_by - time.monotonic()
        time.sleep(max(0.0, min(retry, 0.5, left)))

    def _write_failed(self, batch: _Batch, error: Exception, retry: float) -> float:
        """Keep the failed batch for the next attempt; returns the pause before it (doubling, up to
        `RECONNECT_RETRY_SECONDS` while the database is briefly unavailable, else `MAX_RETRY_SECONDS`)."""
        with self._cond:
            first = self._healthy
            self._healthy = False
            self.stats.failures += 1
            self._in_flight = 0
            self._buffer = batch.put_back(self._buffer)
            if self._oldest is None:
                self._oldest = time.monotonic()
            self._cond.notify_all()  # callers waiting for room stop waiting: events are dropped
            if self._source_paused:
                self._call_soon(self._resume_source)
        if first:
            log.error(
                "ingest write failed; %d events kept for the next attempt", len(batch.events), exc_info=error
            )
        else:
            log.debug("ingest write failed again: %s", error)
        self._call_soon(self._fail_waiters, error)
        ceiling = RECONNECT_RETRY_SECONDS if store_unavailable_briefly(error) else MAX_RETRY_SECONDS
        return min(retry * 2, ceiling)

    def _give_up(self) -> None:
        with self._cond:
            lost = len(self._buffer.events)
            self._committed = self._seq
            self._buffer = _Batch()
        log.error("ingest stopped with %d events that could not be written within %.0f s", lost, STOP_SECONDS)

    def _call_soon(self, callback: Callable[..., None], *args: object) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(callback, *args)

    # -- back on the event loop -------------------------------------------------------------------

    def _committed_now(self, seq: int, communities: set[int], written: int) -> None:
        still: list[tuple[int, asyncio.Future[None]]] = []
        for target, future in self._waiters:
            if target <= seq:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((target, future))
        self._waiters = still
        if written and self.on_written is not None:
            self._absorb_pending |= communities
            self._absorb_wake.set()

    def _fail_waiters(self, error: BaseException | None) -> None:
        waiters, self._waiters = self._waiters, []
        for _, future in waiters:
            if not future.done():
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)

    async def _absorb_loop(self) -> None:
        assert self.on_written is not None
        while True:
            await self._absorb_wake.wait()
            self._absorb_wake.clear()
            communities, self._absorb_pending = self._absorb_pending, set()
            try:
                await self.on_written(communities)
            except Exception:  # the events are stored; the consumer catches up from the database
                log.exception("after-write hook failed for %d communities", len(communities))
            await asyncio.sleep(self.absorb_seconds)
