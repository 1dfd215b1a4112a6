"""The untyped table every file format is read into before the contract is applied."""

from dataclasses import dataclass, field

import polars as pl


@dataclass
class RawTable:
    """Header names as delivered, and one column per header position.

    `frame` has `line_number` (Int64, physical line / sheet row, header = its own line) and
    columns `_0`, `_1`, ... in header order (strings for text formats; Parquet and xlsx
    columns may already be typed). `rejects` holds structural row problems (ragged rows,
    broken quoting) as dicts in the reject schema; those rows are not in `frame`.
    """

    names: list[str]
    frame: pl.DataFrame
    rejects: list[dict] = field(default_factory=list)
    blank_rows: int = 0
    warnings: list[str] = field(default_factory=list)


def position(i: int) -> str:
    return f"_{i}"
