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
from dataclasses import dataclass
from pathlib import Path

from lmkpi.ingest import Delivery, FileRejected, read_extract
from lmkpi.months import Month
from lmkpi.permissions import private_file
from lmkpi.quality import (
    AcceptedRows,
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
        message = (
            f"{delivery.file_name} is identical to the file already loaded "
            f"(load {history.loaded_id}); nothing to do"
        )
        return commit(settings, LoadOutcome(record.finished(OUTCOME_UNCHANGED, message)))
    try:
        result = read_extract(delivery, key=key)
    except FileRejected as exc:
        report = file_rejected_report(delivery.source, delivery.month, exc)
        summary = write_summary(report, settings.quality_dir, record.load_id)
        refused = record.finished(
            OUTCOME_REJECTED_FILE, str(exc), validation_summary=str(summary), checks_blocking=1
        )
        commit(settings, LoadOutcome(refused, report, summary))
        raise
    report = validate_read(result, previous=history.previous_profile, config=settings.quality)
    summary = write_summary(report, settings.quality_dir, record.load_id)
    accepted = accept_rows(result, report)
    counts = {
        "encoding": result.encoding,
        "rows_read": accepted.rows_read,
        "rows_rejected": accepted.rows_rejected,
        "validation_summary": str(summary),
        "checks_blocking": len(report.blocking),
        "checks_warning": len(report.warnings),
    }
    if report.blocking:
        rules = ", ".join(f"{o.rule} ({o.message})" for o in report.blocking)
        message = (
            f"{delivery.file_name}: BLOCKED by {rules}; the month was not loaded. See {summary}"
        )
        blocked = record.finished(OUTCOME_BLOCKED, message, **counts)
        return commit(settings, LoadOutcome(blocked, report, summary), accepted, rows=False)
    message = (
        f"{delivery.file_name}: {accepted.rows_read} rows read, {accepted.frame.height} loaded, "
        f"{accepted.rows_rejected} rejected; checks: {report.verdict}"
    )
    loaded = record.finished(
        OUTCOME_LOADED,
        message,
        rows_loaded=accepted.frame.height,
        superseded_load_id=history.loaded_id,
        profile_json=json.dumps(profile(delivery.source, accepted.frame, delivery.month).to_dict()),
        **counts,
    )
    return commit(settings, LoadOutcome(loaded, report, summary), accepted, rows=True)


def refuse(
    settings: Settings,
    source: str,
    month: Month,
    error: FileRejected,
    *,
    triggered_by: str,
    run_id: str | None = None,
) -> LoadOutcome:
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
    report = file_rejected_report(source, month, error)
    summary = write_summary(report, settings.quality_dir, record.load_id)
    refused = record.finished(
        OUTCOME_REJECTED_FILE, str(error), validation_summary=str(summary), checks_blocking=1
    )
    with connect(settings.work_db) as con:
        ensure_audit_tables(con)
    return commit(settings, LoadOutcome(refused, report, summary))


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
    accepted: AcceptedRows | None = None,
    *,
    rows: bool = False,
) -> LoadOutcome:
    """One transaction: the month's raw rows (when ``rows``), the audit row, the check
    results and the rejected lines. Either all of it is in the working database or none."""
    record = outcome.record
    with connect(settings.work_db) as con:
        con.execute("begin transaction")
        if rows and accepted is not None:
            replace_month(con, record.source, outcome.month, accepted.frame, record.load_id)
        record_load(con, record, outcome.report, accepted.rejects if accepted else None)
        con.execute("commit")
    (log.error if record.outcome == OUTCOME_BLOCKED else log.info)("%s", record.message)
    return outcome
