"""Brand activations as a state machine, schedule validation and the saturation guard. Pure.

    draft ──> pending ──> scheduled ──> live ──> ended
                 │            │           │
                 ├─> rejected ├─> cancelled <┘
                 └─> cancelled

The store performs every transition as one guarded UPDATE (``WHERE id = ? AND state = ?``); this
module only says which transitions exist and validates what a caller asks for. Time is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.errors import InvalidInput, MicrovoiceError
from bot.text import clean

KINDS = ("qa", "giveaway", "takeover", "announcement")
CONNECTIONS = ("paid", "gifted", "affiliate")

TITLE_MAX = 200
TEXT_MAX = 1000  # questions, answers, takeover posts
ANSWER_MAX = 1500
REASON_MAX = 300
MIN_DURATION = timedelta(minutes=5)
MAX_DURATION = timedelta(days=30)
MAX_LEAD = timedelta(days=365)
# Creating "now" takes a moment; a start this far in the past still counts as now.
PAST_TOLERANCE = timedelta(minutes=2)
WEEK = timedelta(days=7)


class State(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.DRAFT: frozenset({State.PENDING, State.CANCELLED}),
    State.PENDING: frozenset({State.SCHEDULED, State.REJECTED, State.CANCELLED}),
    State.SCHEDULED: frozenset({State.LIVE, State.CANCELLED}),
    State.LIVE: frozenset({State.ENDED, State.CANCELLED}),
    State.ENDED: frozenset(),
    State.REJECTED: frozenset(),
    State.CANCELLED: frozenset(),
}
TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# States that count against the saturation guard: approved, whether upcoming, running or done.
SPONSORED = (State.SCHEDULED, State.LIVE, State.ENDED)


class ActivationError(MicrovoiceError):
    """An activation request that cannot be honoured; nothing was changed."""


class Saturated(ActivationError):
    """Approving would exceed the community's sponsored-content limits; `next_free` (UTC, as typed) and
    `next_free_local` (in the reader's time zone) say when fits."""


def can_transition(current: str, target: str) -> bool:
    return State(target) in TRANSITIONS[State(current)]


def check_transition(current: str, target: str) -> None:
    if not can_transition(current, target):
        raise ActivationError("activation.error.bad_state", state=current)


@dataclass(frozen=True)
class Activation:
    id: int
    community_id: int
    #: None for a community giveaway: no brand is behind it, so it is not sponsored content.
    brand_id: int | None
    kind: str
    state: str
    connection: str
    title: str
    channel_id: int
    starts_at: datetime
    ends_at: datetime
    locale: str
    config: dict[str, Any] = field(default_factory=dict)
    created_by: int = 0
    created_at: datetime | None = None
    approved_by: int | None = None
    reason: str | None = None
    message_id: int | None = None
    thread_id: int | None = None
    brand_name: str = ""
    #: When the opening post (and whatever else going live takes) was done: members see a live
    #: activation only from then on. None while the opening is still being retried.
    opened_at: datetime | None = None

    @property
    def opening(self) -> bool:
        """Live, but its opening post does not exist yet (being retried)."""
        return self.state == State.LIVE and self.opened_at is None

    @property
    def community(self) -> bool:
        """A community giveaway: a moderator stated that no brand provided the prize."""
        return self.brand_id is None

    @property
    def window(self) -> tuple[datetime, datetime]:
        return self.starts_at, self.ends_at

    def due(self, now: datetime) -> str | None:
        """The transition the scheduler owes this activation at `now`, if any."""
        if self.state == State.SCHEDULED and now >= self.starts_at:
            return State.LIVE
        if self.state == State.LIVE and now >= self.ends_at:
            return State.ENDED
        return None


# -- input ----------------------------------------------------------------------------------------

# At most nine digits: a longer number is no offset anyone means (and int() refuses 4,300 and more).
_RELATIVE = re.compile(r"^(?:in\s*)?\+?\s*(\d{1,9})\s*(m|min|mins|minutes?|h|hours?|d|days?)$", re.I)
_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


def parse_when(text: str, *, now: datetime) -> datetime:
    """`now`, a relative offset (`+90m`, `in 2h`, `+1d`) or an absolute UTC time (`2026-05-01 18:00`,
    ISO 8601 with an offset is honoured)."""
    raw = clean(text)
    if raw.lower() == "now":
        return now
    match = _RELATIVE.match(raw)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()[0]
        if amount > 10_000:  # before any timedelta is built: a huge one overflows
            raise InvalidInput("activation.error.bad_time", value=raw[:40])
        delta = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}
        return now + delta[unit]
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        parsed = None
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise InvalidInput("activation.error.bad_time", value=raw[:40])
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # a time at the very edge of the calendar, moved by its offset past it
        raise InvalidInput("activation.error.bad_time", value=raw[:40]) from None


def validate_schedule(starts_at: datetime, ends_at: datetime, *, now: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidInput("activation.error.end_before_start")
    if starts_at < now - PAST_TOLERANCE:
        raise InvalidInput("activation.error.start_in_past")
    if starts_at > now + MAX_LEAD:
        raise InvalidInput("activation.error.too_far", days=MAX_LEAD.days)
    if ends_at - starts_at < MIN_DURATION:
        raise InvalidInput("activation.error.too_short", minutes=int(MIN_DURATION.total_seconds() // 60))
    if ends_at - starts_at > MAX_DURATION:
        raise InvalidInput("activation.error.too_long", days=MAX_DURATION.days)


def validate_text(text: str, *, limit: int, what: str, multiline: bool = False) -> str:
    """Text cleaned by `bot.text.clean` (controls, bidi controls and stray zero-width characters gone),
    within 1..limit characters. Errors use the keys `activation.error.{what}_empty` and
    `activation.error.{what}_too_long` (placeholders `limit`, `length`), so each field reads naturally."""
    cleaned = clean(text, multiline=multiline)
    if not cleaned:
        raise InvalidInput(f"activation.error.{what}_empty")
    if len(cleaned) > limit:
        raise InvalidInput(f"activation.error.{what}_too_long", limit=limit, length=len(cleaned))
    return cleaned


def validate_kind(kind: str, connection: str) -> None:
    if kind not in KINDS:
        raise InvalidInput("activation.error.bad_kind", choices=list(KINDS))
    if connection not in CONNECTIONS:
        raise InvalidInput("activation.error.bad_connection", choices=list(CONNECTIONS))


# -- saturation -----------------------------------------------------------------------------------


def fits(
    start: datetime,
    duration: timedelta,
    others: Sequence[tuple[datetime, datetime]],
    *,
    max_per_week: int,
    min_gap: timedelta,
) -> bool:
    """Whether an activation over [start, start + duration] respects both limits against `others`:
    at most `max_per_week` starts in any rolling 7-day window, and at least `min_gap` between windows."""
    if max_per_week <= 0:
        return False
    end = start + duration
    for o_start, o_end in others:
        if start < o_end + min_gap and o_start < end + min_gap:
            return False
    near = sorted(s for s, _ in others if abs(s - start) < WEEK)
    need = max_per_week  # this many others together with `start` in one window would be one too many
    for i in range(len(near) - need + 1):
        group = near[i : i + need]
        if max(group[-1], start) - min(group[0], start) < WEEK:
            return False
    return True


def next_free_slot(
    start: datetime,
    duration: timedelta,
    others: Iterable[tuple[datetime, datetime]],
    *,
    max_per_week: int,
    min_gap: timedelta,
) -> datetime | None:
    """The earliest start at or after `start` that fits, or None when sponsored content is off (0 a week).

    Every constraint forbids an interval of starts; the first free start is `start` itself or the right
    edge of one of those intervals: another window's end plus the gap, or another start plus a week.
    """
    windows = list(others)
    if max_per_week <= 0:
        return None
    candidates = {start}
    for o_start, o_end in windows:
        candidates.add(o_end + min_gap)
        candidates.add(o_start + WEEK)
    for when in sorted(c for c in candidates if c >= start):
        if fits(when, duration, windows, max_per_week=max_per_week, min_gap=min_gap):
            return when
    raise AssertionError("unreachable: the latest candidate always fits")  # pragma: no cover


def check_saturation(
    start: datetime,
    end: datetime,
    others: Iterable[tuple[datetime, datetime]],
    *,
    max_per_week: int,
    min_gap_hours: int,
    local_time: Callable[[datetime], str],
) -> None:
    """Raise `Saturated` naming the next free slot if [start, end] does not fit the community's limits:
    in UTC as it is typed back, and through `local_time` as each reader sees it (the platform's own
    time-zone-aware rendering)."""
    windows = list(others)
    gap = timedelta(hours=min_gap_hours)
    if max_per_week <= 0:
        raise Saturated("activation.error.sponsored_off")
    if fits(start, end - start, windows, max_per_week=max_per_week, min_gap=gap):
        return
    slot = next_free_slot(start, end - start, windows, max_per_week=max_per_week, min_gap=gap)
    assert slot is not None
    # Shown to the minute, as moderators type times: rounded up, so the time typed back fits (another
    # window's end keeps the seconds of when it was created).
    if slot.second or slot.microsecond:
        slot = slot.replace(second=0, microsecond=0) + timedelta(minutes=1)
    raise Saturated(
        "activation.error.saturated",
        per_week=max_per_week,
        gap=min_gap_hours,
        next_free=format_time(slot),
        next_free_local=local_time(slot),
    )


def format_time(when: datetime) -> str:
    """A time in UTC as moderators type it back, e.g. `2026-05-01 18:00` (the catalogs say "UTC")."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
