"""`make demo`, reports: once the giveaway has ended, the community report and the giveaway's activation
report are written as PNG and CSV files under demo-output/ (git-ignored), as a moderator would get them
from `/report` or `python -m bot report`, and their headline figures are printed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.reports.files import write_reports
from bot.reports.service import headline_lines

if TYPE_CHECKING:
    from bot.app import App

OUT = Path("demo-output")
DAYS = 30


def clear_earlier(out: Path) -> None:
    """Remove the report files an earlier run left in `out`: a community's id changes with every run,
    so they would pile up beside this run's."""
    for pattern in ("community-*d.png", "community-*d.csv", "activation-*.png", "activation-*.csv"):
        for stale in out.glob(pattern):
            stale.unlink()


async def show_reports(app: App, community_id: int, activation_id: int, *, out: Path = OUT) -> list[Path]:
    """Write the two reports' files into `out` and print where they are and their headline figures."""
    started = time.perf_counter()
    await app.ingest.flush()
    clear_earlier(out)
    paths = await write_reports(app.reports, community_id, out, days=DAYS, activation_ids=(activation_id,))
    lang = await app.lang(community_id)
    community = await app.reports.community(community_id, DAYS)
    activation = await app.reports.activation(community_id, activation_id, member_id=None, moderator=True)
    print(
        f"\n   Reports once it has ended: the last {DAYS} days of the community and giveaway"
        f" #{activation_id}'s results (aggregates only; a figure about fewer than {community.k} members"
        " is hidden)"
    )
    for title, published in (("Community", community), (f"Giveaway #{activation_id}", activation)):
        print(f"   {title}:")
        for line in headline_lines(published, lang):
            print(f"     {line.replace('**', '')}")
    print("   Files (the same PNG and CSV /report attaches):")
    for path in paths:
        print(f"     {path}")
    print(f"   (reports: {time.perf_counter() - started:.1f} s)")
    return paths
