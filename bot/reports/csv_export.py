"""A report as CSV: one row per figure, the same published (k-anonymous) figures as the embed and chart.

Columns: section, item, metric, value, suppressed. A suppressed figure has an empty value and
`suppressed` = "yes"; a figure that cannot be measured yet has the note in `value`'s place
("pending"). Numbers are written with a dot and no thousands separator, in every language.
"""

from __future__ import annotations

import csv
import io

from bot.reports.privacy import PublishedReport

HEADER = ("section", "item", "metric", "value", "suppressed")


def to_csv(report: PublishedReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in report.rows:
        if row.suppressed:
            value = ""
        elif row.value is None:
            value = row.note
        elif float(row.value).is_integer():
            value = str(int(row.value))
        else:
            value = f"{row.value:.2f}".rstrip("0").rstrip(".")
        writer.writerow((row.section, row.item, row.metric, value, "yes" if row.suppressed else "no"))
    # UTF-8 with a byte-order mark so spreadsheet programs read Arabic and Hebrew channel names right.
    return ("\ufeff" + out.getvalue()).encode("utf-8")
