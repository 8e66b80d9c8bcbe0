"""Report figures: pure computations over the rows the store returns. No platform, no SQL, no clock.

Every figure is a `Row` that carries the number of members it describes (`members`), so that
`bot.reports.privacy.publish` can suppress what describes fewer than k members before anything is
rendered. Definitions (docs/reports.md has the full list):

* Days are UTC days since 1970-01-01; a period is the days ``[start_day, end_day)``.
* A member is *active* on a day when they posted, replied, reacted, opened a thread, commented or
  submitted (joins and removed reactions are not activity).
* Messages are messages, threads and Reddit submissions; replies are replies and Reddit comments;
  reactions are reactions added minus reactions removed. Reply rate = replies / (messages + replies).
* A topic is a top-level channel; a thread counts in its parent channel.
* New members were first seen in the period; returning members are the other active members.
* Cohort week ``w`` holds the members first seen in the period's week ``w`` (weeks counted from the
  period's first day); cell ``(w, j)`` counts those active in week ``j``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.ledger import EPOCH

if TYPE_CHECKING:  # numpy is loaded by the first report, not at start-up
    import numpy as np

#: Kinds that make a member active and count as engagement.
ACTIVITY_KINDS = ("message", "reply", "reaction", "thread", "comment", "submission")
MESSAGE_KINDS = ("message", "thread", "submission")
REPLY_KINDS = ("reply", "comment")
WEEK_DAYS = 7
BASELINE_WEEKS = 4
WEEK_HOURS = 7 * 24
REPEAT_WINDOWS = (7, 30)
#: Kinds members cannot take part in (a sponsored announcement is read, not entered): their reports have
#: no participants and no repeat engagement of participants, which would read as a hidden small number.
NO_PARTICIPANTS = frozenset({"announcement"})
#: Day 0 (1970-01-01) was a Thursday: Monday-based week of a day = (day + 3) // 7.
MONDAY_OFFSET = 3


def day_of(moment: datetime) -> int:
    return int(moment.timestamp()) // 86400


def hour_of(moment: datetime) -> int:
    return int(moment.timestamp()) // 3600


def date_of(day: int) -> str:
    return (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")


def week_of(day: int) -> int:
    """Monday-based week number (weeks since the Monday before 1970-01-01)."""
    return (day + MONDAY_OFFSET) // WEEK_DAYS


def week_start_day(week: int) -> int:
    return week * WEEK_DAYS - MONDAY_OFFSET


@dataclass(frozen=True)
class Row:
    """One figure. `members`: how many members it describes (None: not about members, e.g. what the
    brand itself posted); `note` explains a missing value ("pending": not measurable yet)."""

    section: str
    item: str
    metric: str
    value: float | None
    members: int | None
    note: str = ""


@dataclass(frozen=True)
class MemberDays:
    """`report_member_days` rows as int64 columns: who was active in which channel on which day."""

    day: np.ndarray
    channel: np.ndarray
    member: np.ndarray

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[int]]) -> MemberDays:
        import numpy as np

        table = np.array(list(rows), dtype=np.int64).reshape(-1, 3)
        return cls(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy())

    def __len__(self) -> int:
        return len(self.day)

    def members_between(self, lo: int, hi: int) -> np.ndarray:
        """Distinct members active on days [lo, hi)."""
        from bot.trust.ids import sorted_unique  # np.unique hashes integers in numpy 2.4: far slower

        return sorted_unique(self.member[(self.day >= lo) & (self.day < hi)])


@dataclass(frozen=True)
class Topic:
    id: int
    name: str


@dataclass(frozen=True)
class CommunityInput:
    community_id: int
    start_day: int
    end_day: int
    #: Member-days from min(start_day, end_day - 30) to end_day (WAU and MAU look back from the end).
    member_days: MemberDays
    #: (day, kind, n) for the period.
    kinds_by_day: Sequence[tuple[int, str, int]]
    #: (channel as recorded, n) of activity kinds in the period.
    channel_counts: Sequence[tuple[int, int]]
    #: channel as recorded -> its topic (threads map to their parent channel).
    topics: Mapping[int, Topic]
    #: member -> first seen day, for members first seen on or after start_day.
    first_seen: Mapping[int, int]
    #: scope ('all', 'channel:<id>') -> trusted voices listed now, and a week earlier (None: no snapshot).
    voices_now: Mapping[str, int] = field(default_factory=dict)
    voices_before: Mapping[str, int] | None = None


@dataclass(frozen=True)
class Report:
    """Figures of one report plus what the renderers need to label them."""

    kind: str  # 'community' | 'activation'
    title_params: dict[str, object]
    rows: list[Row]


def _topic(topics: Mapping[int, Topic], channel: int) -> Topic:
    return topics.get(channel) or Topic(channel, f"#{channel}")


def community_figures(inp: CommunityInput) -> Report:
    import numpy as np

    start, end = inp.start_day, inp.end_day
    md = inp.member_days
    rows: list[Row] = []

    # Who was active when, as a (day x member) grid: every distinct count is a sum over it.
    lo = min(start, end - 30)
    keep = (md.day >= lo) & (md.day < end)
    members, member_index = np.unique(md.member[keep], return_inverse=True)
    grid = np.zeros((end - lo, len(members)), dtype=np.bool_)
    grid[md.day[keep] - lo, member_index] = True
    in_period = md.day[keep] >= start
    active_mask = grid[start - lo :].any(axis=0)
    active_ids = members[active_mask]
    active = int(active_mask.sum())
    wau = int(grid[end - WEEK_DAYS - lo :].any(axis=0).sum())
    mau = int(grid[end - 30 - lo :].any(axis=0).sum())
    newcomers = [m for m, day in inp.first_seen.items() if start <= day < end]
    new = int(np.isin(active_ids, np.array(newcomers, dtype=np.int64)).sum())
    returning = active - new

    totals: dict[str, int] = {}
    per_day: dict[int, int] = {}
    for day, kind, n in inp.kinds_by_day:
        if start <= day < end:
            totals[kind] = totals.get(kind, 0) + n
            if kind in ACTIVITY_KINDS:
                per_day[day] = per_day.get(day, 0) + n
    messages = sum(totals.get(k, 0) for k in MESSAGE_KINDS)
    replies = sum(totals.get(k, 0) for k in REPLY_KINDS)
    # A removed reaction is taken back where it was added (bot/store/reports.py); aggregates written
    # before that hold removals as 'unreaction' rows on the day they happened.
    reactions = max(0, totals.get("reaction", 0) - totals.get("unreaction", 0))

    per_day_active = grid.sum(axis=1)
    daily_active = {lo + i: int(n) for i, n in enumerate(per_day_active.tolist()) if lo + i >= start}
    period_days = end - start
    dau = sum(daily_active.values()) / period_days if period_days else 0.0

    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    head = "headline"
    rows += [
        Row(head, "", "active_members", active, active),
        Row(head, "", "daily_active_avg", round(dau, 2), active),
        Row(head, "", "weekly_active", wau, wau),
        Row(head, "", "monthly_active", mau, mau),
        Row(head, "", "new_members", new, new),
        Row(head, "", "returning_members", returning, returning),
        Row(head, "", "messages", messages, active),
        Row(head, "", "replies", replies, active),
        Row(head, "", "reactions", reactions, active),
        Row(head, "", "messages_per_active", round(ratio(messages, active), 2), active),
        Row(head, "", "replies_per_active", round(ratio(replies, active), 2), active),
        Row(head, "", "reactions_per_active", round(ratio(reactions, active), 2), active),
        Row(head, "", "reply_rate_percent", round(100 * ratio(replies, messages + replies), 1), active),
    ]
    for day in range(start, end):
        n_active = daily_active.get(day, 0)
        rows.append(Row("daily", date_of(day), "active_members", n_active, n_active))
        rows.append(Row("daily", date_of(day), "events", per_day.get(day, 0), n_active))

    # Topics: events from the hourly counts, members from the member-days, threads folded.
    topic_events: dict[int, int] = {}
    names: dict[int, str] = {}
    for channel, n in inp.channel_counts:
        topic = _topic(inp.topics, channel)
        topic_events[topic.id] = topic_events.get(topic.id, 0) + n
        names[topic.id] = topic.name
    channels, channel_index = np.unique(md.channel[keep][in_period], return_inverse=True)
    topic_ids = [_topic(inp.topics, c).id for c in channels.tolist()]
    for c in channels.tolist():
        names.setdefault(_topic(inp.topics, c).id, _topic(inp.topics, c).name)
    codes = {t: i for i, t in enumerate(dict.fromkeys(topic_ids))}
    topic_code = np.array([codes[t] for t in topic_ids], dtype=np.int64)[channel_index]
    topic_grid = np.zeros((len(codes), len(members)), dtype=np.bool_)
    topic_grid[topic_code, member_index[in_period]] = True
    topic_members = {t: int(n) for t, n in zip(codes, topic_grid.sum(axis=1).tolist(), strict=True)}
    total_events = sum(topic_events.values())
    for topic_id in sorted(topic_events, key=lambda t: (-topic_events[t], t)):
        n_members = topic_members.get(topic_id, 0)
        share = round(100 * ratio(topic_events[topic_id], total_events), 1)
        rows.append(Row("topic", names[topic_id], "share_percent", share, n_members))
        rows.append(Row("topic", names[topic_id], "events", topic_events[topic_id], n_members))

    rows += cohort_rows(md, inp.first_seen, start, end)
    rows += voices_rows(inp.voices_now, inp.voices_before, inp.topics)
    return Report("community", {"days": period_days, "start": date_of(start), "end": date_of(end - 1)}, rows)


def cohort_rows(md: MemberDays, first_seen: Mapping[int, int], start: int, end: int) -> list[Row]:
    import numpy as np

    weeks = math.ceil((end - start) / WEEK_DAYS)
    cohorts: dict[int, list[int]] = {}
    for member, day in first_seen.items():
        if start <= day < end:
            cohorts.setdefault((day - start) // WEEK_DAYS, []).append(member)
    newcomers = np.array([m for ms in cohorts.values() for m in ms], dtype=np.int64)
    mask = (md.day >= start) & (md.day < end) & np.isin(md.member, newcomers)
    active_weeks: dict[int, set[int]] = {}
    for day, member in zip(md.day[mask].tolist(), md.member[mask].tolist(), strict=True):
        active_weeks.setdefault(member, set()).add((day - start) // WEEK_DAYS)
    rows: list[Row] = []
    for w in range(weeks):
        members = cohorts.get(w, [])
        size = len(members)
        label = date_of(start + w * WEEK_DAYS)
        rows.append(Row("cohort", label, "size", size, size))
        for j in range(w, weeks):
            n = sum(1 for m in members if j in active_weeks.get(m, ()))
            rows.append(Row("cohort", label, f"week_{j - w}_active", n, n))
            pct = round(100 * n / size, 1) if size else 0.0
            rows.append(Row("cohort", label, f"week_{j - w}_percent", pct, n))
    return rows


def voices_rows(
    now: Mapping[str, int], before: Mapping[str, int] | None, topics: Mapping[int, Topic]
) -> list[Row]:
    rows: list[Row] = []

    def label(scope: str) -> str:
        if scope == "all":
            return "all"
        kind, _, raw = scope.partition(":")
        return _topic(topics, int(raw)).name if kind == "channel" and raw.isdigit() else scope

    for scope in sorted(now, key=lambda s: (s != "all", -now[s], s)):
        if not (scope == "all" or scope.startswith("channel:")):
            continue
        count = now[scope]
        rows.append(Row("voices", label(scope), "trusted_voices", count, count))
        if before is not None:
            earlier = before.get(scope, 0)
            rows.append(Row("voices", label(scope), "change_7d", count - earlier, min(count, earlier)))
    return rows


# -- activations ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivationInput:
    activation_id: int
    kind: str
    brand: str
    title: str
    starts_at: datetime
    #: When it ended: its end, the moment it was cancelled, or (while it is live) its end or now.
    ends_at: datetime
    now: datetime
    participants: frozenset[int]
    entries: int
    questions: int
    question_authors: int
    answered: int
    answered_authors: int
    #: Codes in its pool (0: it has none).
    codes: int
    codes_claimed: int
    codes_redeemed: int
    takeover_posts: int
    #: hour -> activity events in the community, from `BASELINE_WEEKS` weeks before the first measured
    #: hour to the last (`measured_hours`); hours without events may be missing.
    hourly_events: Mapping[int, int]
    #: Member-days from 28 days before the start's day to 30 days after the end's day (or now).
    member_days: MemberDays


def window_hours(starts_at: datetime, ends_at: datetime) -> tuple[int, int]:
    """The whole hours a window covers: [floor(start), ceil(end))."""
    lo = int(starts_at.timestamp()) // 3600
    hi = -(-int(ends_at.timestamp()) // 3600)
    return lo, max(hi, lo + 1)


def measured_hours(starts_at: datetime, ends_at: datetime, now: datetime) -> tuple[int, int]:
    """The hours engagement is measured over: the window's whole hours that are over at `now`, so a
    live activation (or one reported within its last hour) is never a part-hour against full baseline
    hours. Empty (``hi <= lo``) while its first hour is not over."""
    lo, hi = window_hours(starts_at, ends_at)
    return lo, min(hi, hour_of(now))


def baseline_hour(hour: int, lo: int, week: int) -> int:
    """The hour that baseline week `week` (1..4) compares with `hour` of a window starting at hour
    `lo`: the same hour of the week, ``week`` weeks before the start. A window longer than a week
    compares each of its weeks with the weeks before the start, never with itself."""
    return hour - WEEK_HOURS * ((hour - lo) // WEEK_HOURS + week)


def baseline_events(hourly: Mapping[int, int], lo: int, hi: int, weeks: int = BASELINE_WEEKS) -> list[int]:
    """Activity events of each baseline week over the window's hours [lo, hi)."""
    return [sum(hourly.get(baseline_hour(h, lo, w), 0) for h in range(lo, hi)) for w in range(1, weeks + 1)]


def _with_rest(members: int, rest: int) -> int:
    """The group a figure describes when the rest of a group it is part of can be told from it: the
    smaller of the two, unless the rest is empty."""
    return min(members, rest) if rest > 0 else members


def _kind_rows(inp: ActivationInput) -> list[Row]:
    """The headline counts that apply to this activation: its kind's own, and the codes when it has a
    code pool (a count of what cannot happen would read as a hidden small number)."""
    head = "headline"
    n_participants = len(inp.participants)
    # Entrants and code claimers are parts of the participants: shown beside them, each difference is
    # a group of members too (those who claimed a code without entering, say), so the participants
    # describe the smallest such group as well, and are hidden with it.
    parts = ([inp.entries] if inp.kind == "giveaway" else []) + ([inp.codes_claimed] if inp.codes else [])
    gaps = [n_participants - n for n in parts if n_participants - n > 0]
    rows: list[Row] = []
    if inp.kind not in NO_PARTICIPANTS:
        rows.append(Row(head, "", "participants", n_participants, min([n_participants, *gaps])))
    if inp.kind == "giveaway":
        rows.append(Row(head, "", "giveaway_entries", inp.entries, inp.entries))
    if inp.kind == "qa":
        rows.append(Row(head, "", "questions", inp.questions, inp.question_authors))
        rows.append(Row(head, "", "questions_answered", inp.answered, inp.answered_authors))
    if inp.codes:
        conversion = round(100 * inp.codes_redeemed / inp.codes_claimed, 1) if inp.codes_claimed else 0.0
        # Those who claimed a code and did not redeem it are a group too: shown beside the redeemed,
        # the claims (and the conversion, which gives them) describe it as well.
        unredeemed = inp.codes_claimed - inp.codes_redeemed
        rows += [
            Row(head, "", "codes_claimed", inp.codes_claimed, _with_rest(inp.codes_claimed, unredeemed)),
            Row(head, "", "codes_redeemed", inp.codes_redeemed, inp.codes_redeemed),
            Row(head, "", "conversion_percent", conversion, _with_rest(inp.codes_redeemed, unredeemed)),
        ]
    if inp.kind == "takeover":
        # What the brand's own taker posted: not a figure about community members.
        rows.append(Row(head, "", "takeover_posts", inp.takeover_posts, None))
    return rows


def _engagement_rows(inp: ActivationInput) -> list[Row]:
    """Community engagement in the measured hours against the same hours of the weeks before."""
    md = inp.member_days
    eng = "engagement"
    lo, hi = measured_hours(inp.starts_at, inp.ends_at, inp.now)
    if hi <= lo:
        note = "too_early"
        rows = [Row(eng, "during", "events", None, None, note)]
        weeks = range(1, BASELINE_WEEKS + 1)
        rows += [Row(eng, f"baseline_week_{w}", "events", None, None, note) for w in weeks]
        rows += [Row(eng, "baseline", m, None, None, note) for m in ("mean", "stdev", "min", "max")]
        return [*rows, Row(eng, "during", "lift_percent", None, None, note)]

    def members_in_hours(first: int, last: int) -> int:
        """Members active on the days that hours [first, last) fall on."""
        return len(md.members_between(first // 24, (last - 1) // 24 + 1))

    # Baseline week w's hours all lie in [lo - 168·w, lo - 168·w + span): w weeks before the start, as far
    # into that week as the window goes (at most the whole week).
    span = min(hi - lo, WEEK_HOURS)
    during_members = members_in_hours(lo, hi)
    base_members = [
        members_in_hours(lo - WEEK_HOURS * w, lo - WEEK_HOURS * w + span)
        for w in range(1, BASELINE_WEEKS + 1)
    ]
    during = sum(inp.hourly_events.get(h, 0) for h in range(lo, hi))
    base = baseline_events(inp.hourly_events, lo, hi)
    least = min([during_members, *base_members])
    rows = [Row(eng, "during", "events", during, during_members)]
    for w, (events, members) in enumerate(zip(base, base_members, strict=True), start=1):
        rows.append(Row(eng, f"baseline_week_{w}", "events", events, members))
    import statistics  # with the first activation report, not at start-up (with fractions, about 0.2 MB)

    mean = statistics.fmean(base)
    sd = statistics.stdev(base) if len(base) > 1 else 0.0
    least_base = min(base_members)
    rows += [
        Row(eng, "baseline", "mean", round(mean, 1), least_base),
        Row(eng, "baseline", "stdev", round(sd, 1), least_base),
        Row(eng, "baseline", "min", min(base), least_base),
        Row(eng, "baseline", "max", max(base), least_base),
        Row(
            eng,
            "during",
            "lift_percent",
            round(100 * (during - mean) / mean, 1) if mean else None,
            least,
            "" if mean else "no_baseline",
        ),
    ]
    return rows


def activation_figures(inp: ActivationInput) -> Report:
    md = inp.member_days
    n_participants = len(inp.participants)
    rows = _kind_rows(inp) + _engagement_rows(inp)

    # Repeat engagement after the end: participants vs members active in the four weeks before the
    # start who did not take part (comparable non-participants).
    start_day, end_day, today = day_of(inp.starts_at), day_of(inp.ends_at), day_of(inp.now)
    comparable = set(md.members_between(start_day - 28, start_day).tolist()) - inp.participants
    for days in REPEAT_WINDOWS if inp.kind not in NO_PARTICIPANTS else ():
        lo, hi = end_day + 1, end_day + 1 + days
        item = f"after_{days}d"
        if today < hi:
            for metric in ("participants_percent", "comparable_percent"):
                rows.append(Row("repeat", item, metric, None, None, "pending"))
            continue
        back = set(md.members_between(lo, hi).tolist())
        n_p = len(back & inp.participants)
        n_c = len(back & comparable)
        pct_p = round(100 * n_p / n_participants, 1) if n_participants else 0.0
        pct_c = round(100 * n_c / len(comparable), 1) if comparable else 0.0
        # A share of a group shown or known describes those who came back and those who did not.
        rows.append(Row("repeat", item, "participants_percent", pct_p, _with_rest(n_p, n_participants - n_p)))
        rows.append(Row("repeat", item, "comparable_percent", pct_c, _with_rest(n_c, len(comparable) - n_c)))
    params: dict[str, object] = {
        "id": inp.activation_id,
        "kind": inp.kind,
        "brand": inp.brand,
        "title": inp.title,
        "start": inp.starts_at.strftime("%Y-%m-%d %H:%M"),
        "end": inp.ends_at.strftime("%Y-%m-%d %H:%M"),
    }
    return Report("activation", params, rows)
