"""Giveaway validation, eligibility and the provably fair draw (pure, no Discord)."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.activations import draw as giveaway
from bot.activations.draw import Eligibility, MemberFacts, check_eligibility, validate_config
from bot.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SEED = "8f3b5c0e2a7d4f6190b1c3e5d7f9a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5"
COMMITMENT = "c84f2cf31646a07c47630e75080592ecdb49f35453067be2402e7c77ce7ab377"


def test_known_answer_vector_matches_the_docs():
    assert giveaway.commitment(SEED) == COMMITMENT
    assert giveaway.draw(SEED, range(1, 11), 3) == [8, 6, 10]
    assert giveaway.draw_rounds(SEED, range(1, 11), [3, 1]) == [[8, 6, 10], [4]]
    docs = (ROOT / "docs" / "giveaways.md").read_text()
    assert SEED in docs and COMMITMENT in docs and "8, 6, 10" in docs


def reference_draw(seed_hex: str, entrants: list[int], k: int, round_no: int = 0) -> list[int]:
    """The snippet printed in docs/giveaways.md, to keep the docs honest."""
    key, pool, out = bytes.fromhex(seed_hex), sorted(set(entrants)), []
    for pick in range(min(k, len(pool))):
        m, attempt = len(pool), 0
        while True:
            msg = f"microvoice-giveaway-v1:{round_no}:{pick}:{attempt}".encode()
            x = int.from_bytes(hmac.new(key, msg, hashlib.sha256).digest(), "big")
            if x < 2**256 - 2**256 % m:
                break
            attempt += 1
        out.append(pool.pop(x % m))
    return out


def test_draw_matches_the_documented_reference_implementation():
    entrants = [10**17 + 7 * i for i in range(500)]
    for seed in (SEED, "00" * 32, "ff" * 32):
        for k in (1, 5, 50):
            assert giveaway.draw(seed, entrants, k, round_no=2) == reference_draw(seed, entrants, k, 2)


def test_draw_is_deterministic_and_independent_of_entrant_order_and_duplicates():
    entrants = [5, 3, 99, 12, 7, 1000, 42]
    first = giveaway.draw(SEED, entrants, 3)
    assert giveaway.draw(SEED, [*reversed(entrants), 5, 3], 3) == first
    assert len(set(first)) == 3 and set(first) <= set(entrants)
    assert giveaway.draw("11" * 32, entrants, 3) != first or giveaway.draw("22" * 32, entrants, 3) != first


def test_ids_sort_as_integers_not_text():
    assert giveaway.canonical_entrants([10, 9, 100, 9]) == [9, 10, 100]
    assert giveaway.entrants_digest([10, 9]) == hashlib.sha256(b"9\n10").hexdigest()


def test_fewer_entrants_than_winners_all_win_and_empty_pool_draws_nobody():
    assert sorted(giveaway.draw(SEED, [1, 2], 5)) == [1, 2]
    assert giveaway.draw(SEED, [], 3) == []


def test_reroll_rounds_exclude_everyone_drawn_before():
    rounds = giveaway.draw_rounds(SEED, range(1, 8), [3, 2, 2])
    flat = [w for r in rounds for w in r]
    assert len(flat) == len(set(flat)) == 7
    # a reroll round is the documented draw on the remaining pool with its round number
    remaining = [e for e in range(1, 8) if e not in rounds[0]]
    assert rounds[1] == giveaway.draw(SEED, remaining, 2, round_no=1)


def test_draw_is_roughly_uniform():
    counts = dict.fromkeys(range(10), 0)
    for i in range(2000):
        seed = hashlib.sha256(str(i).encode()).hexdigest()
        counts[giveaway.draw(seed, range(10), 1)[0]] += 1
    assert all(140 < c < 260 for c in counts.values()), counts


def test_commitment_and_seed_format():
    seed = giveaway.new_seed()
    assert len(seed) == 64 and int(seed, 16) >= 0
    assert giveaway.commitment(seed) == hashlib.sha256(bytes.fromhex(seed)).hexdigest()
    assert giveaway.verify_commitment(seed, giveaway.commitment(seed).upper())
    assert not giveaway.verify_commitment(seed, COMMITMENT)
    assert giveaway.new_seed() != seed
    for bad in ("abc", "zz" * 32, "00" * 31):
        with pytest.raises(ValueError):
            giveaway.commitment(bad)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(winners=0), "giveaway.error.winners"),
        (dict(winners=10_000), "giveaway.error.winners"),
        (dict(prize="x" * 2000), "giveaway.error.prize_length"),
        (dict(prize="   "), "giveaway.error.prize_missing"),
        (dict(rules=None), "giveaway.error.rules_missing"),
        (dict(rules="  \n "), "giveaway.error.rules_missing"),
        (dict(rules="r" * 2001), "giveaway.error.rules_length"),
        (dict(min_days=-1), "giveaway.error.min_days"),
        (dict(min_events=10**6), "giveaway.error.min_events"),
        (dict(required_role_id=5, excluded_role_ids=[5]), "giveaway.error.role_conflict"),
    ],
)
def test_validation_refuses_bad_input_with_a_catalog_key(kwargs, key):
    values = dict(prize="A cookbook", rules="One entry per member.", winners=3) | kwargs
    with pytest.raises(InvalidInput) as caught:
        validate_config(**values)
    assert caught.value.key == key


def test_valid_config_round_trips_through_json():
    config = validate_config(
        prize="  A cookbook ",
        rules="Rules",
        winners=3,
        min_days=7,
        min_events=2,
        required_role_id=9,
        excluded_role_ids=[4, 4, 6],
    )
    assert config.prize == "A cookbook" and config.eligibility.excluded_role_ids == (4, 6)
    assert giveaway.GiveawayConfig.from_json(config.to_json()) == config


def facts(**overrides) -> MemberFacts:
    values = dict(member_id=1, joined_at=NOW - timedelta(days=30), role_ids=frozenset({7}), events=10)
    return MemberFacts(**(values | overrides))


@pytest.mark.parametrize(
    ("member", "rules", "key"),
    [
        (facts(), Eligibility(), None),
        (facts(is_bot=True), Eligibility(), "giveaway.refused.bot"),
        (facts(is_brand_contact=True), Eligibility(), "giveaway.refused.brand_contact"),
        (facts(is_moderator=True), Eligibility(), "giveaway.refused.moderator"),
        (facts(), Eligibility(required_role_id=8), "giveaway.refused.required_role"),
        (facts(), Eligibility(excluded_role_ids=(3, 7)), "giveaway.refused.excluded_role"),
        (facts(), Eligibility(min_days=31), "giveaway.refused.too_new"),
        (facts(), Eligibility(min_days=30), None),
        (facts(joined_at=None), Eligibility(min_days=1), "giveaway.refused.tenure_unknown"),
        (facts(), Eligibility(min_events=11), "giveaway.refused.too_quiet"),
        (facts(), Eligibility(min_days=30, min_events=10, required_role_id=7), None),
    ],
)
def test_eligibility_reasons(member, rules, key):
    refusal = check_eligibility(member, rules, now=NOW)
    assert (refusal.key if refusal else None) == key


def test_eligibility_reason_parameters_and_moderators_for_codes():
    refusal = check_eligibility(facts(), Eligibility(min_days=45, min_events=99), now=NOW)
    assert refusal is not None and refusal.params == {"days": 45, "have": 30}
    quiet = check_eligibility(facts(), Eligibility(min_events=99), now=NOW)
    assert quiet is not None and quiet.params == {"events": 99, "have": 10}
    assert (
        check_eligibility(facts(is_moderator=True), Eligibility(), now=NOW, exclude_moderators=False) is None
    )


def test_parse_entrant_ids():
    assert giveaway.parse_entrant_ids("3\n1, 2  # comment\n\n4") == [3, 1, 2, 4]
    with pytest.raises(ValueError):
        giveaway.parse_entrant_ids("12 abc")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "verify-giveaway", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_verify_giveaway_cli_reproduces_the_vector(tmp_path: Path):
    entrants = tmp_path / "entrants.txt"
    entrants.write_text("\n".join(str(i) for i in range(1, 11)))
    ok = run_cli(
        "--seed", SEED, "--commitment", COMMITMENT, "--winners", "3", "--reroll", "1",
        "--entrants-file", str(entrants), "--expect", "8,6,10",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "round 0 (draw): 8, 6, 10" in ok.stdout and "round 1 (reroll 1): 4" in ok.stdout
    assert "commitment: OK" in ok.stdout
    bad = run_cli("--seed", SEED, "--commitment", "00" * 32, "--winners", "3", *map(str, range(1, 11)))
    assert bad.returncode == 1 and "MISMATCH" in bad.stdout
    wrong = run_cli("--seed", "nothex", "--winners", "1", "5")
    assert wrong.returncode == 2 and "error:" in wrong.stderr


# -- store: entries and draws on a temp database ------------------------------------------------------

GUILD = 100


async def open_store(database: Path):
    from bot.store import Store

    store = await Store.open(database)
    await store.db.execute(
        "INSERT INTO brands (id, community_id, name, status, created_by, created_at, updated_at)"
        " VALUES (1, ?, 'Acme', 'approved', 1, '2026-01-01', '2026-01-01')",
        (GUILD,),
    )
    await store.db.execute(
        "INSERT INTO activations (id, community_id, brand_id, kind, state, title, channel_id, starts_at,"
        " ends_at, created_by, created_at, updated_at)"
        " VALUES (7, ?, 1, 'giveaway', 'live', 'Cookbook', 5, ?, ?, 1, ?, ?)",
        (GUILD, NOW.isoformat(), (NOW + timedelta(days=1)).isoformat(), NOW.isoformat(), NOW.isoformat()),
    )
    return store


async def test_store_one_entry_per_member_and_only_while_live(database: str | Path):
    from bot.store import write_giveaway_secret

    store = await open_store(database)
    try:
        seed = giveaway.new_seed()
        await write_giveaway_secret(store.db, 7, GUILD, seed, giveaway.commitment(seed))
        assert await store.giveaway_commitment(7) == giveaway.commitment(seed)
        assert await store.giveaway_seed_for_draw(7) is None  # secret while live
        assert await store.enter_giveaway(GUILD, 7, 11, NOW) == "entered"
        assert await store.enter_giveaway(GUILD, 7, 11, NOW) == "already"
        assert await store.enter_giveaway(GUILD + 1, 7, 12, NOW) == "closed"  # another server
        assert await store.enter_giveaway(GUILD, 7, 12, NOW + timedelta(days=2)) == "closed"  # past end
        assert await store.leave_giveaway(GUILD, 7, 11, NOW) == "left"
        assert await store.leave_giveaway(GUILD, 7, 11, NOW) == "not_entered"
        for member in (13, 12, 14):
            await store.enter_giveaway(GUILD, 7, member, NOW)
        assert await store.giveaway_entrants(7) == [12, 13, 14]
        await store.db.execute("UPDATE activations SET state = 'ended' WHERE id = 7")
        assert await store.enter_giveaway(GUILD, 7, 15, NOW) == "closed"
        assert await store.leave_giveaway(GUILD, 7, 12, NOW) == "closed"
        assert await store.giveaway_seed_for_draw(7) == seed
    finally:
        await store.close()


async def test_store_draw_round_happens_once_and_reroll_replaces(database: str | Path):
    store = await open_store(database)
    try:
        args = dict(entrants=[1, 2, 3, 4], entrants_sha256="x", by=None, now=NOW)
        assert not await store.record_giveaway_draw(GUILD, 7, 0, winners=[2, 3], **args)  # still live
        await store.db.execute("UPDATE activations SET state = 'ended' WHERE id = 7")
        assert await store.record_giveaway_draw(GUILD, 7, 0, winners=[2, 3], **args)
        assert not await store.record_giveaway_draw(GUILD, 7, 0, winners=[1], **args)
        assert [d.winners for d in await store.giveaway_draws(7)] == [(2, 3)]
        assert await store.claim_giveaway_prize(GUILD, 7, 3, NOW) == "claimed"
        assert await store.claim_giveaway_prize(GUILD, 7, 3, NOW) == "already"
        assert await store.claim_giveaway_prize(GUILD, 7, 1, NOW) == "not_winner"
        # a claimed winner cannot be replaced: the whole round is refused
        assert not await store.record_giveaway_draw(GUILD, 7, 1, winners=[1], replaced=[3], **args)
        assert await store.record_giveaway_draw(GUILD, 7, 1, winners=[1], replaced=[2], **args)
        # nor can a winner be replaced twice
        assert not await store.record_giveaway_draw(GUILD, 7, 2, winners=[4], replaced=[2], **args)
        standing = await store.giveaway_standing(7)
        assert standing.winners == (3, 1) and standing.unclaimed == (1,)
        assert standing.drawn == {1, 2, 3} and standing.rounds == 2
        assert await store.claim_giveaway_prize(GUILD, 7, 2, NOW) == "not_winner"
    finally:
        await store.close()


def test_giveaway_and_codes_modules_stay_pure():
    import ast

    for name in ("activations/draw", "activations/codes", "activations/giveaways", "store/giveaways"):
        tree = ast.parse((ROOT / "bot" / f"{name}.py").read_text())
        imported = {
            (n.module or "").split(".")[0] if isinstance(n, ast.ImportFrom) else a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in (n.names if isinstance(n, ast.Import) else [n])
        }
        assert not imported & {"discord", "praw"}, name
