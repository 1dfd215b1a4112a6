"""Reference data the readers validate against, read from the dbt seeds (one copy in the repo)."""

from functools import cache
from pathlib import Path

import polars as pl

from lmkpi.contracts import Reference

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project/seeds"


@cache
def reference_values(ref: Reference, seeds_dir: Path = SEEDS_DIR) -> frozenset[str]:
    """The allowed values of `ref` as strings (e.g. {"101", "147", ...} or {"ADAG", ...})."""
    path = seeds_dir / f"{ref.seed}.csv"
    frame = pl.read_csv(path, columns=[ref.column], schema_overrides={ref.column: pl.Utf8})
    values = frame.get_column(ref.column).drop_nulls().str.strip_chars()
    if values.len() == 0:
        raise ValueError(f"reference data {path} has no values in column {ref.column!r}")
    return frozenset(values.to_list())
