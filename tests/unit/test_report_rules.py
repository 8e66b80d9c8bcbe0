"""Report rules at their edges: what a reader can and cannot work out from one published report
(complementary suppression of days, cohorts and topics), names matplotlib would read as formulas, the
lift of long and of live activations, who a takeover's participants are, which activations have a
report at all, and what the activation embed shows.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib.text
import pytest

from bot import i18n
from bot.errors import InvalidInput
from bot.ledger import EngagementEvent, iso
from bot.reports import charts
from bot.reports.csv_export import to_csv
from bot.reports.metrics import (
    CommunityInput,
    MemberDays,
    Report,
    Row,
    Topic,
    community_figures,
    date_of,
    hour_of,
)
from bot.reports.privacy import Published, PublishedReport, publish, publish_rows
from bot.reports.service import RenderedReport, ReportService, headline_lines
from bot.store import Store
from tests.unit.test_reports import Sink, seed_activation

K = 5
GUILD = 1
START_DAY = 20_500  # 2026-02-16, a Monday


def csv_table(published: PublishedReport) -> dict[tuple[str, str, str], dict[str, str]]:
    rows = csv.DictReader(io.StringIO(to_csv(published).decode("utf-8-sig")))
    return {(r["section"], r["item"], r["metric"]): r for r in rows}


def community(
    active_by_day: list[set[int]], first_seen: dict[int, int], *, events_per_member: int = 3
) -> Report:
    """A community report over `len(active_by_day)` days from START_DAY: each active member sends
    `events_per_member` messages a day in one channel."""
    end = START_DAY + len(active_by_day)
    member_days = [(START_DAY + d, 100, m) for d, ms in enumerate(active_by_day) for m in sorted(ms)]
    per_day = [(START_DAY + d, "message", events_per_member * len(ms)) for d, ms in enumerate(active_by_day)]
    inp = CommunityInput(
        community_id=GUILD,
        start_day=START_DAY,
        end_day=end,
        member_days=MemberDays.from_rows(member_days),
        kinds_by_day=[r for r in per_day if r[2]],
        channel_counts=[(100, sum(n for _, _, n in per_day))],
        topics={100: Topic(100, "#general")},
        first_seen=first_seen,
    )
    return community_figures(inp)


def compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way to write `total` as `parts` non-negative integers, in order."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in compositions(total - first, parts - 1):
            yield (first, *rest)


# -- one report: no hidden figure can be worked out from the others -------------------------------------


@pytest.mark.parametrize(
    "sizes",
    [
        [8] * 11 + [2] + [8] * 18,  # one quiet day among busy ones
        [5] * 11 + [4] + [5] * 18,  # every day shown has exactly k: the hidden one is just below
        [4, 4, 4] + [9] * 27,  # several hidden days, all just below k
    ],
    ids=["one-quiet-day", "k-everywhere-else", "all-just-below-k"],
)
def test_a_hidden_day_cannot_be_recomputed_from_the_period_totals(sizes: list[int]):
    """30 days with `sizes` active members. The average daily active (two decimals in the CSV) times
    30 is the sum of the days, and messages + replies + reactions the sum of their events (as are the
    topics' events): a reader who knows how suppression works tries every value of every hidden day
    that fits those totals, no day above the period's active members, and gives the same hidden days;
    each hidden day keeps at least two possible values, for its active members and for its events."""
    days = [set(range(100 * d, 100 * d + n)) for d, n in enumerate(sizes)]
    published = publish(community(days, {}), K)
    table = csv_table(published)

    total_active = round(float(table[("headline", "", "daily_active_avg")]["value"]) * 30)
    total_events = sum(int(table[("headline", "", m)]["value"]) for m in ("messages", "replies", "reactions"))
    assert int(table[("topic", "#general", "events")]["value"]) == total_events  # the same sum, twice
    most = int(table[("headline", "", "active_members")]["value"])
    labels = [date_of(START_DAY + d) for d in range(30)]
    hidden = [d for d in labels if table[("daily", d, "active_members")]["suppressed"] == "yes"]
    for d in hidden:  # a day is hidden whole: its active members and its events
        assert table[("daily", d, "events")]["suppressed"] == "yes"
    shown = {d: int(table[("daily", d, "active_members")]["value"]) for d in labels if d not in hidden}
    shown_events = sum(int(table[("daily", d, "events")]["value"]) for d in labels if d not in hidden)
    rest_active, rest_events = total_active - sum(shown.values()), total_events - shown_events

    active: dict[str, set[int]] = {d: set() for d in hidden}
    events: dict[str, set[int]] = {d: set() for d in hidden}
    for guess in compositions(rest_active, len(hidden)):
        if max(guess) > most:
            continue
        guessed = {**shown, **dict(zip(hidden, guess, strict=True))}
        rows = [Row("daily", d, "active_members", guessed[d], guessed[d]) for d in labels]
        if {p.item for p in publish_rows(rows, K) if p.suppressed} != set(hidden):
            continue
        for d, a in zip(hidden, guess, strict=True):
            active[d].add(a)
            # each active member did something: the day's events lie between its members and what the
            # other hidden days leave
            events[d].update(range(a, rest_events - (rest_active - a) + 1))
    for d in hidden:
        assert len(active[d]) >= 2, (d, active[d])  # never pinned down
        assert len(events[d]) >= 2, (d, events[d])
        assert sizes[labels.index(d)] in active[d]  # the truth is among them
    assert any(n < K for n in sizes) and len(hidden) >= 2


@pytest.mark.parametrize("sizes", [[6, 7, 2, 8, 9], [5, 5, 4, 5, 5], [4, 4, 9, 9, 4]])
def test_a_hidden_cohort_size_cannot_be_recomputed_from_new_members(sizes: list[int]):
    """Newcomers first seen in five weekly cohorts of `sizes`, all active: new members is the sum of
    the cohort sizes, so a small cohort alone hidden would be new members minus the others. Another
    cohort is hidden whole (its size, and its weekly cells, which give the size away too), and every
    hidden cohort keeps at least two possible sizes."""
    first_seen: dict[int, int] = {}
    member = 100
    for week, size in enumerate(sizes):
        for _ in range(size):
            first_seen[member] = START_DAY + 7 * week
            member += 1
    days: list[set[int]] = [set(range(1, 11)) for _ in range(30)]  # ten regulars, every day
    for m, day in first_seen.items():
        days[min(day - START_DAY, 29)].add(m)  # active on the day first seen
    published = publish(community(days, first_seen), K)
    table = csv_table(published)

    new_members = int(table[("headline", "", "new_members")]["value"])
    assert new_members == sum(sizes)
    labels = [date_of(START_DAY + 7 * w) for w in range(len(sizes))]
    hidden = [c for c in labels if table[("cohort", c, "size")]["suppressed"] == "yes"]
    shown = {c: int(table[("cohort", c, "size")]["value"]) for c in labels if c not in hidden}
    possible: dict[str, set[int]] = {c: set() for c in hidden}
    for guess in compositions(new_members - sum(shown.values()), len(hidden)):
        sized = {**shown, **dict(zip(hidden, guess, strict=True))}
        rows = [Row("cohort", c, "size", sized[c], sized[c]) for c in labels]
        if {p.item for p in publish_rows(rows, K) if p.suppressed} == set(hidden):
            for c, n in zip(hidden, guess, strict=True):
                possible[c].add(n)
    for c, values in possible.items():
        assert len(values) >= 2, (c, values)
        assert sizes[labels.index(c)] in values  # the truth is among them
    assert len(hidden) >= 2
    for c in hidden:  # nothing of a hidden cohort is left to compute its size from
        cells = [r for (s, item, _), r in table.items() if s == "cohort" and item == c]
        assert cells and all(r["suppressed"] == "yes" for r in cells)


@pytest.mark.parametrize("days_long", [7, 30])
def test_hidden_returning_members_cannot_be_recomputed_from_the_cohorts(days_long: int):
    """Few returning members (4, below k) among many newcomers, each active the day first seen: new
    and returning members are hidden, and so is every cohort, which would give new members away (a
    week's one cohort's first-week actives are the active new members; the sizes add up to them)."""
    returning = set(range(1, 5))
    first_seen = {100 + i: START_DAY + (i * 3) % days_long for i in range(20 if days_long == 7 else 40)}
    days: list[set[int]] = [set(returning) if d == 0 else set() for d in range(days_long)]
    for m, day in first_seen.items():
        days[day - START_DAY].add(m)
    table = csv_table(publish(community(days, first_seen), K))

    assert int(table[("headline", "", "active_members")]["value"]) == len(first_seen) + 4
    assert table[("headline", "", "returning_members")]["suppressed"] == "yes"
    assert table[("headline", "", "new_members")]["suppressed"] == "yes"
    cells = [r for (section, _, _), r in table.items() if section == "cohort"]
    assert cells and all(r["suppressed"] == "yes" and r["value"] == "" for r in cells)


def test_secondary_suppression_hides_one_whole_topic_even_when_sizes_tie():
    """#b and #c describe as many members and have the same rounded share; their events differ. The
    figure hidden next to #d is chosen once, for the topic: never #b's share with #c's events, whose
    combination would narrow #d down."""
    rows = [
        Row("topic", "#a", "share_percent", 60.0, 30),
        Row("topic", "#a", "events", 600, 30),
        Row("topic", "#b", "share_percent", 20.0, 6),
        Row("topic", "#b", "events", 201, 6),
        Row("topic", "#c", "share_percent", 20.0, 6),
        Row("topic", "#c", "events", 199, 6),
        Row("topic", "#d", "share_percent", 0.0, 2),
        Row("topic", "#d", "events", 2, 2),
    ]
    published = publish_rows(rows, K)
    hidden = {(p.item, p.metric) for p in published if p.suppressed}
    topics = {item for item, _ in hidden}
    assert len(topics) == 2 and "#d" in topics
    assert hidden == {(t, m) for t in topics for m in ("share_percent", "events")}


def test_every_figure_of_a_day_or_topic_is_hidden_together():
    rows = [
        Row("daily", "2026-01-01", "active_members", 9, 9),
        Row("daily", "2026-01-01", "events", 40, 9),
        Row("daily", "2026-01-02", "active_members", 7, 7),
        Row("daily", "2026-01-02", "events", 12, 7),
        Row("daily", "2026-01-03", "active_members", 3, 3),
        Row("daily", "2026-01-03", "events", 5, 3),
    ]
    hidden = [(p.item, p.metric) for p in publish_rows(rows, K) if p.suppressed]
    assert hidden == [
        ("2026-01-02", "active_members"),
        ("2026-01-02", "events"),
        ("2026-01-03", "active_members"),
        ("2026-01-03", "events"),
    ]


# -- charts: names are drawn as typed ---------------------------------------------------------------------

DOLLARS = ["Save $5 #promo $10", "A $x^2^3$ B", "Win $5 or $10", r"C:\path $1 \$2"]


@pytest.mark.parametrize("title", DOLLARS)
def test_dollar_signs_in_names_are_drawn_as_typed_and_never_break_the_chart(title: str):
    activation = PublishedReport(
        "activation",
        {"id": 7, "kind": "giveaway", "brand": f"Brand {title}", "title": title, "start": "a", "end": "b"},
        K,
        (Published("engagement", "during", "events", 40, False),),
    )
    topics = (
        *(Published("topic", f"#{title}{n}", "share_percent", 50.0, False) for n in range(2)),
        Published("daily", "2026-01-01", "active_members", 8, False),
    )
    community_report = PublishedReport(
        "community", {"days": 1, "start": "2026-01-01", "end": "2026-01-01"}, K, topics
    )
    for report, figure in (
        (activation, charts.activation_figure),
        (community_report, charts.community_figure),
    ):
        png = charts.render(report, "en")
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        fig = figure(report, "en")
        charts.figure_texts(fig)  # lays every text out (a formula that does not parse raises here)
        drawn = []
        for text in fig.findobj(matplotlib.text.Text):
            shown, is_math = text._preprocess_math(text.get_text())
            assert not is_math, text.get_text()
            drawn.append(shown)
        assert any(title in shown for shown in drawn), drawn  # as typed, not a formula


# -- activation lift ----------------------------------------------------------------------------------------


async def hourly(store: Store, counts: dict[int, int]) -> None:
    for hour, n in counts.items():
        await store.db.execute(
            "INSERT INTO report_hourly (community_id, hour, kind, n) VALUES (?, ?, 'message', ?)",
            (GUILD, hour, n),
        )


@pytest.fixture
async def store(database: str | Path):
    s = await Store.open(database)
    yield s
    await s.close()


async def test_a_month_long_activation_is_compared_with_the_weeks_before_its_start(store: Store):
    """A steady 10 events an hour, then 20 an hour for a 30-day activation: +100 %. (Comparing each
    hour with the same hour 1..4 weeks earlier would compare most of it with itself: +41 %.)"""
    starts = datetime(2026, 3, 2, 9, tzinfo=UTC)
    ends = starts + timedelta(days=30)
    lo, hi = hour_of(starts), hour_of(ends)
    await hourly(store, {h: 10 for h in range(lo - 6 * 168, lo)} | {h: 20 for h in range(lo, hi)})
    activation_id, _ = await seed_activation(store, GUILD, starts=starts, ends=ends)
    activation = await store.get_activation(GUILD, activation_id)
    assert activation is not None
    svc = ReportService(store, clock=lambda: ends + timedelta(days=2))
    figures = await svc.activation_figures(activation)
    got = {(r.item, r.metric): r.value for r in figures.rows if r.section == "engagement"}
    assert got[("during", "events")] == 720 * 20
    for w in (1, 2, 3, 4):
        assert got[(f"baseline_week_{w}", "events")] == 720 * 10
    assert got[("during", "lift_percent")] == 100.0


async def test_a_live_activation_is_measured_up_to_its_last_full_hour(store: Store):
    """10 events an hour, before and during; six minutes into the activation one event so far. At 10:06
    there is no full hour to compare yet; at 12:06 the two full hours compare flat (a part-hour against
    whole baseline hours would read as -90 % and -30 %)."""
    starts = datetime(2026, 3, 30, 10, tzinfo=UTC)
    lo = hour_of(starts)
    await hourly(store, {h: 10 for h in range(lo - 5 * 168, lo + 2)} | {lo + 2: 1})
    activation_id, _ = await seed_activation(
        store, GUILD, starts=starts, ends=starts + timedelta(hours=5), state="live"
    )
    activation = await store.get_activation(GUILD, activation_id)
    assert activation is not None

    early = ReportService(store, clock=lambda: starts + timedelta(minutes=6))
    figures = await early.activation_figures(activation)
    engagement = [r for r in figures.rows if r.section == "engagement"]
    assert engagement and all(r.value is None and r.note == "too_early" for r in engagement)
    published = publish(figures, K)
    assert not any(r.suppressed for r in published.section("engagement"))
    lines = headline_lines(published, "en")
    assert i18n.t("en", "report.engagement_too_early") in lines
    assert csv_table(published)[("engagement", "during", "lift_percent")]["value"] == "too_early"
    texts = charts.figure_texts(charts.activation_figure(published, "en"))
    lift = i18n.t("en", "report.value.too_early")
    assert any(lift in t for t in texts)

    later = ReportService(store, clock=lambda: starts + timedelta(hours=2, minutes=6))
    got = {(r.item, r.metric): r.value for r in (await later.activation_figures(activation)).rows}
    assert got[("during", "events")] == 20
    assert got[("during", "lift_percent")] == 0.0


# -- takeover participants ------------------------------------------------------------------------------


async def test_a_takeovers_participants_are_the_members_active_in_its_channel_during_it(store: Store):
    """Window 22:30 on day one to 01:30 on day three: a whole day inside, two part-days at its edges."""
    starts = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)
    ends = starts + timedelta(hours=27)
    channel, thread, elsewhere, taker, contact, bot = 5, 6, 7, 9, 42, 77
    for channel_id, parent, kind in ((channel, None, 0), (thread, channel, 11), (elsewhere, None, 0)):
        await store.db.execute(
            "INSERT INTO channels (platform, community_id, channel_id, parent_id, type, name)"
            " VALUES ('discord', ?, ?, ?, ?, 'c')",
            (GUILD, channel_id, parent, kind),
        )
    await store.db.execute(
        "INSERT INTO members (platform, community_id, member_id, first_seen, is_bot)"
        " VALUES ('discord', ?, ?, ?, 1)",
        (GUILD, bot, iso(starts)),
    )
    activation_id, _ = await seed_activation(
        store,
        GUILD,
        kind="takeover",
        starts=starts,
        ends=ends,
        contacts=(contact,),
        channel=channel,
        config=json.dumps({"taker_id": taker}),
    )
    seq = itertools.count(1000)

    def event(where: int, who: int, kind: str, at: datetime) -> EngagementEvent:
        return EngagementEvent("discord", GUILD, where, who, kind, str(next(seq)), at)

    await store.record(
        [
            event(channel, 1, "message", starts + timedelta(minutes=30)),  # first part-day
            event(thread, 2, "reaction", starts + timedelta(hours=14)),  # the whole day, in a thread
            event(channel, 3, "reply", ends - timedelta(minutes=30)),  # last part-day
            event(channel, 4, "message", starts - timedelta(hours=1)),  # same day, before the start
            event(channel, 5, "message", ends + timedelta(minutes=30)),  # same day, after the end
            event(elsewhere, 6, "message", starts + timedelta(hours=3)),  # another channel
            event(channel, 8, "join", starts + timedelta(hours=3)),  # joining is not taking part
            event(channel, taker, "message", starts + timedelta(hours=1)),
            event(channel, contact, "message", starts + timedelta(hours=2)),
            event(channel, bot, "message", starts + timedelta(hours=2)),
        ]
    )
    await store.db.execute(
        "INSERT INTO takeover_posts (activation_id, community_id, source_message_id, author_id, mode,"
        " created_at) VALUES (?, ?, 1, ?, 'command', ?)",
        (activation_id, GUILD, taker, iso(starts + timedelta(hours=1))),
    )
    activation = await store.get_activation(GUILD, activation_id)
    assert activation is not None
    svc = ReportService(store, clock=lambda: ends + timedelta(days=1))
    figures = await svc.activation_figures(activation)
    got = {(r.section, r.metric): r.value for r in figures.rows}
    assert got[("headline", "participants")] == 3
    assert got[("headline", "takeover_posts")] == 1
    assert await store.takeover_participants(
        GUILD, channel, since=starts, until=ends, taker_id=taker
    ) == frozenset({1, 2, 3})


# -- which activations have a report ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "opened", "error"),
    [
        ("cancelled", False, "report.error.never_live"),  # cancelled while scheduled, or missed
        ("ended", False, "report.error.never_live"),  # ended while its opening was being retried
        ("rejected", False, "report.error.never_live"),
        ("scheduled", False, "report.error.not_started"),
        ("live", False, "report.error.not_started"),  # still opening
        ("cancelled", True, None),  # cancelled while live: reported up to the cancel
        ("live", True, None),
    ],
)
async def test_only_an_activation_that_opened_to_members_has_a_report(
    store: Store, state: str, opened: bool, error: str | None
):
    starts = datetime(2026, 3, 2, 10, tzinfo=UTC)
    activation_id, _ = await seed_activation(
        store, GUILD, starts=starts, ends=starts + timedelta(hours=2), state=state, opened=opened
    )
    svc = ReportService(store, clock=lambda: starts + timedelta(hours=1, minutes=30))
    if error is None:
        assert (await svc.activation(GUILD, activation_id, member_id=None, moderator=True)).rows
        return
    with pytest.raises(InvalidInput) as refused:
        await svc.activation(GUILD, activation_id, member_id=None, moderator=True)
    assert refused.value.key == error
    texts = {i18n.t(lang, error, id=activation_id) for lang in ("en", "ar", "he")}
    assert len(texts) == 3 and all(f"#{activation_id}" in t for t in texts)


async def test_an_activation_that_never_opened_posts_no_report_when_it_ends(store: Store):
    starts = datetime(2026, 3, 2, 10, tzinfo=UTC)
    ends = starts + timedelta(hours=2)
    now = ends + timedelta(minutes=1)
    await store.update_settings(GUILD, {"report_channel_id": 777}, by=1, now=now)
    never_id, _ = await seed_activation(store, GUILD, starts=starts, ends=ends, opened=False)
    ran_id, _ = await seed_activation(store, GUILD, starts=starts, ends=ends, brand="Other", contacts=(43,))
    # The hourly job's catch-up does not pick it up.
    assert await store.unreported_activations(now - timedelta(days=7)) == [ran_id]
    never, ran = await store.activation_by_id(never_id), await store.activation_by_id(ran_id)
    assert never is not None and ran is not None
    sink = Sink()
    svc = ReportService(store, clock=lambda: now, sink=sink)
    await svc.activation_ended(never)
    await svc.activation_ended(ran)
    assert not await svc.post_activation_ended(sink, never)
    assert [report.published.title_params["id"] for _, _, report in sink.posts] == [ran_id]
    assert await store.unreported_activations(now - timedelta(days=7)) == []


# -- activation embed -------------------------------------------------------------------------------------


async def add_questions(store: Store, activation_id: int, rows: list[tuple[int, bool, bool]]) -> None:
    """(author, answered, hidden) questions."""
    at = iso(datetime(2026, 3, 2, 10, 30, tzinfo=UTC))
    for author, answered, hidden in rows:
        await store.db.execute(
            "INSERT INTO qa_questions (activation_id, community_id, author_id, body, created_at, hidden_at,"
            " answered_at) VALUES (?, ?, ?, 'q', ?, ?, ?)",
            (activation_id, GUILD, author, at, at if hidden else None, at if answered else None),
        )


async def test_hidden_questions_count_neither_as_asked_nor_as_answered(store: Store):
    starts = datetime(2026, 3, 2, 10, tzinfo=UTC)
    activation_id, _ = await seed_activation(
        store, GUILD, kind="qa", starts=starts, ends=starts + timedelta(hours=2)
    )
    visible = [(m, m <= 6, False) for m in range(1, 9)]  # 8 asked, 6 answered
    await add_questions(
        store, activation_id, [*visible, (20, True, True), (21, True, True), (22, False, True)]
    )
    counts = await store.activation_counts(activation_id)
    assert (counts["questions"], counts["question_authors"]) == (8, 8)
    assert (counts["answered"], counts["answered_authors"]) == (6, 6)
    # nor as taking part: a hidden question's author, and its voters, are no participants
    await store.db.execute(
        "INSERT INTO qa_votes (question_id, community_id, member_id, created_at)"
        " SELECT id, ?, 30, created_at FROM qa_questions WHERE author_id = 20",
        (GUILD,),
    )
    assert await store.activation_participants(activation_id) == frozenset(range(1, 9))
    activation = await store.get_activation(GUILD, activation_id)
    assert activation is not None
    svc = ReportService(store, clock=lambda: starts + timedelta(days=1))
    lines = headline_lines(publish(await svc.activation_figures(activation), K), "en")
    assert "Questions: **8**" in lines and "Questions answered: **6**" in lines


async def attach_codes(store: Store, activation_id: int, n: int) -> None:
    for i in range(n):
        await store.db.execute(
            "INSERT INTO activation_codes (activation_id, community_id, code, added_at) VALUES (?, ?, ?, ?)",
            (activation_id, GUILD, f"C{i}", iso(datetime(2026, 3, 1, tzinfo=UTC))),
        )


async def test_the_codes_lines_appear_only_for_an_activation_with_a_code_pool(store: Store):
    starts = datetime(2026, 3, 2, 10, tzinfo=UTC)
    svc = ReportService(store, clock=lambda: starts + timedelta(days=1))
    reports: dict[str, RenderedReport] = {}
    for contact, (name, codes) in enumerate((("none", 0), ("pool", 10)), start=50):
        activation_id, _ = await seed_activation(
            store,
            GUILD,
            kind="qa",
            starts=starts,
            ends=starts + timedelta(hours=2),
            brand=name,
            contacts=(contact,),
        )
        await attach_codes(store, activation_id, codes)
        reports[name] = await svc.activation_report(GUILD, activation_id, member_id=None, moderator=True)
    claimed = i18n.t("en", "report.metric.codes_claimed")
    assert not any(line.startswith(claimed) for line in reports["none"].lines)
    assert not [r for r in reports["none"].published.rows if r.metric.startswith("code")]
    # a qa has no giveaway entries: not a hidden small number either
    assert reports["none"].published.get("headline", "giveaway_entries") is None
    hidden = i18n.t("en", "report.value.suppressed", k=K)
    assert f"{claimed}: **{hidden}**" in reports["pool"].lines  # a pool, nothing claimed: hidden


def test_topic_names_are_shown_as_typed_in_the_embed():
    flair = "#[Claim](https://example.com/x) *now*"
    rows = [Row("headline", "", "active_members", 40, 40)]
    rows += [Row("topic", flair, "share_percent", 70.0, 30), Row("topic", "#b", "share_percent", 30.0, 10)]
    lines = headline_lines(publish(Report("community", {"days": 7}, rows), K), "en")
    [topics] = [line for line in lines if line.startswith("Top topics")]
    assert r"\[Claim\](https://example.com/x) \*now\*" in topics
    assert "[Claim](" not in topics


def test_participants_hide_with_the_few_who_claimed_a_code_without_entering():
    """A giveaway with a code pool: 50 entrants, 48 of whom claimed a code, and 2 members who only
    claimed one. Participants 52 beside entries 50 and codes claimed 50 would show that 2 members
    claimed without entering (and 2 entered without claiming): the participants are hidden. With
    every claimer among the entrants, nothing is a small group, and all three are shown."""
    from types import SimpleNamespace

    from bot.reports.metrics import _kind_rows

    def shown(participants: int, entries: int, claimed: int) -> dict[str, bool]:
        inp = SimpleNamespace(
            kind="giveaway", participants=frozenset(range(participants)), entries=entries,
            codes=100, codes_claimed=claimed, codes_redeemed=0,
        )  # fmt: skip
        rows = publish_rows(_kind_rows(inp), K)  # type: ignore[arg-type]
        wanted = ("participants", "giveaway_entries", "codes_claimed")
        return {r.metric: not r.suppressed for r in rows if r.metric in wanted}

    assert shown(52, 50, 50) == {"participants": False, "giveaway_entries": True, "codes_claimed": True}
    assert shown(50, 50, 48) == {"participants": False, "giveaway_entries": True, "codes_claimed": True}
    assert shown(50, 50, 40) == {"participants": True, "giveaway_entries": True, "codes_claimed": True}
    assert shown(60, 50, 50) == {"participants": True, "giveaway_entries": True, "codes_claimed": True}


def test_codes_claimed_hide_with_the_few_who_did_not_redeem():
    """50 codes claimed beside 48 redeemed would show that 2 members claimed a code and did not use
    it: the claims are hidden, and so is the conversion (which gives them with the redeemed). When
    all or many did not redeem, nothing is a small group."""
    from types import SimpleNamespace

    from bot.reports.metrics import _kind_rows

    def shown(claimed: int, redeemed: int) -> dict[str, bool]:
        inp = SimpleNamespace(
            kind="qa", participants=frozenset(range(80)), entries=0, questions=0, question_authors=0,
            answered=0, answered_authors=0, codes=100, codes_claimed=claimed, codes_redeemed=redeemed,
        )  # fmt: skip
        rows = publish_rows(_kind_rows(inp), K)  # type: ignore[arg-type]
        wanted = ("codes_claimed", "codes_redeemed", "conversion_percent")
        return {r.metric: not r.suppressed for r in rows if r.metric in wanted}

    assert shown(50, 48) == {"codes_claimed": False, "codes_redeemed": True, "conversion_percent": False}
    assert shown(50, 50) == {"codes_claimed": True, "codes_redeemed": True, "conversion_percent": True}
    assert shown(50, 30) == {"codes_claimed": True, "codes_redeemed": True, "conversion_percent": True}
