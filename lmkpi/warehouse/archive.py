"""The archive of deliveries: every file ever loaded, kept byte for byte for audit.

``archive/<source>/<YYYY-MM>/<sha256[:16]>_<file name>``: a restated month keeps each of its
versions, so the one a report was built from stays retrievable.
"""

import shutil
from pathlib import Path

from lmkpi.ingest import Delivery
from lmkpi.permissions import private_dir, private_file


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
