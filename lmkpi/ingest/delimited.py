"""`;`-separated text -> RawTable, with exact physical line numbers.

Files without any `"` (the usual system extract) are split with polars expressions; files
with quotes go through Python's csv module (strict quoting), which handles `;` and line
breaks inside quoted fields. Both paths give the same result for the same table.

Rules: the first non-blank line is the header; lines holding only whitespace and `;` are
blank (not rows; counted); a row must have as many fields as the header, allowing one
trailing empty field (a trailing `;`) on either side; other rows are `ragged_row` rejects,
unless most rows disagree with the header, which rejects the file.
"""

import csv
import io

import polars as pl

from lmkpi.ingest.errors import FileRejected
from lmkpi.ingest.raw import RawTable, position

SEPARATOR = ";"
_BLANK = r"^[\s;]*$"


def _ragged(line_number: int, n: int, width: int) -> dict:
    return {
        "line_number": line_number,
        "column": None,
        "rule": "ragged_row",
        "message": f"the row has {n} fields but the header has {width}",
    }


def _check_ragged_share(file_name: str, n_ragged: int, n_rows: int, width: int) -> None:
    if n_ragged and n_ragged * 2 > n_rows:
        raise FileRejected(
            file_name,
            "column_count_mismatch",
            f"{n_ragged} of {n_rows} rows do not have the header's {width} fields: "
            "check the header line and the separator (';')",
        )


def _split_lines(text: str) -> pl.DataFrame:
    newline = "\n" if "\n" in text or "\r" not in text else "\r"
    lines = pl.DataFrame({"raw": [text]}).select(pl.col("raw").str.split(newline)).explode("raw")
    return lines.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("line_number"),
        pl.col("raw").str.strip_suffix("\r"),
    )


def _fast_path(text: str, file_name: str) -> RawTable:
    lines = _split_lines(text)
    if lines.item(-1, "raw") == "":  # the newline ending the last line
        lines = lines.slice(0, lines.height - 1)
    is_blank = pl.col("raw").str.contains(_BLANK)
    content = lines.filter(~is_blank)
    if content.height == 0:
        raise FileRejected(file_name, "empty_file", "the file has no header line")
    header_line = content.item(0, "line_number")
    blank = lines.filter(is_blank & (pl.col("line_number") > header_line)).height
    names = content.item(0, "raw").split(SEPARATOR)
    width = len(names)
    trailing_header = names[-1].strip() == ""
    rows = content.slice(1).with_columns(fields=pl.col("raw").str.split(SEPARATOR))
    n = pl.col("fields").list.len()
    last_blank = pl.col("fields").list.last().str.strip_chars() == ""
    ok = (n == width) | ((n == width + 1) & last_blank) | ((n == width - 1) & trailing_header)
    rows = rows.with_columns(_n=n, _ok=ok)
    bad = rows.filter(~pl.col("_ok"))
    _check_ragged_share(file_name, bad.height, rows.height, width)
    rejects = [_ragged(ln, k, width) for ln, k in bad.select("line_number", "_n").iter_rows()]
    good = rows.filter(pl.col("_ok")).select(
        "line_number",
        *[
            pl.col("fields").list.get(i, null_on_oob=True).alias(position(i))
            for i in range(width)
        ],
    )
    return RawTable(names=names, frame=good, rejects=rejects, blank_rows=blank)


def _quoted_path(text: str, file_name: str) -> RawTable:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=SEPARATOR, strict=True)
    names: list[str] | None = None
    width = 0
    trailing_header = False
    columns: list[list[str | None]] = []
    line_numbers: list[int] = []
    rejects: list[dict] = []
    blank = 0
    n_rows = 0
    previous_end = 0
    while True:
        start = previous_end + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            previous_end = reader.line_num
            if "unexpected end of data" in str(exc):
                raise FileRejected(
                    file_name,
                    "unclosed_quote",
                    f'a quoted field starting on line {start} is never closed (missing ")',
                ) from None
            if names is None:
                raise FileRejected(
                    file_name, "unclosed_quote", f"the header line {start} has broken quoting"
                ) from None
            n_rows += 1
            if "field larger than field limit" in str(exc):
                rule, message = "too_long", "a field is longer than the csv limit (131072 chars)"
            else:
                rule, message = "malformed_quotes", 'text follows a closing quote (")'
            rejects.append({"line_number": start, "column": None, "rule": rule, "message": message})
            continue
        previous_end = reader.line_num
        if all(not f.strip() for f in record):
            if names is not None:
                blank += 1
            continue
        if names is None:
            names = record
            width = len(names)
            trailing_header = names[-1].strip() == ""
            columns = [[] for _ in range(width)]
            continue
        n_rows += 1
        n = len(record)
        if n == width + 1 and not record[-1].strip():
            record = record[:width]
        elif n == width - 1 and trailing_header:
            record = [*record, ""]
        elif n != width:
            rejects.append(_ragged(start, n, width))
            continue
        line_numbers.append(start)
        for i, value in enumerate(record):
            columns[i].append(value)
    if names is None:
        raise FileRejected(file_name, "empty_file", "the file has no header line")
    n_ragged = sum(1 for r in rejects if r["rule"] == "ragged_row")
    _check_ragged_share(file_name, n_ragged, n_rows, width)
    data = {"line_number": pl.Series(line_numbers, dtype=pl.Int64)}
    data.update({position(i): pl.Series(col, dtype=pl.Utf8) for i, col in enumerate(columns)})
    return RawTable(names=names, frame=pl.DataFrame(data), rejects=rejects, blank_rows=blank)


def read_delimited(text: str, file_name: str) -> RawTable:
    """Split decoded CSV text into header names and raw string columns."""
    if '"' in text:
        return _quoted_path(text, file_name)
    return _fast_path(text, file_name)
