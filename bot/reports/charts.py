"""Report charts as PNG: matplotlib's Agg backend (no display), colours legible on Discord's dark theme.

Charts draw only `Published` rows, so a suppressed figure appears as a hatched grey placeholder of a
fixed size with "fewer than k" beside it, never as its value. Arabic and Hebrew: matplotlib 3.11
lays text out with libraqm (HarfBuzz shaping and the Unicode bidirectional algorithm), so labels are
passed in logical order; dates and user-supplied names are wrapped in Unicode isolates so they keep
their own direction inside a right-to-left sentence. The bundled DejaVu Sans has the Arabic and
Hebrew glyphs, so no system font is needed.

Matplotlib reads text between two dollar signs as a formula (mathtext): every user-supplied name
(channel, flair, activation title) goes through `name`, which escapes its dollar signs, so "Save $5 or
$10" is drawn as typed and a title that is not a valid formula cannot make the chart fail.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")  # before any pyplot import anywhere: never a display

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot import i18n
from bot.reports.privacy import Published, PublishedReport

BACKGROUND = "#313338"  # Discord's dark theme
PANEL = "#2B2D31"
TEXT = "#F2F3F5"
MUTED = "#B5BAC1"
GRID = "#4E5058"
ACCENT = "#5865F2"
SECOND = "#57F287"
WARN = "#FEE75C"
HIDDEN = "#80848E"
FONT = "DejaVu Sans"
MAX_TOPICS = 8
DPI = 110


LRI = "\u2066"


def ltr(text: str) -> str:
    """Mark text (a date) as left-to-right inside right-to-left text (a Unicode isolate): otherwise
    the bidirectional algorithm shows 2026-01-11 as 11-01-2026 in an Arabic sentence."""
    return f"{LRI}{text}{i18n.PDI}"


def plain(text: str) -> str:
    """Text drawn as typed: its dollar signs escaped, so matplotlib never reads a formula in it (with no
    unescaped dollar sign left, a backslash is drawn as itself too)."""
    return text.replace("$", r"\$")


def name(text: str) -> str:
    """A user-supplied name (a channel, a flair, an activation's title; any script) as an isolate
    inside a label, drawn as typed."""
    return i18n.isolate(plain(text))


def _style(fig: Figure) -> None:
    fig.set_facecolor(BACKGROUND)
    for ax in fig.axes:
        ax.set_facecolor(PANEL)
        ax.tick_params(colors=MUTED, labelsize=9)
        for spine in ax.spines.values():
            spine.set_color(GRID)
        ax.grid(True, color=GRID, linewidth=0.6, alpha=0.6)
        ax.set_axisbelow(True)


def _title(ax: Axes, text: str) -> None:
    """A panel title, wrapped on the figure's width (long translations and suppression notes fit)."""
    ax.set_title(text, color=TEXT, fontsize=11, loc="left", fontfamily=FONT, wrap=True)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _png(fig: Figure, title: str) -> bytes:
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor=BACKGROUND, metadata={"Title": title})
    return out.getvalue()


Translate = Callable[..., str]


def _translator(lang: str) -> Translate:
    def t(key: str, **params: object) -> str:
        return i18n.t(lang, key, **params)

    return t


# -- community --------------------------------------------------------------------------------------


def community_figure(report: PublishedReport, lang: str) -> Figure:
    t = _translator(lang)
    daily = [r for r in report.section("daily") if r.metric == "active_members"]
    topics = [r for r in report.section("topic") if r.metric == "share_percent"][:MAX_TOPICS]
    cohort_sizes = [r for r in report.section("cohort") if r.metric == "size"]
    panels = 3 if cohort_sizes else 2
    fig = Figure(figsize=(9, 3.2 * panels), layout="constrained")
    axes = fig.subplots(panels, 1)
    params = dict(report.title_params)
    params["start"], params["end"] = ltr(str(params["start"])), ltr(str(params["end"]))
    fig.suptitle(t("report.chart.community", **params), color=TEXT, fontsize=13)
    hidden_label = t("report.chart.suppressed", k=report.k)

    ax = axes[0]
    xs = list(range(len(daily)))
    ys = [float(r.value) if r.value is not None else float("nan") for r in daily]
    ax.plot(xs, ys, color=ACCENT, marker="o", markersize=3, linewidth=2, label=t("report.chart.active"))
    hidden_days = [i for i, r in enumerate(daily) if r.suppressed]
    for n, i in enumerate(hidden_days):
        ax.axvspan(
            i - 0.5, i + 0.5, color=HIDDEN, alpha=0.35, hatch="//", label=hidden_label if n == 0 else None
        )
    step = max(1, len(daily) // 8)
    ax.set_xticks(xs[::step], [r.item[5:] for r in daily][::step])
    ax.set_ylim(bottom=0)
    _title(ax, t("report.chart.daily_active"))
    ax.legend(facecolor=PANEL, edgecolor=GRID, labelcolor=TEXT, fontsize=9, loc="upper left")

    ax = axes[1]
    labels = [name(r.item) for r in topics][::-1]
    shown = [r for r in topics][::-1]
    widest = max([r.value or 0.0 for r in topics] + [1.0])
    for y, r in enumerate(shown):
        if r.suppressed:
            ax.barh(y, widest * 0.15, color=HIDDEN, hatch="//", alpha=0.6)
            ax.text(widest * 0.16, y, hidden_label, va="center", color=MUTED, fontsize=9)
        else:
            ax.barh(y, r.value or 0.0, color=SECOND)
            ax.text(
                (r.value or 0.0) + widest * 0.01,
                y,
                f"{_number(r.value)} %",
                va="center",
                color=TEXT,
                fontsize=9,
            )
    ax.set_yticks(range(len(labels)), labels, color=TEXT)
    ax.set_xlim(0, widest * 1.25)
    _title(ax, t("report.chart.topics"))

    if cohort_sizes:
        _cohort_panel(axes[2], report, t, hidden_label)
    _style(fig)
    return fig


def _cohort_panel(ax: Axes, report: PublishedReport, t: Translate, hidden_label: str) -> None:
    cohorts = [r.item for r in report.section("cohort") if r.metric == "size"]
    weeks = len(cohorts)
    ax.set_xlim(-0.5, weeks - 0.5)
    ax.set_ylim(weeks - 0.5, -0.5)
    for y, label in enumerate(cohorts):
        for x in range(weeks - y):
            cell = report.get("cohort", f"week_{x}_percent", label)
            if cell is None:
                continue
            if cell.suppressed:
                ax.add_patch(_rect(x, y, HIDDEN, hatch="//"))
                ax.text(x, y, f"<{report.k}", ha="center", va="center", color=TEXT, fontsize=8)
            else:
                share = (cell.value or 0.0) / 100
                ax.add_patch(_rect(x, y, ACCENT, alpha=0.25 + 0.75 * share))
                ax.text(x, y, f"{_number(cell.value)}%", ha="center", va="center", color=TEXT, fontsize=8)
    ax.set_yticks(range(weeks), list(cohorts), color=TEXT)
    ax.set_xticks(range(weeks), [t("report.chart.week_n", n=i) for i in range(weeks)])
    ax.grid(False)
    _title(ax, t("report.chart.cohorts"))


def _rect(
    x: int, y: int, color: str, *, alpha: float = 1.0, hatch: str | None = None
) -> matplotlib.patches.Rectangle:
    return matplotlib.patches.Rectangle(
        (x - 0.48, y - 0.48), 0.96, 0.96, facecolor=color, alpha=alpha, hatch=hatch, edgecolor=BACKGROUND
    )


# -- activation -------------------------------------------------------------------------------------


def activation_figure(report: PublishedReport, lang: str) -> Figure:
    t = _translator(lang)
    repeat = bool(report.section("repeat"))  # none for a kind nobody takes part in (an announcement)
    fig = Figure(figsize=(9, 6.4 if repeat else 3.4), layout="constrained")
    top, bottom = fig.subplots(2, 1) if repeat else (fig.subplots(1, 1), None)
    params = dict(report.title_params)
    params["kind"] = t(f"activation.kind.{params.get('kind', 'qa')}")
    params["title"] = name(str(params.get("title", "")))
    params["brand"] = name(str(params.get("brand", "")))
    fig.suptitle(t("report.chart.activation", **params), color=TEXT, fontsize=13)
    hidden_label = t("report.chart.suppressed", k=report.k)

    bars: list[tuple[str, Published | None]] = [
        (t("report.chart.weeks_before", n=w), report.get("engagement", "events", f"baseline_week_{w}"))
        for w in range(4, 0, -1)
    ]
    bars.append((t("report.chart.during"), report.get("engagement", "events", "during")))
    tallest = max([(b.value or 0.0) for _, b in bars if b is not None] + [1.0])
    for x, (_, bar) in enumerate(bars):
        colour = ACCENT if x == len(bars) - 1 else MUTED
        if bar is None or bar.suppressed:
            top.bar(x, tallest * 0.15, color=HIDDEN, hatch="//", alpha=0.6)
            top.text(x, tallest * 0.17, f"<{report.k}", ha="center", color=MUTED, fontsize=9)
        else:
            top.bar(x, bar.value or 0.0, color=colour)
            top.text(
                x,
                (bar.value or 0.0) + tallest * 0.02,
                _number(bar.value),
                ha="center",
                color=TEXT,
                fontsize=9,
            )
    mean = report.get("engagement", "mean", "baseline")
    spread = report.get("engagement", "stdev", "baseline")
    if mean is not None and mean.value is not None:
        top.axhline(mean.value, color=WARN, linestyle="--", linewidth=1.2, label=t("report.chart.baseline"))
        if spread is not None and spread.value is not None:
            top.axhspan(mean.value - spread.value, mean.value + spread.value, color=WARN, alpha=0.12)
        top.legend(facecolor=PANEL, edgecolor=GRID, labelcolor=TEXT, fontsize=9, loc="upper left")
    top.set_xticks(range(len(bars)), [text for text, _ in bars])
    top.set_ylim(0, tallest * 1.2)
    lift = report.get("engagement", "lift_percent", "during")
    lift_text = (
        hidden_label
        if lift is None or lift.suppressed
        else (
            t(f"report.value.{lift.note or 'no_baseline'}")
            if lift.value is None
            else ltr(f"{lift.value:+.1f} %")
        )
    )
    _title(top, t("report.chart.engagement", lift=lift_text))
    if bottom is not None:
        _repeat_panel(bottom, report, t)
    _style(fig)
    return fig


def _repeat_panel(bottom: Axes, report: PublishedReport, t: Translate) -> None:
    groups = [("after_7d", 7), ("after_30d", 30)]
    width = 0.38
    for x, (item, _) in enumerate(groups):
        for offset, metric, colour in (
            (-width / 2, "participants_percent", SECOND),
            (width / 2, "comparable_percent", MUTED),
        ):
            row = report.get("repeat", metric, item)
            pos = x + offset
            if row is None or row.note == "pending":
                bottom.text(
                    pos,
                    3,
                    t("report.value.pending"),
                    ha="center",
                    color=MUTED,
                    fontsize=9,
                    rotation=90,
                )
            elif row.suppressed:
                bottom.bar(pos, 15, width, color=HIDDEN, hatch="//", alpha=0.6)
                bottom.text(pos, 17, f"<{report.k}", ha="center", color=MUTED, fontsize=9)
            else:
                bottom.bar(pos, row.value or 0.0, width, color=colour)
                bottom.text(
                    pos,
                    (row.value or 0.0) + 2,
                    f"{_number(row.value)} %",
                    ha="center",
                    color=TEXT,
                    fontsize=9,
                )
    bottom.set_xticks(range(len(groups)), [t("report.chart.days_later", n=d) for _, d in groups])
    bottom.set_ylim(0, 110)
    bottom.set_xlim(-0.6, len(groups) - 0.4)
    bottom.bar(0, 0, color=SECOND, label=t("report.chart.participants"))
    bottom.bar(0, 0, color=MUTED, label=t("report.chart.comparable"))
    bottom.legend(facecolor=PANEL, edgecolor=GRID, labelcolor=TEXT, fontsize=9, loc="upper right")
    _title(bottom, t("report.chart.repeat"))


def render(report: PublishedReport, lang: str) -> bytes:
    """The report's chart as PNG bytes (safe to call from a worker thread: no pyplot state)."""
    fig = community_figure(report, lang) if report.kind == "community" else activation_figure(report, lang)
    title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else report.kind
    return _png(fig, title.replace(r"\$", "$"))


def figure_texts(fig: Figure) -> list[str]:
    """Every string the figure draws (titles, tick labels, annotations, legend): its text layer."""
    FigureCanvasAgg(fig).draw()
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text() and t.get_visible()]
