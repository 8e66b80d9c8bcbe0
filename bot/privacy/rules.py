"""Members' privacy rights: what an export contains, how erasure keeps aggregates, retention. Pure.

The export is built from every table that links a row to a community and a member, so data added by
other features is exported without this module knowing about it. Identifiers of *other* people in the
exported rows are replaced by null: an export shows what is stored about you, not about others.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.ledger import iso

EXPORT_FORMAT = 1

#: Columns that hold a member's id, in any table. A row is about a member if one of them equals the id.
MEMBER_COLUMNS = frozenset(
    {
        "member_id",
        "actor_id",
        "target_id",
        "author_id",
        "owner_id",
        "taker_id",
        "created_by",
        "approved_by",
        "updated_by",
        "set_by",
        "hidden_by",
        "answered_by",
        "claimed_by",
        "reported_by",
        "drawn_by",
    }
)

#: Columns holding a JSON array of member ids: a giveaway draw's winners, the winners a reroll replaced,
#: and the sorted entrant list the round drew from (the published, verifiable draw record).
MEMBER_ID_ARRAYS = frozenset({"winners", "replaced", "entrants"})

#: JSON object columns with a member id under a key: a takeover's taker, in its activation's config.
MEMBER_JSON_KEYS: dict[str, str] = {"config": "taker_id"}

#: Rows about a member through another table: (table, column) -> (parent table, parent member column).
#: A code's redemption is about whoever claimed the code.
MEMBER_LINKS: dict[tuple[str, str], tuple[str, str]] = {
    ("code_redemptions", "code_id"): ("activation_codes", "claimed_by"),
}

#: Tables never exported: installation state, not data about people.
NOT_EXPORTED = frozenset({"bot_state"})

#: The member's own participation in brand activations that are over (ended, rejected or cancelled),
#: erased by /privacy forget: (table, member column, how). "delete" removes the row; "pseudonymise"
#: replaces the id by the erasure's random pseudonym where the row must keep counting: a claimed prize
#: stays claimed (a reroll must not redraw it), a claimed code stays claimed (conversion reports), a
#: takeover's restored snapshot keeps its history. Entries in activations still running are left so a
#: live giveaway or Q&A is not corrupted, and are erased by a later /privacy forget.
#: The giveaway draw record (giveaway_draws: winners, replaced, entrants) and a takeover's taker in the
#: activation's config are pseudonymised in place too, see `pseudonymise_ids` (docs/privacy.md).
ACTIVATION_ENTRIES: tuple[tuple[str, str, str], ...] = (
    ("giveaway_entries", "member_id", "delete"),
    ("giveaway_claims", "member_id", "pseudonymise"),
    ("activation_codes", "claimed_by", "pseudonymise"),
    ("qa_votes", "member_id", "delete"),
    ("qa_questions", "author_id", "delete"),  # the text they wrote; other members' votes on it go too
    ("takeover_posts", "author_id", "delete"),
    ("takeover_snapshots", "taker_id", "pseudonymise"),
)
FINISHED_ACTIVATION_STATES = ("ended", "rejected", "cancelled")


def pseudonymise_ids(text: str, member_id: int, pseudonym: int) -> str:
    """A JSON array of member ids with `member_id` replaced by `pseudonym` where it stood.

    Positions are kept, so a stored draw record still lines up with the entrant list that was published
    (and its SHA-256) and a later reroll draws from the same positions a verifier computes from the
    published list; the id itself is gone from the database.
    """
    ids = [int(i) for i in json.loads(text)]
    return json.dumps([pseudonym if i == member_id else i for i in ids])


def _redact_key(text: str, key: str, member_id: int) -> str:
    """A JSON object as exported: the member id under `key` kept if it is the member's, else null."""
    data = json.loads(text)
    if isinstance(data, dict) and data.get(key) is not None and int(data[key]) != member_id:
        data[key] = None
    return json.dumps(data)


def _redact_ids(text: str, member_id: int) -> list[str | None]:
    """A JSON id array as exported: the member's own id where it stands, everyone else's as null."""
    return [str(i) if int(i) == member_id else None for i in json.loads(text)]


def redact_row(row: Mapping[str, Any], member_id: int) -> dict[str, Any]:
    """The row as exported: other members' ids nulled, ids as strings (Discord ids exceed 2**53)."""
    out: dict[str, Any] = {}
    for column, value in row.items():
        if column in MEMBER_ID_ARRAYS and isinstance(value, str):
            out[column] = _redact_ids(value, member_id)
            continue
        if column in MEMBER_JSON_KEYS and isinstance(value, str):
            value = _redact_key(value, MEMBER_JSON_KEYS[column], member_id)
        if column in MEMBER_COLUMNS and value is not None and int(value) != member_id:
            value = None
        elif isinstance(value, int) and (
            column == "id" or column.endswith("_id") or column in MEMBER_COLUMNS
        ):
            value = str(value)
        out[column] = value
    return out


def build_export(
    community_id: int, member_id: int, tables: Mapping[str, Sequence[Mapping[str, Any]]], now: datetime
) -> dict[str, Any]:
    """The export document: every row about the member, grouped by table, other people redacted."""
    data = {
        name: [redact_row(row, member_id) for row in rows] for name, rows in sorted(tables.items()) if rows
    }
    return {
        "format": EXPORT_FORMAT,
        "community_id": str(community_id),
        "member_id": str(member_id),
        "exported_at": iso(now),
        "notes": (
            "Everything Microvoice stores about you in this community, one list per database table. "
            "Message text is never stored. Other people's ids are replaced by null. Daily aggregates "
            "(engagement_daily, activity_daily) are counts per day; after an erasure they are kept "
            "under a random pseudonym that is not linked to you."
        ),
        "tables": data,
    }


def export_bytes(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def is_empty_apart_from_tombstone(document: Mapping[str, Any]) -> bool:
    tables = document.get("tables", {})
    if set(tables) - {"consent_log"}:
        return False
    return all(row.get("action") == "erased" for row in tables.get("consent_log", []))


def new_pseudonym() -> int:
    """A random negative id standing in for an erased member in the daily aggregates.

    Negative, so it can never collide with a Discord or Reddit id; random (not derived from the member's
    id), so it cannot be linked back; fresh per erasure, so aggregates keep their exact row counts and
    per-day distinct-member counts.
    """
    return -(secrets.randbits(62) + 1)


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Raw events created before this instant are past the retention window."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    return now - timedelta(days=retention_days)
