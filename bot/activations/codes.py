"""Unique discount codes: parse a brand's pool and its redemption CSV, compute conversions. Pure.

A brand uploads a pool (one code per line) for an activation; eligible members each claim one code
(the claim itself is one guarded UPDATE in the store); later the brand uploads a CSV of the codes its
shop saw redeemed, and the report says how many claimed codes converted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.errors import InvalidInput

MAX_CODE_LENGTH = 64
MAX_POOL = 10_000
MAX_REDEMPTION_ROWS = 100_000
MAX_FILE_BYTES = 2_000_000
# Letters, digits and the punctuation shops use in codes; nothing that renders as markdown or a mention.
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-.+/=:]*")
_CODE_HEADERS = ("code", "codes", "coupon", "discount_code", "discount code", "promo_code", "promo code")
_DATE_HEADERS = ("redeemed_at", "redeemed", "date", "used_at", "redeemed at", "used at")


def decode(raw: bytes) -> str:
    """UTF-8 text of an uploaded file (a BOM is dropped); anything else is a clear error."""
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput("codes.error.file_too_big", high=MAX_FILE_BYTES // 1000)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("codes.error.encoding") from None


def parse_pool(text: str) -> list[str]:
    """Codes from a pool file: one per line, surrounding spaces ignored, blank lines skipped, a first line
    that is just a header ("code") skipped. Every code must be well-formed and unique in the file."""
    codes: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.strip()
        if not code or (not codes and code.lower() in _CODE_HEADERS):
            continue
        if len(code) > MAX_CODE_LENGTH or not _CODE.fullmatch(code):
            raise InvalidInput("codes.error.bad_code", line=number, high=MAX_CODE_LENGTH)
        key = code.upper()
        if key in seen:
            raise InvalidInput("codes.error.duplicate", line=number, first=seen[key])
        seen[key] = number
        codes.append(code)
        if len(codes) > MAX_POOL:
            raise InvalidInput("codes.error.too_many", high=MAX_POOL)
    if not codes:
        raise InvalidInput("codes.error.empty")
    return codes


@dataclass(frozen=True)
class Redemption:
    code: str
    redeemed_at: datetime | None = None


def _parse_when(text: str, line: int) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("codes.error.bad_date", line=line) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_redemptions(text: str) -> list[Redemption]:
    """Redeemed codes from a brand's CSV (comma, semicolon or tab separated).

    With a header row, the column named code/coupon/promo_code holds the code and an optional
    redeemed_at/date column the ISO date; without one, the first column is the code and the second, if
    any, the date. Blank rows are skipped; a code listed twice counts once (first row wins)."""
    if not text.strip():
        raise InvalidInput("codes.error.empty_csv")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # newline="": the reader takes "\r" alone (classic Mac line ends, some exporters) as a line end
    # too, where universal newlines in the text would make it refuse the file.
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rows = list(reader)
    except csv.Error:  # a row the reader cannot read (a field past its size limit): named by its line
        raise InvalidInput("codes.error.bad_csv_row", line=reader.line_num) from None
    code_col, date_col, start = 0, 1, 0
    header = [c.strip().lower() for c in rows[0]] if rows else []
    if any(h in _CODE_HEADERS for h in header):
        code_col = next(i for i, h in enumerate(header) if h in _CODE_HEADERS)
        date_col = next((i for i, h in enumerate(header) if h in _DATE_HEADERS), -1)
        start = 1
    found: dict[str, Redemption] = {}
    for number, row in enumerate(rows[start:], start=start + 1):
        if not any(cell.strip() for cell in row):
            continue
        if len(found) >= MAX_REDEMPTION_ROWS:
            raise InvalidInput("codes.error.too_many_rows", high=MAX_REDEMPTION_ROWS)
        code = row[code_col].strip() if code_col < len(row) else ""
        if not code or len(code) > MAX_CODE_LENGTH or not _CODE.fullmatch(code):
            raise InvalidInput("codes.error.bad_csv_row", line=number)
        when = _parse_when(row[date_col], number) if 0 <= date_col < len(row) else None
        found.setdefault(code.upper(), Redemption(code, when))
    if not found:
        raise InvalidInput("codes.error.empty_csv")
    return list(found.values())


@dataclass(frozen=True)
class PoolCode:
    """One pool row as the report needs it."""

    code_id: int
    code: str
    claimed: bool
    redeemed: bool


@dataclass(frozen=True)
class RedemptionReport:
    reported: int  # distinct codes in the CSV
    new: int  # codes recorded as redeemed by this report
    already: int  # codes an earlier report already recorded
    unknown: tuple[str, ...]  # codes not in this activation's pool
    unclaimed: int  # redeemed codes nobody claimed through Microvoice (shared outside?)
    claimed: int  # codes members claimed so far
    redeemed_claimed: int  # claimed codes redeemed (all reports so far)
    pool: int

    @property
    def conversion_pct(self) -> int:
        return round(100 * self.redeemed_claimed / self.claimed) if self.claimed else 0


def match_redemptions(
    pool: Iterable[PoolCode], redemptions: Iterable[Redemption]
) -> tuple[list[tuple[PoolCode, Redemption]], RedemptionReport]:
    """Which reported codes are new redemptions of this pool, and the resulting totals.

    Codes match case-insensitively (shops often upper-case what a customer typed)."""
    by_code: Mapping[str, PoolCode] = {p.code.upper(): p for p in pool}
    reported = list(redemptions)
    new: list[tuple[PoolCode, Redemption]] = []
    unknown: list[str] = []
    already = 0
    for item in reported:
        row = by_code.get(item.code.upper())
        if row is None:
            unknown.append(item.code)
        elif row.redeemed:
            already += 1
        else:
            new.append((row, item))
    newly = {row.code_id for row, _ in new}
    redeemed = [p for p in by_code.values() if p.redeemed or p.code_id in newly]
    claimed = sum(1 for p in by_code.values() if p.claimed)
    report = RedemptionReport(
        reported=len(reported),
        new=len(new),
        already=already,
        unknown=tuple(unknown),
        unclaimed=sum(1 for p in redeemed if not p.claimed),
        claimed=claimed,
        redeemed_claimed=sum(1 for p in redeemed if p.claimed),
        pool=len(by_code),
    )
    return new, report
