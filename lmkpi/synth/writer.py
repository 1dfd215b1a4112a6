"""Write extract frames as CSV in the contract's clean form or in a messier real-world dialect."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Dialect:
    name: str = "clean"
    encoding: str = "utf-8"
    bom: bool = False
    crlf: bool = False
    decimal_comma: bool = False
    date_format: str = "%Y-%m-%d"
    trailing_separator: bool = False
    cpr_dash: bool = False

    def with_trailing_separator(self) -> Dialect:
        return Dialect(**{**self.__dict__, "trailing_separator": True})


CLEAN = Dialect()
UTF8_BOM_DIALECT = Dialect(name="utf8_bom", bom=True)
# what a spreadsheet export on a Danish Windows machine looks like
WINDOWS = Dialect(
    name="windows",
    encoding="cp1252",
    crlf=True,
    decimal_comma=True,
    date_format="%d-%m-%Y",
    cpr_dash=True,
)


def csv_bytes(frame: pl.DataFrame, dialect: Dialect = CLEAN) -> bytes:
    if dialect.cpr_dash and "cpr" in frame.columns:
        cpr = pl.col("cpr")
        frame = frame.with_columns(cpr.str.slice(0, 6) + "-" + cpr.str.slice(6, 4))
    eol = "\r\n" if dialect.crlf else "\n"
    text = frame.write_csv(
        separator=";",
        line_terminator=eol,
        date_format=dialect.date_format,
        decimal_comma=dialect.decimal_comma,
        null_value="",
        quote_style="necessary",
    )
    if dialect.trailing_separator:
        text = text.replace(eol, ";" + eol)
    # characters the code page lacks (an emoji in free text) become '?', as in real exports
    data = text.encode(dialect.encoding, errors="replace")
    return UTF8_BOM + data if dialect.bom else data


def write_csv(frame: pl.DataFrame, path: Path, dialect: Dialect = CLEAN) -> int:
    """Write `frame` to `path`; returns the number of bytes written."""
    data = csv_bytes(frame, dialect)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)
