"""Loading one delivered file for one source and month into the working database.

Reads the file with the pure reader (``lmkpi.ingest``), which replaces CPR numbers by keyed
pseudonyms, then replaces that month of ``raw.<source>`` in one transaction and records the
load in ``audit.load_audit`` (and row-level rejects in ``audit.rejects``). Every delivery is
archived, so an earlier version of a restated month stays retrievable.
"""

import hashlib
import logging
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from lmkpi.ingest import SOURCES, FileRejected, ReadResult, month_from_file_name, read_extract
from lmkpi.months import parse_month
from lmkpi.warehouse.audit import (
    AUDIT_DDL,
    OUTCOME_LOADED,
    OUTCOME_REJECTED_FILE,
    OUTCOME_UNCHANGED,
)
from lmkpi.warehouse.db import connect
from lmkpi.warehouse.raw import ensure_raw_tables

log = logging.getLogger(__name__)

EXTENSIONS = {
    "ydelser": (".csv", ".parquet"),
    "joblog": (".csv", ".parquet"),
    "indkvartering": (".csv", ".xlsx"),
}


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


def load_month(
    *,
    source: str,
    month: str,
    landing_dir: Path,
    archive_dir: Path,
    work_db: Path,
    key: bytes,
    triggered_by: str,
    run_id: str | None = None,
    force: bool = False,
) -> LoadOutcome:
    """Load the delivered file of ``source`` for ``month`` into ``raw.<source>``.

    Idempotent: the month's rows are replaced as a whole. The same bytes delivered again are
    a no-op (``unchanged``) unless ``force``. A file refused whole is recorded and re-raised as
    :class:`FileRejected`; the working database's raw rows stay as they were.
    """
    month_start = parse_month(month)
    table = _safe_table(source)
    path = find_delivery(landing_dir, source, month)
    if month_from_file_name(source, path.name) != month:
        raise FileRejected(path.name, "month_mismatch", f"{path.name} is not for {month}")
    load_id = uuid.uuid4().hex
    started = datetime.now(UTC).replace(tzinfo=None)
    checksum = sha256_of(path)
    size = path.stat().st_size
    archived = _archive(path, archive_dir, source, month, checksum)
    base = {
        "load_id": load_id,
        "source": source,
        "month": month_start,
        "file_name": path.name,
        "archived_path": str(archived),
        "checksum_sha256": checksum,
        "size_bytes": size,
        "triggered_by": triggered_by,
        "run_id": run_id,
        "started_at": started,
    }

    with connect(work_db) as con:
        con.execute(AUDIT_DDL)
        ensure_raw_tables(con)
        previous = _latest_load(con, source, month_start)
    superseded = previous[0] if previous else None

    if previous and previous[1] == checksum and not force:
        message = (
            f"{path.name} is identical to the file already loaded (load {superseded}); "
            "nothing to do"
        )
        with connect(work_db) as con:
            _record(
                con,
                base
                | {
                    "finished_at": datetime.now(UTC).replace(tzinfo=None),
                    "outcome": OUTCOME_UNCHANGED,
                    "superseded_load_id": None,
                    "message": message,
                },
            )
        log.info(message)
        return LoadOutcome(
            load_id, source, month, path.name, OUTCOME_UNCHANGED, 0, 0, 0, checksum, None, message
        )

    try:
        result: ReadResult = read_extract(source, path, month=month, key=key)
    except FileRejected as exc:
        with connect(work_db) as con:
            _record(
                con,
                base
                | {
                    "finished_at": datetime.now(UTC).replace(tzinfo=None),
                    "outcome": OUTCOME_REJECTED_FILE,
                    "message": str(exc),
                },
            )
        raise

    rejected_rows = (
        result.rejects.get_column("line_number").n_unique() if result.rejects.height else 0
    )
    if result.rows_read != result.frame.height + rejected_rows:
        raise AccountingError(
            f"{path.name}: rows read {result.rows_read} != rows loaded {result.frame.height} "
            f"+ rows rejected {rejected_rows}; nothing was loaded"
        )

    frame = result.frame.with_columns(
        pl.lit(month_start).alias("month"), pl.lit(load_id).alias("load_id")
    ).rechunk()
    rejects = result.rejects.with_columns(
        pl.lit(load_id).alias("load_id"),
        pl.lit(source).alias("source"),
        pl.lit(month_start).alias("month"),
        pl.lit(path.name).alias("file_name"),
    )
    message = (
        f"{path.name}: {result.rows_read} rows read, {frame.height} loaded, "
        f"{rejected_rows} rejected"
    )
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
        con.execute(
            "delete from audit.rejects where source = ? and month = ?", [source, month_start]
        )
        con.execute("insert into audit.rejects by name select * from incoming_rejects")
        con.execute(
            "insert or ignore into audit.pending_months values (?, ?)", [month_start, started]
        )
        _record(
            con,
            base
            | {
                "encoding": result.encoding,
                "rows_read": result.rows_read,
                "rows_loaded": frame.height,
                "rows_rejected": rejected_rows,
                "finished_at": datetime.now(UTC).replace(tzinfo=None),
                "outcome": OUTCOME_LOADED,
                "superseded_load_id": superseded,
                "message": message,
            },
        )
        con.execute("commit")
    log.info(message)
    return LoadOutcome(
        load_id,
        source,
        month,
        path.name,
        OUTCOME_LOADED,
        result.rows_read,
        frame.height,
        rejected_rows,
        checksum,
        superseded,
        message,
    )
