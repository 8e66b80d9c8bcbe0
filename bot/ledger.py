"""Engagement ledger records: who engaged with whom, where and when. Never any message text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Platform = Literal["discord", "reddit"]
Kind = Literal["message", "reply", "reaction", "unreaction", "thread", "comment", "submission", "join"]
KINDS: tuple[Kind, ...] = (
    "message",
    "reply",
    "reaction",
    "unreaction",
    "thread",
    "comment",
    "submission",
    "join",
)


#: The Unix epoch, in UTC: days are counted from it, and it stands before any platform's time.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(dt: datetime) -> str:
    """ISO-8601 UTC with millisecond precision: sortable as text and parseable by SQLite."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_iso(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EngagementEvent:
    """One engagement: `actor` did `kind` in `channel`, towards `target` (the author engaged with).

    A listener that does not know the target yet (a reply to a message older than its cache) gives
    `target_message_id` instead: the writer looks that message's author up in the ledger inside the
    batch's transaction, so the gateway path never waits on the database.
    """

    platform: Platform
    community_id: int
    channel_id: int
    actor_id: int
    kind: Kind
    source_id: str
    created_at: datetime
    target_id: int | None = None
    target_message_id: int | None = None

    @property
    def is_self(self) -> bool:
        return self.target_id is not None and self.target_id == self.actor_id

    def row(self, target_id: int | None = None) -> tuple[object, ...]:
        """The `events` row; `target_id` is the resolved author of `target_message_id`, if any."""
        target = self.target_id if self.target_id is not None else target_id
        return (
            self.platform,
            self.community_id,
            self.channel_id,
            self.actor_id,
            target,
            self.kind,
            self.source_id,
            int(target is not None and target == self.actor_id),
            iso(self.created_at),
        )


@dataclass(frozen=True, slots=True)
class MemberSighting:
    """What one event taught us about a member; merged into `members` (earliest first_seen wins)."""

    platform: Platform
    community_id: int
    member_id: int
    seen_at: datetime
    joined_at: datetime | None = None
    account_created_at: datetime | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    platform: Platform
    community_id: int
    channel_id: int
    parent_id: int | None
    type: int
    name: str
    owner_id: int | None = None
