"""Properties of the reports' privacy (hypothesis): whatever a small community did, the published
community report shows no figure about fewer than k members, a hidden figure has no value anywhere
(embed rows, CSV), and in every group of figures that add up to something shown (days, topics,
cohorts, new and returning members) a hidden entity is never hidden alone, so it cannot be worked
out as the total minus the others. An activation report shows neither such a figure nor two whose
difference is a group of fewer than k members."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reports.csv_export import to_csv
from bot.reports.metrics import (
    ActivationInput,
    CommunityInput,
    MemberDays,
    Topic,
    activation_figures,
    community_figures,
    day_of,
    hour_of,
)
from bot.reports.privacy import K_MAX, K_MIN, publish

START = 20_000
TOPICS = {
    1: Topic(1, "#general"),
    2: Topic(2, "#help"),
    3: Topic(3, "#art"),
    4: Topic(1, "#general"),
}  # 4: a thread
KINDS = ("message", "reply", "reaction", "thread", "unreaction")


@st.composite
def communities(draw: st.DrawFn) -> CommunityInput:
    """Up to 30 members active on some of up to 21 days in three channels and a thread, the report's
    period being the last 1 to 21 of them; some members first seen in the period."""
    days = draw(st.integers(1, 21))
    end = START + days
    lookback = min(START, end - 30)
    size = draw(st.integers(1, 30))
    events = draw(
        st.lists(
            st.tuples(
                st.integers(1, size),
                st.sampled_from(sorted(TOPICS)),
                st.integers(lookback, end - 1),
                st.sampled_from(KINDS),
            ),
            max_size=400,
        )
    )
    member_days = sorted({(day, channel, member) for member, channel, day, _ in events})
    in_period = [(m, c, d, k) for m, c, d, k in events if START <= d < end]
    kinds = Counter((d, k) for _, _, d, k in in_period)
    channels = Counter(c for _, c, _, k in in_period if k != "unreaction")
    first: dict[int, int] = {}
    for member, _, day, _ in events:
        first[member] = min(first.get(member, day), day)
    return CommunityInput(
        community_id=1,
        start_day=START,
        end_day=end,
        member_days=MemberDays.from_rows(member_days),
        kinds_by_day=[(d, k, n) for (d, k), n in sorted(kinds.items())],
        channel_counts=sorted(channels.items()),
        topics=TOPICS,
        first_seen={m: d for m, d in first.items() if d >= START},
    )


def groups(section: str, metric: str, item: str) -> tuple[str, str, bool] | None:
    """(group, entity, whether the figure is one that adds up) for the figures that add up."""
    if section == "headline" and metric in ("new_members", "returning_members"):
        return "split", metric, True
    if section in ("topic", "daily"):
        return section, item, True
    if section == "cohort":
        return "cohort", item, metric == "size"
    return None


@settings(max_examples=150, deadline=None)
@given(communities(), st.integers(K_MIN, 12))
def test_no_figure_about_fewer_than_k_members_is_shown_or_can_be_worked_out(
    inp: CommunityInput, k: int
) -> None:
    report = community_figures(inp)
    published = publish(report, k)
    assert len(published.rows) == len(report.rows)
    raw = {(r.section, r.item, r.metric): r for r in report.rows}
    hidden: dict[str, dict[str, bool]] = {}
    for p in published.rows:
        r = raw[(p.section, p.item, p.metric)]
        if r.members is not None and r.members < k:
            assert p.suppressed, (p, r)
        if p.suppressed:
            assert p.value is None
        else:
            assert p.value == r.value
        group = groups(p.section, p.metric, p.item)
        if group is not None and group[2]:
            name, entity, _ = group
            hidden.setdefault(name, {})[entity] = hidden.get(name, {}).get(entity, False) or p.suppressed
    for name, entities in hidden.items():
        count = sum(entities.values())
        assert count != 1 or len(entities) == 1, (name, entities)
    # A cohort hidden by its size is hidden whole; the cohorts follow hidden new members.
    for p in published.rows:
        if p.section == "cohort" and hidden.get("cohort", {}).get(p.item):
            assert p.suppressed
        if p.section == "cohort" and hidden.get("split", {}).get("new_members"):
            assert p.suppressed
    # The CSV holds the same figures: no value where one is hidden.
    table = list(csv.DictReader(io.StringIO(to_csv(published).decode("utf-8-sig"))))
    shown = {(row["section"], row["metric"], row["suppressed"]): row["value"] for row in table}
    assert all(value == "" for (_, _, suppressed), value in shown.items() if suppressed == "yes")
    assert sum(row["suppressed"] == "yes" for row in table) == sum(p.suppressed for p in published.rows)


@settings(max_examples=40, deadline=None)
@given(communities())
def test_a_larger_k_hides_at_least_the_figures_about_fewer_members(inp: CommunityInput) -> None:
    report = community_figures(inp)
    for k in (K_MIN, 5, 10, K_MAX):
        published = publish(report, k)
        small = {
            (r.section, r.item, r.metric) for r in report.rows if r.members is not None and r.members < k
        }
        assert small <= {(p.section, p.item, p.metric) for p in published.rows if p.suppressed}
    assert np.isfinite([r.value for r in report.rows if r.value is not None]).all()


@st.composite
def activations(draw: st.DrawFn) -> ActivationInput:
    """An activation of any kind among up to 40 members: its participants, entrants, askers and code
    claimers drawn from them as the store counts them (entrants and claimers are participants,
    redeemers claimed), member-days from four weeks before it to a month after, and hourly events."""
    size = draw(st.integers(1, 40))
    members = list(range(1, size + 1))
    kind = draw(st.sampled_from(("giveaway", "qa", "takeover", "announcement")))
    participants = frozenset(draw(st.lists(st.sampled_from(members), max_size=size, unique=True)))
    taking_part = sorted(participants)
    entries = draw(st.integers(0, len(taking_part))) if kind == "giveaway" else 0
    codes = draw(st.integers(0, 30))
    claimed = draw(st.integers(0, min(codes, len(taking_part))))
    redeemed = draw(st.integers(0, claimed))
    askers = draw(st.integers(0, len(taking_part))) if kind == "qa" else 0
    answered_askers = draw(st.integers(0, askers))
    starts = datetime(2026, 5, 4, draw(st.integers(0, 23)), tzinfo=UTC)
    ends = starts + timedelta(hours=draw(st.integers(1, 24 * 10)))
    now = ends + timedelta(hours=draw(st.integers(-24, 24 * 40)))
    first_day, last_day = day_of(starts) - 28, day_of(ends) + 31
    member_days = draw(
        st.lists(
            st.tuples(st.integers(first_day, last_day), st.sampled_from((1, 2)), st.sampled_from(members)),
            max_size=300,
        )
    )
    lo = hour_of(starts) - 5 * 168
    hourly = draw(st.dictionaries(st.integers(lo, hour_of(ends) + 1), st.integers(0, 50), max_size=200))
    return ActivationInput(
        activation_id=1,
        kind=kind,
        brand="Brand",
        title="Launch",
        starts_at=starts,
        ends_at=ends,
        now=now,
        participants=participants,
        entries=entries,
        questions=askers + draw(st.integers(0, 10)) if askers else 0,
        question_authors=askers,
        answered=answered_askers,
        answered_authors=answered_askers,
        codes=codes,
        codes_claimed=claimed,
        codes_redeemed=redeemed,
        takeover_posts=draw(st.integers(0, 20)),
        hourly_events=hourly,
        member_days=MemberDays.from_rows(sorted(set(member_days))),
    )


@settings(max_examples=300, deadline=None)
@given(activations(), st.integers(K_MIN, 12))
def test_no_activation_figure_gives_away_a_group_of_fewer_than_k_members(
    inp: ActivationInput, k: int
) -> None:
    """No figure about fewer than k members is shown, nor any two shown figures whose difference is
    such a group: participants who did not enter the giveaway or claim a code, claimers who did not
    redeem, participants who came back and those who did not."""
    report = activation_figures(inp)
    published = publish(report, k)
    raw = {(r.section, r.item, r.metric): r for r in report.rows}
    shown: dict[tuple[str, str], float] = {}
    for p in published.rows:
        r = raw[(p.section, p.item, p.metric)]
        if r.members is not None and r.members < k:
            assert p.suppressed
        if p.suppressed:
            assert p.value is None
        elif p.value is not None:
            shown[(p.item, p.metric)] = p.value

    def safe(group: float) -> bool:
        return group == 0 or group >= k

    participants = shown.get(("", "participants"))
    for part in ("giveaway_entries", "codes_claimed"):
        if participants is not None and ("", part) in shown:
            assert safe(participants - shown[("", part)]), part
    if ("", "codes_claimed") in shown and ("", "codes_redeemed") in shown:
        assert safe(shown[("", "codes_claimed")] - shown[("", "codes_redeemed")])
    if ("", "conversion_percent") in shown and ("", "codes_claimed") in shown:
        back = round(shown[("", "conversion_percent")] * shown[("", "codes_claimed")] / 100)
        assert safe(back) and safe(shown[("", "codes_claimed")] - back)
    for days in (7, 30):
        pct = shown.get((f"after_{days}d", "participants_percent"))
        if pct is not None and participants:
            back = round(pct * participants / 100)
            assert safe(back) and safe(participants - back), days
