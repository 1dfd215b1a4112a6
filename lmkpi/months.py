"""``Month``: a reporting month, parsed once and strictly, then passed around as a value.

Every month string that enters lmkpi (a CLI argument, a file name, a Dagster partition key)
is parsed here and nowhere else: ``Month.parse("2019-10")``, ``Month.from_partition_key(
"2019-10-01")``; file names go through ``lmkpi.ingest.delivery``, which uses ``MONTH_PATTERN``.
A ``Month`` knows its partition key, first and last day, its half-open bounds
``[first_day, end)``, the months before and after, and inclusive ranges. No SQL and no path is
built from an unchecked string.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from lmkpi.errors import MonthError

MONTH_PATTERN = r"(?P<year>(?:19|20)\d{2})-(?P<month>0[1-9]|1[0-2])"
"""The one pattern of a month key (1900-2099), ASCII digits only; a fragment for file names."""

_MONTH = re.compile(MONTH_PATTERN, re.ASCII)
_PARTITION_KEY = re.compile(MONTH_PATTERN + "-01", re.ASCII)


def _shown(value: object) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in str(value))[:20]
    return repr(text)


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; ``str(m)`` is its key ``YYYY-MM``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1900 <= self.year <= 2099 and 1 <= self.month <= 12):
            raise MonthError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, value: object) -> "Month":
        """``"2019-10"`` -> Month; anything else raises MonthError (with the expected form)."""
        match = _MONTH.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise MonthError(f"not a month: {_shown(value)} (expected YYYY-MM, e.g. 2019-10)")
        return cls(int(match["year"]), int(match["month"]))

    @classmethod
    def from_partition_key(cls, key: object) -> "Month":
        """Dagster's monthly partition key ``"2019-10-01"`` -> Month."""
        match = _PARTITION_KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None:
            raise MonthError(f"not a monthly partition key: {_shown(key)} (e.g. 2019-10-01)")
        return cls(int(match["year"]), int(match["month"]))

    @classmethod
    def of(cls, day: date) -> "Month":
        """The month a date lies in."""
        return cls(day.year, day.month)

    @classmethod
    def range(cls, first: "Month", last: "Month") -> list["Month"]:
        """Every month from ``first`` to ``last``, both included."""
        if last < first:
            raise MonthError(
                f"the month range ends before it starts: {first}..{last}; "
                "give the earlier month first (--from) and the later one last (--to)"
            )
        out, cur = [], first
        while cur <= last:
            out.append(cur)
            cur = cur.next
        return out

    def __str__(self) -> str:
        return self.key

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def partition_key(self) -> str:
        return f"{self.key}-01"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """The first day of the next month: the exclusive end of ``[first_day, end)``."""
        return self.next.first_day

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def bounds(self) -> tuple[date, date]:
        """(first day, last day), both inside the month."""
        return self.first_day, self.last_day

    @property
    def days(self) -> int:
        return (self.end - self.first_day).days

    @property
    def next(self) -> "Month":
        return self + 1

    @property
    def previous(self) -> "Month":
        return self - 1

    def __add__(self, months: int) -> "Month":
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def __sub__(self, months: int) -> "Month":
        return self + (-months)

    def months_until(self, other: "Month") -> int:
        """How many months ``other`` lies after this one (negative when before)."""
        return (other.year - self.year) * 12 + other.month - self.month
