"""Activation state machine, schedule validation, the saturation guard and the store's guarded
transitions (pure code, and the store on a temporary database)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.activations import (
    WEEK,
    Activation,
    Saturated,
    State,
    can_transition,
    check_saturation,
    fits,
    next_free_slot,
    parse_when,
    validate_schedule,
    validate_text,
)
from bot.errors import InvalidInput
from bot.ledger import iso
from bot.store import Store

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def reader_time(when: datetime) -> str:
    """A time as a platform shows it in each reader's own time zone (Discord's timestamp markup)."""
    return f"<t:{int(when.timestamp())}:f>"


def test_transitions_follow_the_lifecycle_and_terminal_states_are_final():
    assert can_transition("pending", "scheduled") and can_transition("scheduled", "live")
    assert can_transition("live", "ended") and can_transition("live", "cancelled")
    assert not can_transition("pending", "live")
    assert not can_transition("scheduled", "ended")
    for final in ("ended", "rejected", "cancelled"):
        assert not any(can_transition(final, s) for s in State)


def test_due_says_what_the_scheduler_owes():
    a = Activation(1, 1, 1, "qa", "scheduled", "paid", "t", 5, NOW + H, NOW + 2 * H, "en")
    assert a.due(NOW) is None and a.due(NOW + H) == "live"
    live = Activation(1, 1, 1, "qa", "live", "paid", "t", 5, NOW + H, NOW + 2 * H, "en")
    assert live.due(NOW + H) is None and live.due(NOW + 3 * H) == "ended"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("+90m", NOW + timedelta(minutes=90)),
        ("in 2h", NOW + 2 * H),
        ("+1d", NOW + timedelta(days=1)),
        ("2026-05-02 18:00", datetime(2026, 5, 2, 18, 0, tzinfo=UTC)),
        ("2026-05-02T18:00+02:00", datetime(2026, 5, 2, 16, 0, tzinfo=UTC)),
    ],
)
def test_parse_when(text: str, expected: datetime):
    assert parse_when(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["tomorrowish", "+1000000000m", "+99999999999d", "0001-01-01T00:00+01:00"])
def test_parse_when_refuses_nonsense(text: str):
    """Refused as a bad time, never an overflow (a huge offset, a time moved past the calendar's edge)."""
    with pytest.raises(InvalidInput) as err:
        parse_when(text, now=NOW)
    assert err.value.key == "activation.error.bad_time"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(r"\A(in )?\+?[0-9]{1,6000} ?(m|h|d|days)\Z"),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    )
)
@example("+" + "9" * 5000 + "m")
def test_any_text_is_a_utc_time_or_a_bad_time(text: str):
    """Whatever a moderator types as a time: an aware UTC datetime, or the bad-time refusal (a
    4,300-digit offset once raised int()'s ValueError past it)."""
    try:
        when = parse_when(text, now=NOW)
    except InvalidInput as err:
        assert err.key == "activation.error.bad_time"
    else:
        assert when.utcoffset() == timedelta(0)


def test_the_next_free_slot_shown_fits_when_typed_back():
    """Another activation created "now" ends at 12:17:42: the slot named is 12:18 (to the minute, rounded
    up), and typing it back fits. Named 12:17, it was refused again with 12:17, forever."""
    other_start = NOW.replace(hour=10, minute=17, second=42)
    others = [(other_start, other_start + 2 * H)]
    with pytest.raises(Saturated) as err:
        check_saturation(
            NOW.replace(hour=12),
            NOW.replace(hour=13),
            others,
            max_per_week=5,
            min_gap_hours=0,
            local_time=reader_time,
        )
    shown = err.value.params["next_free"]
    assert err.value.params["next_free_local"] == reader_time(
        NOW.replace(hour=12, minute=18)
    )  # the same minute
    typed = parse_when(shown, now=NOW)
    check_saturation(
        typed, typed + H, others, max_per_week=5, min_gap_hours=0, local_time=reader_time
    )  # fits


def test_backoff_stays_at_its_cap_however_many_attempts():
    from bot.activations.intents import MAX_DELAY, backoff

    assert backoff(10_000) == backoff(1_025) == MAX_DELAY


@pytest.mark.parametrize(
    ("start", "end", "key"),
    [
        (NOW + 2 * H, NOW + H, "activation.error.end_before_start"),
        (NOW + H, NOW + H, "activation.error.end_before_start"),
        (NOW - H, NOW + H, "activation.error.start_in_past"),
        (NOW + timedelta(days=400), NOW + timedelta(days=401), "activation.error.too_far"),
        (NOW + H, NOW + H + timedelta(minutes=1), "activation.error.too_short"),
        (NOW + H, NOW + timedelta(days=40), "activation.error.too_long"),
    ],
)
def test_validate_schedule(start: datetime, end: datetime, key: str):
    with pytest.raises(InvalidInput) as err:
        validate_schedule(start, end, now=NOW)
    assert err.value.key == key


def test_validate_schedule_accepts_now_and_the_exact_limits():
    tolerance, shortest = timedelta(minutes=2), timedelta(minutes=5)
    assert validate_schedule(NOW, NOW + H, now=NOW + timedelta(seconds=30)) is None
    # a start at the edge of the past tolerance is "now"; one second before it is in the past
    assert validate_schedule(NOW - tolerance, NOW + H, now=NOW) is None
    with pytest.raises(InvalidInput) as late:
        validate_schedule(NOW - tolerance - timedelta(seconds=1), NOW + H, now=NOW)
    assert late.value.key == "activation.error.start_in_past"
    # the shortest and the longest windows are allowed, a second less or more is not
    assert validate_schedule(NOW + H, NOW + H + shortest, now=NOW) is None
    assert validate_schedule(NOW + H, NOW + H + timedelta(days=30), now=NOW) is None
    with pytest.raises(InvalidInput) as short:
        validate_schedule(NOW + H, NOW + H + shortest - timedelta(seconds=1), now=NOW)
    assert short.value.key == "activation.error.too_short"
    with pytest.raises(InvalidInput) as long:
        validate_schedule(NOW + H, NOW + H + timedelta(days=30, seconds=1), now=NOW)
    assert long.value.key == "activation.error.too_long"


def test_validate_text_trims_and_bounds():
    assert validate_text("  hi  ", limit=5, what="title") == "hi"
    with pytest.raises(InvalidInput) as err:
        validate_text("x" * 6, limit=5, what="title")
    assert err.value.key == "activation.error.title_too_long" and err.value.params["limit"] == 5
    with pytest.raises(InvalidInput):
        validate_text("   ", limit=5, what="question")


def test_saturation_counts_starts_in_any_rolling_week():
    others = [(NOW, NOW + H), (NOW + timedelta(days=3), NOW + timedelta(days=3) + H)]
    gap = timedelta(hours=24)
    assert not fits(NOW + timedelta(days=5), H, others, max_per_week=2, min_gap=gap)
    assert fits(NOW + timedelta(days=5), H, others, max_per_week=3, min_gap=gap)
    # the next free start is a week after the first one (then the window holds only two)
    assert next_free_slot(NOW + timedelta(days=5), H, others, max_per_week=2, min_gap=gap) == NOW + WEEK


def test_saturation_enforces_the_minimum_gap_on_both_sides():
    others = [(NOW, NOW + 2 * H)]
    gap = timedelta(hours=24)
    assert not fits(NOW + 10 * H, H, others, max_per_week=5, min_gap=gap)
    assert not fits(NOW - 10 * H, H, others, max_per_week=5, min_gap=gap)
    assert fits(NOW + 26 * H, H, others, max_per_week=5, min_gap=gap)
    assert next_free_slot(NOW + 10 * H, H, others, max_per_week=5, min_gap=gap) == NOW + 26 * H


def test_check_saturation_names_the_slot_or_says_sponsored_content_is_off():
    with pytest.raises(Saturated) as err:
        check_saturation(
            NOW + H, NOW + 2 * H, [(NOW, NOW + H)], max_per_week=1, min_gap_hours=0, local_time=reader_time
        )
    assert err.value.params["next_free"] == "2026-05-08 12:00"
    assert err.value.params["next_free_local"] == reader_time(NOW + 7 * 24 * H)
    with pytest.raises(Saturated) as off:
        check_saturation(NOW + H, NOW + 2 * H, [], max_per_week=0, min_gap_hours=0, local_time=reader_time)
    assert off.value.key == "activation.error.sponsored_off"
    check_saturation(NOW + H, NOW + 2 * H, [], max_per_week=1, min_gap_hours=24, local_time=reader_time)


# -- store ----------------------------------------------------------------------------------------


@pytest.fixture
async def store(database: str | Path):
    s = await Store.open(database)
    await s.db.execute(
        "INSERT INTO brands (id, community_id, name, status, created_by, created_at, updated_at)"
        " VALUES (7, 1, 'Acme', 'approved', 1, ?, ?)",
        (iso(NOW), iso(NOW)),
    )
    try:
        yield s
    finally:
        await s.close()


async def insert(store: Store, **overrides) -> int:
    values = dict(
        community_id=1,
        brand_id=7,
        kind="qa",
        connection="paid",
        title="Ask us",
        channel_id=5,
        starts_at=NOW + H,
        ends_at=NOW + 2 * H,
        locale="en",
        config={"x": 1},
        created_by=42,
        now=NOW,
    )
    values.update(overrides)
    return await store.insert_activation(**values)  # type: ignore[arg-type]


async def test_insert_is_atomic_with_after_insert_and_the_window_check(store: Store):
    async def boom(db, activation_id: int) -> None:
        await db.execute(
            "INSERT INTO qa_questions (activation_id, community_id, author_id, body, created_at)"
            " VALUES (?, 1, 1, 'x', 'x')",
            (activation_id,),
        )
        raise RuntimeError("pool failed")

    with pytest.raises(RuntimeError):
        await insert(store, after_insert=boom)

    def refuse(windows) -> None:
        raise Saturated("activation.error.saturated")

    with pytest.raises(Saturated):
        await insert(store, check_windows=refuse)
    assert await store.scalar("SELECT count(*) FROM activations") == 0
    assert await store.scalar("SELECT count(*) FROM activation_transitions") == 0
    assert await store.scalar("SELECT count(*) FROM qa_questions") == 0
    activation_id = await insert(store)
    a = await store.get_activation(1, activation_id)
    assert a is not None and a.state == "pending" and a.config == {"x": 1} and a.brand_name == "Acme"
    assert await store.get_activation(2, activation_id) is None  # another community never sees it


async def test_guarded_transitions_happen_once_even_when_racing(store: Store):
    activation_id = await insert(store)
    results = await asyncio.gather(
        *[
            store.approve_activation(1, activation_id, by=9, now=NOW, check_windows=lambda w: None)
            for _ in range(5)
        ]
    )
    assert results.count(True) == 1
    moves = await asyncio.gather(
        *[
            store.transition_activation(1, activation_id, "scheduled", "live", actor=None, now=NOW)
            for _ in range(5)
        ]
    )
    assert moves.count(True) == 1
    assert not await store.transition_activation(1, activation_id, "scheduled", "live", actor=None, now=NOW)
    assert not await store.transition_activation(2, activation_id, "live", "ended", actor=None, now=NOW)
    assert [row[:2] for row in await store.activation_log(activation_id)] == [
        (None, "pending"),
        ("pending", "scheduled"),
        ("scheduled", "live"),
    ]
    with pytest.raises(Exception, match="append-only"):
        await store.db.execute("UPDATE activation_transitions SET to_state = 'ended'")


async def test_votes_toggle_and_snapshot_first_write_wins(store: Store):
    activation_id = await insert(store)
    assert await store.add_question(1, activation_id, 3, "q?", now=NOW) == 0  # not live yet
    await store.transition_activation(1, activation_id, "pending", "scheduled", actor=9, now=NOW)
    await store.transition_activation(1, activation_id, "scheduled", "live", actor=None, now=NOW)
    q = await store.add_question(1, activation_id, 3, "q?", now=NOW)
    assert await store.toggle_vote(1, q, 4, now=NOW) is True
    assert await store.toggle_vote(1, q, 4, now=NOW) is False
    assert await store.toggle_vote(1, q, 5, now=NOW) is True
    question = await store.get_question(1, q)
    assert question is not None and question.votes == 1
    summary = await store.qa_summary(1, activation_id)
    assert (summary.questions, summary.answered, summary.participants) == (1, 0, 2)
    first = await store.save_takeover_snapshot(
        1, activation_id, channel_id=5, taker_id=3, overwrite=(1, "1024", "0"), topic="t", now=NOW
    )
    second = await store.save_takeover_snapshot(
        1, activation_id, channel_id=5, taker_id=3, overwrite=(1, "3072", "0"), topic="changed", now=NOW
    )
    assert first == second and second.allow == "1024" and second.topic == "t"
    assert await store.mark_takeover_restored(1, activation_id, now=NOW)
    assert not await store.mark_takeover_restored(1, activation_id, now=NOW)


async def test_an_unrestored_takeover_is_found_and_handed_over_once(store: Store):
    """An ended takeover whose channel was never put back is found for a later one of the same taker
    and channel; carrying its copy over hands the restore over (its taker no longer posts for it), and
    the later one's restore marks both restored."""
    earlier = await insert(store, kind="takeover", config={"taker_id": 3})
    later = await insert(
        store, kind="takeover", config={"taker_id": 3}, starts_at=NOW + 30 * H, ends_at=NOW + 31 * H
    )
    for a, b in (("pending", "scheduled"), ("scheduled", "live"), ("live", "ended")):
        await store.transition_activation(1, earlier, a, b, actor=None, now=NOW)
    await store.save_takeover_snapshot(
        1, earlier, channel_id=5, taker_id=3, overwrite=None, topic="original", now=NOW
    )
    assert [a.id for a in await store.takeovers_in_channel(1, 5)] == [earlier]  # still posting
    assert await store.unrestored_takeover(1, 5, 4, before=later) is None  # another taker
    assert await store.unrestored_takeover(1, 6, 3, before=later) is None  # another channel
    found = await store.unrestored_takeover(1, 5, 3, before=later)
    assert found is not None and found.activation_id == earlier and found.topic == "original"

    carried = await store.save_takeover_snapshot(
        1, later, channel_id=5, taker_id=3, overwrite=None, topic=found.topic, now=NOW, carried_from=earlier
    )
    assert carried.topic == "original" and carried.handed_to is None
    handed = await store.takeover_snapshot(1, earlier)
    assert handed is not None and handed.handed_to == later and not handed.restored
    assert await store.unrestored_takeover(1, 5, 3, before=later + 1) is None  # handed over once
    assert await store.takeovers_in_channel(1, 5) == []  # the later one is not live yet; the earlier is out

    assert await store.mark_takeover_restored(1, later, now=NOW)
    handed = await store.takeover_snapshot(1, earlier)
    assert handed is not None and handed.restored
