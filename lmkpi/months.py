"""Reporting months: strict parsing (no SQL or path built from an unchecked string)."""

import re
from datetime import date

MONTH_RE = re.compile(r"^(?P<year>20\d\d|19\d\d)-(?P<month>0[1-9]|1[0-2])$")


def parse_month(value: str) -> date:
    """``YYYY-MM`` -> first day of the month; anything else raises ValueError."""
    match = MONTH_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"not a month: {value!r} (expected YYYY-MM, e.g. 2019-10)")
    return date(int(match["year"]), int(match["month"]), 1)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_range(start: str, end: str) -> list[str]:
    """Inclusive list of month keys from ``start`` to ``end``."""
    first, last = parse_month(start), parse_month(end)
    if last < first:
        raise ValueError(f"month range ends before it starts: {start}..{end}")
    out, cur = [], first
    while cur <= last:
        out.append(month_key(cur))
        cur = next_month(cur)
    return out
