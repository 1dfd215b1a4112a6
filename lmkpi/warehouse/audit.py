"""The load audit: one row per file and load, kept in the working database (schema ``audit``)."""

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


def ensure_audit_tables(con) -> None:  # noqa: ANN001 (a DuckDB connection)
    """Create the audit tables, or bring those of an older working database up to date."""
    con.execute(AUDIT_DDL)
    for upgrade in audit_upgrades():
        con.execute(upgrade)


# Outcomes: a loaded file is `loaded`; the same bytes delivered again are `unchanged` (a no-op);
# a file refused whole is `rejected_file`; a failed critical expectation is `blocked`
# (nothing of the month replaced).
OUTCOME_LOADED = "loaded"
OUTCOME_UNCHANGED = "unchanged"
OUTCOME_BLOCKED = "blocked"
OUTCOME_REJECTED_FILE = "rejected_file"
