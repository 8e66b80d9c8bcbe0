"""Per-community settings moderators choose, what was recorded lately, and trust overrides.

Settings are validated here before anything is written (a refused change writes nothing). The
community's language is cached, since every reply reads it; a change through `update` refreshes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot import i18n
from bot.audit import AuditLog
from bot.errors import InvalidInput
from bot.ingest import Ingest
from bot.reports.privacy import K_MAX, K_MIN
from bot.store import CommunitySettings, Store

RETENTION_MIN, RETENTION_MAX = 1, 3650
SPONSORED_MIN, SPONSORED_MAX = 0, 50
GAP_MIN, GAP_MAX = 0, 720

#: setting -> (lowest, highest, error key) for the numeric settings.
RANGES: dict[str, tuple[int, int, str]] = {
    "retention_days": (RETENTION_MIN, RETENTION_MAX, "error.bad_retention"),
    "max_sponsored_per_week": (SPONSORED_MIN, SPONSORED_MAX, "error.bad_sponsored"),
    "min_gap_hours": (GAP_MIN, GAP_MAX, "error.bad_gap"),
    # Reports hide any figure about fewer members than this (bot/reports/privacy.py).
    "k_anonymity": (K_MIN, K_MAX, "error.bad_k_anonymity"),
}
OVERRIDE_MODES = ("pin", "exclude", "clear")
#: Longest wait, in seconds, for buffered events before `/microvoice status` answers.
#: How many of the busiest channels `/microvoice status` names.
STATUS_CHANNELS = 5

FLUSH_WAIT = 1.0
#: How long a community's language is kept in memory before it is read again (another process of a
#: sharded deployment may change it).
LOCALE_TTL = timedelta(minutes=1)


@dataclass(frozen=True)
class Activity:
    """What was recorded since a moment: events by kind, distinct members, busiest channels."""

    kinds: dict[str, int]
    members: int
    channels: list[tuple[int, str, int]]  # (channel id, name, events), busiest first

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def check_settings(changes: Mapping[str, object]) -> None:
    """InvalidInput for an unknown language or a number out of its range."""
    locale = changes.get("locale")
    if locale is not None and locale not in i18n.LANGUAGES:
        raise InvalidInput("error.bad_locale", choices=list(i18n.LANGUAGES))
    for name, (low, high, key) in RANGES.items():
        value = changes.get(name)
        if value is not None and not (isinstance(value, int) and low <= value <= high):
            raise InvalidInput(key, low=low, high=high)


class CommunityService:
    def __init__(
        self,
        store: Store,
        ingest: Ingest,
        *,
        clock: Callable[[], datetime],
        default_locale: str = "en",
        default_retention_days: int = 180,
        audit: AuditLog | None = None,
    ) -> None:
        self.store = store
        self.ingest = ingest
        self.default_retention_days = default_retention_days
        self.clock = clock
        self.default_locale = default_locale
        self.audit = audit
        self._locales: dict[int, tuple[str, datetime]] = {}

    async def get(self, community_id: int) -> CommunitySettings:
        return await self.store.get_settings(
            community_id,
            default_locale=self.default_locale,
            default_retention_days=self.default_retention_days,
        )

    def _defaults(self) -> dict[str, object]:
        """What a community's first stored settings start from: the installation's defaults."""
        return {"locale": self.default_locale, "retention_days": self.default_retention_days}

    async def lang(self, community_id: int | None) -> str:
        if community_id is None:
            return self.default_locale
        now = self.clock()
        cached = self._locales.get(community_id)
        if cached is None or now - cached[1] > LOCALE_TTL:
            # Read again now and then: another process (a sharded deployment) may have changed it.
            cached = ((await self.get(community_id)).locale, now)
            self._locales[community_id] = cached
        return cached[0]

    def forget_locale(self, community_id: int) -> None:
        """Drop the cached language (after the settings were changed behind this service's back)."""
        self._locales.pop(community_id, None)

    async def update(self, community_id: int, changes: Mapping[str, object], *, by: int) -> None:
        """Write only the given settings, after checking every one of them."""
        check_settings(changes)
        await self.store.update_settings(
            community_id, dict(changes), by=by, now=self.clock(), on_insert=self._defaults()
        )
        self.forget_locale(community_id)

    async def activity(self, community_id: int, days: int, *, channels: int | None = None) -> Activity:
        """What was recorded in the last `days` UTC days, today included, from the daily aggregates: a few
        hundred rows whatever the size of the ledger; the `channels` busiest channels (all by
        default). What is still buffered is written first, unless that takes longer than
        `FLUSH_WAIT` (a flood): then the answer is what is written so far."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.ingest.flush()), FLUSH_WAIT)
        # `days` UTC days, today's included (as reports count them), from the start of the first
        since = self.clock().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        since -= timedelta(days=days - 1)
        kinds = await self.store.event_counts(community_id, since)
        if not kinds:
            return Activity({}, 0, [])
        return Activity(
            kinds,
            await self.store.distinct_actors(community_id, since),
            await self.store.channel_counts(community_id, since, channels),
        )

    async def set_trust_override(self, community_id: int, member_id: int, mode: str, *, by: int) -> None:
        """Pin a member as a trust seed, exclude them from rankings, or clear that (next recompute)."""
        if mode not in OVERRIDE_MODES:
            raise ValueError(f"unknown override mode {mode!r}")
        value = None if mode == "clear" else mode
        await self.store.set_trust_override(community_id, member_id, value, by=by, now=self.clock())
        if self.audit is not None:
            await self.audit.record(community_id, f"override_{mode}", by=by, member=member_id)

    async def set_audit_channel(self, community_id: int, channel_id: int | None, *, by: int) -> None:
        """Send privileged events to this channel from now on, or stop (None); the channel is told."""
        changes: dict[str, object] = {"audit_channel_id": channel_id}
        await self.store.update_settings(
            community_id, changes, by=by, now=self.clock(), on_insert=self._defaults()
        )
        if channel_id is not None and self.audit is not None:
            await self.audit.record(community_id, "enabled", by=by, channel=channel_id)
