"""`read_extract`: one delivered file -> typed, pseudonymised rows + row rejects.

Order of work: the file name and month are checked before the file is opened; then the
bytes are decoded (CSV) or the file opened (Parquet, xlsx); then the header is matched
against the contract; only then are rows typed. Any whole-file problem raises FileRejected
before a row is returned. I/O errors (OSError) are not rejections: they propagate so the
caller can retry.

Decisions:
- a header-only file is valid: 0 rows, rows_read = 0 (a month can be empty);
- blank lines (only whitespace and `;`) are not rows; their number is a warning;
- `rows_read == frame.height + rejects["line_number"].n_unique()` always holds.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lmkpi.contracts import CONTRACTS, REJECT_SCHEMA
from lmkpi.errors import AccountingError
from lmkpi.ingest.cpr import check_key
from lmkpi.ingest.decode import decode_text
from lmkpi.ingest.delimited import read_delimited
from lmkpi.ingest.delivery import Delivery
from lmkpi.ingest.errors import FileRejected
from lmkpi.ingest.header import match_header
from lmkpi.ingest.raw import RawTable, position
from lmkpi.ingest.rows import apply_contract
from lmkpi.ingest.spreadsheet import read_xlsx
from lmkpi.months import Month

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadResult:
    source: str
    month: Month
    file_name: str
    rows_read: int  # data rows in the file (header and blank lines excluded)
    frame: pl.DataFrame  # rows that passed, typed, cpr replaced, plus line_number
    rejects: pl.DataFrame  # line_number, column, rule, message (one record per problem)
    encoding: str  # "utf-8", "utf-8-sig", "cp1252", ... or "parquet" / "xlsx"
    warnings: tuple[str, ...] = ()  # file-level notes that did not stop the load
    masked: pl.DataFrame | None = None  # line_number, column: CPR-like numbers masked

    @property
    def rows_rejected(self) -> int:
        return self.rejects.get_column("line_number").n_unique()


def read_parquet_raw(path: Path, file_name: str) -> RawTable:
    try:
        frame = pl.read_parquet(path)
    except OSError:
        raise
    except Exception as exc:  # polars raises several types for a broken file
        raise FileRejected(
            file_name,
            "unreadable",
            f"the Parquet file cannot be read ({type(exc).__name__}); export it again",
        ) from None
    names = frame.columns
    frame = frame.select(
        pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias("line_number"),
        *[pl.col(n).alias(position(i)) for i, n in enumerate(names)],
    )
    return RawTable(names=names, frame=frame)


def read_extract(
    delivery: Delivery, *, key: bytes, month: Month | None = None, encoding: str | None = None
) -> ReadResult:
    """Read one delivered extract (see module docstring).

    `key` is the pseudonymisation key (>= 16 bytes); `month` is the month being loaded (the
    delivery's own month unless given: a different one is `month_mismatch`); `encoding`
    declares a CSV file's encoding (else UTF-8 / Windows-1252 is detected).
    """
    check_key(key)
    source, path, file_name = delivery.source, delivery.path, delivery.file_name
    month = month or delivery.month
    if delivery.month != month:
        raise FileRejected(
            file_name,
            "month_mismatch",
            f"the file is named for {delivery.month} but is being loaded as {month}",
        )
    contract = CONTRACTS[source]
    warnings: list[str] = []
    if delivery.format == "csv":
        text, used_encoding, notes = decode_text(path.read_bytes(), file_name, encoding)
        warnings += notes
        raw = read_delimited(text, file_name)
    elif delivery.format == "parquet":
        used_encoding = "parquet"
        raw = read_parquet_raw(path, file_name)
    else:
        used_encoding = "xlsx"
        raw = read_xlsx(path, file_name, header_marker="adresse")
    if raw.blank_rows:
        warnings.append(f"{raw.blank_rows} blank line(s) skipped")

    named, header_warnings = match_header(raw, contract, file_name)
    warnings += header_warnings
    typed = apply_contract(named, contract, month, key, file_name)
    warnings += typed.warnings

    structural = pl.DataFrame(raw.rejects, schema=REJECT_SCHEMA)
    rejects = pl.concat([structural, typed.rejects]).sort("line_number", maintain_order=True)
    result = ReadResult(
        source=source,
        month=month,
        file_name=file_name,
        rows_read=raw.frame.height + structural.get_column("line_number").n_unique(),
        frame=typed.frame,
        rejects=rejects,
        encoding=used_encoding,
        warnings=tuple(warnings),
        masked=typed.masked,
    )
    if result.rows_read != result.frame.height + result.rows_rejected:  # never silently drop
        raise AccountingError(f"{file_name}: rows read != rows loaded + rows rejected")
    log.debug(
        "read %s: %d rows, %d loaded, %d rejected (%d problems), encoding %s",
        file_name,
        result.rows_read,
        result.frame.height,
        result.rows_rejected,
        rejects.height,
        used_encoding,
    )
    for note in warnings:
        log.warning("%s: %s", file_name, note)
    return result
