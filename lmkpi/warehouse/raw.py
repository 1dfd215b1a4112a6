"""The raw layer of the working database: one table per source, plus the population input.

Tables are created up front from the contracts (``lmkpi.contracts.output_schema``), so dbt
finds every source even before a municipality has delivered, say, its first housing sheet.
"""

import logging
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from lmkpi.contracts import SOURCES, output_schema
from lmkpi.external.read import OBSERVATION_SCHEMA
from lmkpi.external.specs import spec_for
from lmkpi.ingest.cpr import person_numbers
from lmkpi.months import Month
from lmkpi.settings import HISTORY_START
from lmkpi.warehouse.db import connect

log = logging.getLogger(__name__)

LOAD_COLUMNS = {"month": pl.Date(), "load_id": pl.String()}
POPULATION_FILE = Path("population") / "population_16_66.csv"
POPULATION_SCHEMA = {"month": pl.Date(), "kommunekode": pl.Int16(), "population": pl.Int64()}
EXTERNAL_SCHEMA = {
    "source": pl.Utf8(),
    "table_id": pl.Utf8(),
    "table_kind": pl.Utf8(),  # benefits, benchmark, joblog, population (the spec's kind)
    "retrieved_on": pl.Date(),
    "load_id": pl.Utf8(),
    **OBSERVATION_SCHEMA,
}


def raw_schema(source: str) -> dict[str, pl.DataType]:
    return output_schema(source) | LOAD_COLUMNS


# The pseudonym's 128 bits as one number (lmkpi.ingest.cpr.person_numbers): what the models
# sort, group and join persons on. Built from the two halves the loader hands over, or, for
# rows an earlier version loaded, from the letters themselves (the same number).
PERSON_ID = "person_id"
PERSON_ID_FROM_HALVES = "(person_hi::uhugeint << 64) | person_lo::uhugeint"
PERSON_ID_FROM_KEY = (
    "('0x' || translate(person_key, 'abcdefghijklmnop', '0123456789abcdef'))::uhugeint"
)


def _ensure_person_id(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """A person-level raw table has ``person_id``; one an earlier version made gets it, and
    its rows get theirs from their pseudonyms (once)."""
    columns = {r[0] for r in con.execute(f"describe {table}").fetchall()}
    if "person_key" not in columns or PERSON_ID in columns:
        return
    con.execute(f"alter table {table} add column {PERSON_ID} uhugeint")
    rows = con.execute(f"select count(*) from {table}").fetchone()[0]
    if rows:
        log.info("%s: %s rows get their person_id (once, after an upgrade)", table, f"{rows:,}")
        con.execute(f"update {table} set {PERSON_ID} = {PERSON_ID_FROM_KEY}")


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for source in SOURCES:
        empty = pl.DataFrame(schema=raw_schema(source))  # noqa: F841 (read by DuckDB)
        con.execute(f"create table if not exists raw.{source} as select * from empty")
        _ensure_person_id(con, f"raw.{source}")
    population = pl.DataFrame(schema=POPULATION_SCHEMA)  # noqa: F841
    con.execute("create table if not exists raw.population as select * from population")
    external = pl.DataFrame(schema=EXTERNAL_SCHEMA)  # noqa: F841
    con.execute("create table if not exists raw.external_observations as select * from external")
    # What dbt reads from the pipeline (the dbt source raw.run_window): the month window
    # [start_month, end_month) its incremental models rebuild, set before each dbt run
    # (set_run_window; the default is everything), and the first month of history.
    con.execute(
        "create table if not exists raw.run_window "
        "(start_month date not null, end_month date not null, check (start_month < end_month))"
    )
    con.execute("alter table raw.run_window add column if not exists history_start date")
    con.execute(
        "insert into raw.run_window (start_month, end_month, history_start) "
        "select ?, date '2100-01-01', ? where not exists (select 1 from raw.run_window)",
        [HISTORY_START.first_day, HISTORY_START.first_day],
    )
    con.execute("update raw.run_window set history_start = ?", [HISTORY_START.first_day])
    # The employment plans in force (dbt source raw.plan_goals; the shipped 2019 plan until
    # the pipeline stores the home's plans before a run: lmkpi.employment_plan).
    from lmkpi.employment_plan import ensure_plan_table
    from lmkpi.housing_scenarios import ensure_scenario_table

    ensure_plan_table(con)
    ensure_scenario_table(con)  # the housing scenarios in force (lmkpi.housing_scenarios)


def raw_table(source: str) -> str:
    """``raw.<source>`` for a known source (never built from unchecked text)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    return f"raw.{source}"


def replace_month(
    con: duckdb.DuckDBPyConnection, source: str, month: Month, frame: pl.DataFrame, load_id: str
) -> None:
    """Replace the month's rows of ``raw.<source>`` with ``frame`` and mark the month pending
    (the caller holds the transaction). A column the table lacks is a compatible contract
    extension (a new optional column) and is added."""
    table = raw_table(source)
    rows = frame.with_columns(  # noqa: F841 (read by DuckDB)
        pl.lit(month.first_day).alias("month"), pl.lit(load_id).alias("load_id")
    )
    select = "*"
    if "person_key" in frame.columns:
        rows = pl.concat([rows, person_numbers(frame.get_column("person_key"))], how="horizontal")
        select = f"* exclude (person_hi, person_lo), {PERSON_ID_FROM_HALVES} as {PERSON_ID}"
    rows = rows.rechunk()
    relation = con.sql(f"select {select} from rows")
    existing = {r[0] for r in con.execute(f"describe {table}").fetchall()}
    for name, dtype in zip(relation.columns, relation.dtypes, strict=True):
        if name not in existing:
            con.execute(f'alter table {table} add column "{name}" {dtype}')
    con.execute(f"delete from {table} where month = ?", [month.first_day])
    con.execute(f"insert into {table} by name select {select} from rows")
    con.execute(
        "insert or ignore into audit.pending_months values (?, ?)",
        [month.first_day, datetime.now(UTC).replace(tzinfo=None)],
    )


def replace_vintage(
    con: duckdb.DuckDBPyConnection,
    delivery,
    frame: pl.DataFrame,
    load_id: str,  # noqa: ANN001
) -> list[date]:
    """Replace the observations of one external vintage (source, table, retrieval day) and
    mark the months they cover pending (the caller holds the transaction); returns them."""
    rows = frame.with_columns(  # noqa: F841 (read by DuckDB)
        pl.lit(delivery.source).alias("source"),
        pl.lit(delivery.table).alias("table_id"),
        pl.lit(spec_for(delivery.source, delivery.table).kind).alias("table_kind"),
        pl.lit(delivery.vintage).alias("retrieved_on"),
        pl.lit(load_id).alias("load_id"),
    )
    key = [delivery.source, delivery.table, delivery.vintage]
    con.execute(
        "delete from raw.external_observations "
        "where source = ? and table_id = ? and retrieved_on = ?",
        key,
    )
    con.execute("insert into raw.external_observations by name select * from rows")
    # The months this vintage speaks of, as far as there is history: dbt rebuilds them.
    months = [
        r[0]
        for r in con.execute(
            """
            with covered as (
                select distinct date_trunc('month', period_end)::date as month
                from raw.external_observations
                where source = ? and table_id = ? and retrieved_on = ?
            ),
            history as (select max(month) as latest from raw.ydelser)
            select least(covered.month, coalesce(history.latest, covered.month))
            from covered, history
            where covered.month >= ?
            """,
            [*key, HISTORY_START.first_day],
        ).fetchall()
    ]
    now = datetime.now(UTC).replace(tzinfo=None)
    for month in sorted(set(months)):
        con.execute("insert or ignore into audit.pending_months values (?, ?)", [month, now])
    return sorted(set(months))


def set_run_window(con: duckdb.DuckDBPyConnection, start: date, end: date) -> None:
    """Tell dbt which months to rebuild: the window is data, not a dbt var, so changing it
    between runs does not force dbt to re-parse the project (partial parsing stays valid)."""
    ensure_raw_tables(con)
    con.execute("begin")
    con.execute("delete from raw.run_window")
    con.execute(
        "insert into raw.run_window (start_month, end_month, history_start) values (?, ?, ?)",
        [start, end, HISTORY_START.first_day],
    )
    con.execute("commit")


def load_population(landing_dir: Path, work_db: Path, month: Month) -> int | None:
    """Load the month's 16-66 population per municipality, if the reference file is there.

    ``<landing>/population/population_16_66.csv`` (``month;kommunekode;population``) is a
    reference input for per-capita rates; without it the rates are simply empty.
    Returns the number of rows loaded, or None when there is no file.
    """
    path = landing_dir / POPULATION_FILE
    month_start: date = month.first_day
    if not path.is_file():
        return None
    frame = (
        pl.read_csv(
            path,
            separator=";",
            schema_overrides={"month": pl.String, "kommunekode": pl.Int16, "population": pl.Int64},
        )
        .filter(pl.col("month") == month.key)
        .with_columns(pl.lit(month_start).alias("month"))
    )
    with connect(work_db) as con:
        ensure_raw_tables(con)
        con.execute("begin transaction")
        con.execute("delete from raw.population where month = ?", [month_start])
        con.execute("insert into raw.population by name select * from frame")
        con.execute("commit")
    return frame.height
