"""Members' privacy rights: what an export contains, how erasure keeps aggregates, retention. Pure.

The export is built from every table that links a row to a community and a member, so data added by
other features is exported without this module knowing about it. Identifiers of *other* people in the
exported rows are replaced by null: an export shows what is stored about you, not about others.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.errors import InvalidInput
from bot.ledger import iso
from bot.text import clean

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
        "added_by",
        "stated_by",
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

#: Rows *about* the member outside activations, and what erasure does with them: (table, column) ->
#: "delete" (the row goes), "unlink" (the id becomes NULL: a thread they opened, an event in which they
#: were only engaged with) or "pseudonymise" (daily counts keep their numbers under the pseudonym).
SUBJECT_RULES: dict[tuple[str, str], str] = {
    ("events", "actor_id"): "delete",
    ("events", "target_id"): "unlink",
    ("engagement_daily", "actor_id"): "pseudonymise",
    ("engagement_daily", "target_id"): "pseudonymise",
    ("activity_daily", "member_id"): "pseudonymise",
    ("report_member_days", "member_id"): "pseudonymise",  # days active, for reports (docs/reports.md)
    ("member_last_active", "member_id"): "pseudonymise",  # counted in /microvoice status
    ("trust_scores", "member_id"): "delete",
    ("trust_snapshots", "member_id"): "delete",
    ("trust_patterns", "member_id"): "delete",
    ("trust_overrides", "member_id"): "delete",
    ("members", "member_id"): "delete",
    ("channels", "owner_id"): "unlink",
    ("brand_contacts", "member_id"): "delete",
    ("brand_contacts_left", "member_id"): "delete",
    ("partners", "member_id"): "delete",
    ("consent_log", "member_id"): "delete",
    # A linked Reddit account goes with either side: the member's link, their pending link code, and
    # a link naming them as the Reddit account.
    ("reddit_links", "member_id"): "delete",
    ("reddit_links", "reddit_id"): "delete",
    ("reddit_link_codes", "member_id"): "delete",
    # A trusted-voice role the bot gave them: the record goes (the role itself is taken back first).
    ("voice_role_holders", "member_id"): "delete",
}


@dataclass(frozen=True)
class ErasureStep:
    """One statement of an erasure: what happens to rows of `table` whose `column` holds the member.

    `finished_only`: only rows of activations that are over (entries in a running activation are left,
    so a live giveaway or Q&A is not corrupted). `acted`: the member's id records an action they took
    (who registered a brand, approved or cancelled an activation, answered a question, changed a
    setting); the row stays in the server's history and the id becomes the erasure's pseudonym.
    """

    table: str
    column: str
    how: str  # "delete" | "unlink" | "pseudonymise"
    finished_only: bool = False
    acted: bool = False

    @property
    def name(self) -> str:
        if self.how == "pseudonymise":
            return f"{self.table}_{self.column}_pseudonymised"
        if self.column not in MEMBER_COLUMNS:  # the member's other identity (a linked account)
            return f"{self.table}_{self.column}_{'deleted' if self.how == 'delete' else 'unlinked'}"
        return f"{self.table}_{'deleted' if self.how == 'delete' else 'unlinked'}"


def erasure_plan(tables: Mapping[str, Sequence[str]]) -> list[ErasureStep]:
    """Every statement an erasure runs, for the schema as it is (table -> column names).

    Read from the schema, so a member column added by a later migration is never forgotten: a column
    named in MEMBER_COLUMNS that no rule claims holds an action the member took, and is pseudonymised.
    Activation entries come first (a deleted question takes other members' votes on it along), then
    the rows about the member, then their actions.
    """
    entries = [
        ErasureStep(table, column, how, finished_only=True)
        for table, column, how in reversed(ACTIVATION_ENTRIES)
        if column in tables.get(table, ()) and "activations" in tables
    ]
    subject = [
        ErasureStep(table, column, how)
        for (table, column), how in SUBJECT_RULES.items()
        if column in tables.get(table, ())
    ]
    claimed = {(s.table, s.column) for s in entries + subject}
    claimed |= {(table, column) for table, column, _ in ACTIVATION_ENTRIES}
    acted = [
        ErasureStep(table, column, "pseudonymise", acted=True)
        for table in sorted(tables)
        if table not in NOT_EXPORTED
        for column in tables[table]
        if column in MEMBER_COLUMNS and (table, column) not in claimed
    ]
    return entries + subject + acted


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


#: Rows that hold what another member wrote, by table: the column naming its author, and the columns
#: that carry the text or point at the post showing it. A member exported for having handled the row
#: (the moderator who hid a question, the brand manager who answered it) gets the row without them.
AUTHORED_BY_OTHERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "qa_questions": ("author_id", ("body", "message_id")),
}


def redact_row(row: Mapping[str, Any], member_id: int, table: str = "") -> dict[str, Any]:
    """The row as exported: other members' ids nulled, ids as strings (Discord ids exceed 2**53), and
    other members' words left out (`AUTHORED_BY_OTHERS`)."""
    hidden: tuple[str, ...] = ()
    if table in AUTHORED_BY_OTHERS:
        author, columns = AUTHORED_BY_OTHERS[table]
        if row.get(author) is not None and int(row[author]) != member_id:
            hidden = columns
    out: dict[str, Any] = {}
    for column, value in row.items():
        if column in hidden:
            out[column] = None
            continue
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
        name: [redact_row(row, member_id, name) for row in rows]
        for name, rows in sorted(tables.items())
        if rows
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
            "under a random pseudonym that is not linked to you, and so are the records of actions you took "
            "as a moderator or brand manager."
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


#: Discord ids (snowflakes) have 15 to 20 digits and fit a signed 64-bit integer, as SQLite stores them.
MEMBER_ID_DIGITS = (15, 20)
MEMBER_ID_MAX = 2**63 - 1


def parse_member_id(raw: str) -> int:
    """A member id typed by a moderator: digits, or a mention (<@123>, <@!123>); InvalidInput otherwise."""
    typed = clean(raw).removeprefix("<@").removeprefix("!").removesuffix(">")
    low, high = MEMBER_ID_DIGITS
    if not (typed.isascii() and typed.isdecimal() and low <= len(typed) <= high):
        raise InvalidInput("privacy.bad_member_id")
    member_id = int(typed)
    if member_id > MEMBER_ID_MAX:
        raise InvalidInput("privacy.bad_member_id")
    return member_id


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Raw events created before this instant are past the retention window."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    return now - timedelta(days=retention_days)
