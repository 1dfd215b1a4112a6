"""Danish number, percentage and date formats for the report.

``1.234,5`` (period for thousands, comma for decimals), ``12,3 pct.``, month names in Danish
(``januar`` ... ``december``). Rounding is half up (``0,05`` -> ``0,1``), as people round by
hand, not Python's round-half-even. Missing values are shown as an en dash.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from lmkpi.months import Month

MISSING = "–"

MONTHS_DA = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
MONTHS_SHORT_DA = (
    "jan.",
    "feb.",
    "mar.",
    "apr.",
    "maj",
    "jun.",
    "jul.",
    "aug.",
    "sep.",
    "okt.",
    "nov.",
    "dec.",
)


def _round(value: float, decimals: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def fmt_number(value: float | int | None, decimals: int = 0, *, sign: bool = False) -> str:
    """``1234.56`` -> ``1.234,6`` (decimals=1); ``sign`` adds ``+`` to positive numbers."""
    if value is None:
        return MISSING
    rounded = _round(value, decimals)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0,0"
    text = f"{abs(rounded):,.{decimals}f}".replace(",", "\x00").replace(".", ",")
    text = text.replace("\x00", ".")
    if rounded < 0:
        return "-" + text
    return ("+" + text) if sign and rounded > 0 else text


def fmt_pct(share: float | None, decimals: int = 1, *, sign: bool = False) -> str:
    """A share (0.123) as ``12,3 pct.``; a relative change (-0.043) as ``-4,3 pct.``."""
    if share is None:
        return MISSING
    return f"{fmt_number(share * 100, decimals, sign=sign)} pct."


def fmt_pct_points(diff: float | None, decimals: int = 1) -> str:
    """A difference between two shares (0.012) as ``+1,2 pct.-point``."""
    if diff is None:
        return MISSING
    return f"{fmt_number(diff * 100, decimals, sign=True)} pct.-point"


def fmt_dkk(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{fmt_number(value, 0)} kr."


def month_name(month: date) -> str:
    """``date(2019, 10, 1)`` -> ``oktober 2019``."""
    return f"{MONTHS_DA[month.month - 1]} {month.year}"


def month_short(month: date, *, year: bool = True) -> str:
    """``date(2019, 10, 1)`` -> ``okt. 2019`` (or ``okt.`` without the year)."""
    short = MONTHS_SHORT_DA[month.month - 1]
    return f"{short} {month.year}" if year else short


def month_range(first: date, last: date) -> str:
    """``jan.-okt. 2019``, or ``dec. 2017-nov. 2018`` across years."""
    if first == last:
        return month_short(first)
    if first.year == last.year:
        return f"{month_short(first, year=False)}-{month_short(last)}"
    return f"{month_short(first)}-{month_short(last)}"


def fmt_date(value: date | datetime | None) -> str:
    """``27. november 2019``, with ``kl. 14.05`` for a time of day."""
    if value is None:
        return MISSING
    text = f"{value.day}. {MONTHS_DA[value.month - 1]} {value.year}"
    if isinstance(value, datetime):
        text += f" kl. {value.hour:02d}.{value.minute:02d}"
    return text


def parse_report_month(month: "str | date | Month") -> date:
    """``2019-10`` (or a Month, or a date) -> ``date(2019, 10, 1)``."""
    if isinstance(month, Month):
        return month.first_day
    if isinstance(month, date):
        return month.replace(day=1)
    return Month.parse(month).first_day


def add_months(month: date, n: int) -> date:
    """First day of the month ``n`` months after (or before) ``month``."""
    return (Month.of(month) + n).first_day


def months_between(first: date, last: date) -> list[date]:
    """Every first-of-month from ``first`` to ``last`` inclusive."""
    if last < first:
        return []
    return [m.first_day for m in Month.range(Month.of(first), Month.of(last))]
