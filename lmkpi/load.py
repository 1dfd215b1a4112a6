"""The load of one delivery: read (ingest) -> validate (quality) -> replace the month
(warehouse.raw) + record (warehouse.audit).

``load_delivery`` composes the steps and reads top to bottom; each step is a function of its
own layer, tested on its own:

1. ``archive_delivery``: keep the bytes (every version of a month stays retrievable);
2. ``month_history``: the load this one would supersede, and last month's profile;
3. ``read_extract``: parse as the contract says, CPR numbers pseudonymised at the door;
4. ``validate_read`` + ``write_summary``: the great-expectations suite, the readable summary;
5. ``accept_rows``: drop rejected lines; rows read = loaded + rejected, or nothing loads;
6. ``commit``: in one transaction, ``replace_month`` (unless blocked) and ``record_load``
   (the audit row, every check result, the rejected lines).

A file refused whole raises FileRejected (recorded first); a failed critical check returns
outcome ``blocked`` with the month's raw rows untouched; the same bytes delivered again are
``unchanged`` unless forced.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from lmkpi.ingest import Delivery, FileRejected, read_extract
from lmkpi.months import Month
from lmkpi.permissions import private_file
from lmkpi.quality import (
    ValidationReport,
    accept_rows,
    file_rejected_report,
    profile,
    validate_read,
    write_summary,
)
from lmkpi.settings import Settings
from lmkpi.warehouse.archive import archive_delivery
from lmkpi.warehouse.audit import (
    OUTCOME_BLOCKED,
    OUTCOME_LOADED,
    OUTCOME_REJECTED_FILE,
    OUTCOME_UNCHANGED,
    LoadRecord,
    ensure_audit_tables,
    month_history,
    new_load_id,
    now,
    record_load,
)
from lmkpi.warehouse.db import connect
from lmkpi.warehouse.raw import ensure_raw_tables, replace_month

log = logging.getLogger(__name__)


def release_memory() -> None:
    """Give the heap the last month's frames left behind back to the system: a collection,
    then glibc's ``malloc_trim`` (Linux). Called between the months of a backfill: without
    it the process kept tens of MB per month of freed but unreturned memory (pandas and
    Arrow buffers of the validation), and a 45-month national backfill's process grew to
    5 GiB (docs/benchmarks.md)."""
    import ctypes
    import gc
    import sys

    gc.collect()
    if not gc.get_freeze_count():
        # What survives the first collection is the process's own (imports, Dagster, the
        # great-expectations context): later collections look only at what came after it
        # (a full collection of it took 0.27 s, three times per month of a backfill).
        gc.freeze()
    if "pyarrow" in sys.modules:  # Arrow's own pool (jemalloc) keeps freed pages a while
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:  # not glibc (e.g. musl): nothing to trim
            pass


@dataclass(frozen=True)
class LoadOutcome:
    """How one load ended: its audit row, and the validation report when there is one."""

    record: LoadRecord
    report: ValidationReport | None = None
    report_path: Path | None = None

    @property
    def month(self) -> Month:
        return Month.of(self.record.month)


def load_delivery(
    delivery: Delivery,
    settings: Settings,
    *,
    key: bytes,
    triggered_by: str,
    run_id: str | None = None,
    force: bool = False,
) -> LoadOutcome:
    """Load ``delivery`` into ``raw.<source>`` of the working database (module docstring)."""
    record = start_record(delivery, settings, triggered_by, run_id)
    with connect(settings.work_db) as con:
        ensure_audit_tables(con)
        ensure_raw_tables(con)
        history = month_history(con, delivery.source, delivery.month)
    if history.loaded_sha256 == delivery.sha256 and not force:
        return unchanged(settings, record, history.loaded_id)
    try:
        result = read_extract(delivery, key=key)
    except FileRejected as exc:
        refuse_read(settings, record, delivery.month, exc)
        raise
    report = validate_read(result, previous=history.previous_profile, config=settings.quality)
    accepted = accept_rows(result, report)
    month, rows, load_id = delivery.month, accepted.frame, record.load_id
    return finish(
        settings,
        record,
        report,
        Rows(result.encoding, accepted.rows_read, rows.height, accepted.rejects),
        superseded=history.loaded_id,
        profile=lambda: json.dumps(profile(delivery.source, rows, month).to_dict()),
        write=lambda con: replace_month(con, delivery.source, month, rows, load_id),
    )


@dataclass(frozen=True)
class Rows:
    """What a read file gave: rows read, rows kept, and the rejected lines."""

    encoding: str
    read: int
    loaded: int
    rejects: pl.DataFrame

    @property
    def rejected(self) -> int:
        return self.rejects.get_column("line_number").n_unique() if self.rejects.height else 0


def unchanged(settings: Settings, record: LoadRecord, loaded_id: str | None) -> LoadOutcome:
    """The same bytes as the load in effect: recorded, nothing else done."""
    message = (
        f"{record.file_name} is identical to the file already loaded (load {loaded_id}); "
        "nothing to do"
    )
    return commit(settings, LoadOutcome(record.finished(OUTCOME_UNCHANGED, message)))


def refuse_read(settings: Settings, record: LoadRecord, month: Month, error: FileRejected) -> None:
    """A file the reader refused whole: its audit row and a summary (the caller re-raises)."""
    report = file_rejected_report(record.source, month, error)
    summary = write_summary(report, settings.quality_dir, record.load_id)
    refused = record.finished(
        OUTCOME_REJECTED_FILE, str(error), validation_summary=str(summary), checks_blocking=1
    )
    commit(settings, LoadOutcome(refused, report, summary))


def finish(
    settings: Settings,
    record: LoadRecord,
    report: ValidationReport,
    rows: Rows,
    *,
    superseded: str | None,
    profile: Callable[[], str] | None,
    write: Callable[[duckdb.DuckDBPyConnection], None],
) -> LoadOutcome:
    """After validation: blocked (nothing written but the audit) or loaded (``write`` in the
    same transaction as the audit), with the summary written either way."""
    summary = write_summary(report, settings.quality_dir, record.load_id)
    counts = {
        "encoding": rows.encoding,
        "rows_read": rows.read,
        "rows_rejected": rows.rejected,
        "validation_summary": str(summary),
        "checks_blocking": len(report.blocking),
        "checks_warning": len(report.warnings),
    }
    if report.blocking:
        rules = ", ".join(f"{o.rule} ({o.message})" for o in report.blocking)
        message = f"{record.file_name}: BLOCKED by {rules}; nothing was loaded. See {summary}"
        blocked = record.finished(OUTCOME_BLOCKED, message, **counts)
        return commit(settings, LoadOutcome(blocked, report, summary), rows.rejects)
    message = (
        f"{record.file_name}: {rows.read} rows read, {rows.loaded} loaded, {rows.rejected} "
        f"rejected; checks: {report.verdict}"
    )
    loaded = record.finished(
        OUTCOME_LOADED,
        message,
        rows_loaded=rows.loaded,
        superseded_load_id=superseded,
        profile_json=profile() if profile else None,
        **counts,
    )
    return commit(settings, LoadOutcome(loaded, report, summary), rows.rejects, write=write)


def refuse(
    settings: Settings,
    source: str,
    month: Month,
    error: FileRejected,
    *,
    triggered_by: str,
    run_id: str | None = None,
) -> None:
    """Record a file refused before anything of it was read (a symlink or other non-regular
    file, two files for one month): an audit row and a summary; nothing archived or read."""
    record = LoadRecord(
        load_id=new_load_id(),
        source=source,
        month=month.first_day,
        file_name=error.file_name,
        archived_path=None,
        checksum_sha256=None,
        size_bytes=None,
        triggered_by=triggered_by,
        run_id=run_id,
        started_at=now(),
    )
    with connect(settings.work_db) as con:
        ensure_audit_tables(con)
    refuse_read(settings, record, month, error)


def start_record(
    delivery: Delivery, settings: Settings, triggered_by: str, run_id: str | None
) -> LoadRecord:
    """The audit row of a new load, with the delivery archived (and, in the landing folder,
    made the owner's only: it holds CPR numbers)."""
    private_file(delivery.path)
    return LoadRecord(
        load_id=new_load_id(),
        source=delivery.source,
        month=delivery.month.first_day,
        file_name=delivery.file_name,
        archived_path=str(archive_delivery(delivery, settings.archive_dir)),
        checksum_sha256=delivery.sha256,
        size_bytes=delivery.size,
        triggered_by=triggered_by,
        run_id=run_id,
        started_at=now(),
    )


def commit(
    settings: Settings,
    outcome: LoadOutcome,
    rejects: pl.DataFrame | None = None,
    *,
    write: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> LoadOutcome:
    """One transaction: the rows (``write``, e.g. replace the month), the audit row, the
    check results and the rejected lines. Either all of it is in the working database or
    none."""
    record = outcome.record
    with connect(settings.work_db) as con:
        con.execute("begin transaction")
        if write is not None:
            write(con)
        record_load(con, record, outcome.report, rejects)
        con.execute("commit")
    # The CLI's progress line says the outcome in short; the full message is in the audit,
    # the Dagster event log and (for a failed run) the CLI's closing lines.
    log.debug("%s", record.message)
    return outcome
