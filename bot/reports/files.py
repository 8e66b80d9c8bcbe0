"""Reports as files on disk, for moderators who script (`python -m bot report`) and for the demo."""

from __future__ import annotations

from pathlib import Path

from bot.reports.service import RenderedReport, ReportService


def write_files(report: RenderedReport, out: Path) -> list[Path]:
    """Write the report's PNG and CSV into `out` (created if needed); returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for file in report.files:
        path = out / file.name
        path.write_bytes(file.data)
        paths.append(path)
    return paths


async def write_reports(
    reports: ReportService,
    community_id: int,
    out: Path,
    *,
    days: int = 30,
    activation_ids: tuple[int, ...] = (),
) -> list[Path]:
    """The community report and the given activations' reports, as moderators see them (k applies),
    written into `out`: what `make demo` leaves in demo-output/."""
    paths = write_files(await reports.community_report(community_id, days), out)
    for activation_id in activation_ids:
        rendered = await reports.activation_report(
            community_id, activation_id, member_id=None, moderator=True
        )
        paths += write_files(rendered, out)
    return paths
