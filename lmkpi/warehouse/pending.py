"""Which months dbt must rebuild: those whose raw rows changed since the last publication,
and every month after them.

The ingest records a month in ``audit.pending_months`` in the same transaction that writes its
raw rows; a successful publish clears the months it published. So the pending months are
exactly what changed and is not yet published, whatever happened in between (a killed run
leaves its months pending, and the next run rebuilds them with no manual step).

Later months depend on earlier ones (spells and their durations, "3 months running",
year-to-date averages), so the window runs from the earliest pending month to the end of the
loaded history: the marts then equal a clean load of the final files, whatever the order of
deliveries and restatements. When nothing is pending, nothing changed: dbt is not run and
nothing is published (unless forced, when the window is the run's own partitions).
"""

from dataclasses import dataclass
from datetime import date, datetime

from lmkpi.contracts import SOURCES
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


def latest_loaded_month(work_db) -> date | None:
    """The latest month with rows in any raw source table."""
    if not work_db.exists():
        return None
    with connect(work_db) as con:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw'"
            ).fetchall()
        }
        found = [
            con.execute(f"select max(month) from raw.{source}").fetchone()[0]
            for source in SOURCES
            if source in tables
        ]
    found = [m for m in found if m is not None]
    return max(found) if found else None


@dataclass(frozen=True)
class RebuildWindow:
    start: date
    end: date  # exclusive
    reason: str


def rebuild_window(
    partition: tuple[date, date],
    pending: list[date],
    latest: date | None,
    *,
    force: bool = False,
) -> RebuildWindow | None:
    """The half-open window dbt rebuilds, or None when nothing changed (module docstring)."""
    starts = list(pending) + ([partition[0]] if force else [])
    if not starts:
        return None
    history_end = Month.of(latest).end if latest else partition[1]
    ends = [partition[1] if force else Month.of(max(pending)).end, history_end]
    start, end = min(starts), max(ends)
    names = [str(Month.of(m)) for m in pending]
    changed = (
        ", ".join(names)
        if len(names) <= 6
        else f"{len(names)} months from {names[0]} to {names[-1]}"
    ) or "none"
    reason = f"changed and unpublished: {changed}" + ("; forced" if force else "")
    if end > min(starts) and end > Month.of(max(starts)).end:
        reason += f"; later months up to {Month.of(end).previous} depend on them"
    return RebuildWindow(start, end, reason)


def clear_pending(work_db, months: list[date], before: datetime) -> None:
    """Forget pending months that were recorded before ``before`` (they are published now)."""
    if not months or not work_db.exists():
        return
    with connect(work_db) as con:
        con.execute(
            "delete from audit.pending_months where month in (select unnest(?)) and since <= ?",
            [months, before],
        )
