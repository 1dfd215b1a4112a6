"""Exports analysts ask for: a mart, filtered, as a file Excel, Power BI or a script reads right.

Formats (by the file's ending, and ``--plain`` for CSV):

- ``.csv``, the default dialect **excel-da**: UTF-8 with a byte-order mark (so Excel reads
  æ, ø, å), ``;`` between fields and a decimal comma (``0,354``; ``275855,46``): what a
  Danish Excel opens with a double click, numbers as numbers.
- ``.csv`` with ``plain=True``: UTF-8 without BOM, ``,`` and a decimal point (scripts, R).
- ``.xlsx``: typed cells (numbers, dates, text; text never a formula).
- ``.parquet``: typed columns for Power BI and pandas (money stays DECIMAL(18,2)).

Money is DECIMAL(18,2) in the marts, so it is written exactly (``275855,46``, never
``275855.45999999996``). Dates are ISO (``2019-12-01``), which Excel reads as dates.

Spreadsheet programs execute a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or
carriage return as a formula (CSV/formula injection). In CSV and XLSX every text value that
starts so is prefixed with a single quote (OWASP's advice); numbers stay numbers. XLSX cells
are written as explicit strings, never formulas. Parquet is typed, not interpreted: as is.
"""

import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

import polars as pl

from lmkpi.errors import LmkpiError
from lmkpi.warehouse.publish import open_published

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TABLE_RE = re.compile(r"^[a-z_]+\.[a-z_][a-z0-9_]*$")
FORMATS = (".csv", ".xlsx", ".parquet")


class ExportError(LmkpiError):
    """An export that cannot be made as asked (unknown mart, filter or format)."""


@dataclass(frozen=True)
class Filters:
    """Which rows: one month, or a range of months (inclusive), and one municipality."""

    month: date | None = None
    start: date | None = None
    end: date | None = None
    municipality: int | None = None

    def __post_init__(self) -> None:
        if self.month and (self.start or self.end):
            raise ExportError("give --month, or --from/--to, not both")
        if self.start and self.end and self.end < self.start:
            raise ExportError(f"--to {self.end:%Y-%m} is before --from {self.start:%Y-%m}")


def defuse_frame(frame: pl.DataFrame) -> pl.DataFrame:
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.any_horizontal(pl.col(c).str.starts_with(p) for p in FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def read_mart(warehouse_db: Path, table: str, filters: Filters | None = None) -> pl.DataFrame:
    """The rows of a published mart, filtered; a filter the mart cannot take is an error."""
    filters = filters or Filters()
    if not TABLE_RE.fullmatch(table) or not table.startswith("marts."):
        raise ExportError(f"not a published mart: {table!r} (expected marts.<name>)")
    con = open_published(warehouse_db)
    try:
        try:
            rel = con.table(table)
        except Exception:  # noqa: BLE001 (DuckDB's catalog error: name the marts instead)
            names = [
                r[0]
                for r in con.execute(
                    "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
                ).fetchall()
            ]
            raise ExportError(f"no mart {table}; the marts are: {', '.join(names)}") from None
        columns = set(rel.columns)
        wheres, params = [], []
        if filters.month or filters.start or filters.end:
            column = "month" if "month" in columns else None
            if column is None:
                raise ExportError(f"{table} has no month column: leave out --month/--from/--to")
            if filters.month:
                wheres.append("month = ?")
                params.append(filters.month)
            if filters.start:
                wheres.append("month >= ?")
                params.append(filters.start)
            if filters.end:
                wheres.append("month <= ?")
                params.append(filters.end)
        if filters.municipality is not None:
            if "municipality_code" not in columns:
                raise ExportError(f"{table} has no municipality_code: leave out --municipality")
            wheres.append("municipality_code = ?")
            params.append(filters.municipality)
        order = [c for c in ("month", "municipality_code") if c in columns]
        sql = f"select * from {table}"
        sql += f" where {' and '.join(wheres)}" if wheres else ""
        sql += f" order by {', '.join(order)}" if order else ""
        return con.sql(sql, params=params).pl()
    finally:
        con.close()


def write_csv(frame: pl.DataFrame, sink: BinaryIO, *, plain: bool = False) -> None:
    """excel-da (BOM, ';', decimal comma) or, ``plain``, the plain dialect (',', '.')."""
    safe = defuse_frame(frame)
    if plain:
        safe.write_csv(sink, separator=",")
    else:
        safe.write_csv(sink, separator=";", decimal_comma=True, include_bom=True)


def write_export(frame: pl.DataFrame, out: Path, *, plain: bool = False) -> Path:
    if out.suffix not in FORMATS:
        raise ExportError(
            f"unknown export format {out.suffix or '(no ending)'!r}: name the file .csv "
            "(Danish Excel; --plain for ',' and '.'), .xlsx or .parquet (Power BI)"
        )
    if out.suffix == ".csv":
        buffer = io.BytesIO()
        write_csv(frame, buffer, plain=plain)
        out.write_bytes(buffer.getvalue())
    elif out.suffix == ".parquet":
        frame.write_parquet(out)
    else:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        safe = defuse_frame(frame)
        ws.append(safe.columns)
        for row in safe.iter_rows():
            ws.append(row)
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # a string, whatever it starts with
        wb.save(out)
    return out
