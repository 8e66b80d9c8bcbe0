"""A report as CSV: one row per figure, the same published (k-anonymous) figures as the embed and chart.

Columns: section, item, metric, value, suppressed. A suppressed figure has an empty value and
`suppressed` = "yes"; a figure that cannot be measured yet has the note in `value`'s place
("pending"). Numbers are written with a dot and no thousands separator, in every language.
Text that a spreadsheet would take for a formula (a channel, flair or activation name starting with
"=", "+", "-", "@", a tab or a carriage return) is written with a leading apostrophe, so opening the
file runs nothing.
"""

from __future__ import annotations

import csv
import io

from bot.reports.privacy import PublishedReport

HEADER = ("section", "item", "metric", "value", "suppressed")
#: What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """A text cell that no spreadsheet evaluates."""
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(report: PublishedReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in report.rows:
        if row.suppressed:
            value = ""
        elif row.value is None:
            value = text_cell(row.note)
        elif float(row.value).is_integer():
            value = str(int(row.value))
        else:
            value = f"{row.value:.2f}".rstrip("0").rstrip(".")
        texts = (text_cell(row.section), text_cell(row.item), text_cell(row.metric))
        writer.writerow((*texts, value, "yes" if row.suppressed else "no"))
    # UTF-8 with a byte-order mark so spreadsheet programs read Arabic and Hebrew channel names right.
    return ("\ufeff" + out.getvalue()).encode("utf-8")
