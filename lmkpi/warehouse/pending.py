"""Months whose raw rows changed but are not yet published (crash recovery).

The ingest records a month in ``audit.pending_months`` in the same transaction that writes its
raw rows. The dbt step widens its window to cover every pending month, and a successful
publish clears them. A run killed at any point therefore leaves a record that makes the next
run rebuild what the killed run left half-done, with no manual step.
"""

from datetime import date, datetime

from lmkpi.months import Month
from lmkpi.warehouse.db import connect


def pending_months(work_db) -> list[date]:
    if not work_db.exists():
        return []
    with connect(work_db) as con:
        exists = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'audit' and table_name = 'pending_months'"
        ).fetchone()[0]
        if not exists:
            return []
        return [
            r[0]
            for r in con.execute("select month from audit.pending_months order by 1").fetchall()
        ]


def widen_window(start: date, end: date, pending: list[date]) -> tuple[date, date]:
    """The smallest half-open month window covering [start, end) and every pending month."""
    if not pending:
        return start, end
    return min(start, min(pending)), max(end, Month.of(max(pending)).end)


def clear_pending(work_db, months: list[date], before: datetime) -> None:
    """Forget pending months that were recorded before ``before`` (they are published now)."""
    if not months or not work_db.exists():
        return
    with connect(work_db) as con:
        con.execute(
            "delete from audit.pending_months where month in (select unnest(?)) and since <= ?",
            [months, before],
        )
