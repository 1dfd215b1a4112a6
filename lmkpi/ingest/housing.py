"""The housing staff's annual wide sheet -> monthly `indkvartering` files.

The sheet (xlsx, first sheet, or `;` CSV) has the monthly contract's columns except that
`indkvarterede` is one column per month: `jan feb mar apr maj jun jul aug sep okt nov dec`
(also accepted: full Danish month names, `indkvarterede_<month>`, case and spaces ignored).
A month is produced when at least one address has a value in its column; an address is in a
month when its cell is filled (0 = kept available, nobody housed).

Any other contract column may also be given per month as `<column>_<month>` (e.g.
`ledige_vaerelser_okt`), which wins over the sheet-wide column. Sheet-wide values are the
sheet's current status: stocks (rooms, vacant rooms, households, arrears) are repeated in
every month; the flow `flyttet_permanent` is booked once, in the latest month produced, so
that a year's total is not multiplied (a warning says so).
"""

import logging
import os
import re
from decimal import Decimal
from pathlib import Path

import polars as pl

from lmkpi.contracts import INDKVARTERING
from lmkpi.ingest.decode import decode_text
from lmkpi.ingest.delimited import SEPARATOR, read_delimited
from lmkpi.ingest.errors import FileRejected, column_label
from lmkpi.ingest.header import closest, normalise_name
from lmkpi.ingest.raw import RawTable, position
from lmkpi.ingest.spreadsheet import read_xlsx
from lmkpi.months import Month

log = logging.getLogger(__name__)

MONTH_NAMES = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
_LONG_NAMES = {
    "januar": 1,
    "februar": 2,
    "marts": 3,
    "april": 4,
    "juni": 6,
    "juli": 7,
    "august": 8,
    "sept": 9,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "december": 12,
}
_MONTH_NUMBER = {name: i for i, name in enumerate(MONTH_NAMES, start=1)} | _LONG_NAMES
_FLOWS = ("flyttet_permanent",)
_MONTHLY = "indkvarterede"


def _month_of(token: str) -> int | None:
    return _MONTH_NUMBER.get(token.strip(" _-.").replace(".", ""))


def _classify(name: str) -> tuple[str, int | None] | None:
    """(contract column, month or None) for a wide-sheet header, None if unknown."""
    name = re.sub(r"\s+", "_", name)
    if name in INDKVARTERING.column_names and name != _MONTHLY:
        return name, None
    month = _month_of(name)
    if month is not None:
        return _MONTHLY, month
    for column in INDKVARTERING.column_names:
        for prefix in (f"{column}_", f"{column}-"):
            if name.startswith(prefix):
                month = _month_of(name[len(prefix) :])
                if month is not None:
                    return column, month
    return None


def format_decimal(value: float) -> str:
    """A decimal written with ',' that no reader can take for a thousands separator."""
    if float(value).is_integer():
        return str(int(value))
    text = format(Decimal(repr(float(value))), "f").replace(".", ",")
    if len(text.split(",")[1]) == 3:  # "1,234" could be 1234: write "1,2340"
        text += "0"
    return text


def _as_text(series: pl.Series) -> pl.Series:
    if series.dtype == pl.Utf8:
        return series
    if series.dtype == pl.Float64:
        return series.map_elements(format_decimal, return_dtype=pl.Utf8)
    return series.cast(pl.Utf8)


def _read_sheet(path: Path) -> RawTable:
    name = path.name
    if path.suffix.lower() == ".xlsx":
        return read_xlsx(path, name, header_marker="adresse")
    if path.suffix.lower() == ".csv":
        text, _, _ = decode_text(path.read_bytes(), name)
        return read_delimited(text, name)
    raise FileRejected(name, "wrong_format", "the annual sheet must be .xlsx or .csv")


def split_wide_housing(path: Path, year: int) -> dict[Month, pl.DataFrame]:
    """Split the annual wide sheet into {Month: frame in the monthly contract's columns}.

    Frames hold text (the values as in the sheet; numbers formatted so the reader reads
    them back exactly), to be written with `write_monthly_housing` and then read with
    `read_extract` like any delivery.
    """
    path = Path(path)
    if not isinstance(year, int) or not 1900 <= year <= 2099:
        raise ValueError(f"year must be a four-digit year, got {year!r}")
    raw = _read_sheet(path)
    file_name = path.name
    if raw.rejects:  # nothing may be lost on the way to the monthly files
        lines = ", ".join(str(r["line_number"]) for r in raw.rejects[:10])
        raise FileRejected(
            file_name,
            "column_count_mismatch",
            f"line(s) {lines} do not have as many fields as the header: fix the sheet",
        )
    sheet_wide: dict[str, str] = {}  # contract column -> position
    per_month: dict[tuple[str, int], str] = {}
    unknown: list[str] = []
    for i, original in enumerate(raw.names):
        name = normalise_name(original)
        if not name:
            continue
        kind = _classify(name)
        if kind is None:
            unknown.append(name)
            continue
        column, month = kind
        target = sheet_wide if month is None else per_month
        slot = column if month is None else (column, month)
        if slot in target:
            raise FileRejected(
                file_name, "duplicate_column", f"column {column_label(name)} appears twice"
            )
        target[slot] = position(i)  # type: ignore[index]
    absent = [c for c in INDKVARTERING.column_names if c != _MONTHLY and c not in sheet_wide]
    renamed = [f"{column_label(n)} looks like {c!r}" for n in unknown if (c := closest(n, absent))]
    if renamed:
        raise FileRejected(
            file_name,
            "renamed_column",
            "column names differ from the contract: " + "; ".join(renamed),
        )
    for name in unknown:
        log.warning("%s: ignored column %s (not a contract column)", file_name, column_label(name))
    months = sorted({m for (c, m) in per_month if c == _MONTHLY})
    if not months:
        raise FileRejected(
            file_name,
            "missing_column",
            "no month columns found: expected indkvarterede per month as " + ", ".join(MONTH_NAMES),
        )
    required = [c for c in INDKVARTERING.required if c != _MONTHLY]
    missing = [
        c for c in required if c not in sheet_wide and not all((c, m) in per_month for m in months)
    ]
    if missing:
        raise FileRejected(
            file_name, "missing_column", f"required column(s) missing: {', '.join(missing)}"
        )

    frame = raw.frame.with_columns(
        [
            pl.Series(position(i), _as_text(raw.frame.get_column(position(i))))
            for i in range(len(raw.names))
        ]
    ).with_columns(pl.all().exclude("line_number").str.strip_chars().replace("", None))
    produced = [
        m for m in months if frame.get_column(per_month[(_MONTHLY, m)]).null_count() < frame.height
    ]
    latest = max(produced) if produced else None
    result: dict[str, pl.DataFrame] = {}
    for month in produced:
        exprs = []
        for column in INDKVARTERING.column_names:
            if (column, month) in per_month:
                expr = pl.col(per_month[(column, month)])
            elif column in sheet_wide and (column not in _FLOWS or month == latest):
                expr = pl.col(sheet_wide[column])
            else:
                expr = pl.lit(None, dtype=pl.Utf8)
            exprs.append(expr.alias(column))
        rows = frame.filter(pl.col(per_month[(_MONTHLY, month)]).is_not_null())
        result[Month(year, month)] = rows.select(exprs)
    for flow in _FLOWS:
        if flow in sheet_wide and len(produced) > 1:
            log.warning(
                "%s: %s has no month columns; its values are booked in %04d-%02d only",
                file_name,
                flow,
                year,
                latest,
            )
    log.info("%s: split into %d month(s) of %d", file_name, len(result), year)
    return result


def write_monthly_housing(frames: dict[Month, pl.DataFrame], landing_dir: Path) -> list[Path]:
    """Write each month as `<landing_dir>/indkvartering/indkvartering_<YYYY-MM>.csv`.

    UTF-8, `;`, header line; each file is written to a temporary name and moved into place,
    so a watcher never sees half a file. An existing month is replaced (a restatement).
    """
    target_dir = Path(landing_dir) / "indkvartering"
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for key, frame in sorted(frames.items(), key=lambda item: str(item[0])):
        month = key if isinstance(key, Month) else Month.parse(key)
        columns = [c for c in INDKVARTERING.column_names if c in frame.columns]
        out = frame.select([pl.Series(c, _as_text(frame.get_column(c))) for c in columns])
        path = target_dir / f"indkvartering_{month}.csv"
        partial = path.with_name(f".{path.name}.partial")
        out.write_csv(partial, separator=SEPARATOR, quote_style="necessary", null_value="")
        os.replace(partial, path)
        written.append(path)
        log.info("wrote %s (%d addresses)", path, out.height)
    return written
