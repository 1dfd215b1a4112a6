"""The archive of deliveries: every file ever loaded, kept byte for byte for audit.

``archive/<source>/<YYYY-MM>/<sha256[:16]>_<file name>``: a restated month keeps each of its
versions, so the one a report was built from stays retrievable, for as long as the retention
says (``LMKPI_ARCHIVE_RETENTION_MONTHS``, default 36; ``lmkpi archive prune``).
"""

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lmkpi.errors import MonthError
from lmkpi.ingest import Delivery
from lmkpi.months import Month
from lmkpi.permissions import private_dir, private_file
from lmkpi.warehouse.audit import now
from lmkpi.warehouse.db import connect


def archive_path(delivery: Delivery, archive_dir: Path) -> Path:
    return (
        archive_dir
        / delivery.source
        / delivery.month.key
        / f"{delivery.sha256[:16]}_{delivery.file_name}"
    )


def archive_delivery(delivery: Delivery, archive_dir: Path) -> Path:
    """Copy the delivery into the archive (once per content); return where it is."""
    target = archive_path(delivery, archive_dir)
    if not target.exists():
        private_dir(target.parent)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copy2(delivery.path, partial)
        private_file(partial).replace(target)
    return target


PRUNE_DDL = """
create table if not exists audit.archive_prunes (
    pruned_at timestamp not null,
    source varchar not null,
    month date not null,
    archived_path varchar not null,
    size_bytes bigint,
    retention_months integer
)
"""


@dataclass(frozen=True)
class Pruned:
    source: str
    month: Month
    path: Path
    size_bytes: int


def prune_archive(
    archive_dir: Path, work_db: Path, retention_months: int, today: date | None = None
) -> list[Pruned]:
    """Delete archived deliveries of months more than ``retention_months`` before this month
    (raw files hold CPR numbers: they are not kept for ever); every deletion is recorded in
    ``audit.archive_prunes``. Months inside the retention keep every version."""
    keep_from = Month.of(today or date.today()) - retention_months
    pruned = []
    for source_dir in sorted(p for p in archive_dir.iterdir() if p.is_dir()):
        for month_dir in sorted(p for p in source_dir.iterdir() if p.is_dir()):
            try:
                month = Month.parse(month_dir.name)
            except MonthError:
                continue  # not a folder lmkpi made
            if month >= keep_from:
                continue
            for path in sorted(month_dir.iterdir()):
                pruned.append(Pruned(source_dir.name, month, path, path.stat().st_size))
    with connect(work_db) as con:
        con.execute(PRUNE_DDL)
        for p in pruned:
            con.execute(
                "insert into audit.archive_prunes values (?, ?, ?, ?, ?, ?)",
                [now(), p.source, p.month.first_day, str(p.path), p.size_bytes, retention_months],
            )
    for p in pruned:
        p.path.unlink()
        if not any(p.path.parent.iterdir()):
            p.path.parent.rmdir()
    return pruned
