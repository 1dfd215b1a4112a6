"""Day and month arithmetic on integer day numbers (days since 1970-01-01)."""

from __future__ import annotations

import numpy as np

DAYS_PER_MONTH = 30.44
NEVER = np.int32(2**30)  # a timer that never fires


def month_index(label: str) -> int:
    """`"2018-10"` -> months since 1970-01 (parsed by lmkpi.months.Month: MonthError if not)."""
    from lmkpi.months import Month

    month = Month.parse(label)
    return (month.year - 1970) * 12 + month.month - 1


def month_label(index: int) -> str:
    return f"{1970 + index // 12:04d}-{index % 12 + 1:02d}"


def month_bounds(index: int) -> tuple[int, int]:
    """First and last day (inclusive) of a month, as day numbers."""
    first = np.datetime64("1970-01", "M") + index
    nxt = first + 1
    return int(first.astype("datetime64[D]").astype(np.int64)), int(
        nxt.astype("datetime64[D]").astype(np.int64) - 1
    )


def day_number(iso: str) -> int:
    return int(np.datetime64(iso, "D").astype(np.int64))


def birthday(birth: np.ndarray, years: int | np.ndarray) -> np.ndarray:
    """Day number of the birthday `years` after `birth` (29 February -> 1 March)."""
    b = birth.astype("datetime64[D]")
    first_of_month = b.astype("datetime64[M]")
    day_in_month = (b - first_of_month.astype("datetime64[D]")).astype(np.int64)
    shifted = (first_of_month + np.asarray(years, dtype=np.int64) * 12).astype("datetime64[D]")
    return (shifted.astype(np.int64) + day_in_month).astype(np.int32)


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day (1-31) of day numbers."""
    d = days.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    y = m.astype("datetime64[Y]")
    year = y.astype(np.int64) + 1970
    month = (m - y.astype("datetime64[M]")).astype(np.int64) + 1
    day = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day
