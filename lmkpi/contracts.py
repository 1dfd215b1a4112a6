"""The extract contracts (docs/contracts.md) as data.

One place that says, per source, which columns a delivery has, their types, which are
required, the allowed values and ranges, and which row rules hold. The readers
(`lmkpi.ingest`), the quality suites and the docs all read this module; none of them keeps
its own copy of a column list.

Code lists that are reference data (benefit codes, the 98 municipalities) are not repeated
here: a column points at the seed file that holds them (`Reference`), resolved by
`lmkpi.ingest.reference`.
"""

from dataclasses import dataclass
from typing import Literal

import polars as pl

SOURCES: tuple[str, ...] = ("ydelser", "joblog", "indkvartering")

Kind = Literal["cpr", "integer", "decimal", "date", "code", "text", "flag"]
"""How a column is parsed: `cpr` (person number, pseudonymised at ingest), `integer`,
`decimal` (comma or point), `date` (YYYY-MM-DD or DD-MM-YYYY), `code` (one of an allowed
set), `text` (kept as is, optionally with a pattern), `flag` (0/1)."""


@dataclass(frozen=True)
class Reference:
    """Allowed values kept as reference data: `<seed>.csv`, column `column`."""

    seed: str
    column: str


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    dtype: type[pl.DataType] | pl.DataType
    required: bool
    description: str
    allowed: tuple[str, ...] | Reference | None = None
    minimum: float | None = None
    minimum_exclusive: bool = False
    maximum: float | None = None
    default: float | int | None = None
    pattern: str | None = None  # full-match regex for `text` columns
    max_length: int | None = None
    required_when: tuple[str, tuple[str, ...]] | None = None  # (column, values): for suites
    free_text: bool = False  # never leaves the reader
    # A CPR-like number in a stored text value: "reject" the row, or "mask" the number
    # (the row loads with "[CPR fjernet]" in its place). Either way the line is reported.
    cpr_in_text: Literal["reject", "mask"] = "reject"


@dataclass(frozen=True)
class Comparison:
    """Row rule `left <op> right`, checked when both values are present; a failure is
    reported on `column`."""

    left: str
    op: Literal["<=", "<"]
    right: str
    column: str
    rule: str
    message: str


@dataclass(frozen=True)
class MonthRule:
    """How a row belongs to the file's month.

    `overlap`: the period [start, end] (end empty = open) overlaps the month;
    `within`: the date `start` lies in the month.
    """

    kind: Literal["overlap", "within"]
    start: str
    end: str | None = None


@dataclass(frozen=True)
class SourceContract:
    name: str
    description: str
    extensions: tuple[str, ...]
    columns: tuple[Column, ...]
    month_rule: MonthRule | None = None
    comparisons: tuple[Comparison, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


VISITATION = ("jobparat", "aktivitetsparat", "uddannelsesparat", "aabenlyst_uddannelsesparat")
TILBUD = ("virksomhedspraktik", "nytteindsats", "loentilskud", "vejledning_opkvalificering")
HERKOMST = ("dansk", "vestlig", "ikke_vestlig")
FLYGTNINGESTATUS = ("flygtning", "familiesammenfoert")
JOBLOG_STATUS = ("Søgt", "Samtale", "Afslag", "Fik job")

BENEFIT_CODES = Reference("benefit_catalogue", "benefit_code")
MUNICIPALITIES = Reference("municipalities", "kommunekode")


def _cpr() -> Column:
    return Column("cpr", "cpr", pl.Utf8, True, "person (10 digits, optional '-' after 6)")


def _kommunekode(description: str = "municipality") -> Column:
    return Column("kommunekode", "integer", pl.Int16, True, description, allowed=MUNICIPALITIES)


def _count(name: str, required: bool, description: str, default: int | None = None) -> Column:
    return Column(name, "integer", pl.Int64, required, description, minimum=0, default=default)


YDELSER = SourceContract(
    name="ydelser",
    description="person status segments overlapping the month",
    extensions=("csv", "parquet"),
    columns=(
        _cpr(),
        _kommunekode("municipality responsible"),
        Column("ydelse", "code", pl.Utf8, True, "status in the segment", allowed=BENEFIT_CODES),
        Column("startdato", "date", pl.Date, True, "first day of the segment"),
        Column("slutdato", "date", pl.Date, False, "last day (inclusive); empty = running"),
        Column(
            "omfang",
            "decimal",
            pl.Float64,
            False,
            "degree in (0, 1]",
            minimum=0,
            minimum_exclusive=True,
            maximum=1,
            default=1.0,
        ),
        Column(
            "visitation",
            "code",
            pl.Utf8,
            False,
            "target-group assessment",
            allowed=VISITATION,
            required_when=("ydelse", ("KONT", "UDD", "INT")),
        ),
        Column("tilbud", "code", pl.Utf8, False, "active offer", allowed=TILBUD),
        Column("tilbud_cvr", "text", pl.Utf8, False, "company hosting the offer", pattern=r"\d{8}"),
        Column("delvis_raskmeldt", "flag", pl.Boolean, False, "partly back at work (SDP)"),
        Column("herkomst", "code", pl.Utf8, False, "origin", allowed=HERKOMST),
        Column(
            "flygtningestatus",
            "code",
            pl.Utf8,
            False,
            "refugee / family-reunified",
            allowed=FLYGTNINGESTATUS,
        ),
        Column(
            "opholdsdato",
            "date",
            pl.Date,
            False,
            "first residence permit",
            required_when=("flygtningestatus", FLYGTNINGESTATUS),
        ),
        Column(
            "ordinaere_timer",
            "decimal",
            pl.Float64,
            False,
            "ordinary paid hours in the segment",
            minimum=0,
            default=0.0,
        ),
        _count("samtaler", False, "job-centre conversations in the segment", default=0),
    ),
    month_rule=MonthRule("overlap", "startdato", "slutdato"),
    comparisons=(
        Comparison(
            "startdato",
            "<=",
            "slutdato",
            "slutdato",
            "end_before_start",
            "slutdato is before startdato",
        ),
    ),
)

JOBLOG = SourceContract(
    name="joblog",
    description="registered job applications (Jobloggen), one row per registration",
    extensions=("csv", "parquet"),
    columns=(
        _cpr(),
        _kommunekode(),
        Column("soegning_id", "text", pl.Utf8, True, "the application", max_length=100),
        Column("registreret_dato", "date", pl.Date, True, "date of this registration"),
        Column("status", "code", pl.Utf8, True, "status registered", allowed=JOBLOG_STATUS),
        Column("stilling", "text", pl.Utf8, False, "job title (free text)", free_text=True),
        Column("arbejdsgiver", "text", pl.Utf8, False, "employer (free text)", free_text=True),
    ),
    month_rule=MonthRule("within", "registreret_dato"),
)

INDKVARTERING = SourceContract(
    name="indkvartering",
    description="temporary housing for refugees, one row per address",
    extensions=("csv", "xlsx"),
    columns=(
        _kommunekode(),
        Column(
            "adresse",
            "text",
            pl.Utf8,
            True,
            "address / section",
            max_length=200,
            cpr_in_text="mask",
        ),
        _count("vaerelser", True, "rooms"),
        _count("ledige_vaerelser", True, "vacant rooms at month end"),
        _count("indkvarterede", True, "persons housed"),
        _count("husstande", False, "households"),
        _count("flyttet_permanent", False, "moved to permanent housing in the month", default=0),
        _count("restance_personer", False, "residents owing rent"),
        Column("restance_kr", "decimal", pl.Float64, False, "rent owed, kroner", minimum=0),
    ),
    comparisons=(
        Comparison(
            "ledige_vaerelser",
            "<=",
            "vaerelser",
            "ledige_vaerelser",
            "vacant_exceeds_rooms",
            "ledige_vaerelser is larger than vaerelser",
        ),
    ),
)

CONTRACTS: dict[str, SourceContract] = {c.name: c for c in (YDELSER, JOBLOG, INDKVARTERING)}

# What replaces `cpr` in every frame that leaves the reader.
PERSON_COLUMNS: dict[str, type[pl.DataType]] = {
    "person_key": pl.Utf8,
    "birth_date": pl.Date,
    "sex": pl.Utf8,
}

REJECT_SCHEMA: dict[str, type[pl.DataType]] = {
    "line_number": pl.Int64,
    "column": pl.Utf8,
    "rule": pl.Utf8,
    "message": pl.Utf8,
}

# Whole-file rules: the file is refused before any row is returned (FileRejected.rule).
FILE_RULES: dict[str, str] = {
    "bad_file_name": "file name is not <source>_<YYYY-MM>.<ext> with an allowed extension",
    "not_a_regular_file": "a symbolic link, folder or device, not the delivered file itself",
    "compressed": "the file is compressed (gzip, zip): deliver it uncompressed",
    "month_mismatch": "the month in the file name is not the month being loaded",
    "empty_file": "the file has no bytes or only whitespace",
    "wrong_format": "the content is not the format the extension says (e.g. xlsx named .csv)",
    "unsupported_encoding": "UTF-16/UTF-32 or NUL bytes; deliver UTF-8 or Windows-1252",
    "undecodable": "the bytes are not valid in the detected or declared encoding",
    "unreadable": "the Parquet or xlsx file cannot be opened",
    "unclosed_quote": "a quoted field is never closed",
    "wrong_separator": "the header is one column holding ',' or tabs: separator is not ';'",
    "missing_header": "the first line holds data, not column names",
    "empty_column_name": "a column without a name holds values",
    "duplicate_column": "two columns have the same name",
    "renamed_column": "a column looks like a misspelt or renamed contract column",
    "missing_column": "a required column is missing",
    "column_count_mismatch": "most rows do not have as many fields as the header",
    "bad_column_type": "a Parquet column has a type that cannot hold the contract's values",
    "wrong_month": "no row of the file belongs to the month in its name",
}

# Row-level rules: the row is left out of the frame and listed in `rejects`.
ROW_RULES: dict[str, str] = {
    "ragged_row": "the row has a different number of fields than the header",
    "malformed_quotes": "text after a closing quote in a field",
    "missing_value": "a required value is empty",
    "invalid_cpr": "not 10 digits (optional '-') or not a real birth date",
    "invalid_date": "not a real date as YYYY-MM-DD or DD-MM-YYYY",
    "invalid_number": "not a number (or not a whole number where one is required)",
    "invalid_flag": "not 0 or 1",
    "invalid_format": "text does not have the required form (e.g. CVR = 8 digits)",
    "too_long": "text longer than the contract allows",
    "cpr_in_text": "a text value holds a CPR-like number (rejected; the value is not shown)",
    "unknown_code": "not one of the allowed codes",
    "unknown_kommunekode": "not one of the 98 municipality codes",
    "out_of_range": "number outside the allowed range (e.g. negative count, omfang not in (0,1])",
    "end_before_start": "slutdato is before startdato",
    "vacant_exceeds_rooms": "ledige_vaerelser is larger than vaerelser",
    "outside_month": "the row does not belong to the month in the file name",
}


def output_schema(source: str) -> dict[str, pl.DataType]:
    """Columns and types of `ReadResult.frame` for `source` (after pseudonymisation)."""
    contract = CONTRACTS[source]
    schema: dict[str, pl.DataType] = {"line_number": pl.Int64()}
    for col in contract.columns:
        if col.kind == "cpr":
            schema.update({k: v() for k, v in PERSON_COLUMNS.items()})
        elif not col.free_text:
            schema[col.name] = col.dtype() if isinstance(col.dtype, type) else col.dtype
    return schema
