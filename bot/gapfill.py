"""Gap fill: messages sent while the bot was away reach the ledger once.

After a downtime (start-up) or a gateway session that could not be resumed, the events of the gap
were never delivered. Messages can be read back: for every channel with a recorded message, the
history after the newest one the ledger holds (`channel_cursors`, advanced by the writer) is fetched
oldest first and recorded through the same `EngagementRecorder` as live messages, so the natural key
makes a message seen both ways one row. A channel or thread the platform shows now (`Present`) with no
recorded message, whose own newest message is newer than anything the ledger holds of its community
(made, or first written in, while the bot was away), is read from that point too.

Bounded: at most `per_channel` messages per channel and `total` per run, busiest channels first (the
newest cursor first), pages of at most 100 (Discord's limit); the platform adapter waits out rate
limits. A message that also arrives live meanwhile is one row all the same (natural key).

What cannot be recovered: reactions added or removed while away (history shows only the current
reaction counts, not who reacted when), joins, and thread creations (their messages are recovered);
see docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from array import array
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.engagement import EngagementRecorder, SeenMessage
from bot.store import Store
from bot.subreddits.ids import is_reddit_id

log = logging.getLogger(__name__)

PAGE = 100  # Discord's largest page of channel history
#: Channels read between two `History.forget` calls: what reading one channel leaves behind (the
#: platform client's rate-limit records) is dropped as the run goes, not all at its end, so a run
#: over thousands of channels never holds them all (their freed memory would stay scattered).
FORGET_EVERY = 256


class HistoryUnavailable(Exception):
    """The channel's history cannot be read (deleted, or the bot lost access)."""


@dataclass(frozen=True, slots=True)
class Present:
    """A channel or thread the platform shows now, with the id of its newest message (None: it has
    none, as Discord's `last_message_id` says)."""

    community_id: int
    channel_id: int
    last_message_id: int | None


class History(Protocol):
    async def messages_after(self, channel_id: int, after_id: int, limit: int) -> Sequence[SeenMessage]:
        """Up to `limit` (at most 100) messages of the channel newer than `after_id`, oldest first.
        Raises HistoryUnavailable when the channel cannot be read."""
        ...

    def forget(self) -> None:
        """Drop what reading left behind for later reads (a run reads each channel once): called every
        `FORGET_EVERY` channels and when a run ended."""
        ...


@dataclass
class GapFillReport:
    channels: int = 0
    fetched: int = 0
    requests: int = 0
    unavailable: int = 0
    #: Channels whose gap was not read to its end: a bound was reached (the rest is not recovered).
    truncated: list[int] = field(default_factory=list)
    hit_total: bool = False
    seconds: float = 0.0


class GapFill:
    def __init__(
        self,
        store: Store,
        recorder: EngagementRecorder,
        history: History,
        *,
        per_channel: int = 1000,
        total: int = 20_000,
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.history = history
        self.per_channel = per_channel
        self.total = total
        self.last: GapFillReport | None = None
        #: Set once the first run ended (filled, or failed): what was sent while the bot was down is
        #: in the ledger, for work that reports on it (the weekly digest caught up at start-up).
        self.settled = asyncio.Event()
        self._lock = asyncio.Lock()

    async def run(
        self,
        community_ids: Collection[int],
        present: Iterable[Present] = (),
        cursors: Sequence[tuple[int, int, int]] | None = None,
    ) -> GapFillReport:
        """`_run`, then `settled` (however it ended)."""
        try:
            return await self._run(community_ids, present, cursors)
        finally:
            self.settled.set()

    async def _run(
        self,
        community_ids: Collection[int],
        present: Iterable[Present] = (),
        cursors: Sequence[tuple[int, int, int]] | None = None,
    ) -> GapFillReport:
        """Fill the gap of every recorded channel of these communities, and of the channels among
        `present` first written in while the bot was away (one run at a time). `cursors`: the
        channels' cursors as they stood when the session began (`Store.channel_cursors`; None: read
        them now), before its own messages moved them past the gap."""
        async with self._lock:
            started = time.monotonic()
            report = GapFillReport()
            if cursors is None:
                cursors = await self.store.channel_cursors(self.recorder.platform)
            cursors = [
                (community, channel, last)
                for community, channel, last in cursors
                if community in community_ids and not is_reddit_id(channel)  # no Reddit history here
            ]
            cursors += self._new_channels(cursors, present)
            # Busiest (newest message) first. Two arrays of 8-byte ids rather than a list of tuples:
            # a server with years of threads has tens of thousands of cursors (16,669 tuples of
            # Python ints held 3.5 MB for the whole run).
            channels, afters = array("q"), array("q")
            for _, channel, last in sorted((-last, channel, last) for _, channel, last in cursors):
                channels.append(channel)
                afters.append(last)
            del cursors
            for channel_id, after in zip(channels, afters, strict=True):
                budget = min(self.per_channel, self.total - report.fetched)
                if budget <= 0:
                    report.hit_total = True
                    break
                report.channels += 1
                try:
                    await self._channel(channel_id, after, budget, report)
                except HistoryUnavailable:
                    report.unavailable += 1
                except Exception as error:  # a 5xx past the client's retries, a timeout: the next go on
                    report.unavailable += 1
                    log.warning("gap fill: channel %s not read (%s)", channel_id, type(error).__name__)
                if report.channels % FORGET_EVERY == 0:
                    self.history.forget()
            report.seconds = time.monotonic() - started
            self.last = report
            del channels, afters
            # Every channel's cursor and history went through memory once: hand it back.
            self.history.forget()
            await self.store.release_memory()
            log.info(
                "gap fill: %d messages from %d channels in %d requests (%.1fs); %d unreadable,"
                " %d cut at %d messages%s",
                report.fetched,
                report.channels,
                report.requests,
                report.seconds,
                report.unavailable,
                len(report.truncated),
                self.per_channel,
                ", stopped at the total bound" if report.hit_total else "",
            )
            return report

    @staticmethod
    def _new_channels(
        cursors: list[tuple[int, int, int]], present: Iterable[Present]
    ) -> list[tuple[int, int, int]]:
        """(community, channel, after) for each present channel without a cursor whose newest message
        is newer than the newest its community's ledger holds: read from that point."""
        newest: dict[int, int] = {}
        for community, _, last in cursors:
            newest[community] = max(newest.get(community, 0), last)
        known = {channel for _, channel, _ in cursors}
        return [
            (p.community_id, p.channel_id, newest[p.community_id])
            for p in present
            if p.community_id in newest
            and p.channel_id not in known
            and p.last_message_id is not None
            and p.last_message_id > newest[p.community_id]
        ]

    async def _channel(self, channel_id: int, after: int, budget: int, report: GapFillReport) -> None:
        taken = 0
        while taken < budget:
            limit = min(PAGE, budget - taken)
            page = await self.history.messages_after(channel_id, after, limit)
            report.requests += 1
            for message in page:
                self.recorder.message(message)
                taken += 1
                report.fetched += 1
                after = max(after, message.message_id)
            if len(page) < limit:
                return
        report.truncated.append(channel_id)
