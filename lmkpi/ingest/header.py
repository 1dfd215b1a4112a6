"""Match a delivered header against the contract's columns (whole-file rules).

Names are compared ignoring case and surrounding whitespace; anything else is a different
column. Decisions (see FILE_RULES in lmkpi.contracts):
- a required column missing -> `missing_column`;
- an unknown column that looks like a contract column missing from the file (misspelt,
  renamed, Danish letters) -> `renamed_column`, even when that column is optional: otherwise
  its values would be silently replaced by the default;
- any other unknown column -> ignored, with a warning (the contract grows only by new
  optional columns, so a newer extract stays readable); it never leaves the reader;
- columns without a name are dropped when empty, else `empty_column_name`;
- duplicated names -> `duplicate_column`; a single column holding `,` or tabs ->
  `wrong_separator`; a header made of numbers or dates -> `missing_header`.
"""

import difflib
import re

import polars as pl

from lmkpi.contracts import SourceContract
from lmkpi.ingest.errors import FileRejected, column_label
from lmkpi.ingest.raw import RawTable, position

_DATA_LIKE = re.compile(r"[\d\s.,:/+-]+")
_TRANSLIT = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


def normalise_name(name: str | None) -> str:
    return (name or "").replace("\ufeff", "").strip().lower()


def _simplified(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.translate(_TRANSLIT))


def closest(name: str, candidates: list[str]) -> str | None:
    """The candidate column `name` is most likely a misspelling or renaming of, if any."""
    simple = {_simplified(c): c for c in candidates}
    match = difflib.get_close_matches(_simplified(name), simple, n=1, cutoff=0.75)
    return simple[match[0]] if match else None


def _has_values(frame: pl.DataFrame, column: str) -> bool:
    series = frame.get_column(column)
    if series.dtype == pl.Utf8:
        series = series.str.strip_chars().replace("", None)
    return series.null_count() < series.len()


def match_header(
    raw: RawTable, contract: SourceContract, file_name: str
) -> tuple[pl.DataFrame, list[str]]:
    """Return the raw frame with contract column names (known columns only, free text
    dropped) plus `line_number`, and warnings. Raise FileRejected on whole-file problems."""
    names = [normalise_name(n) for n in raw.names]
    if len(names) == 1 and any(sep in names[0] for sep in (",", "\t", "|")):
        raise FileRejected(
            file_name,
            "wrong_separator",
            "the header is a single column holding ',' or tabs: the separator must be ';' "
            "(export again as CSV with semicolon)",
        )
    if any(n and _DATA_LIKE.fullmatch(n) for n in names):
        raise FileRejected(
            file_name,
            "missing_header",
            "the first line holds numbers or dates, not column names: add the header line "
            f"({';'.join(contract.column_names)})",
        )
    warnings: list[str] = []
    keep: dict[str, str] = {}  # position -> contract name
    seen: dict[str, int] = {}
    unknown: list[str] = []
    for i, name in enumerate(names):
        if name == "":
            if _has_values(raw.frame, position(i)):
                raise FileRejected(
                    file_name,
                    "empty_column_name",
                    f"column {i + 1} has no name but holds values: name it or remove it",
                )
            continue
        if name in seen:
            raise FileRejected(
                file_name,
                "duplicate_column",
                f"column {column_label(name)} appears twice (columns {seen[name] + 1} and {i + 1})",
            )
        seen[name] = i
        if name in contract.column_names:
            keep[position(i)] = name
        else:
            unknown.append(name)

    absent = [c for c in contract.column_names if c not in seen]
    renamed = [f"{column_label(n)} looks like {c!r}" for n in unknown if (c := closest(n, absent))]
    if renamed:
        raise FileRejected(
            file_name,
            "renamed_column",
            "column names differ from the contract: "
            + "; ".join(renamed)
            + ". Use the contract's names exactly",
        )
    missing = [c for c in contract.required if c not in seen]
    if missing:
        found = ", ".join(column_label(n) for n in names if n) or "none"
        raise FileRejected(
            file_name,
            "missing_column",
            f"required column(s) missing: {', '.join(missing)} (found: {found}); "
            f"the {contract.name} contract needs {', '.join(contract.required)}",
        )
    for name in unknown:
        warnings.append(f"ignored column {column_label(name)}: not in the {contract.name} contract")

    free_text = {c.name for c in contract.columns if c.free_text}
    selected = [pl.col(pos).alias(name) for pos, name in keep.items() if name not in free_text]
    return raw.frame.select(pl.col("line_number"), *selected), warnings
