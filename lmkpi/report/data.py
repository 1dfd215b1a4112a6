"""Gathering: run the report's queries for one municipality and month into plain frames."""

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime

import duckdb
import polars as pl

from lmkpi.errors import LmkpiError
from lmkpi.months import Month
from lmkpi.report import queries
from lmkpi.report.formatting import add_months, month_name

log = logging.getLogger(__name__)

HISTORY_MONTHS = 24  # months before the report month shown in charts and tables


class ReportDataError(LmkpiError):
    """The warehouse cannot produce the report asked for; the message says why."""


@dataclass(frozen=True)
class ReportData:
    code: int
    month: date
    first: date  # first month of the history read
    municipality: dict
    clusters: pl.DataFrame
    goals: pl.DataFrame
    indicators: pl.DataFrame
    series: pl.DataFrame
    benchmark: pl.DataFrame
    benefit_groups: pl.DataFrame
    benefit_index: pl.DataFrame
    joblog: pl.DataFrame
    joblog_lag: int | None
    housing_addresses: pl.DataFrame
    housing_months: pl.DataFrame
    load_audit: pl.DataFrame
    check_results: pl.DataFrame | None
    published_at: datetime | None
    benefit_benchmark: pl.DataFrame
    ministry_benchmark: pl.DataFrame
    reconciliation: pl.DataFrame
    plan_year: int = 2019  # the plan the report shows (lmkpi.employment_plan)
    housing_outlook: pl.DataFrame | None = None  # fct_housing_outlook (all scenarios)
    previous_plan: "ReportData | None" = None  # January: last year's plan, final results
    publication_id: int | None = None  # the publication the report is built from
    previous_publication: int | None = None  # what revisions are measured against
    revisions: tuple = ()  # lmkpi.warehouse.history.Change, headline values changed since


def _final_results(con: duckdb.DuckDBPyConnection, data: "ReportData", year: int) -> "ReportData":
    """Last year's plan as of its last month: every goal with its final status."""
    december = date(year, 12, 1)
    goals = queries.goals(con, year)
    earliest = _earliest_goal_month(goals) or date(year, 1, 1)
    first = add_months(earliest, -12)
    return replace(
        data,
        month=december,
        plan_year=year,
        goals=goals,
        indicators=queries.goal_indicators(con, data.code, first, december, year),
        series=queries.measure_series(con, data.code, first, december),
        previous_plan=None,
    )


def period_bounds(period: str | None) -> tuple[date, date] | None:
    """``2017-12/2018-11`` -> (2017-12-01, 2018-11-01); ``2019-10`` -> (2019-10-01, 2019-10-01)."""
    if not period:
        return None
    parts = [p.strip() for p in period.split("/")]
    return Month.parse(parts[0]).first_day, Month.parse(parts[-1]).first_day


def _earliest_goal_month(goals: pl.DataFrame) -> date | None:
    found = []
    for row in goals.iter_rows(named=True):
        for period in (row["baseline_period"], row["reported_status_period"]):
            bounds = period_bounds(period)
            if bounds:
                found.append(bounds[0])
    return min(found) if found else None


def gather(
    con: duckdb.DuckDBPyConnection,
    code: int,
    month: date,
    *,
    history_months: int = HISTORY_MONTHS,
) -> ReportData:
    found = queries.municipality(con, code)
    if found.is_empty():
        raise ReportDataError(
            f"municipality {code} is not in marts.dim_municipality; give a kommunekode such as "
            "173 (Lyngby-Taarbæk)"
        )
    plan_year = queries.report_plan_year(con, code, month) or month.year
    goals = queries.goals(con, plan_year)
    first = add_months(month, -history_months)
    earliest = _earliest_goal_month(goals)
    series_first = min(first, add_months(earliest, -12)) if earliest else first
    indicators = queries.goal_indicators(con, code, series_first, month, plan_year)
    if indicators.filter(pl.col("month") == month).is_empty():
        latest = queries.goal_indicators(con, code, date(1900, 1, 1), date(2999, 1, 1))
        span = f"{latest['month'].min()}..{latest['month'].max()}" if latest.height else "no months"
        raise ReportDataError(
            f"no goal indicators for municipality {code} in {month_name(month)} "
            f"(the warehouse has {span}); load the month first (lmkpi load --month "
            f"{month:%Y-%m})"
        )
    housing_first = min(first, date(month.year - 2, 1, 1))
    previous, revised = queries.revisions(con, code, month, plan_year)
    index_base = queries.index_base_month(con)
    data = ReportData(
        code=code,
        month=month,
        first=first,
        municipality=found.row(0, named=True),
        clusters=queries.clusters(con, code),
        goals=goals,
        indicators=indicators,
        series=queries.measure_series(con, code, series_first, month),
        benchmark=queries.benchmark(con, code, month),
        benefit_groups=queries.benefit_groups(con),
        benefit_index=queries.benefit_index(con, code, first, month),
        joblog=queries.joblog(con, add_months(month, -11), month),
        joblog_lag=queries.joblog_publication_lag(con),
        housing_addresses=queries.housing_addresses(con, code, month),
        housing_months=queries.housing_months(con, code, housing_first, month),
        load_audit=queries.load_audit(con, month),
        check_results=queries.check_results(con, first, month),
        published_at=queries.published_at(con),
        benefit_benchmark=queries.benefit_benchmark(con, code, first, month, index_base),
        ministry_benchmark=queries.ministry_benchmark(con, code, month),
        reconciliation=queries.reconciliation(con, code, month),
        publication_id=queries.publication_id(con),
        previous_publication=previous,
        revisions=tuple(revised),
        plan_year=plan_year,
        housing_outlook=queries.housing_outlook(con, code),
    )
    if month.month == 1 and plan_year - 1 in queries.plan_years(con):
        data = replace(data, previous_plan=_final_results(con, data, plan_year - 1))
    log.debug(
        "gathered report data for %s %s: %d goal rows, %d joblog rows, %d housing addresses",
        code,
        month,
        data.indicators.height,
        data.joblog.height,
        data.housing_addresses.height,
    )
    return data
