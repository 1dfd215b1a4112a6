"""Rebuilding the raw layer of the working database from the archive.

Every delivery that was loaded is in ``archive/`` byte for byte, and the audit says which
version of each source and month is in effect (the latest ``loaded``). That is enough to make
the raw layer again:

- ``lmkpi key rotate --new-key-file F``: the key changes deliberately; every month in effect
  is read again from the archive with the new key (so people link across months again) and
  the new key's fingerprint replaces the old one. ``--fresh`` instead starts a new history
  (raw emptied; later loads build it up).
- ``lmkpi rebuild``: the working database is damaged; it is moved aside, a new one is made
  with the audit history of the published warehouse (load audit and check results), and
  every month in effect is read again from the archive.

Both end with dbt and publish over the whole history (the ingest is not run again). A month
whose archived file is gone (archive retention) cannot be rebuilt: its raw rows are removed,
and the command says which months.
"""

import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lmkpi.contracts import SOURCES
from lmkpi.errors import WarehouseError
from lmkpi.ingest import Delivery
from lmkpi.load import LoadOutcome, load_delivery
from lmkpi.months import Month
from lmkpi.settings import Settings, check_key_strength
from lmkpi.warehouse.audit import ensure_audit_tables
from lmkpi.warehouse.db import connect, writer_lock
from lmkpi.warehouse.keys import set_fingerprint
from lmkpi.warehouse.raw import ensure_raw_tables, raw_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InEffect:
    source: str
    month: Month
    file_name: str
    archived_path: Path | None


def in_effect(con: duckdb.DuckDBPyConnection) -> list[InEffect]:
    """The delivery whose rows are in raw, per source and month (the latest loaded)."""
    rows = con.execute(
        """
        select source, month, file_name, archived_path from audit.load_audit
        where outcome = 'loaded'
        qualify row_number() over (partition by source, month order by finished_at desc) = 1
        order by month, source
        """
    ).fetchall()
    return [
        InEffect(s, Month.of(m), f, Path(a) if a else None) for s, m, f, a in rows if s in SOURCES
    ]


@dataclass(frozen=True)
class Reloaded:
    outcomes: list[LoadOutcome]
    lost: list[InEffect]  # archived file gone: the month's raw rows were removed

    @property
    def months(self) -> list[Month]:
        return sorted({o.month for o in self.outcomes})


def reload_from_archive(settings: Settings, key: bytes, triggered_by: str) -> Reloaded:
    """Read every delivery in effect again from the archive into raw, with ``key``."""
    with connect(settings.work_db) as con:
        ensure_audit_tables(con)
        ensure_raw_tables(con)
        wanted = in_effect(con)
    outcomes, lost = [], []
    with tempfile.TemporaryDirectory(dir=settings.work_dir) as scratch:
        for item in wanted:
            if item.archived_path is None or not item.archived_path.is_file():
                lost.append(item)
                with connect(settings.work_db) as con:
                    table = raw_table(item.source)
                    con.execute(f"delete from {table} where month = ?", [item.month.first_day])
                log.warning("%s %s: not in the archive any more; its rows are removed",
                            item.source, item.month)  # fmt: skip
                continue
            copy = Path(scratch) / item.source / item.file_name
            copy.parent.mkdir(exist_ok=True)
            shutil.copy2(item.archived_path, copy)
            delivery = Delivery.at(copy, item.source)
            outcome = load_delivery(
                delivery, settings, key=key, triggered_by=triggered_by, force=True
            )
            outcomes.append(outcome)
            log.info("[%d/%d] %s %s read again from the archive", len(outcomes) + len(lost),
                     len(wanted), item.source, item.month)  # fmt: skip
    return Reloaded(outcomes, lost)


def rotate_key(settings: Settings, new_key: bytes, *, fresh: bool = False) -> Reloaded:
    """Change the pseudonym key: re-pseudonymise the history, or (``fresh``) start anew."""
    check_key_strength(new_key)
    with writer_lock(settings.work_dir):
        with connect(settings.work_db) as con:
            ensure_audit_tables(con)
            ensure_raw_tables(con)
            set_fingerprint(con, new_key)
            if fresh:
                for source in SOURCES:
                    con.execute(f"delete from {raw_table(source)}")
                con.execute("delete from audit.pending_months")
        if fresh:
            return Reloaded([], [])
        return reload_from_archive(settings, new_key, "key-rotation")


def rebuild_working_database(settings: Settings, key: bytes) -> tuple[Path | None, Reloaded]:
    """Move a damaged working database aside and make it again (module docstring)."""
    with writer_lock(settings.work_dir):
        damaged = None
        if settings.work_db.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            damaged = settings.work_db.with_name(f"{settings.work_db.name}.damaged-{stamp}")
            settings.work_db.rename(damaged)
            wal = settings.work_db.with_name(settings.work_db.name + ".wal")
            if wal.exists():
                wal.rename(damaged.with_name(damaged.name + ".wal"))
        if not settings.warehouse_db.exists():
            raise WarehouseError(
                f"there is no published warehouse at {settings.warehouse_db} to take the audit "
                "history from; load the months again from their files (lmkpi load --from ...)"
            )
        with connect(settings.work_db) as con:
            ensure_audit_tables(con)
            ensure_raw_tables(con)
            con.execute(f"attach '{settings.warehouse_db}' as published (read_only)")
            for table in ("load_audit", "check_results"):
                con.execute(
                    f"insert into audit.{table} by name select * from published.audit.{table}"
                )
            con.execute("detach published")
            set_fingerprint(con, key)
        return damaged, reload_from_archive(settings, key, "rebuild")
