"""k-anonymity for reports: a figure that describes fewer than k members is suppressed. Pure.

Everything a report shows (the embed, the chart, the CSV) is rendered from `publish()`'s output and
never from the raw figures, so a suppressed value cannot leak through one of them: a suppressed
`Published` row has no value at all. k defaults to 5; moderators may set it between `K_MIN` and
`K_MAX` (`/microvoice setup k_anonymity`), and a stored value below `K_MIN` is raised to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.errors import InvalidInput
from bot.reports.metrics import Report, Row

K_DEFAULT = 5
K_MIN = 3
K_MAX = 100


def validate_k(value: int) -> int:
    """The k a moderator asked for, or InvalidInput (nothing is saved)."""
    if not K_MIN <= value <= K_MAX:
        raise InvalidInput("error.bad_k_anonymity", low=K_MIN, high=K_MAX)
    return value


def effective_k(stored: int | None) -> int:
    """The k reports apply: the community's setting, never below K_MIN."""
    return max(K_MIN, stored if stored is not None else K_DEFAULT)


@dataclass(frozen=True)
class Published:
    """A figure as it may be shown: `value` is None when `suppressed` (or when `note` says why)."""

    section: str
    item: str
    metric: str
    value: float | None
    suppressed: bool
    note: str = ""


@dataclass(frozen=True)
class PublishedReport:
    kind: str
    title_params: dict[str, object]
    k: int
    rows: tuple[Published, ...]

    def get(self, section: str, metric: str, item: str = "") -> Published | None:
        for row in self.rows:
            if row.section == section and row.metric == metric and row.item == item:
                return row
        return None

    def section(self, section: str) -> list[Published]:
        return [r for r in self.rows if r.section == section]


def suppressed(row: Row, k: int) -> bool:
    return row.members is not None and row.members < k


@dataclass(frozen=True)
class _Member:
    """Where a figure sits in a group of figures that add up to something shown: the group, the
    entity it describes inside the group (a day, a topic, a cohort) and whether it is one of the
    figures that add up (`key`) or only derived from the entity's (a cohort's weekly cells)."""

    group: tuple[str, ...]
    entity: str
    key: bool


#: Groups whose figures are themselves counts of members (a day's active members, a cohort's size): a
#: hidden one is known to be below k, so the complement follows a rule that does not depend on the
#: figures shown (see `_complement`).
_MEMBER_COUNTS = frozenset({("daily",), ("cohort",)})


def _additive(row: Row) -> _Member | None:
    """Figures that add up to something shown (or to 100 %): hiding one of them alone would let a
    reader recompute it from the others, so such a group never has exactly one hidden entity.

    * new + returning members = active members;
    * the days' active members add up to the average daily active × days, their events to the
      period's events (messages + replies + reactions, the topics' events);
    * topic shares add up to 100 %, topic events to the period's events;
    * cohort sizes add up to the new members (when every newcomer was active); a cohort's cells give
      its size away (active / share), so a cohort is hidden whole;
    * the four baseline weeks add up to four times their mean."""
    if row.section == "headline" and row.metric in ("new_members", "returning_members"):
        return _Member(("headline", "active split"), row.metric, True)
    if row.section in ("topic", "daily"):
        return _Member((row.section,), row.item, True)
    if row.section == "cohort":
        return _Member(("cohort",), row.item, row.metric == "size")
    if row.section == "engagement" and row.item.startswith("baseline_week_"):
        return _Member(("engagement", "baseline"), row.item, True)
    return None


def _complement(rows: list[Row], hidden: list[bool]) -> None:
    """Secondary suppression, in place. An entity is hidden whole: all its figures, as soon as one of
    its figures that add up is, and an entity hidden next to it is hidden with all of its figures too
    (hiding one metric of one entity and another metric of another would let the two be combined).

    * Days and cohorts: as soon as one is hidden, the first one still shown after it (or, for the
      last, before it) is hidden too. Its choice does not depend on the figures shown, so a reader
      learns no upper bound for it (the smallest shown would be at most the next smallest), and there
      is always one hidden entity of at least k, so hidden ones that are all just below k cannot be
      told from their sum.
    * Topics, baseline weeks, new and returning members: in a group with exactly one hidden entity,
      the smallest one still shown is hidden too (their figures are not the member counts k is
      about, so a hidden one has no known bound)."""
    rows_of: dict[tuple[str, ...], dict[str, list[int]]] = {}
    keys_of: dict[tuple[str, ...], dict[str, list[int]]] = {}
    for i, row in enumerate(rows):
        member = _additive(row)
        if member is None:
            continue
        rows_of.setdefault(member.group, {}).setdefault(member.entity, []).append(i)
        if member.key:
            keys_of.setdefault(member.group, {}).setdefault(member.entity, []).append(i)
    for group, entities in keys_of.items():
        order = list(entities)
        hidden_entities = [e for e in order if any(hidden[i] for i in entities[e])]
        shown = [e for e in order if e not in hidden_entities]
        if not hidden_entities or not shown:
            continue
        if group in _MEMBER_COUNTS:
            first = order.index(hidden_entities[0])
            after = [e for e in order[first + 1 :] if e in shown]
            hidden_entities.append(after[0] if after else shown[-1])
        elif len(hidden_entities) == 1:
            hidden_entities.append(min(shown, key=lambda e: _size(rows, entities[e])))
        for entity in hidden_entities:
            for i in rows_of[group][entity]:
                hidden[i] = True


def _linked(rows: list[Row], hidden: list[bool]) -> None:
    """Hiding across sections, in place. The cohorts break the new members down: in a period of one
    week its one cohort's first-week actives are the active new members, and where every newcomer is
    active (on Reddit a member is first seen by their activity) the cohorts' sizes add up to them.
    So when new and returning members are hidden, the cohorts are hidden whole as well: otherwise
    active − new would give the hidden returning members."""
    split_hidden = any(
        h
        for row, h in zip(rows, hidden, strict=True)
        if row.section == "headline" and row.metric in ("new_members", "returning_members")
    )
    if split_hidden:
        for i, row in enumerate(rows):
            if row.section == "cohort":
                hidden[i] = True


def _size(rows: list[Row], keys: list[int]) -> tuple[int, tuple[float, ...], int]:
    """How small an entity is: the members its figures describe, then its figures, then its place."""
    members = min(rows[i].members or 0 for i in keys)
    return members, tuple(float(rows[i].value or 0) for i in keys), keys[0]


def publish_rows(rows: Iterable[Row], k: int) -> tuple[Published, ...]:
    rows = list(rows)
    hidden = [suppressed(row, k) for row in rows]
    _complement(rows, hidden)
    _linked(rows, hidden)
    published = [
        Published(r.section, r.item, r.metric, None if h else r.value, h, r.note)
        for r, h in zip(rows, hidden, strict=True)
    ]
    # Topics come ranked by their (raw) size; a hidden one keeps no place in that ranking.
    ranked = [p for p in published if p.section == "topic"]
    if ranked:
        first = next(i for i, p in enumerate(published) if p.section == "topic")
        ordered = [p for p in ranked if not p.suppressed] + sorted(
            (p for p in ranked if p.suppressed), key=lambda p: (p.item, p.metric)
        )
        rest = [p for p in published if p.section != "topic"]
        published = rest[:first] + ordered + rest[first:]
    return tuple(published)


def publish(report: Report, k: int) -> PublishedReport:
    if k < K_MIN:
        raise ValueError(f"k must be at least {K_MIN}")
    return PublishedReport(report.kind, dict(report.title_params), k, publish_rows(report.rows, k))
