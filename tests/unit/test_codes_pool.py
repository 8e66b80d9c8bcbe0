"""Unique code pools and redemption CSVs (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.activations import codes
from bot.activations.codes import PoolCode, Redemption
from bot.errors import InvalidInput


def test_pool_one_code_per_line_with_header_and_blanks():
    text = "code\n SAVE-10 \n\nSAVE-11\r\nVEG+2026/x=1\n"
    assert codes.parse_pool(text) == ["SAVE-10", "SAVE-11", "VEG+2026/x=1"]


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        ("", "codes.error.empty", {}),
        ("\n \n", "codes.error.empty", {}),
        ("A1\nbad code\n", "codes.error.bad_code", {"line": 2, "high": 64}),
        ("A1\n<@123>\n", "codes.error.bad_code", {"line": 2, "high": 64}),
        ("A" * 65, "codes.error.bad_code", {"line": 1, "high": 64}),
        ("A1\nB2\na1\n", "codes.error.duplicate", {"line": 3, "first": 1}),
    ],
)
def test_bad_pools_name_the_line(text, key, params):
    with pytest.raises(InvalidInput) as caught:
        codes.parse_pool(text)
    assert caught.value.key == key and caught.value.params == params


def test_pool_size_limit():
    with pytest.raises(InvalidInput) as caught:
        codes.parse_pool("\n".join(f"C{i}" for i in range(codes.MAX_POOL + 1)))
    assert caught.value.key == "codes.error.too_many"
    assert len(codes.parse_pool("\n".join(f"C{i}" for i in range(codes.MAX_POOL)))) == codes.MAX_POOL


def test_decode_rejects_binary_and_strips_bom():
    assert codes.decode("\ufeffA1\n".encode()) == "A1\n"
    with pytest.raises(InvalidInput) as caught:
        codes.decode(b"\xff\xfe\x00bad")
    assert caught.value.key == "codes.error.encoding"


def test_redemptions_with_header_dates_and_semicolons():
    text = "order;Promo Code;redeemed_at\n1;save-10;2026-03-02T10:00:00Z\n2;SAVE-11;\n3;save-10;2026-03-03\n"
    found = codes.parse_redemptions(text)
    assert found == [
        Redemption("save-10", datetime(2026, 3, 2, 10, tzinfo=UTC)),
        Redemption("SAVE-11", None),
    ]


def test_redemptions_without_header_use_the_first_column():
    assert codes.parse_redemptions("A1\nB2,2026-01-01\n\n") == [
        Redemption("A1"),
        Redemption("B2", datetime(2026, 1, 1, tzinfo=UTC)),
    ]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "codes.error.empty_csv"),
        ("code,redeemed_at\n", "codes.error.empty_csv"),
        ("code,redeemed_at\nA1,yesterday\n", "codes.error.bad_date"),
        ("code,redeemed_at\n,2026-01-01\n", "codes.error.bad_csv_row"),
    ],
)
def test_bad_redemption_csv(text, key):
    with pytest.raises(InvalidInput) as caught:
        codes.parse_redemptions(text)
    assert caught.value.key == key


def test_redemptions_with_carriage_return_line_ends_and_a_field_past_the_readers_limit():
    """A CSV whose lines end in "\r" alone (classic Mac, some exporters) reads like any other; one
    with a field past the CSV reader's size limit is refused by its line, as a bad row. Both raised
    csv.Error past the refusals before."""
    assert codes.parse_redemptions("code,redeemed_at\rA1,2026-01-01\rB2\r") == [
        Redemption("A1", datetime(2026, 1, 1, tzinfo=UTC)),
        Redemption("B2"),
    ]
    with pytest.raises(InvalidInput) as caught:
        codes.parse_redemptions('A1\n"' + "x" * 200_000 + '"\n')
    assert caught.value.key == "codes.error.bad_csv_row"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.from_regex(r"\A[a-zA-Z0-9,;\t\n\r\" :T-]{0,200}\Z")))
def test_any_redemption_file_is_read_or_refused(text: str):
    try:
        found = codes.parse_redemptions(text)
    except InvalidInput as err:
        assert err.key.startswith("codes.error.")
    else:
        assert found and len({r.code.upper() for r in found}) == len(found)


def test_match_redemptions_counts_conversions():
    pool = [
        PoolCode(1, "A1", claimed=True, redeemed=False),
        PoolCode(2, "B2", claimed=True, redeemed=True),
        PoolCode(3, "C3", claimed=True, redeemed=False),
        PoolCode(4, "D4", claimed=False, redeemed=False),
        PoolCode(5, "E5", claimed=False, redeemed=False),
    ]
    new, report = codes.match_redemptions(
        pool, [Redemption("a1"), Redemption("B2"), Redemption("D4"), Redemption("ZZ9")]
    )
    assert [row.code_id for row, _ in new] == [1, 4]
    assert report.reported == 4 and report.new == 2 and report.already == 1
    assert report.unknown == ("ZZ9",) and report.unclaimed == 1
    assert report.claimed == 3 and report.redeemed_claimed == 2 and report.conversion_pct == 67
    assert report.pool == 5


def test_conversion_with_nothing_claimed_is_zero():
    _, report = codes.match_redemptions([PoolCode(1, "A1", False, False)], [Redemption("A1")])
    assert report.conversion_pct == 0 and report.unclaimed == 1


# -- store: atomic claims and redemptions on a temp database -------------------------------------------

GUILD = 100
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def open_store(database):
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
        " VALUES (7, ?, 1, 'qa', 'live', 'AMA', 5, '2026-03-01', '2026-03-02', 1, ?, ?)",
        (GUILD, "2026-03-01", "2026-03-01"),
    )
    return store


async def test_concurrent_claims_never_share_a_code_and_one_per_member(database):
    import asyncio

    store = await open_store(database)
    try:
        assert await store.attach_codes(GUILD, 7, ["A1", "B2", "C3"], NOW)
        assert not await store.attach_codes(GUILD, 7, ["D4", "A1"], NOW)  # all or nothing
        assert await store.code_counts(7) == (3, 0)
        # Claims racing each other (one at a time on SQLite, side by side on PostgreSQL): whatever
        # the order, member 10 gets one code (the same one twice), and of the four members one finds
        # the pool exhausted.
        results = await asyncio.gather(*(store.claim_code(GUILD, 7, m, NOW) for m in (10, 11, 10, 12, 13)))
        assert results[0][0] == results[2][0] is not None and [results[0][1], results[2][1]].count(True) == 1
        given = [results[i][0] for i in (0, 1, 3, 4)]
        assert given.count(None) == 1 and len({c for c in given if c is not None}) == 3
        assert await store.code_counts(7) == (3, 3)
        assert await store.claim_code(GUILD + 1, 7, 99, NOW) == (None, False)
    finally:
        await store.close()


async def test_redemptions_are_stored_once(database):
    store = await open_store(database)
    try:
        await store.attach_codes(GUILD, 7, ["A1", "B2", "C3"], NOW)
        await store.claim_code(GUILD, 7, 10, NOW)
        pool = await store.code_pool(GUILD, 7)
        new, report = codes.match_redemptions(pool, codes.parse_redemptions("code\na1\nZZ\n"))
        assert report.new == 1 and report.unknown == ("ZZ",) and report.conversion_pct == 100
        rows = [(row.code_id, r.redeemed_at) for row, r in new]
        assert await store.record_redemptions(GUILD, 7, rows, by=1, now=NOW) == 1
        assert await store.record_redemptions(GUILD, 7, rows, by=1, now=NOW) == 0
        assert [p.redeemed for p in await store.code_pool(GUILD, 7)] == [True, False, False]
    finally:
        await store.close()
