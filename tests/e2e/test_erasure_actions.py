"""Erasure of what a member *did* (as a brand manager or a moderator), through the sandbox: after
`/privacy forget` their id is nowhere in the database but the erasure's tombstone, the records of
their actions keep their place under the erasure's pseudonym, and `/privacy export` agrees."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.e2e.activation_helpers import approve, create, move_to, reply, seed_brand, when
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, eventually, listeners_done
from tests.e2e.test_privacy import confirm, export
from tests.e2e.test_qa import ask


async def places_holding(h: Harness, member: int) -> dict[str, int]:
    """Every table.column holding the member's id, as a value or inside text (JSON), with row counts
    (on PostgreSQL, the columns' text compared, which finds the id as a value or inside text)."""
    found: dict[str, int] = {}
    if h.app.store.dialect == "postgresql":
        columns = await h.rows(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
        for table, column in columns:
            n = await h.scalar(
                f'SELECT count(*) FROM "{table}" WHERE strpos(CAST("{column}" AS TEXT), ?) > 0', str(member)
            )
            if n:
                found[f"{table}.{column}"] = int(n)
        return found
    for (table,) in await h.rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        for column in [r[1] for r in await h.rows(f'PRAGMA table_info("{table}")')]:
            n = await h.scalar(
                f'SELECT count(*) FROM "{table}" WHERE "{column}" = ?'
                f' OR (typeof("{column}") = \'text\' AND instr("{column}", ?) > 0)',
                member,
                str(member),
            )
            if n:
                found[f"{table}.{column}"] = int(n)
    return found


async def forget(h: Harness, member: int) -> None:
    interaction = await h.slash("privacy", member, subcommand="forget", permissions=BASIC)
    await interaction.response()
    await confirm(h, interaction, member)

    async def tombstone() -> bool:  # the click's erasure has finished (an earlier one's reply looks alike)
        sql = "SELECT count(*) FROM consent_log WHERE member_id = ? AND action = 'erased'"
        return bool(await h.scalar(sql, member))

    await eventually(tombstone, f"the erasure of {member}")
    await listeners_done()


async def test_brand_manager_and_moderator_actions_keep_no_id_after_forget(harness: Harness):
    """Alice manages a brand: she proposes a Q&A and answers a question in it, proposes a second one and
    cancels it. The owner registered the brand and approved the Q&A. Both erase their data; neither id
    stays anywhere, the Q&A keeps running with its history intact."""
    h, w = harness, harness.world
    await h.app.store.update_settings(
        w.guild, {"max_sponsored_per_week": 50, "min_gap_hours": 0}, by=w.owner, now=h.clock.now
    )
    brand = await seed_brand(h, "Oat Co", contacts=[w.alice])
    options = {
        "brand": brand,
        "channel": w.cooking,
        "title": "Ask our chef",
        "starts": when(h, timedelta(hours=1)),
        "ends": when(h, timedelta(hours=3)),
    }
    later = {**options, "starts": when(h, timedelta(hours=4)), "ends": when(h, timedelta(hours=5))}
    _, qa = await create(h, "qa", w.alice, options, permissions=BASIC)
    assert qa is not None and await approve(h, qa)
    why, dropped = await create(h, "qa", w.alice, later, permissions=BASIC)
    assert dropped is not None, why
    cancelled = await h.slash(
        "activation", w.alice, {"id": dropped, "reason": "moved"}, subcommand="cancel", permissions=BASIC
    )
    assert await reply(cancelled)
    await move_to(h, h.clock.now + timedelta(hours=1, minutes=1))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "live"
    opening = h.sandbox.message(int(await h.scalar("SELECT message_id FROM activations WHERE id = ?", qa)))
    assert opening is not None
    await ask(h, opening, w.bob, "Is it vegan?")
    question = int(await h.scalar("SELECT id FROM qa_questions"))
    answered = await h.slash(
        "qa", w.alice, {"question": question, "text": "Yes."}, subcommand="answer", permissions=BASIC
    )
    assert await reply(answered)

    # Her export lists her actions as her data ...
    tables = (await export(h, w.alice))["tables"]
    assert sorted(int(r["id"]) for r in tables["activations"]) == [qa, dropped]
    assert {r["created_by"] for r in tables["activations"]} == {str(w.alice)}
    assert sorted((r["to_state"], r["actor_id"]) for r in tables["activation_transitions"]) == [
        ("cancelled", str(w.alice)),
        ("pending", str(w.alice)),
        ("pending", str(w.alice)),
    ]
    assert [(r["answered_by"], r["author_id"]) for r in tables["qa_questions"]] == [(str(w.alice), None)]
    assert set(await places_holding(h, w.alice)) >= {
        "activations.created_by",
        "activation_transitions.actor_id",
        "qa_questions.answered_by",
    }
    log = "SELECT activation_id, from_state, to_state, reason, at FROM activation_transitions ORDER BY id"
    history = await h.rows(log)

    # ... and after the erasure the database holds nothing but the tombstone.
    await forget(h, w.alice)
    assert await places_holding(h, w.alice) == {"consent_log.member_id": 1}
    after = await export(h, w.alice)
    assert list(after["tables"]) == ["consent_log"]
    assert [r["action"] for r in after["tables"]["consent_log"]] == ["erased"]
    # The records keep their place under one pseudonym; the transition log is unchanged otherwise.
    [(pseudonym,)] = await h.rows("SELECT DISTINCT created_by FROM activations")
    assert pseudonym < 0
    assert await h.scalar("SELECT answered_by FROM qa_questions") == pseudonym
    assert {r[0] for r in await h.rows("SELECT actor_id FROM activation_transitions WHERE actor_id < 0")} == {
        pseudonym
    }
    assert await h.rows(log) == history
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "live"

    # The moderator who registered the brand and approved the Q&A.
    assert set(await places_holding(h, w.owner)) >= {
        "brands.created_by",
        "guild_settings.updated_by",
        "activations.approved_by",
        "activation_transitions.actor_id",
    }
    await forget(h, w.owner)
    assert await places_holding(h, w.owner) == {"consent_log.member_id": 1}
    assert list((await export(h, w.owner))["tables"]) == ["consent_log"]
    shown = await h.slash("brand", w.mod, {"brand": str(brand)}, subcommand="show", permissions=MANAGE_GUILD)
    description = json.dumps(await reply(shown))
    assert "<@-" not in description and str(w.owner) not in description

