"""Every query the report runs against the published warehouse, in one place.

Each function takes an open (read-only) connection and returns a polars frame. Only the
columns named here are read, so adapting to a change in the marts means editing this module
(``tests/test_report_queries.py`` checks the names against the marts' dbt contracts). Every
query is bounded by the report month: a report for 2019-10 built later shows the same numbers.
"""

import logging
from datetime import date

import duckdb
import polars as pl

log = logging.getLogger(__name__)

NATIONAL_CODE = 0  # dbt var national_municipality_code: the whole country in mart rows


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    return con.sql(sql, params=params or []).pl()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    rows = con.execute(sql, params or []).fetchall()  # fetch all: no unfinished result left
    return rows[0][0] if rows else None


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = _scalar(
        con,
        """
        select (select count(*) from duckdb_tables() where schema_name = ? and table_name = ?)
             + (select count(*) from duckdb_views() where schema_name = ? and view_name = ?)
        """,
        [schema, table, schema, table],
    )
    return bool(found)


def months_with_goals(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Months that have goal indicators, oldest first."""
    rows = con.execute(
        "select distinct month from marts.fct_goal_indicators where value is not null order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def municipalities_in_month(con: duckdb.DuckDBPyConnection, month: date) -> list[int]:
    """Municipalities with a report for the month: on benefits in it (in the month's
    extract) and with goal indicators (a month no plan covers has no report)."""
    rows = con.execute(
        "select distinct b.municipality_code from marts.fct_public_benefits b "
        "join marts.fct_goal_indicators g "
        "on g.municipality_code = b.municipality_code and g.month = b.month "
        "where b.month = ? and g.value is not null order by 1",
        [month],
    ).fetchall()
    return [int(r[0]) for r in rows]


def municipality(con: duckdb.DuckDBPyConnection, code: int) -> pl.DataFrame:
    return _frame(
        con,
        """
        select municipality_code, municipality_name, region_name, br_area, rar_area
        from marts.dim_municipality where municipality_code = ?
        """,
        [code],
    )


def clusters(con: duckdb.DuckDBPyConnection, code: int) -> pl.DataFrame:
    """The municipality's cluster in each scheme, with all members."""
    return _frame(
        con,
        """
        select c.scheme, c.cluster, c.municipality_code, c.municipality_name
        from marts.dim_cluster_membership c
        join marts.dim_cluster_membership mine
          on mine.scheme = c.scheme and mine.cluster = c.cluster and mine.municipality_code = ?
        order by c.scheme, c.municipality_name
        """,
        [code],
    )


def report_plan_year(con: duckdb.DuckDBPyConnection, code: int, month: date) -> int | None:
    """The plan a report for ``month`` shows: the plan of the month's year if it has goal
    values in the month, else the latest plan that has (e.g. the 2019 plan's relative goals
    run from November 2018)."""
    years = [
        r[0]
        for r in con.execute(
            "select distinct plan_year from marts.fct_goal_indicators "
            "where municipality_code = ? and month = ? order by 1",
            [code, month],
        ).fetchall()
    ]
    if month.year in years:
        return month.year
    return years[-1] if years else None


def plan_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [
        r[0]
        for r in con.execute("select distinct plan_year from marts.dim_goal order by 1").fetchall()
    ]


def goals(con: duckdb.DuckDBPyConnection, plan_year: int | None = None) -> pl.DataFrame:
    return _frame(
        con,
        """
        select g.goal_id, g.goal_kind, g.measure, g.target_type, g.baseline_period,
               g.target_period, g.target_value, g.reported_status_value,
               g.reported_status_period, g.qualitative_reason, g.title_da,
               m.kind, m.unit, m.higher_is_better
        from marts.dim_goal g
        left join marts.dim_kpi_measure m on m.measure = g.measure
        where ? is null or g.plan_year = ?
        """,
        [plan_year, plan_year],
    )


def goal_indicators(
    con: duckdb.DuckDBPyConnection,
    code: int,
    first: date,
    month: date,
    plan_year: int | None = None,
) -> pl.DataFrame:
    return _frame(
        con,
        """
        select goal_id, month, value, numerator, denominator, baseline_month, baseline_value,
               target_month, target_value, target_level, progress, expected_progress,
               projected_value, months_with_data, status, status_reason
        from marts.fct_goal_indicators
        where municipality_code = ? and month >= ? and month <= ?
          and (? is null or plan_year = ?)
        order by goal_id, month
        """,
        [code, first, month, plan_year, plan_year],
    )


def measure_series(
    con: duckdb.DuckDBPyConnection, code: int, first: date, month: date
) -> pl.DataFrame:
    """Each measure per month for the municipality (the goal charts' history)."""
    return _frame(
        con,
        """
        select measure, month, value, numerator, denominator
        from marts.fct_benchmark
        where municipality_code = ? and area_type = 'municipality' and month >= ? and month <= ?
        order by measure, month
        """,
        [code, first, month],
    )


def benchmark(con: duckdb.DuckDBPyConnection, code: int, month: date) -> pl.DataFrame:
    return _frame(
        con,
        """
        select b.measure, b.kind, b.area_type, b.area_scheme, b.area_name,
               b.municipalities_with_data, b.numerator, b.denominator, b.value,
               b.population_16_66, b.share_of_population, b.rank_among_municipalities,
               b.ranked_municipalities, m.unit, m.higher_is_better, m.goal_id
        from marts.fct_benchmark b
        left join marts.dim_kpi_measure m on m.measure = b.measure
        where b.municipality_code = ? and b.month = ?
        """,
        [code, month],
    )


def benefit_benchmark(
    con: duckdb.DuckDBPyConnection, code: int, first: date, month: date, base: date | None
) -> pl.DataFrame:
    """Per 1,000 residents per benefit group and area, for the months shown and the index's
    base month (empty on a warehouse without the mart)."""
    if not has_table(con, "marts", "fct_benefit_benchmark"):
        return pl.DataFrame()
    return _frame(
        con,
        """
        select month, benefit_group, area_type, area_scheme, area_name, full_time_persons,
               population_16_66, per_1000_residents, municipalities_in_area,
               municipalities_with_data, member_names, source, source_table, retrieved_on,
               rank_among_municipalities, ranked_municipalities
        from marts.fct_benefit_benchmark
        where municipality_code = ? and ((month >= ? and month <= ?) or month = ?)
        order by month, benefit_group, area_type, area_name
        """,
        [code, first, month, base],
    )


def index_base_month(con: duckdb.DuckDBPyConnection) -> date | None:
    """The month the benefit index is 100 in (dbt var index_base_month, via fct_benefit_index)."""
    if not has_table(con, "marts", "fct_benefit_index"):
        return None
    return _scalar(con, "select min(base_month) from marts.fct_benefit_index")


def ministry_benchmark(con: duckdb.DuckDBPyConnection, code: int, month: date) -> pl.DataFrame:
    """The ministry's benchmark for the latest period ending by the report month."""
    if not has_table(con, "marts", "fct_ministry_benchmark"):
        return pl.DataFrame()
    return _frame(
        con,
        """
        select period_code, period_start, period_end, expected_full_time_persons,
               actual_full_time_persons, difference, relative_difference, benchmark_rank,
               ranked_municipalities, source_table, retrieved_on
        from marts.fct_ministry_benchmark
        where municipality_code = ? and period_end <= last_day(?::date)
        order by period_end desc
        limit 1
        """,
        [code, month],
    )


def reconciliation(con: duckdb.DuckDBPyConnection, code: int, month: date) -> pl.DataFrame:
    if not has_table(con, "marts", "fct_reconciliation"):
        return pl.DataFrame()
    return _frame(
        con,
        """
        select benefit_group, own_full_time_persons, external_full_time_persons, difference,
               relative_difference, exceeds_tolerance, source_table, retrieved_on
        from marts.fct_reconciliation
        where municipality_code = ? and month = ?
        order by benefit_group = 'total', benefit_group
        """,
        [code, month],
    )


def benefit_groups(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Benefit groups with their flags (a group counts in a measure if any of its codes do)."""
    return _frame(
        con,
        """
        select benefit_group, any_value(benefit_group_da) as benefit_group_da,
               bool_or(is_public_benefit_plan) as is_public_benefit_plan,
               bool_or(is_public_benefit_national) as is_public_benefit_national
        from marts.dim_benefit
        group by benefit_group
        """,
    )


def benefit_index(
    con: duckdb.DuckDBPyConnection, code: int, first: date, month: date
) -> pl.DataFrame:
    """Full-time persons and index per benefit group, the municipality and the country."""
    return _frame(
        con,
        """
        select municipality_code, month, benefit_group, benefit_group_da, full_time_persons,
               base_month, base_full_time_persons, index_value
        from marts.fct_benefit_index
        where municipality_code in (?, ?) and month <= ? and (month >= ? or month = base_month)
        order by municipality_code, benefit_group, month
        """,
        [code, NATIONAL_CODE, month, first],
    )


def joblog(con: duckdb.DuckDBPyConnection, first: date, month: date) -> pl.DataFrame:
    """Every area's smiley split for the months shown (all municipalities and the country)."""
    return _frame(
        con,
        """
        select month, municipality_code, area_name, is_national, population, green,
               light_green, red, red_3_months, is_ranked, rank_share_red, ranked_municipalities,
               source, source_table, retrieved_on, external_population, external_red,
               external_share_red
        from marts.fct_joblog_benchmark
        where month >= ? and month <= ?
        order by month, is_national desc, rank_share_red nulls last, area_name
        """,
        [first, month],
    )


def joblog_publication_lag(con: duckdb.DuckDBPyConnection) -> int | None:
    if not has_table(con, "marts", "fct_joblog_benchmark_published"):
        return None
    lag = _scalar(con, "select max(reporting_lag_months) from marts.fct_joblog_benchmark_published")
    return None if lag is None else int(lag)


def housing_addresses(con: duckdb.DuckDBPyConnection, code: int, month: date) -> pl.DataFrame:
    return _frame(
        con,
        """
        select address, rooms, vacant_rooms, housed, occupancy, is_over_capacity,
               moved_to_permanent
        from marts.fct_housing_occupancy
        where municipality_code = ? and month = ?
        order by address
        """,
        [code, month],
    )


def housing_months(
    con: duckdb.DuckDBPyConnection, code: int, first: date, month: date
) -> pl.DataFrame:
    """Monthly totals from ``first``; the annual flow uses every month of the years shown."""
    return _frame(
        con,
        """
        select month, addresses, rooms, vacant_rooms, housed, occupancy,
               addresses_over_capacity, persons_over_capacity, moved_to_permanent,
               rent_arrears_persons, rent_arrears_dkk
        from marts.fct_housing_municipality
        where municipality_code = ? and month >= ? and month <= ?
        order by month
        """,
        [code, first, month],
    )


def housing_outlook(con: duckdb.DuckDBPyConnection, code: int) -> pl.DataFrame:
    """Every scenario's projected months (fct_housing_outlook), empty before it exists."""
    if not has_table(con, "marts", "fct_housing_outlook"):
        return pl.DataFrame()
    return _frame(
        con,
        """
        select scenario, title, description, month, months_ahead, housed, rooms, capacity,
               places_short, capacity_runs_out_month
        from marts.fct_housing_outlook
        where municipality_code = ?
        order by scenario = 'baseline' desc, scenario, month
        """,
        [code],
    )


LOAD_AUDIT_SCHEMA = {
    "source": pl.String,
    "month": pl.Date,
    "file_name": pl.String,
    "finished_at": pl.Datetime("us"),
    "outcome": pl.String,
    "rows_loaded": pl.Int64,
    "rows_rejected": pl.Int64,
}


def load_audit(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """The latest load of each source and month up to the report month (empty if none)."""
    if not has_table(con, "audit", "load_audit"):
        log.warning("the warehouse has no audit.load_audit; the report cannot say 'data as of'")
        return pl.DataFrame(schema=LOAD_AUDIT_SCHEMA)
    return _frame(
        con,
        """
        select source, month, file_name, finished_at, outcome, rows_loaded, rows_rejected
        from audit.load_audit
        where month <= ? and outcome = 'loaded'
        qualify row_number() over (partition by source, month order by finished_at desc) = 1
        order by source, month
        """,
        [month],
    )


def check_results(con: duckdb.DuckDBPyConnection, first: date, month: date) -> pl.DataFrame | None:
    """Failed quality checks of the loads the months shown are built from (the latest loaded
    file per source and month); None when the warehouse has no ``audit.check_results``."""
    if not has_table(con, "audit", "check_results") or not has_table(con, "audit", "load_audit"):
        return None
    return _frame(
        con,
        """
        with in_effect as (
            select load_id from audit.load_audit
            where outcome = 'loaded' and month >= ? and month <= ?
            qualify row_number() over (partition by source, month order by finished_at desc) = 1
        )
        select c.source, c.month, c.rule, c.severity, c.failing_rows, c.message
        from audit.check_results as c
        inner join in_effect using (load_id)
        where c.outcome = 'failed'
        order by c.severity, c.source, c.rule, c.month
        """,
        [first, month],
    )


def published_at(con: duckdb.DuckDBPyConnection):
    if not has_table(con, "meta", "publication"):
        return None
    return _scalar(con, "select max(published_at) from meta.publication")


def publication_id(con: duckdb.DuckDBPyConnection) -> int | None:
    from lmkpi.warehouse.history import current

    return current(con)


# What a report marks as revised: the headline value of each table, for its municipality.
REVISED_VALUES = {
    "fct_public_benefits": "full_time_persons_plan",
    "fct_goal_indicators": "value",
}


def revisions(
    con: duckdb.DuckDBPyConnection, code: int, month: date, plan_year: int | None = None
) -> tuple[int | None, list]:
    """The previous publication and the headline values of ``code`` up to ``month`` that
    changed since it (a restatement; goals of the ``plan_year`` plan), oldest month first."""
    from lmkpi.warehouse import history

    now = history.current(con)
    before = history.previous_of(con, now) if now else None
    if before is None:
        return None, []
    found = history.changes(con, before, now, municipality=code, tables=tuple(REVISED_VALUES))
    kept = [
        c
        for c in found
        if c.column == REVISED_VALUES[c.table]
        and c.key["month"] <= month
        and c.key.get("plan_year", plan_year) == plan_year
        and c.before is not None
        and c.after is not None
    ]
    return before, sorted(kept, key=lambda c: (c.key["month"], c.table, str(c.key)))
