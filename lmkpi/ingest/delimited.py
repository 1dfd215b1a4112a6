"""`;`-separated text -> RawTable, with exact physical line numbers.

Rules: the first non-blank line is the header; lines holding only whitespace and `;` (or
only empty quoted fields) are blank: not rows, counted; a row must have as many fields as
the header, allowing one trailing empty field (a trailing `;`) on either side; other rows
are `ragged_row` rejects, unless most rows disagree with the header, which rejects the file.
Quotes follow RFC 4180: a field starting with `"` runs to the next lone `"` and may hold
`;` and line breaks; `""` inside it is a quote.

Two paths give the same result. The fast path (polars, no Python per row) is used when
every record is one physical line and every quoted field is well formed; values come from
polars' CSV parser and the structure (field counts, blank lines, line numbers) from the
lines themselves. Otherwise Python's csv module reads the file record by record
(line breaks inside quotes, text after a closing quote, unclosed quotes).
"""

import csv
import logging
import re

import polars as pl

from lmkpi.ingest.errors import FileRejected
from lmkpi.ingest.raw import RawTable, position

log = logging.getLogger(__name__)

SEPARATOR = ";"
_BLANK = r'^[\s;"]*$'
_QUOTED_FIELD = r'"(?:[^"]|"")*"'
# a line whose every field is either unquoted (no `"` at all) or one whole quoted field
_WELL_FORMED = rf'^(?:{_QUOTED_FIELD}|[^";]*)(?:;(?:{_QUOTED_FIELD}|[^";]*))*$'


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


def _header(text: str) -> tuple[int, str, int] | None:
    """(line number, header line, offset after it) of the first non-blank line."""
    offset, line_number = 0, 1
    while offset < len(text):
        end = text.find("\n", offset)
        end = len(text) if end == -1 else end
        line = text[offset:end].rstrip("\r")
        if line.strip(" \t;\r\"'") != "":
            return line_number, line, end + 1
        offset, line_number = end + 1, line_number + 1
    return None


_UNIT_SEPARATOR = "\x1f"


def _physical_line_frame(body: str, data: bytes) -> pl.DataFrame:
    """The body's lines, one row each, as column ``raw`` (split at LF, in order).

    polars' CSV parser with a separator that does not occur and no quoting gives them from
    the bytes at once (a quarter of the memory of splitting the text: +0.22 GB against
    +0.62 GB for a national month). It must keep every line, so its count is checked against
    the line breaks; a text with the separator, or a bare CR that polars would take for a
    line break, is split in Python terms instead.
    """
    expected = body.count("\n") + 1
    if _UNIT_SEPARATOR not in body and body.count("\r") == body.count("\r\n"):
        lines = pl.read_csv(
            data,
            has_header=False,
            separator=_UNIT_SEPARATOR,
            quote_char=None,
            schema={"raw": pl.Utf8},
            raise_if_empty=False,
        ).with_columns(pl.col("raw").fill_null(""))
        if lines.height == expected:
            return lines
    return pl.DataFrame({"raw": [body]}).select(pl.col("raw").str.split("\n")).explode("raw")


def _fast_path(text: str, file_name: str) -> RawTable | None:
    """Polars path; None when the file needs the record-by-record path."""
    found = _header(text)
    if found is None:
        raise FileRejected(file_name, "empty_file", "the file has no header line")
    header_line, header, body_start = found
    if '"' in header:
        if not re.fullmatch(_WELL_FORMED, header):
            return None
        names = next(csv.reader([header], delimiter=SEPARATOR, strict=True))
    else:
        names = header.split(SEPARATOR)
    width = len(names)
    trailing_header = names[-1].strip() == ""
    body = text[body_start:]
    if body.endswith("\n"):
        body = body[:-1]
    if body.strip() == "":
        blank = body.count("\n") + 1 if body else 0
        empty = {position(i): pl.Series([], dtype=pl.Utf8) for i in range(width)}
        frame = pl.DataFrame({"line_number": pl.Series([], dtype=pl.Int64), **empty})
        return RawTable(names=names, frame=frame, blank_rows=blank)

    quoted = '"' in body
    data = (body + "\n").encode("utf-8")  # a final newline ends the last line
    lines = _physical_line_frame(body, data)
    raw = pl.col("raw").str.strip_suffix("\r")
    flags = lines.select(
        pl.int_range(header_line + 1, header_line + 1 + pl.len(), dtype=pl.Int64).alias(
            "line_number"
        ),
        raw.str.contains(_BLANK).alias("_blank"),
        raw.str.count_matches(SEPARATOR, literal=True).alias("_separators"),
        (raw.str.contains(_WELL_FORMED) if quoted else pl.lit(True)).alias("_well_formed"),
    )
    if quoted and not flags.get_column("_well_formed").all():
        return None
    try:
        values = pl.read_csv(
            data,
            has_header=False,
            separator=SEPARATOR,
            quote_char='"',
            schema={position(i): pl.Utf8 for i in range(width + 1)},
            infer_schema=False,
            empty_string_is_null=False,
            truncate_ragged_lines=True,
            missing_columns="insert",
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return None
    if values.height != flags.height:
        return None
    # fields = separators outside quotes + 1; a `;` inside a quoted field is in a value
    inside = (
        pl.sum_horizontal(
            pl.col(position(i)).str.count_matches(SEPARATOR, literal=True) for i in range(width + 1)
        )
        if quoted
        else pl.lit(0)
    )
    values = values.with_columns(_inside=inside)
    n = pl.col("_separators") - pl.col("_inside") + 1
    ok = (
        (n == width)
        | ((n == width + 1) & (pl.col(position(width)).str.strip_chars() == ""))
        | ((n == width - 1) & trailing_header)
    ).fill_null(False)
    flags = flags.with_columns(values.get_column("_inside"), values.get_column(position(width)))
    flags = flags.with_columns(_ok=ok, _n=n).drop("_inside", position(width))
    blank = int(flags.get_column("_blank").sum())
    bad = flags.filter(~pl.col("_blank") & ~pl.col("_ok"))
    _check_ragged_share(file_name, bad.height, flags.height - blank, width)
    rejects = [_ragged(line, k, width) for line, k in bad.select("line_number", "_n").iter_rows()]
    good = pl.concat(
        [flags.select("line_number"), values.select(position(i) for i in range(width))],
        how="horizontal",
    )
    if blank or bad.height:  # copying the values is only needed when rows are left out
        good = good.filter(~flags.get_column("_blank") & flags.get_column("_ok"))
    return RawTable(names=names, frame=good, rejects=rejects, blank_rows=blank)


def _physical_lines(text: str):  # noqa: ANN202 (an iterator of str)
    """The text's lines as the line numbers count them: split at LF only, so a bare CR inside
    a quoted field (a line break typed in an Excel cell) does not shift later line numbers."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return (line + "\n" for line in lines)


def _record_path(text: str, file_name: str) -> RawTable:
    """Python csv path: records may span lines; quoting errors are row rejects."""
    reader = csv.reader(_physical_lines(text), delimiter=SEPARATOR, strict=True)
    names: list[str] | None = None
    width = 0
    trailing_header = False
    columns: list[list[str]] = []
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
    if "\n" not in text and "\r" in text:  # old Mac line ends
        text = text.replace("\r", "\n")
    fast = _fast_path(text, file_name)
    if fast is not None:
        return fast
    log.debug("%s: quoting needs the record-by-record reader", file_name)
    return _record_path(text, file_name)
