"""`.xlsx` (first sheet) -> RawTable; line numbers are the sheet's row numbers."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from lmkpi.ingest.errors import FileRejected
from lmkpi.ingest.raw import RawTable, position

_HEADER_SEARCH_ROWS = 20


def cell_text(value: object) -> str | None:
    """A cell value as the text a person would type (no exponent, no float noise)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _column(cells: list[object]) -> pl.Series:
    """Keep a column typed when every filled cell has the same kind, else as text."""
    values = [None if _is_blank(v) else v for v in cells]
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pl.Series(values, dtype=pl.Int64)
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pl.Series([None if v is None else float(v) for v in values], dtype=pl.Float64)
    if present and all(isinstance(v, dt.date) for v in present):
        dates = [v.date() if isinstance(v, dt.datetime) else v for v in values]
        return pl.Series(dates, dtype=pl.Date)
    return pl.Series([cell_text(v) for v in values], dtype=pl.Utf8)


def _normal(value: object) -> str:
    return str(value).strip().lower() if value is not None else ""


def read_xlsx(path: Path, file_name: str, header_marker: str | None = None) -> RawTable:
    """Read the first sheet. The header is the first row holding a cell equal to
    `header_marker` (ignoring case/whitespace) among the first rows, else the first
    non-empty row. Empty rows are skipped and counted; rows above the header are ignored."""
    import openpyxl  # only xlsx deliveries need it: keeps the package import light

    try:
        workbook = openpyxl.load_workbook(path, read_only=False, data_only=True)
    except OSError:
        raise  # transient I/O: let the caller retry
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise FileRejected(
            file_name,
            "unreadable",
            f"the workbook cannot be opened ({type(exc).__name__}); "
            "save it again as .xlsx from Excel",
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = [
            (i, list(r))
            for i, r in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        ]
    finally:
        workbook.close()

    def is_empty(values: list[object]) -> bool:
        return all(_is_blank(v) for v in values)

    non_empty = [(i, r) for i, r in rows if not is_empty(r)]
    if not non_empty:
        raise FileRejected(file_name, "empty_file", "the first sheet is empty")
    header_at = 0
    if header_marker is not None:
        for k, (_, r) in enumerate(non_empty[:_HEADER_SEARCH_ROWS]):
            if any(_normal(v) == header_marker for v in r):
                header_at = k
                break
    header_row, header = non_empty[header_at]
    data = [(i, r) for i, r in rows if i > header_row and not is_empty(r)]
    blank = sum(1 for i, r in rows if i > header_row and is_empty(r))
    # trailing empty rows are formatting, not blank lines worth reporting
    last_data_row = data[-1][0] if data else header_row
    blank -= sum(1 for i, r in rows if i > last_data_row and is_empty(r))
    width = max([len(header)] + [len(r) for _, r in data])
    names = [cell_text(v) or "" for v in header] + [""] * (width - len(header))
    frame_data = {"line_number": pl.Series([i for i, _ in data], dtype=pl.Int64)}
    for k in range(width):
        frame_data[position(k)] = _column([r[k] if k < len(r) else None for _, r in data])
    return RawTable(names=names, frame=pl.DataFrame(frame_data), blank_rows=blank)
