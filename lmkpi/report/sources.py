"""Where a comparison's numbers come from, said under each table and chart, and Danish order.

A municipality holds person-level data for its own citizens only: the other municipalities,
the RAR area, the region and the country come from Jobindsats (a vintage: the day the table
was retrieved). Every benchmarking table and chart says which, so a reader never takes one
for the other.
"""

from datetime import date

import polars as pl

from lmkpi.report.formatting import fmt_date

SOURCE_NAMES = {
    "person": "egne data",
    "jobindsats": "Jobindsats",
    "mixed": "egne data og Jobindsats",
}


def source_note(frame: pl.DataFrame, own_name: str) -> str:
    """``Kilde: Lyngby-Taarbæks egne data; øvrige områder: Jobindsats (ptva02, hentet 20.
    januar 2020).`` from rows with source, source_table, retrieved_on."""
    if frame.is_empty() or "source" not in frame.columns:
        return ""
    sources = set(frame.get_column("source").drop_nulls().to_list())
    tables = (
        frame.filter(pl.col("source_table").is_not_null())
        .select("source_table", "retrieved_on")
        .unique()
        .sort("source_table", "retrieved_on")
    )
    vintages = "; ".join(
        f"{r['source_table']}, hentet {fmt_date(r['retrieved_on'])}"
        for r in tables.iter_rows(named=True)
    )
    parts = []
    if "person" in sources or "mixed" in sources:
        parts.append(f"{own_name}s egne data (personoplysninger fra kommunens systemer)")
    if "jobindsats" in sources or "mixed" in sources:
        other = "øvrige områder" if parts else "alle områder"
        parts.append(f"{other}: Jobindsats ({vintages})" if vintages else f"{other}: Jobindsats")
    return "Kilde: " + "; ".join(parts) + "." if parts else ""


_DANISH = str.maketrans({"æ": "{", "ø": "|", "å": "}", "é": "e", "ü": "y"})


def danish_key(name: str) -> str:
    """Sort key in Danish alphabetical order: æ, ø, å after z, and a leading aa as å
    (Aabenraa and Aalborg after Ærø)."""
    text = name.lower()
    if text.startswith("aa"):
        text = "å" + text[2:]
    return text.translate(_DANISH)


def vintage_text(retrieved_on: date | None) -> str:
    return f"hentet {fmt_date(retrieved_on)}" if retrieved_on else ""
