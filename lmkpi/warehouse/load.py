"""Loading one delivered file for one source and month into the working database.

Reads the file with the pure reader (``lmkpi.ingest``), which replaces CPR numbers by keyed
pseudonyms, then replaces that month of ``raw.<source>`` in one transaction and records the
load in ``audit.load_audit`` (and row-level rejects in ``audit.rejects``). Every delivery is
archived, so an earlier version of a restated month stays retrievable.
"""

import hashlib
import json
import logging
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from lmkpi.ingest import SOURCES, FileRejected, ReadResult, month_from_file_name, read_extract
from lmkpi.months import parse_month
from lmkpi.quality import MonthProfile, ValidationReport
from lmkpi.warehouse.audit import (
    OUTCOME_BLOCKED,
    OUTCOME_LOADED,
    OUTCOME_REJECTED_FILE,
    OUTCOME_UNCHANGED,
    ensure_audit_tables,
)
from lmkpi.warehouse.db import connect
from lmkpi.warehouse.raw import ensure_raw_tables

log = logging.getLogger(__name__)

EXTENSIONS = {
    "ydelser": (".csv", ".parquet"),
    "joblog": (".csv", ".parquet"),
    "indkvartering": (".csv", ".xlsx"),
}


REJECT_COLUMNS = ["line_number", "column", "rule", "message"]


class MissingDelivery(FileNotFoundError):
    """No file for the source and month in the landing folder."""


class AccountingError(RuntimeError):
    """rows read != rows loaded + rows rejected: the reader lost or invented rows."""


@dataclass(frozen=True)
class LoadOutcome:
    load_id: str
    source: str
    month: str
    file_name: str
    outcome: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    checksum_sha256: str
    superseded_load_id: str | None
    message: str
    report: ValidationReport | None = None
    report_path: Path | None = None


_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def new_load_id() -> str:
    """A random 128-bit id written as 32 letters a-p: it lands in messages and file names,
    and a hex id can hold a run of ten digits that a CPR scan would rightly flag."""
    return uuid.uuid4().hex.translate(_LETTERS)


def find_delivery(landing_dir: Path, source: str, month: str) -> Path:
    """The file delivered for ``source`` and ``month`` (names validated, no traversal)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    parse_month(month)
    folder = landing_dir / source
    candidates = [folder / f"{source}_{month}{ext}" for ext in EXTENSIONS[source]]
    found = [p for p in candidates if p.is_file()]
    if not found:
        names = " or ".join(p.name for p in candidates)
        raise MissingDelivery(f"no {source} delivery for {month}: expected {names} in {folder}")
    if len(found) > 1:
        raise FileRejected(
            file_name=found[0].name,
            rule="ambiguous_delivery",
            message=(
                f"both {' and '.join(p.name for p in found)} are in {folder}; "
                "keep exactly one file per source and month"
            ),
        )
    return found[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _latest_load(con, source: str, month_start: date) -> tuple[str, str] | None:
    row = con.execute(
        """
        select load_id, checksum_sha256 from audit.load_audit
        where source = ? and month = ? and outcome in ('loaded', 'unchanged')
        order by finished_at desc limit 1
        """,
        [source, month_start],
    ).fetchone()
    return (row[0], row[1]) if row else None


def _archive(path: Path, archive_dir: Path, source: str, month: str, checksum: str) -> Path:
    target = archive_dir / source / month / f"{checksum[:16]}_{path.name}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return target


def _safe_table(source: str) -> str:
    if source not in SOURCES or not re.fullmatch(r"[a-z_]+", source):
        raise ValueError(f"unknown source {source!r}")
    return f"raw.{source}"


def _record(con, values: dict) -> None:
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    con.execute(f"insert into audit.load_audit ({cols}) values ({marks})", list(values.values()))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _previous_profile(con, source: str, month_start: date) -> MonthProfile | None:
    """The profile of the loaded version of the month before, for the distribution checks."""
    prev = (month_start - timedelta(days=1)).replace(day=1)
    row = con.execute(
        """
        select profile_json from audit.load_audit
        where source = ? and month = ? and outcome = 'loaded' and profile_json is not null
        order by finished_at desc limit 1
        """,
        [source, prev],
    ).fetchone()
    return MonthProfile.from_dict(json.loads(row[0])) if row else None


def _write_summary(report: ValidationReport, quality_dir: Path, load_id: str) -> Path:
    """The readable validation summary (own HTML, offline) and its Markdown twin."""
    folder = quality_dir / report.source / report.month
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{report.source}_{report.month}_{load_id[:12]}"
    (folder / f"{stem}.md").write_text(report.to_markdown(), encoding="utf-8")
    html = folder / f"{stem}.html"
    html.write_text(report.to_html(), encoding="utf-8")
    return html


def load_month(
    *,
    source: str,
    month: str,
    landing_dir: Path,
    archive_dir: Path,
    work_db: Path,
    key: bytes,
    triggered_by: str,
    quality_dir: Path | None = None,
    run_id: str | None = None,
    force: bool = False,
) -> LoadOutcome:
    """Load the delivered file of ``source`` for ``month`` into ``raw.<source>``.

    read (pseudonymise) -> validate (great-expectations suite) -> write, in that order:

    - a file refused whole raises :class:`FileRejected` (recorded, with a summary);
    - a failed critical expectation returns outcome ``blocked``: nothing of the month is
      replaced, so nothing downstream changes for it;
    - otherwise rows failing row rules go to ``audit.rejects`` (with line and rule) and the
      rest replace the month's rows; rows read = loaded + rejected is asserted.

    Idempotent: the month's rows are replaced as a whole. The same bytes delivered again are
    a no-op (``unchanged``) unless ``force``.
    """
    from lmkpi.quality import file_rejected_report, profile, rejects_frame, validate_read

    month_start = parse_month(month)
    table = _safe_table(source)
    path = find_delivery(landing_dir, source, month)
    if month_from_file_name(source, path.name) != month:
        raise FileRejected(path.name, "month_mismatch", f"{path.name} is not for {month}")
    quality_dir = quality_dir or work_db.parent.parent / "quality"
    load_id = new_load_id()
    checksum = sha256_of(path)
    base = {
        "load_id": load_id,
        "source": source,
        "month": month_start,
        "file_name": path.name,
        "archived_path": str(_archive(path, archive_dir, source, month, checksum)),
        "checksum_sha256": checksum,
        "size_bytes": path.stat().st_size,
        "triggered_by": triggered_by,
        "run_id": run_id,
        "started_at": _now(),
    }

    with connect(work_db) as con:
        ensure_audit_tables(con)
        ensure_raw_tables(con)
        previous = _latest_load(con, source, month_start)
        previous_profile = _previous_profile(con, source, month_start)
    superseded = previous[0] if previous else None

    def outcome(kind: str, message: str, **counts) -> LoadOutcome:
        return LoadOutcome(
            load_id,
            source,
            month,
            path.name,
            kind,
            counts.get("read", 0),
            counts.get("loaded", 0),
            counts.get("rejected", 0),
            checksum,
            superseded if kind == OUTCOME_LOADED else None,
            message,
            counts.get("report"),
            counts.get("report_path"),
        )

    if previous and previous[1] == checksum and not force:
        message = (
            f"{path.name} is identical to the file already loaded (load {superseded}); "
            "nothing to do"
        )
        with connect(work_db) as con:
            _record(con, base | {"finished_at": _now(), "outcome": OUTCOME_UNCHANGED,
                                 "message": message})  # fmt: skip
        log.info(message)
        return outcome(OUTCOME_UNCHANGED, message)

    try:
        result: ReadResult = read_extract(source, path, month=month, key=key)
    except FileRejected as exc:
        report = file_rejected_report(source, month, exc)
        summary = _write_summary(report, quality_dir, load_id)
        with connect(work_db) as con:
            _record(con, base | {"finished_at": _now(), "outcome": OUTCOME_REJECTED_FILE,
                                 "message": str(exc), "validation_summary": str(summary),
                                 "checks_blocking": 1})  # fmt: skip
        raise

    report = validate_read(result, previous=previous_profile)
    summary = _write_summary(report, quality_dir, load_id)
    rejects = pl.concat([result.rejects, rejects_frame(report)], how="diagonal_relaxed")
    rejected_rows = rejects.get_column("line_number").n_unique() if rejects.height else 0
    frame = result.frame.filter(~pl.col("line_number").is_in(list(report.rejected_lines)))
    if result.rows_read != frame.height + rejected_rows:
        raise AccountingError(
            f"{path.name}: rows read {result.rows_read} != rows loaded {frame.height} "
            f"+ rows rejected {rejected_rows}; nothing was loaded"
        )
    checks = {
        "encoding": result.encoding,
        "rows_read": result.rows_read,
        "validation_summary": str(summary),
        "checks_blocking": len(report.blocking),
        "checks_warning": len(report.warnings),
    }
    rejects = rejects.select(REJECT_COLUMNS).with_columns(
        pl.lit(load_id).alias("load_id"),
        pl.lit(source).alias("source"),
        pl.lit(month_start).alias("month"),
        pl.lit(path.name).alias("file_name"),
    )

    if report.blocking:
        rules = ", ".join(f"{o.rule} ({o.message})" for o in report.blocking)
        message = f"{path.name}: BLOCKED by {rules}; the month was not loaded. See {summary}"
        with connect(work_db) as con:
            con.register("incoming_rejects", rejects.to_arrow())
            con.execute("insert into audit.rejects by name select * from incoming_rejects")
            _record(con, base | checks | {"rows_loaded": 0, "rows_rejected": rejected_rows,
                                          "finished_at": _now(), "outcome": OUTCOME_BLOCKED,
                                          "message": message})  # fmt: skip
        log.error(message)
        return outcome(OUTCOME_BLOCKED, message, read=result.rows_read, rejected=rejected_rows,
                       report=report, report_path=summary)  # fmt: skip

    frame = frame.with_columns(
        pl.lit(month_start).alias("month"), pl.lit(load_id).alias("load_id")
    ).rechunk()
    message = (
        f"{path.name}: {result.rows_read} rows read, {frame.height} loaded, "
        f"{rejected_rows} rejected; checks: {report.verdict}"
    )
    month_profile = json.dumps(profile(source, frame, month).to_dict())
    with connect(work_db) as con:
        con.register("incoming", frame.to_arrow())
        con.register("incoming_rejects", rejects.to_arrow())
        con.execute("begin transaction")
        existing = {r[0] for r in con.execute(f"describe {table}").fetchall()}
        for name, dtype in zip(
            frame.columns, con.sql("select * from incoming").dtypes, strict=True
        ):
            if name not in existing:  # a compatible contract extension: a new optional column
                con.execute(f'alter table {table} add column "{name}" {dtype}')
        con.execute(f"delete from {table} where month = ?", [month_start])
        con.execute(f"insert into {table} by name select * from incoming")
        con.execute("insert into audit.rejects by name select * from incoming_rejects")
        con.execute(
            "insert or ignore into audit.pending_months values (?, ?)", [month_start, _now()]
        )
        _record(con, base | checks | {"rows_loaded": frame.height, "rows_rejected": rejected_rows,
                                      "finished_at": _now(), "outcome": OUTCOME_LOADED,
                                      "superseded_load_id": superseded, "message": message,
                                      "profile_json": month_profile})  # fmt: skip
        con.execute("commit")
    log.info(message)
    return outcome(OUTCOME_LOADED, message, read=result.rows_read, loaded=frame.height,
                   rejected=rejected_rows, report=report, report_path=summary)  # fmt: skip
