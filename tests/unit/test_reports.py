"""Reports on a simulated month: every figure against plain Python over the simulator's own record.

The store is loaded with what the bot records of the simulation (bots dropped, a repeated natural
key recorded once); the expected figures are computed here from that record with dicts and sets,
never with the report SQL. Then k-anonymity, the chart's text layer, the CSV, the digest's
once-per-week claim, retention and erasure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import io
import itertools
import math
import os
import re
import shutil
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib
import pytest
from matplotlib import _text_helpers, font_manager

from bot import i18n
from bot.__main__ import main as cli
from bot.errors import Forbidden, InvalidInput
from bot.ledger import ChannelInfo, MemberSighting, iso
from bot.reports import charts
from bot.reports.csv_export import to_csv
from bot.reports.files import write_reports
from bot.reports.metrics import Report, Row, day_of, week_of, week_start_day
from bot.reports.privacy import (
    K_MIN,
    Published,
    PublishedReport,
    effective_k,
    publish,
    publish_rows,
    validate_k,
)
from bot.reports.service import RenderedReport, ReportService, headline_lines
from bot.store import Store
from sandbox.simulator import EMOJIS, KIND_NAMES, SimCommunity, simulate
from tests.pg import BACKENDS, PostgresForTests, require_postgres

ACTIVITY = {"message", "reply", "reaction", "thread", "comment", "submission"}
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Record:
    ts_ms: int
    kind: str
    channel: int
    actor: int
    target: int | None
    source: str

    @property
    def day(self) -> int:
        return self.ts_ms // DAY_MS

    @property
    def hour(self) -> int:
        return self.ts_ms // 3_600_000


def recorded(com: SimCommunity) -> list[Record]:
    """The simulation as the ledger keeps it: no bots, each (kind, source, actor) once."""
    bots = set(com.bot_ids().tolist())
    ev = com.events
    seen: set[tuple[str, str, int]] = set()
    out: list[Record] = []
    for i in range(len(ev)):
        actor = int(ev.actor[i])
        if actor in bots:
            continue
        kind = KIND_NAMES[int(ev.kind[i])]
        ts = int(ev.ts_ms[i])
        if kind in ("reaction", "unreaction"):
            source = f"{int(ev.message_id[i])}:{EMOJIS[int(ev.emoji[i])]}"
        elif kind == "join":
            source = f"{actor}:{ts // 1000}"
        else:
            source = str(int(ev.message_id[i]))
        if (kind, source, actor) in seen:
            continue
        seen.add((kind, source, actor))
        out.append(Record(ts, kind, int(ev.channel[i]), actor, int(ev.target_member[i]) or None, source))
    return out


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


async def load(com: SimCommunity, records: list[Record], path: Path | str) -> None:
    store = await Store.open(path)
    first: dict[int, int] = {}
    for r in records:
        first.setdefault(r.actor, r.ts_ms)
    sightings = [
        MemberSighting(
            "discord", com.guild_id, m, at(ts), account_created_at=com.member(m).account_created_at
        )
        for m, ts in first.items()
    ]
    channels = [ChannelInfo("discord", com.guild_id, c.id, c.parent_id, c.type, c.name) for c in com.channels]
    rows = (
        (
            "discord",
            com.guild_id,
            r.channel,
            r.actor,
            r.target,
            r.kind,
            r.source,
            int(r.target == r.actor),
            iso(at(r.ts_ms)),
        )
        for r in records
    )
    await store.record_bulk(rows, sightings, channels, chunk=5000)
    await store.close()


@dataclass
class Month:
    com: SimCommunity
    records: list[Record]
    path: Path

    @property
    def guild(self) -> int:
        return self.com.guild_id

    @property
    def end_day(self) -> int:
        return day_of(self.com.end)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Month:
    com = simulate(11, members=220, days=42)
    records = recorded(com)
    path = tmp_path_factory.mktemp("reports") / "month.sqlite3"
    asyncio.run(load(com, records, path))
    return Month(com, records, path)


@pytest.fixture(scope="module")
def pg_month(month: Month, postgres: PostgresForTests | None) -> str | None:
    """The same month loaded into a PostgreSQL database, which each PostgreSQL run copies."""
    if postgres is None:
        return None
    name = f"month_{os.getpid()}"
    url = postgres.server.create_database(name)
    # In a thread of its own: the first test asking for it is inside a running event loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, load(month.com, month.records, url)).result()
    return name


_copies = itertools.count(1)


@pytest.fixture
async def store(month: Month, tmp_path: Path, request: pytest.FixtureRequest):
    """The month in a copy of its database: SQLite, or (for a test parametrized with
    `BOTH = pytest.mark.parametrize("store", BACKENDS, indirect=True)`) each backend in turn."""
    if getattr(request, "param", "sqlite") == "postgresql":
        pg = require_postgres(request.getfixturevalue("postgres"), request)
        template = request.getfixturevalue("pg_month")
        url = pg.server.create_database(f"report_{os.getpid()}_{next(_copies)}", template=template)
        s = await Store.open(url, pool_size=2)
    else:
        copy = tmp_path / "db.sqlite3"
        shutil.copy(month.path, copy)
        s = await Store.open(copy)
    yield s
    await s.close()


#: The representative report tests that also run on PostgreSQL (every figure, the digest claim,
#: retention and erasure of the aggregates).
BOTH = pytest.mark.parametrize("store", BACKENDS, indirect=True)


def service(store: Store, now: datetime) -> ReportService:
    return ReportService(store, clock=lambda: now)


# -- every community figure, computed independently ---------------------------------------------------


def expected_community(
    m: Month, start: int, end: int
) -> dict[tuple[str, str, str], tuple[float, int | None]]:
    """(section, item, metric) -> (value, members described), from the records alone."""
    com, records = m.com, m.records
    first_seen: dict[int, int] = {}
    active_on: dict[int, set[int]] = defaultdict(set)
    kinds: dict[str, int] = defaultdict(int)
    events_on: dict[int, int] = defaultdict(int)
    topic_events: dict[str, int] = defaultdict(int)
    topic_members: dict[str, set[int]] = defaultdict(set)

    def topic(channel: int) -> str:
        c = com.channel(channel)
        return f"#{com.channel(c.parent_id).name}" if c.type == 11 and c.parent_id else f"#{c.name}"

    # A removed reaction is taken back on the day it was added: the reactions still standing count.
    removed = {(r.source, r.actor) for r in records if r.kind == "unreaction"}
    for r in records:
        first_seen.setdefault(r.actor, r.day)
        if r.kind in ACTIVITY:
            active_on[r.day].add(r.actor)
        if start <= r.day < end:
            if r.kind in ACTIVITY:
                topic_members[topic(r.channel)].add(r.actor)  # active, whatever became of it
            if r.kind == "unreaction" or (r.kind == "reaction" and (r.source, r.actor) in removed):
                continue
            kinds[r.kind] += 1
            if r.kind in ACTIVITY:
                events_on[r.day] += 1
                topic_events[topic(r.channel)] += 1

    def between(lo: int, hi: int) -> set[int]:
        return set().union(*(active_on[d] for d in range(lo, hi)))

    active = between(start, end)
    new = {a for a in active if start <= first_seen[a] < end}
    messages = kinds["message"] + kinds["thread"] + kinds["submission"]
    replies = kinds["reply"] + kinds["comment"]
    reactions = kinds["reaction"]
    n = len(active)
    out: dict[tuple[str, str, str], tuple[float, int | None]] = {}

    def put(section: str, item: str, metric: str, value: float, members: int | None) -> None:
        out[(section, item, metric)] = (value, members)

    put("headline", "", "active_members", n, n)
    put(
        "headline",
        "",
        "daily_active_avg",
        round(sum(len(active_on[d]) for d in range(start, end)) / (end - start), 2),
        n,
    )
    put("headline", "", "weekly_active", len(between(end - 7, end)), len(between(end - 7, end)))
    put("headline", "", "monthly_active", len(between(end - 30, end)), len(between(end - 30, end)))
    put("headline", "", "new_members", len(new), len(new))
    put("headline", "", "returning_members", n - len(new), n - len(new))
    put("headline", "", "messages", messages, n)
    put("headline", "", "replies", replies, n)
    put("headline", "", "reactions", reactions, n)
    put("headline", "", "messages_per_active", round(messages / n, 2), n)
    put("headline", "", "replies_per_active", round(replies / n, 2), n)
    put("headline", "", "reactions_per_active", round(reactions / n, 2), n)
    put("headline", "", "reply_rate_percent", round(100 * replies / (messages + replies), 1), n)
    for d in range(start, end):
        label = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=d)).strftime("%Y-%m-%d")
        put("daily", label, "active_members", len(active_on[d]), len(active_on[d]))
        put("daily", label, "events", events_on[d], len(active_on[d]))
    total = sum(topic_events.values())
    for name, count in topic_events.items():
        put("topic", name, "share_percent", round(100 * count / total, 1), len(topic_members[name]))
        put("topic", name, "events", count, len(topic_members[name]))
    weeks = math.ceil((end - start) / 7)
    for w in range(weeks):
        cohort = {a for a, d in first_seen.items() if start <= d < end and (d - start) // 7 == w}
        label = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=start + 7 * w)).strftime("%Y-%m-%d")
        put("cohort", label, "size", len(cohort), len(cohort))
        for j in range(w, weeks):
            back = cohort & between(start + 7 * j, min(start + 7 * j + 7, end))
            put("cohort", label, f"week_{j - w}_active", len(back), len(back))
            share = round(100 * len(back) / len(cohort), 1) if cohort else 0.0
            put("cohort", label, f"week_{j - w}_percent", share, len(back))
    return out


def as_dict(rows: list[Row]) -> dict[tuple[str, str, str], tuple[float | None, int | None]]:
    table = {(r.section, r.item, r.metric): (r.value, r.members) for r in rows}
    assert len(table) == len(rows), "each figure appears once"
    return table


@pytest.mark.parametrize("days", [30, 10])
@BOTH
async def test_every_community_figure_matches_the_simulators_record(month: Month, store: Store, days: int):
    end = month.end_day
    report = await service(store, month.com.end).community_figures(month.guild, end - days, end)
    got = as_dict(report.rows)
    want = expected_community(month, end - days, end)
    assert set(got) == set(want)
    for key, (value, members) in want.items():
        assert got[key][1] == members, key
        assert got[key][0] == pytest.approx(value), key
    assert got[("headline", "", "active_members")][0] > 100  # a lively month, not an empty check
    assert 0 < got[("headline", "", "new_members")][0] < got[("headline", "", "active_members")][0]


async def test_the_command_period_ends_today_and_applies_k(month: Month, store: Store):
    now = month.com.end - timedelta(hours=3)
    published = await service(store, now).community(month.guild, 30)
    want = expected_community(month, day_of(now) + 1 - 30, day_of(now) + 1)
    for row in published.rows:
        value, members = want[(row.section, row.item, row.metric)]
        if members is not None and members < 5:
            assert row.suppressed and row.value is None, row
        if not row.suppressed:
            assert row.value == pytest.approx(value), row
    assert any(r.suppressed for r in published.rows) and not all(r.suppressed for r in published.rows)
    with pytest.raises(InvalidInput):
        await service(store, now).community(month.guild, 91)


async def test_trusted_voices_per_topic_and_their_change(month: Month, store: Store):
    """A period that is over (a digest) shows the voices as its last snapshot holds them against the
    snapshot seven days before that, however late it is made; a period that runs to today shows the
    stored ranking against the snapshot a week ago."""
    channel = next(c for c in month.com.channels if c.type == 0)
    scope = f"channel:{channel.id}"
    today = month.end_day
    for member in range(1, 10):  # the stored ranking now: 9
        await store.db.execute(
            "INSERT INTO trust_scores VALUES (?, ?, ?, ?, 1.0, 6, 4, ?, '{}')",
            (month.guild, scope, member, member, iso(month.com.end)),
        )
    for day, listed in ((today - 17, 2), (today - 10, 5), (today - 3, 8)):
        for member in range(1, listed + 1):
            await store.db.execute(
                "INSERT INTO trust_snapshots VALUES (?, ?, ?, ?, 1.0)", (month.guild, day, scope, member)
            )
    later = month.com.end + timedelta(days=3)  # the digest of the week that ended 3 days ago, late
    report = await service(store, later).community_figures(month.guild, today - 9, today - 2)
    got = as_dict(report.rows)
    assert got[("voices", f"#{channel.name}", "trusted_voices")] == (8, 8)  # the snapshot of day -3
    assert got[("voices", f"#{channel.name}", "change_7d")] == (3, 5)  # against day -10's, 7 days
    report = await service(store, month.com.end).community_figures(month.guild, today - 29, today + 1)
    got = as_dict(report.rows)
    assert got[("voices", f"#{channel.name}", "trusted_voices")] == (9, 9)  # runs to today: now
    assert got[("voices", f"#{channel.name}", "change_7d")] == (4, 5)  # against day -10's (the last by -7)


# -- activations ----------------------------------------------------------------------------------


async def seed_activation(
    store: Store,
    guild: int,
    *,
    kind: str = "giveaway",
    starts: datetime,
    ends: datetime,
    brand: str = "Acme",
    contacts: tuple[int, ...] = (42,),
    state: str = "ended",
    opened: bool | None = None,
    title: str = "Spring",
    channel: int = 1,
    config: str = "{}",
) -> tuple[int, int]:
    """An activation row; `opened` (by default: for a live, ended or cancelled one) says whether its
    opening was done, at its start."""
    made = await store.create_brand(guild, brand, list(contacts), [], by=1, now=starts)
    await store.set_brand_status(guild, made.id, expected="pending", status="approved", by=1, now=starts)
    if opened is None:
        opened = state in ("live", "ended", "cancelled")
    [(activation_id,)] = await store.write_returning(
        "INSERT INTO activations (community_id, brand_id, kind, state, title, channel_id, starts_at, ends_at,"
        " created_by, created_at, updated_at, opened_at, config)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?) RETURNING id",
        (
            guild,
            made.id,
            kind,
            state,
            title,
            channel,
            iso(starts),
            iso(ends),
            iso(starts),
            iso(ends),
            iso(starts) if opened else None,
            config,
        ),
    )
    return int(activation_id), made.id


@BOTH
async def test_every_activation_figure_matches_the_simulators_record(month: Month, store: Store):
    com, records, guild = month.com, month.records, month.guild
    starts = com.start + timedelta(days=29, hours=10, minutes=20)
    ends = starts + timedelta(hours=5)
    activation_id, _ = await seed_activation(store, guild, starts=starts, ends=ends)
    regulars = sorted({r.actor for r in records if r.kind in ACTIVITY})
    entrants, claimers, redeemed = regulars[:12], regulars[5:20], regulars[5:11]
    for m in entrants:
        await store.db.execute(
            "INSERT INTO giveaway_entries VALUES (?, ?, ?, ?)", (activation_id, guild, m, iso(starts))
        )
    for i in range(25):
        claimed = claimers[i] if i < len(claimers) else None
        [(code_id,)] = await store.write_returning(
            "INSERT INTO activation_codes (activation_id, community_id, code, added_at, claimed_by)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (activation_id, guild, f"C{i}", iso(starts), claimed),
        )
        if claimed in redeemed:
            await store.db.execute(
                "INSERT INTO code_redemptions VALUES (?, ?, ?, NULL, 42, ?)",
                (code_id, activation_id, guild, iso(ends)),
            )
    report = await service(store, com.end).activation_figures(
        await store.get_activation(guild, activation_id)  # type: ignore[arg-type]
    )
    got = as_dict(report.rows)

    participants = set(entrants) | set(claimers)
    lo, hi = starts.timestamp() // 3600, -(-ends.timestamp() // 3600)
    active_on: dict[int, set[int]] = defaultdict(set)
    for r in records:
        if r.kind in ACTIVITY:
            active_on[r.day].add(r.actor)

    removed = {(r.source, r.actor) for r in records if r.kind == "unreaction"}

    def events(shift: int) -> int:  # a removed reaction is taken back where it was added
        return sum(
            1
            for r in records
            if r.kind in ACTIVITY
            and lo - shift <= r.hour < hi - shift
            and not (r.kind == "reaction" and (r.source, r.actor) in removed)
        )

    def members(shift: int) -> int:
        days = range(int(lo - shift) // 24, int(hi - 1 - shift) // 24 + 1)
        return len(set().union(*(active_on[d] for d in days)))

    during, base = events(0), [events(168 * w) for w in (1, 2, 3, 4)]
    mean = statistics.fmean(base)
    # the participants describe, too, those who entered without a code and those who claimed one only
    gaps = (len(participants) - len(set(entrants)), len(participants) - len(set(claimers)))
    assert got[("headline", "", "participants")] == (len(participants), min(len(participants), *gaps))
    assert got[("headline", "", "giveaway_entries")] == (12, 12)
    # the claims (and the conversion) describe, too, the 9 who claimed a code and did not redeem it
    assert got[("headline", "", "codes_claimed")] == (15, 9)
    assert got[("headline", "", "codes_redeemed")] == (6, 6)
    assert got[("headline", "", "conversion_percent")] == (40.0, 6)
    assert got[("engagement", "during", "events")] == (during, members(0))
    for w in (1, 2, 3, 4):
        assert got[("engagement", f"baseline_week_{w}", "events")] == (base[w - 1], members(168 * w))
    least = min(members(168 * w) for w in (1, 2, 3, 4))
    assert got[("engagement", "baseline", "mean")] == (round(mean, 1), least)
    assert got[("engagement", "baseline", "stdev")] == (round(statistics.stdev(base), 1), least)
    assert got[("engagement", "during", "lift_percent")][0] == round(100 * (during - mean) / mean, 1)
    assert during > 0 and mean > 0

    start_day, end_day = day_of(starts), day_of(ends)
    comparable = set().union(*(active_on[d] for d in range(start_day - 28, start_day))) - participants
    back = set().union(*(active_on[d] for d in range(end_day + 1, end_day + 8)))
    p7 = round(100 * len(back & participants) / len(participants), 1)
    c7 = round(100 * len(back & comparable) / len(comparable), 1)
    # a share describes both those who came back and those who did not
    came, stayed = len(back & participants), len(participants - back)
    assert got[("repeat", "after_7d", "participants_percent")] == (p7, min(came, stayed) if stayed else came)
    came, stayed = len(back & comparable), len(comparable - back)
    assert got[("repeat", "after_7d", "comparable_percent")] == (c7, min(came, stayed) if stayed else came)
    # Thirty days after the end lies beyond the simulated month: not measurable yet, not zero.
    assert got[("repeat", "after_30d", "participants_percent")] == (None, None)


async def test_brand_managers_see_only_their_own_brands_activations(month: Month, store: Store):
    starts = month.com.start + timedelta(days=20)
    mine, _ = await seed_activation(store, month.guild, starts=starts, ends=starts + timedelta(hours=2))
    theirs, _ = await seed_activation(
        store, month.guild, starts=starts, ends=starts + timedelta(hours=2), brand="Other", contacts=(43,)
    )
    svc = service(store, month.com.end)
    assert (await svc.activation(month.guild, mine, member_id=42, moderator=False)).kind == "activation"
    with pytest.raises(Forbidden) as refused:
        await svc.activation(month.guild, theirs, member_id=42, moderator=False)
    assert refused.value.key == "activation.error.not_manager"
    with pytest.raises(Forbidden):
        await svc.activation(month.guild, mine, member_id=None, moderator=False)
    assert (await svc.activation(month.guild, theirs, member_id=7, moderator=True)).rows
    pending, _ = await seed_activation(
        store, month.guild, starts=starts, ends=starts + timedelta(hours=2), brand="Later", state="pending"
    )
    with pytest.raises(InvalidInput):
        await svc.activation(month.guild, pending, member_id=None, moderator=True)


# -- k-anonymity ------------------------------------------------------------------------------------


async def test_a_four_member_cohort_never_reaches_a_brand(month: Month, store: Store):
    """Four entrants: the brand's embed, chart and CSV say 'hidden', never 4 or what 4 people did."""
    starts = month.com.start + timedelta(days=30, hours=9)
    activation_id, _ = await seed_activation(
        store, month.guild, starts=starts, ends=starts + timedelta(hours=3)
    )
    four = sorted({r.actor for r in month.records if r.kind in ACTIVITY})[:4]
    for m in four:
        await store.db.execute(
            "INSERT INTO giveaway_entries VALUES (?, ?, ?, ?)", (activation_id, month.guild, m, iso(starts))
        )
    svc = service(store, month.com.end)
    report = await svc.activation_report(month.guild, activation_id, member_id=42, moderator=False)
    published = report.published
    for metric in ("participants", "giveaway_entries"):
        row = published.get("headline", metric)
        assert row is not None and row.suppressed and row.value is None
    for metric in ("participants_percent",):
        row = published.get("repeat", metric, "after_7d")
        assert row is not None and row.suppressed
    hidden = i18n.t("en", "report.value.suppressed", k=5)
    assert f"Unique participants: **{hidden}**" in report.lines
    assert f"Giveaway entries: **{hidden}**" in report.lines
    assert not any(" **4**" in line for line in report.lines)

    table = list(
        csv.DictReader(
            io.StringIO(next(f for f in report.files if f.name.endswith(".csv")).data.decode("utf-8-sig"))
        )
    )
    by_metric = {(r["section"], r["item"], r["metric"]): r for r in table}
    for key in (
        ("headline", "", "participants"),
        ("headline", "", "giveaway_entries"),
        ("repeat", "after_7d", "participants_percent"),
    ):
        assert by_metric[key]["value"] == "" and by_metric[key]["suppressed"] == "yes"

    texts = charts.figure_texts(charts.activation_figure(published, "en"))
    assert "<5" in texts
    participants_pct = [t for t in texts if re.fullmatch(r"\d+(\.\d)? %", t)]
    shown = published.get("repeat", "comparable_percent", "after_7d")
    assert shown is not None and not shown.suppressed
    assert participants_pct == [f"{shown.value:.1f} %"]  # only the comparable group's share is drawn


async def test_a_four_member_weekly_cohort_is_hidden_in_chart_and_csv(month: Month, store: Store):
    end = month.end_day
    figures = await service(store, month.com.end).community_figures(month.guild, end - 30, end)
    small = [r for r in figures.rows if r.section == "cohort" and r.metric == "size" and r.value == 4]
    if not small:  # make one: four newcomers first seen in the last week, active on its first day
        start = end - 30 + 7 * 4
        await store.db.execute(
            "DELETE FROM members WHERE community_id = ? AND first_seen >= ?",
            (month.guild, iso(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=start))),
        )
        for m in range(1, 5):
            when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=start, hours=m)
            await store.db.execute(
                "INSERT INTO members (platform, community_id, member_id, first_seen)"
                " VALUES ('discord', ?, ?, ?)",
                (month.guild, m, iso(when)),
            )
            await store.db.execute(
                "INSERT INTO report_member_days VALUES (?, ?, 0, ?, 1)", (month.guild, start, m)
            )
        figures = await service(store, month.com.end).community_figures(month.guild, end - 30, end)
        small = [r for r in figures.rows if r.section == "cohort" and r.metric == "size" and r.value == 4]
    label = small[0].item
    published = publish(figures, 5)
    cells = [r for r in published.rows if r.section == "cohort" and r.item == label]
    assert cells and all(r.suppressed and r.value is None for r in cells)
    data = to_csv(published).decode("utf-8-sig")
    for line in data.splitlines():
        if line.startswith(f"cohort,{label},"):
            assert line.endswith(",,yes"), line
    fig = charts.community_figure(published, "en")
    texts = charts.figure_texts(fig)
    assert texts.count("<5") >= len([r for r in cells if r.metric.endswith("_percent")])


def test_csv_text_never_reads_as_a_spreadsheet_formula():
    rows = (
        Published("topic", '=HYPERLINK("http://example.com","x")', "share_percent", 60.0, False),
        Published("topic", "@SUM(A1)", "share_percent", -2.5, False),
        Published("topic", "-10 degrees", "share_percent", None, False, note="+pending"),
        Published("topic", "#plain", "share_percent", 12.0, False),
    )
    data = to_csv(PublishedReport("community", {}, 5, rows)).decode("utf-8-sig")
    lines = data.splitlines()[1:]
    assert lines == [
        'topic,"\'=HYPERLINK(""http://example.com"",""x"")",share_percent,60,no',
        "topic,'@SUM(A1),share_percent,-2.5,no",  # a number stays a number
        "topic,'-10 degrees,share_percent,'+pending,no",
        "topic,#plain,share_percent,12,no",
    ]


def test_secondary_suppression_and_hidden_ranks():
    rows = [
        Row("headline", "", "active_members", 40, 40),
        Row("headline", "", "new_members", 3, 3),
        Row("headline", "", "returning_members", 37, 37),
        Row("topic", "#a", "share_percent", 60.0, 30),
        Row("topic", "#b", "share_percent", 38.0, 12),
        Row("topic", "#c", "share_percent", 2.0, 2),
        Row("topic", "#d", "share_percent", 0.0, 0),
    ]
    out = {(p.section, p.item, p.metric): p for p in publish_rows(rows, 5)}
    # new = active - returning: hiding only "new" would not hide it
    assert (
        out[("headline", "", "new_members")].suppressed
        and out[("headline", "", "returning_members")].suppressed
    )
    assert not out[("headline", "", "active_members")].suppressed
    assert [p.item for p in publish_rows(rows, 5) if p.section == "topic"] == ["#a", "#b", "#c", "#d"]
    assert (
        out[("topic", "#c", "share_percent")].suppressed and out[("topic", "#d", "share_percent")].suppressed
    )
    # one topic alone hidden would be 100 % minus the rest: the next smallest is hidden too
    two = publish_rows(rows[3:6], 5)
    assert [p.suppressed for p in two] == [False, True, True]
    # hidden topics lose their place in the ranking
    ranked = publish_rows(
        [
            Row("topic", "#z", "events", 2, 2),
            Row("topic", "#y", "events", 1, 1),
            Row("topic", "#x", "events", 9, 9),
        ],
        5,
    )
    assert [p.item for p in ranked] == ["#x", "#y", "#z"]


def test_k_is_validated_in_the_settings_path_and_never_below_three():
    assert validate_k(3) == 3 and validate_k(12) == 12
    for bad in (0, 2, 101):
        with pytest.raises(InvalidInput) as refused:
            validate_k(bad)
        assert refused.value.key == "error.bad_k_anonymity"
    assert effective_k(2) == K_MIN and effective_k(None) == 5 and effective_k(9) == 9
    with pytest.raises(ValueError):
        publish(Report("community", {}, []), 2)


# -- charts: dark theme, Arabic joined, right-to-left in order --------------------------------------


def glyph_run(text: str) -> list:
    """How matplotlib lays a string out: glyphs in visual order, left to right (its libraqm layout)."""
    font = font_manager.get_font(font_manager.findfont(font_manager.FontProperties(family=charts.FONT)))
    font.set_size(12, 72)
    return list(_text_helpers.layout(text, font))


def visual(text: str) -> str:
    return "".join(item.char for item in glyph_run(text))


def test_matplotlib_joins_arabic_and_orders_right_to_left():
    run = glyph_run("مجتمع")
    assert [i.char for i in run] == list("عمتجم")  # the first letter is drawn rightmost
    alone = glyph_run("م")[0].glyph_index
    assert run[-1].glyph_index != alone and run[1].glyph_index != alone  # initial and medial forms
    assert visual("שבוע 1") == "1 עובש"
    # a date stays a date inside an Arabic sentence, and a Latin name keeps its own order
    assert "2026-01-11" in visual("تقرير (" + charts.ltr("2026-01-11") + ")")
    assert "2026-01-11" not in visual("تقرير (2026-01-11)")  # what the isolate prevents
    assert "Acme (beta)" in visual("מ־" + i18n.isolate("Acme (beta)"))


@pytest.mark.parametrize("lang", ["ar", "he", "en"])
async def test_chart_text_layer_is_localized_right_to_left_and_has_every_glyph(
    month: Month, store: Store, lang: str
):
    await store.update_settings(month.guild, {"locale": lang}, by=1, now=month.com.end)
    await store.db.execute(
        "UPDATE channels SET name = 'مطبخ' WHERE community_id = ? AND name = 'general'", (month.guild,)
    )
    published = await service(store, month.com.end).community(month.guild, 30)
    fig = charts.community_figure(published, lang)
    texts = charts.figure_texts(fig)
    assert i18n.t(lang, "report.chart.daily_active") in texts
    assert charts.name("#مطبخ") in texts  # an Arabic channel name, in every language
    rtl = 0
    for text in texts:
        run = glyph_run(text)
        assert all(item.glyph_index != 0 for item in run), text  # no missing glyph (no boxes)
        letters = [item for item in run if "\u0590" <= item.char <= "\u06ff" and item.char.isalpha()]
        if len(letters) > 1:
            rtl += 1
            logical = [c for c in text if "\u0590" <= c <= "\u06ff" and c.isalpha()]
            rightmost = max(letters, key=lambda item: item.x)
            assert rightmost.char == logical[0], text  # right to left: the first letter rightmost
    assert rtl >= (1 if lang == "en" else 8)
    assert fig.get_facecolor()[:3] == matplotlib.colors.to_rgb(charts.BACKGROUND)
    png = charts.render(published, lang)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000


# -- rendered report, CSV, digest, retention, erasure -----------------------------------------------


async def test_rendered_report_has_embed_lines_png_and_csv_from_the_same_figures(month: Month, store: Store):
    report = await service(store, month.com.end).community_report(month.guild, 30)
    assert isinstance(report, RenderedReport)
    assert [f.name for f in report.files] == [
        f"community-{month.guild}-30d.png",
        f"community-{month.guild}-30d.csv",
    ]
    table = list(csv.DictReader(io.StringIO(report.files[1].data.decode("utf-8-sig"))))
    assert [tuple(r) for r in table[:1]] and list(table[0]) == [
        "section",
        "item",
        "metric",
        "value",
        "suppressed",
    ]
    assert len(table) == len(report.published.rows)
    active = report.published.get("headline", "active_members")
    assert active is not None and f"Active members: **{int(active.value or 0):,}**" in report.lines
    assert next(r for r in table if r["metric"] == "active_members")["value"] == str(int(active.value or 0))
    assert report.lines == tuple(headline_lines(report.published, "en"))


class Sink:
    def __init__(self, *, fail: bool = False) -> None:
        self.posts: list[tuple[int, int, RenderedReport]] = []
        self.fail = fail

    async def post_report(self, community_id: int, channel_id: int, report: RenderedReport) -> None:
        if self.fail:
            raise ConnectionError("platform unavailable")
        self.posts.append((community_id, channel_id, report))


@BOTH
async def test_weekly_digest_is_posted_once_per_week_across_restarts(month: Month, store: Store):
    now = month.com.end + timedelta(hours=5)
    sink = Sink()
    assert await service(store, now).post_weekly_digests(sink) == 0  # no report channel: no digest
    await store.update_settings(month.guild, {"report_channel_id": 777}, by=1, now=now)
    failing = Sink(fail=True)
    assert await service(store, now).post_weekly_digests(failing) == 0  # failed: the claim is given back
    assert await service(store, now).post_weekly_digests(sink) == 1
    assert await service(store, now).post_weekly_digests(sink) == 0  # same week, a second run
    assert await service(store, now + timedelta(days=2)).post_weekly_digests(sink) <= 1
    [(community, channel, digest)] = sink.posts[:1]
    week = week_of(day_of(now)) - 1
    start = week_start_day(week)
    assert (community, channel) == (month.guild, 777)
    assert digest.title.startswith("Weekly digest")
    want = expected_community(month, start, start + 7)
    row = digest.published.get("headline", "active_members")
    assert row is not None and row.value == want[("headline", "", "active_members")][0]
    assert await store.last_digest_week(month.guild) >= week


async def test_a_digest_claim_left_by_a_stopped_process_is_taken_over(store: Store):
    """A process that stopped between claiming a week's digest and posting it leaves a claim nobody
    gives back: after a quarter of an hour another run takes it over."""
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert await store.claim_digest(5, 2900, now=t0)
    assert not await store.claim_digest(5, 2900, now=t0 + timedelta(minutes=5))  # being posted
    assert await store.claim_digest(5, 2900, now=t0 + timedelta(minutes=20))  # left behind
    await store.digest_posted(5, 2900, now=t0 + timedelta(minutes=20))
    assert not await store.claim_digest(5, 2900, now=t0 + timedelta(days=3))  # posted: never again


@BOTH
async def test_retention_purges_member_days_with_raw_events_and_keeps_counts(month: Month, store: Store):
    cutoff = month.com.start + timedelta(days=20, hours=6)
    hourly_before = await store.scalar("SELECT sum(n) FROM report_hourly")
    await store.purge_events_before(month.guild, cutoff)
    assert await store.scalar("SELECT min(day) FROM report_member_days") == day_of(cutoff)
    assert await store.scalar("SELECT sum(n) FROM report_hourly") == hourly_before
    assert await store.scalar("SELECT count(*) FROM events WHERE created_at < ?", (iso(cutoff),)) == 0


@BOTH
async def test_erasure_keeps_counts_under_a_pseudonym(month: Month, store: Store):
    member = Counter(r.actor for r in month.records if r.kind in ACTIVITY).most_common(1)[0][0]
    before = await store.scalar("SELECT sum(n) FROM report_member_days")
    await store.forget_member(month.guild, member, pseudonym=-99, now=month.com.end)
    assert await store.scalar("SELECT count(*) FROM report_member_days WHERE member_id = ?", (member,)) == 0
    assert await store.scalar("SELECT count(*) FROM report_member_days WHERE member_id = -99") > 0
    assert await store.scalar("SELECT sum(n) FROM report_member_days") == before


async def test_ingest_batches_feed_the_aggregates_once(database: str | Path):
    from bot.ledger import EngagementEvent

    s = await Store.open(database)
    t0 = datetime(2026, 3, 2, 10, 59, 59, 999000, tzinfo=UTC)
    batch = [
        EngagementEvent("discord", 1, 5, 7, "message", "100", t0),
        EngagementEvent("discord", 1, 5, 8, "reply", "101", t0 + timedelta(milliseconds=1), 7),
        EngagementEvent("discord", 1, 5, 8, "reaction", "100:x", t0, 7),
        EngagementEvent("discord", 1, 5, 8, "unreaction", "100:x", t0 + timedelta(seconds=1), 7),
        EngagementEvent("discord", 1, 0, 9, "join", "9:1", t0),
    ]
    await s.record(batch)
    await s.record(batch)  # a replay
    hours = await s.fetch_all("SELECT hour, kind, n FROM report_hourly ORDER BY kind")
    h = int(t0.timestamp()) // 3600
    assert hours == [  # the reaction removed in the same batch is taken back where it was added
        (h, "join", 1),
        (h, "message", 1),
        (h, "reaction", 0),
        (h + 1, "reply", 1),
    ]
    by_channel = await s.fetch_all("SELECT day, channel_id, kind, n FROM report_channel_days ORDER BY kind")
    d = day_of(t0)
    assert by_channel == [(d, 0, "join", 1), (d, 5, "message", 1), (d, 5, "reaction", 0), (d, 5, "reply", 1)]
    days = await s.fetch_all(
        "SELECT day, channel_id, member_id, n FROM report_member_days ORDER BY member_id"
    )
    assert days == [(day_of(t0), 5, 7, 1), (day_of(t0), 5, 8, 2)]
    await s.close()


def test_cli_writes_the_same_csv_and_png(month: Month, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "out"
    assert (
        cli(
            [
                "report",
                "community",
                str(month.guild),
                "--days",
                "30",
                "--out",
                str(out),
                "--db",
                str(month.path),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        f"community-{month.guild}-30d.csv",
        f"community-{month.guild}-30d.png",
    ]
    assert (out / f"community-{month.guild}-30d.png").read_bytes().startswith(b"\x89PNG")
    assert "Active members" in capsys.readouterr().out
    assert cli(["report", "activation", "999", "--out", str(out), "--db", str(month.path)]) == 2


async def test_write_reports_leaves_the_community_and_activation_files(
    month: Month, store: Store, tmp_path: Path
):
    starts = month.com.start + timedelta(days=30)
    activation_id, _ = await seed_activation(
        store, month.guild, starts=starts, ends=starts + timedelta(hours=2)
    )
    paths = await write_reports(
        service(store, month.com.end), month.guild, tmp_path / "demo-output", activation_ids=(activation_id,)
    )
    assert [p.name for p in paths] == [
        f"community-{month.guild}-30d.png",
        f"community-{month.guild}-30d.csv",
        f"activation-{activation_id}.png",
        f"activation-{activation_id}.csv",
    ]
    assert all(p.stat().st_size > 0 for p in paths)


def test_reports_import_no_platform():
    import ast

    root = Path(__file__).resolve().parents[2]
    for path in [*sorted((root / "bot" / "reports").glob("*.py")), root / "bot" / "store" / "reports.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            (n.module or "").split(".")[0] if isinstance(n, ast.ImportFrom) else a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in (n.names if isinstance(n, ast.Import) else [n])
        }
        assert not imported & {"discord", "praw", "cogs"}, path


async def test_a_reaction_removed_days_later_is_taken_back_on_the_day_it_was_added(database: str | Path):
    """A purge of an old message's reactions (or one member's late removal) changes the figures of
    the hour and day the reactions were added, never the day of the removal: this week's reaction
    count cannot turn negative, and each day's events stay the sum of its kinds."""
    from bot.ledger import EngagementEvent

    s = await Store.open(database)
    added = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    removed = added + timedelta(days=8)
    await s.record(
        [EngagementEvent("discord", 1, 5, 7, "message", "100", added)]
        + [EngagementEvent("discord", 1, 5, m, "reaction", f"100:{m}", added, 7) for m in (8, 9, 10)]
    )
    await s.record(
        [EngagementEvent("discord", 1, 5, 7, "message", "200", removed)]
        + [EngagementEvent("discord", 1, 5, m, "unreaction", f"100:{m}", removed, 7) for m in (8, 9)]
        + [EngagementEvent("discord", 1, 5, 11, "unreaction", "300:x", removed, 7)]  # never recorded
    )
    h, d = int(added.timestamp()) // 3600, day_of(added)
    assert await s.fetch_all("SELECT hour, kind, n FROM report_hourly ORDER BY hour, kind") == [
        (h, "message", 1),
        (h, "reaction", 1),
        (h + 8 * 24, "message", 1),
    ]
    assert await s.fetch_all("SELECT day, kind, n FROM report_channel_days ORDER BY day, kind") == [
        (d, "message", 1),
        (d, "reaction", 1),
        (d + 8, "message", 1),
    ]
    await s.close()
