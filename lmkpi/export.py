"""Exports analysts ask for (a mart, optionally one month) as CSV or XLSX, safe to open in Excel.

Spreadsheet programs execute a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or
carriage return as a formula (CSV/formula injection). Every text value that starts so is
prefixed with a single quote (OWASP's advice); numbers stay numbers. XLSX cells are written as
explicit strings, never formulas.
"""

import re
from datetime import date
from pathlib import Path

import polars as pl

from lmkpi.warehouse.publish import open_published

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TABLE_RE = re.compile(r"^[a-z_]+\.[a-z_][a-z0-9_]*$")


def defuse_frame(frame: pl.DataFrame) -> pl.DataFrame:
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.any_horizontal(pl.col(c).str.starts_with(p) for p in FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def read_mart(warehouse_db: Path, table: str, month: date | None = None) -> pl.DataFrame:
    if not TABLE_RE.fullmatch(table) or not table.startswith("marts."):
        raise ValueError(f"not a published mart: {table!r} (expected marts.<name>)")
    con = open_published(warehouse_db)
    try:
        rel = con.table(table)
        if month is not None:
            rel = rel.filter(f"month = date '{month.isoformat()}'")
        return rel.pl()
    finally:
        con.close()


def write_export(frame: pl.DataFrame, out: Path) -> Path:
    safe = defuse_frame(frame)
    if out.suffix == ".csv":
        safe.write_csv(out, separator=";")
    elif out.suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.append(safe.columns)
        for row in safe.iter_rows():
            ws.append(row)
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # a string, whatever it starts with
        wb.save(out)
    else:
        raise ValueError(f"unknown export format {out.suffix!r}: use .csv or .xlsx")
    return out
