"""`read_external`: a Jobindsats or Statbank answer (CSV export or JSON) -> tidy observations.

The file is first made into a label table: one column per label of the answer (``Område``,
``Periode``, ``Ydelsesgrupper``, one per measure), as strings. Sources:

- CSV (the website's export or ``format=csv``): ``;``-separated, UTF-8 with BOM or
  Windows-1252, read by the same reader as the person-level extracts;
- Jobindsats v3 JSON: ``{"columns": [...], "rows": [[...], ...]}``;
- JSON-stat (Statbank ``format=JSONSTAT``): dimensions and a flat value list.

Then the table's spec (`lmkpi.external.specs`) says what each column is. Areas and labels
must be known (the municipalities seed, the spec's label map), periods must be real and not
after the day the file was retrieved: otherwise the whole file is refused, naming file, column
and value. A row with an unusable number, or outside the spec's selection, is rejected with
its line (for JSON: its position in the answer's rows) and rule; rows read = rows loaded +
rows rejected. Values written ``..``, ``-`` or left empty are missing (null with a flag),
never 0.
"""

import json
from dataclasses import dataclass
from datetime import date

import polars as pl

from lmkpi.contracts import REJECT_SCHEMA
from lmkpi.external.areas import area_of
from lmkpi.external.specs import TableSpec
from lmkpi.ingest.decode import decode_text
from lmkpi.ingest.delimited import read_delimited
from lmkpi.ingest.errors import FileRejected, column_label, safe_text
from lmkpi.months import Month

MISSING_MARKS = ("..", "-", "", ".")
OBSERVATION_SCHEMA = {
    "line_number": pl.Int64,
    "period_code": pl.Utf8,
    "period_type": pl.Utf8,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "area_type": pl.Utf8,
    "area_name": pl.Utf8,
    "municipality_code": pl.Int32,
    "benefit_group": pl.Utf8,
    "measure": pl.Utf8,
    "value": pl.Float64,
    "value_flag": pl.Utf8,
}
_DA_NUMBER = r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"


@dataclass(frozen=True)
class ExternalRead:
    spec: TableSpec
    file_name: str
    vintage: date
    rows_read: int  # rows of the answer
    rows_loaded: int  # rows whose values were kept
    frame: pl.DataFrame  # one observation per kept row x measure (OBSERVATION_SCHEMA)
    rejects: pl.DataFrame  # line_number, column, rule, message
    encoding: str

    @property
    def rows_rejected(self) -> int:
        return self.rejects.get_column("line_number").n_unique() if self.rejects.height else 0


# ------------------------------------------------------------------ the label table


def _json_stat(data: dict, file_name: str) -> tuple[list[str], list[list]]:
    dataset = data.get("dataset", data)
    ids = dataset.get("id") or dataset.get("dimension", {}).get("id")
    sizes = dataset.get("size") or dataset.get("dimension", {}).get("size")
    values = dataset.get("value")
    if not ids or not sizes or values is None:
        raise FileRejected(file_name, "not_an_answer", "the JSON-stat answer has no dimensions")
    categories = []
    for dim in ids:
        cat = dataset["dimension"][dim]["category"]
        index = cat.get("index") or {k: i for i, k in enumerate(cat.get("label", {}))}
        order = sorted(index, key=index.get) if isinstance(index, dict) else list(index)
        categories.append(order)
    rows, total = [], len(values) if isinstance(values, list) else 0
    for flat in range(total):
        rest, labels = flat, []
        for size, cats in zip(reversed(sizes), reversed(categories), strict=True):
            labels.append(cats[rest % size])
            rest //= size
        rows.append([*reversed(labels), values[flat]])
    return [*ids, "INDHOLD"], rows


def _from_json(data: bytes, file_name: str) -> tuple[list[str], pl.DataFrame]:
    try:
        answer = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" at character {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        raise FileRejected(
            file_name,
            "unreadable",
            f"the file is not valid JSON{where} (cut off while it was fetched?); fetch it again",
        ) from None
    if isinstance(answer, dict) and "columns" in answer and "rows" in answer:
        names = [str(c) for c in answer["columns"]]
        rows = answer["rows"]
    elif isinstance(answer, dict) and ("dataset" in answer or answer.get("class") == "dataset"):
        names, rows = _json_stat(answer, file_name)
    else:
        raise FileRejected(
            file_name,
            "not_an_answer",
            "the JSON is neither a Jobindsats answer (columns, rows) nor JSON-stat",
        )
    if any(not isinstance(r, list) or len(r) != len(names) for r in rows):
        raise FileRejected(
            file_name, "column_count_mismatch", "rows of the answer differ in length"
        )
    columns = {
        f"_{i}": pl.Series([_json_value(r[i]) for r in rows], dtype=pl.Utf8)
        for i in range(len(names))
    }
    frame = pl.DataFrame({"line_number": pl.Series(range(1, len(rows) + 1), dtype=pl.Int64)})
    return names, frame.with_columns(**columns) if columns else frame


def label_table(data: bytes, file_name: str, fmt: str) -> tuple[pl.DataFrame, str]:
    """(frame with line_number and one string column per label, encoding)."""
    if not data.strip():
        raise FileRejected(file_name, "empty_file", "the file is empty; fetch or export it again")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise FileRejected(
            file_name,
            "not_an_answer",
            "the file is an HTML page (the API's error or login page?), not an answer; "
            "fetch it again (lmkpi fetch) or export the table as CSV",
        )
    if fmt == "json":
        names, frame = _from_json(data, file_name)
        encoding = "json"
    else:
        text, encoding, _ = decode_text(data, file_name)
        raw = read_delimited(text, file_name)
        names, frame = raw.names, raw.frame
        if raw.rejects:
            lines = ", ".join(str(r["line_number"]) for r in raw.rejects[:10])
            raise FileRejected(file_name, "column_count_mismatch", f"ragged rows at lines {lines}")
    names = [n.strip() for n in names]
    if len(set(names)) != len(names):
        raise FileRejected(file_name, "duplicate_column", "two columns have the same label")
    return frame.rename({f"_{i}": n for i, n in enumerate(names)}), encoding


# ------------------------------------------------------------------ periods and values


def parse_period(code: str) -> tuple[str, date, date] | None:
    """(type, first day, last day) of 2019M03, 2019Q04 / 2019K4, 2019Y01, 2019QMAT04."""
    text = code.strip().upper()
    try:
        year = int(text[:4])
        if len(text) == 7 and text[4] == "M":
            m = Month(year, int(text[5:]))
            return "month", m.first_day, m.last_day
        if text[4:8] == "QMAT":
            last = Month(year, int(text[8:]) * 3)
            return "moving_year", (last - 11).first_day, last.last_day
        if text[4] in "QK" and len(text) in (6, 7):
            quarter = int(text[5:])
            if 1 <= quarter <= 4:
                return (
                    "quarter",
                    Month(year, quarter * 3 - 2).first_day,
                    Month(year, quarter * 3).last_day,
                )
        if text[4] == "Y" and len(text) in (6, 7):
            return "year", date(year, 1, 1), date(year, 12, 31)
    except (ValueError, Exception):  # noqa: BLE001 (a malformed code of any kind)
        return None
    return None


def _number(column: pl.Expr) -> pl.Expr:
    """A Danish-format number ("1.234,5", "598,4", "101.402") as a float, else null."""
    text = column.str.strip_chars().str.replace_all("\u00a0", "")
    plain = text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    return pl.when(text.str.contains(_DA_NUMBER)).then(plain).cast(pl.Float64, strict=False)


def _json_value(value) -> str | None:  # noqa: ANN001 (a JSON scalar)
    """A JSON value as the text a CSV export would hold: numbers in Danish format."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return repr(float(value)).removesuffix(".0").replace(".", ",")
    return str(value)


# ------------------------------------------------------------------ the spec


def _require_columns(frame: pl.DataFrame, spec: TableSpec, file_name: str) -> None:
    missing = [c for c in spec.label_columns if c not in frame.columns]
    if missing:
        found = ", ".join(column_label(c) for c in frame.columns if c != "line_number")
        raise FileRejected(
            file_name,
            "missing_column",
            f"column(s) {', '.join(repr(m) for m in missing)} of table {spec.table} are missing "
            f"(found: {found}); check that the file is {spec.table} ({spec.title})",
        )


def _refuse_unknown(
    frame: pl.DataFrame, column: str, known, file_name: str, rule: str, what: str
) -> None:
    values = frame.get_column(column).drop_nulls().unique().sort().to_list()
    unknown = [v for v in values if not known(v)]
    if unknown:
        shown = ", ".join(safe_text(v, 60) for v in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise FileRejected(
            file_name,
            rule,
            f"column {column!r} holds {what} {shown}{more}; {_advice(rule)}",
        )


def _advice(rule: str) -> str:
    return {
        "unknown_area": "areas must be the 98 municipalities, RAR areas, regions or Hele "
        "landet as in the municipalities seed",
        "unknown_label": "add the label to the table's spec (lmkpi/external/specs) if Jobindsats "
        "renamed it",
        "period_out_of_range": "a period must be a real period code and not after the day the "
        "file was retrieved (its name's date)",
    }[rule]


def read_external(
    spec: TableSpec, data: bytes, file_name: str, fmt: str, vintage: date
) -> ExternalRead:
    """Read one external file of ``spec``'s table retrieved on ``vintage`` (module docstring)."""
    labels, encoding = label_table(data, file_name, fmt)
    _require_columns(labels, spec, file_name)
    rows_read = labels.height
    _refuse_unknown(
        labels,
        spec.area,
        lambda v: area_of(v, codes=spec.area_codes) is not None,
        file_name,
        "unknown_area",
        "area(s)",
    )
    periods = {v: parse_period(v) for v in labels.get_column(spec.period).drop_nulls().unique()}
    # A count over a period is known after it ends; a population is a stock on the period's
    # first day (FOLK1A 2020K1 = 1 January 2020, published in February).
    known_from = 1 if spec.kind == "population" else 2
    _refuse_unknown(
        labels,
        spec.period,
        lambda v: periods[v] is not None and periods[v][known_from] <= vintage,
        file_name,
        "period_out_of_range",
        "period(s)",
    )
    for d in spec.dimensions:
        _refuse_unknown(
            labels, d.column, lambda v, d=d: v in d.labels, file_name, "unknown_label", "label(s)"
        )

    problems: list[dict] = []
    keep = pl.lit(True)
    for column, allowed in spec.keep.items():
        outside = ~pl.col(column).is_in(list(allowed))
        problems.append(
            _problem(
                labels,
                outside,
                column,
                "outside_selection",
                f"{column} is not {', '.join(allowed)} (the spec's selection)",
            )
        )
        keep = keep & ~outside
    if spec.sum_over:
        column, low, high = spec.sum_over
        number = pl.col(column).str.extract(r"^(\d+)", 1).cast(pl.Int32, strict=False)
        outside = number.is_null() | (number < low) | (number > high)
        problems.append(
            _problem(
                labels,
                outside,
                column,
                "outside_selection",
                f"{column} is not one of {low}-{high} (the spec's sum)",
            )
        )
        keep = keep & ~outside
    values = {}
    for m in spec.measures:
        raw = pl.col(m.column).str.strip_chars()
        value = _number(raw)
        is_missing = raw.is_null() | raw.is_in(list(MISSING_MARKS))
        bad = ~is_missing & value.is_null()
        problems.append(
            _problem(labels, bad & keep, m.column, "invalid_number", f"{m.column} is not a number")
        )
        range_bad = pl.lit(False)
        if m.minimum is not None:
            range_bad = range_bad | (value < m.minimum)
        if m.maximum is not None:
            range_bad = range_bad | (value > m.maximum)
        problems.append(
            _problem(
                labels,
                range_bad.fill_null(False) & keep & ~bad,
                m.column,
                "out_of_range",
                f"{m.column} is outside its range",
            )
        )
        keep = keep & ~bad & ~range_bad.fill_null(False)
        values[m.name] = (value, pl.when(is_missing).then(raw.fill_null("")).otherwise(None))
    rejects = pl.concat([p for p in problems if p.height] or [pl.DataFrame(schema=REJECT_SCHEMA)])
    kept = labels.filter(keep & ~pl.col("line_number").is_in(rejects.get_column("line_number")))
    frame = _observations(kept, spec, periods, values)
    return ExternalRead(
        spec,
        file_name,
        vintage,
        rows_read,
        kept.height,
        frame,
        rejects.sort("line_number"),
        encoding,
    )


def _problem(frame: pl.DataFrame, fails: pl.Expr, column: str, rule: str, message: str):
    return (
        frame.filter(fails)
        .select(
            "line_number",
            pl.lit(column).alias("column"),
            pl.lit(rule).alias("rule"),
            pl.lit(message).alias("message"),
        )
        .cast(REJECT_SCHEMA)
    )


def _observations(kept: pl.DataFrame, spec: TableSpec, periods: dict, values: dict) -> pl.DataFrame:
    area_keys = kept.get_column(spec.area).unique().to_list()
    areas = pl.DataFrame(
        [
            {
                "_area": k,
                "area_type": (a := area_of(k, codes=spec.area_codes)).area_type,
                "area_name": a.name,
                "municipality_code": a.municipality_code,
            }
            for k in area_keys
        ],
        schema={
            "_area": pl.Utf8,
            "area_type": pl.Utf8,
            "area_name": pl.Utf8,
            "municipality_code": pl.Int32,
        },
    )
    period_rows = pl.DataFrame(
        [
            {"_period": k, "period_type": v[0], "period_start": v[1], "period_end": v[2]}
            for k, v in periods.items()
            if v
        ],
        schema={
            "_period": pl.Utf8,
            "period_type": pl.Utf8,
            "period_start": pl.Date,
            "period_end": pl.Date,
        },
    )
    group = next((d for d in spec.dimensions if d.name == "benefit_group"), None)
    benefit = (
        pl.col(group.column).replace_strict(group.labels, default=None)
        if group
        else pl.lit(spec.fixed.get("benefit_group"), dtype=pl.Utf8)
    )
    base = kept.with_columns(
        pl.col(spec.area).alias("_area"),
        pl.col(spec.period).alias("_period"),
        benefit.alias("benefit_group"),
        *(v.alias(f"__v_{n}") for n, (v, _) in values.items()),
        *(f.alias(f"__f_{n}") for n, (_, f) in values.items()),
    )
    long = pl.concat(
        [
            base.select(
                "line_number",
                "_area",
                "_period",
                "benefit_group",
                pl.lit(n).alias("measure"),
                pl.col(f"__v_{n}").alias("value"),
                pl.col(f"__f_{n}").alias("value_flag"),
            )
            for n in values
        ]
    )
    if spec.sum_over:  # e.g. the ages 16-66 of FOLK1A, summed per area and period
        long = long.group_by("_area", "_period", "benefit_group", "measure").agg(
            pl.col("line_number").min(),
            pl.when(pl.col("value").null_count() == 0).then(pl.col("value").sum()).alias("value"),
            pl.col("value_flag").drop_nulls().first(),
        )
    out = long.join(areas, on="_area").join(period_rows, on="_period")
    return (
        out.select(
            "line_number",
            pl.col("_period").alias("period_code"),
            *[c for c in OBSERVATION_SCHEMA if c not in ("line_number", "period_code")],
        )
        .cast(OBSERVATION_SCHEMA)
        .sort("line_number", "measure")
    )
