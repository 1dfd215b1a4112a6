"""The load audit in the working database (schema ``audit``), published with the marts.

- ``audit.load_audit``: one row per file and load attempt (loaded, unchanged, blocked,
  refused), with checksum, rows read / loaded / rejected, outcome and message;
- ``audit.check_results``: one row per load and quality rule (passed or failed, failing rows,
  share, example line numbers, the message; never a value), kept for superseded loads too;
- ``audit.rejects``: one row per rejected line and rule (line number, column, rule, message);
- ``audit.pending_months``: months whose raw rows changed but are not yet published.

Rows are written by ``record_load`` in the transaction that replaces the month's raw rows, so
the audit and the data never disagree.
"""

import json
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime

import duckdb
import polars as pl

from lmkpi.months import Month
from lmkpi.quality import MonthProfile, ValidationReport

AUDIT_DDL = """
create schema if not exists audit;
create table if not exists audit.load_audit (
    load_id varchar primary key,
    source varchar not null,
    month date not null,
    file_name varchar,
    archived_path varchar,
    checksum_sha256 varchar,
    size_bytes bigint,
    encoding varchar,
    rows_read bigint,
    rows_loaded bigint,
    rows_rejected bigint,
    triggered_by varchar,
    run_id varchar,
    started_at timestamp,
    finished_at timestamp,
    outcome varchar not null,
    superseded_load_id varchar,
    message varchar,
    validation_summary varchar,
    checks_blocking integer,
    checks_warning integer,
    profile_json varchar
);
create table if not exists audit.check_results (
    load_id varchar not null,
    source varchar not null,
    month date not null,
    rule varchar not null,
    "column" varchar,
    severity varchar not null,
    outcome varchar not null,
    failing_rows bigint,
    failing_share double,
    example_lines varchar,
    message varchar
);
create table if not exists audit.rejects (
    load_id varchar not null,
    source varchar not null,
    month date not null,
    file_name varchar not null,
    line_number bigint,
    "column" varchar,
    rule varchar not null,
    message varchar not null
);
-- Months whose raw rows changed but whose marts have not been published since. Written in
-- the same transaction as the raw rows; the dbt step widens its window to cover them and a
-- successful publish clears them, so a run killed half-way is repaired by the next run.
create table if not exists audit.pending_months (
    month date primary key,
    since timestamp not null
);
"""

PUBLISHED_TABLES = ("load_audit", "check_results")
"""Audit tables analysts get in the published warehouse (aggregate facts about loads)."""

# Outcomes: a loaded file is `loaded`; the same bytes delivered again are `unchanged` (a no-op);
# a file refused whole is `rejected_file`; a failed critical expectation is `blocked`
# (nothing of the month replaced).
OUTCOME_LOADED = "loaded"
OUTCOME_UNCHANGED = "unchanged"
OUTCOME_BLOCKED = "blocked"
OUTCOME_REJECTED_FILE = "rejected_file"


def audit_upgrades(ddl: str = AUDIT_DDL) -> list[str]:
    """`add column if not exists` for every column of the audit tables, so a working database
    made by an older lmkpi gains the columns added since (new columns are nullable there)."""
    statements = []
    table = None
    for line in ddl.splitlines():
        line = line.strip()
        if line.startswith("create table if not exists "):
            table = line.removeprefix("create table if not exists ").split(" (")[0]
        elif line.startswith(")"):
            table = None
        elif table and line and not line.startswith("--"):
            name, type_ = line.rstrip(",").split()[:2]
            statements.append(f"alter table {table} add column if not exists {name} {type_}")
    return statements


def ensure_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the audit tables, or bring those of an older working database up to date."""
    con.execute(AUDIT_DDL)
    for upgrade in audit_upgrades():
        con.execute(upgrade)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class LoadRecord:
    """One row of ``audit.load_audit``: what was delivered, what was done, how it ended."""

    load_id: str
    source: str
    month: date
    file_name: str
    archived_path: str | None  # None for a file refused before it was read
    checksum_sha256: str | None
    size_bytes: int | None
    triggered_by: str
    run_id: str | None
    started_at: datetime
    outcome: str = ""
    finished_at: datetime | None = None
    encoding: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    superseded_load_id: str | None = None
    message: str = ""
    validation_summary: str | None = None
    checks_blocking: int | None = None
    checks_warning: int | None = None
    profile_json: str | None = None

    def finished(self, outcome: str, message: str, **values) -> "LoadRecord":
        return replace(self, outcome=outcome, message=message, finished_at=now(), **values)


@dataclass(frozen=True)
class MonthHistory:
    """What the audit knows of a source and month before a new load of it."""

    loaded_id: str | None  # the load whose rows are in raw now (the one a new load supersedes)
    loaded_sha256: str | None
    previous_profile: MonthProfile | None  # the month before's profile (distribution checks)


def month_history(con: duckdb.DuckDBPyConnection, source: str, month: Month) -> MonthHistory:
    latest = con.execute(
        """
        select load_id, checksum_sha256 from audit.load_audit
        where source = ? and month = ? and outcome = 'loaded'
        order by finished_at desc limit 1
        """,
        [source, month.first_day],
    ).fetchone()
    profile = con.execute(
        """
        select profile_json from audit.load_audit
        where source = ? and month = ? and outcome = 'loaded' and profile_json is not null
        order by finished_at desc limit 1
        """,
        [source, month.previous.first_day],
    ).fetchone()
    return MonthHistory(
        loaded_id=latest[0] if latest else None,
        loaded_sha256=latest[1] if latest else None,
        previous_profile=MonthProfile.from_dict(json.loads(profile[0])) if profile else None,
    )


def check_rows(record: LoadRecord, report: ValidationReport) -> pl.DataFrame:
    """The report's outcomes as ``audit.check_results`` rows (counts and line numbers only)."""
    return pl.DataFrame(
        [
            {
                "load_id": record.load_id,
                "source": record.source,
                "month": record.month,
                "rule": o.rule,
                "column": o.column,
                "severity": o.severity,
                "outcome": "passed" if o.success else "failed",
                "failing_rows": o.unexpected_count,
                "failing_share": o.unexpected_share,
                "example_lines": ", ".join(str(n) for n in o.example_lines) or None,
                "message": o.message,
            }
            for o in report.outcomes
        ],
        schema={
            "load_id": pl.Utf8,
            "source": pl.Utf8,
            "month": pl.Date,
            "rule": pl.Utf8,
            "column": pl.Utf8,
            "severity": pl.Utf8,
            "outcome": pl.Utf8,
            "failing_rows": pl.Int64,
            "failing_share": pl.Float64,
            "example_lines": pl.Utf8,
            "message": pl.Utf8,
        },
    )


def record_load(
    con: duckdb.DuckDBPyConnection,
    record: LoadRecord,
    report: ValidationReport | None = None,
    rejects: pl.DataFrame | None = None,
) -> None:
    """Insert the load's audit row, its check results and its rejected lines (the caller
    holds the transaction)."""
    values = asdict(record)
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    con.execute(f"insert into audit.load_audit ({columns}) values ({marks})", list(values.values()))
    if report is not None and report.outcomes:
        checks = check_rows(record, report)  # noqa: F841 (read by DuckDB)
        con.execute("insert into audit.check_results by name select * from checks")
    if rejects is not None and rejects.height:
        tagged = rejects.select("line_number", "column", "rule", "message").with_columns(  # noqa: F841
            pl.lit(record.load_id).alias("load_id"),
            pl.lit(record.source).alias("source"),
            pl.lit(record.month).alias("month"),
            pl.lit(record.file_name).alias("file_name"),
        )
        con.execute("insert into audit.rejects by name select * from tagged")


_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def new_load_id() -> str:
    """A random 128-bit id written as 32 letters a-p: it lands in messages and file names,
    and a hex id can hold a run of ten digits that a CPR scan would rightly flag."""
    return uuid.uuid4().hex.translate(_LETTERS)
