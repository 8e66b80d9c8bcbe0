"""Erasure reads the schema: every column that can hold a member's id is either a rule or an action the
member took, so a table added by a later migration cannot be forgotten (bot/privacy/rules.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.privacy import ACTIVATION_ENTRIES, MEMBER_COLUMNS, SUBJECT_RULES, erasure_plan
from bot.store import Store
from bot.store.migrate import discover_migrations

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 100

#: Integer columns named like ids that hold something other than a member: a server, channel, message,
#: role or a row of our own.
NOT_MEMBERS = frozenset(
    {
        "id",
        "community_id",
        "channel_id",
        "parent_id",
        "brand_id",
        "activation_id",
        "question_id",
        "code_id",
        "message_id",
        "thread_id",
        "source_id",
        "source_message_id",
        "disclosed_message_id",
        "answer_message_id",
        "last_message_id",  # channel_cursors: where the gap fill resumes reading a channel
        "role_id",
        "mod_role_id",
        "report_channel_id",
        "audit_channel_id",
        "subreddit_id",
        "sponsored_flair_id",
        "reddit_id",  # the member's own linked Reddit identity: the link is deleted with either side
        "handed_to",  # takeover_snapshots: the later takeover (an activation) that puts the channel back
    }
)


def schema() -> dict[str, list[str]]:
    db = sqlite3.connect(":memory:")
    for migration in discover_migrations():
        db.executescript(migration.path.read_text(encoding="utf-8"))
    names = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return {n: [c[1] for c in db.execute(f'PRAGMA table_info("{n}")')] for (n,) in names.fetchall()}


def test_every_id_like_column_is_classified():
    """A new `..._id`, `..._by` or `..._to` column (who did it, who it was given to) is either a member
    column (erased, exported) or named above."""
    for table, columns in schema().items():
        for column in columns:
            if column.endswith(("_id", "_by", "_to")) or column == "id":
                assert column in MEMBER_COLUMNS or column in NOT_MEMBERS, f"{table}.{column}"


def test_the_plan_covers_every_member_column_of_the_schema_once():
    tables = schema()
    plan = erasure_plan(tables)
    covered = [(s.table, s.column) for s in plan]
    assert len(covered) == len(set(covered))
    member_columns = {(t, c) for t, cs in tables.items() for c in cs if c in MEMBER_COLUMNS}
    linked = {(t, c) for t, c in SUBJECT_RULES if c not in MEMBER_COLUMNS and c in tables.get(t, ())}
    assert set(covered) == member_columns | linked
    acted = {(s.table, s.column) for s in plan if s.acted}
    assert {
        ("activations", "created_by"),
        ("activations", "approved_by"),
        ("activation_transitions", "actor_id"),
        ("qa_questions", "answered_by"),
        ("qa_questions", "hidden_by"),
        ("brands", "created_by"),
        ("guild_settings", "updated_by"),
        ("trust_overrides", "set_by"),
        ("code_redemptions", "reported_by"),
        ("giveaway_draws", "drawn_by"),
        ("reddit_subreddits", "added_by"),
    } <= acted
    assert all(s.how == "pseudonymise" for s in plan if s.acted)
    assert not acted & set(SUBJECT_RULES)
    assert not acted & {(t, c) for t, c, _ in ACTIVATION_ENTRIES}


def test_a_member_column_in_a_new_table_is_pseudonymised():
    tables = {**schema(), "polls": ["id", "community_id", "created_by", "question"]}
    [step] = [s for s in erasure_plan(tables) if s.table == "polls"]
    assert (step.column, step.how, step.acted) == ("created_by", "pseudonymise", True)
    assert not step.finished_only


@pytest.fixture
async def store(database: str | Path):
    s = await Store.open(database)
    yield s
    await s.close()


async def test_the_transition_log_allows_only_the_erasure_of_an_actor(store: Store):
    brand = await store.create_brand(GUILD, "Oat Co", [5], [], by=9, now=T0)
    stamp = T0.isoformat(timespec="milliseconds")
    [(activation_id,)] = await store.write_returning(
        "INSERT INTO activations (community_id, brand_id, kind, state, title, channel_id, starts_at,"
        " ends_at, created_by, created_at, updated_at) VALUES (?, ?, 'qa', 'live', 't', 10, ?, ?, 5, ?, ?)"
        " RETURNING id",
        (GUILD, brand.id, stamp, "2026-03-02", stamp, stamp),
    )
    await store.db.execute(
        "INSERT INTO activation_transitions (activation_id, community_id, from_state, to_state, actor_id, at)"
        " VALUES (?, ?, NULL, 'pending', 5, ?)",
        (activation_id, GUILD, stamp),
    )
    counts = await store.forget_member(GUILD, 5, pseudonym=-77, now=T0)
    assert counts["activation_transitions_actor_id_pseudonymised"] == 1
    assert counts["activations_created_by_pseudonymised"] == 1
    log = await store.fetch_all("SELECT actor_id, to_state FROM activation_transitions")
    assert log == [(-77, "pending")]
    for sql in (
        "UPDATE activation_transitions SET reason = 'edited'",
        "UPDATE activation_transitions SET actor_id = 6",
        "UPDATE activation_transitions SET actor_id = -8",  # already a pseudonym
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            await store.db.execute(sql)
