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


def _additive_group(row: Row) -> tuple[str, str] | None:
    """Figures that add up to something shown (or to 100 %): hiding one of them alone would let a
    reader recompute it from the others, so such a group never has exactly one hidden figure."""
    if row.section == "headline" and row.metric in ("new_members", "returning_members"):
        return ("headline", "active split")
    if row.section == "topic":
        return ("topic", row.metric)
    if row.section == "engagement" and row.item.startswith("baseline_week_"):
        return ("engagement", "baseline")
    return None


def publish_rows(rows: Iterable[Row], k: int) -> tuple[Published, ...]:
    rows = list(rows)
    hidden = [suppressed(row, k) for row in rows]
    groups: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(rows):
        group = _additive_group(row)
        if group is not None:
            groups.setdefault(group, []).append(i)
    for members in groups.values():
        if sum(hidden[i] for i in members) == 1 and len(members) > 1:
            # Secondary suppression: also hide the smallest figure still shown in the group.
            shown = [i for i in members if not hidden[i]]
            hidden[min(shown, key=lambda i: (rows[i].members or 0, rows[i].value or 0))] = True
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
