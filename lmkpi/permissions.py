"""Who may read what lmkpi writes.

Person-level data (deliveries with CPR numbers in ``landing/`` and ``archive/``, the working
database and dbt's target in ``work/``, ``secrets/``, Dagster's storage, the quality
summaries) is the owner's only: folders 0700, files 0600. lmkpi runs with umask 077, so
everything it or dbt creates starts that way, and ``private_dir`` tightens a folder an older
version created with the default umask.

What is published for analysts (``warehouse/``, ``reports/``) is readable by one group,
``LMKPI_PUBLISH_GROUP`` (default: the owner's own group): folders 0750, files 0640; the
home itself is 0710, so the group can pass through to them without listing the home.
"""

import grp
import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
SHARED_DIR, SHARED_FILE = 0o750, 0o640
PASSAGE_DIR = 0o710  # the home: the group may pass through to warehouse/ and reports/ only


def private_umask() -> None:
    """New files and folders of this process (and the dbt it starts) are the owner's only."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    path.chmod(PRIVATE_FILE)
    return path


def group_id(group: str | None) -> int:
    """The id of the publish group (-1: leave the group as it is)."""
    if not group:
        return -1
    return grp.getgrnam(group).gr_gid


def share(path: Path, group: str | None = None) -> Path:
    """Make ``path`` readable by the publish group (a folder: also listable)."""
    is_dir = stat.S_ISDIR(path.lstat().st_mode)
    path.chmod(SHARED_DIR if is_dir else SHARED_FILE)
    gid = group_id(group)
    if gid != -1:
        os.chown(path, -1, gid)
    return path


def passage_dir(path: Path, group: str | None = None) -> Path:
    """A folder the publish group may pass through but not list (``$LMKPI_HOME``: without
    it the group could not reach the shared folders below; the private ones stay 0700)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(PASSAGE_DIR)
    gid = group_id(group)
    if gid != -1:
        os.chown(path, -1, gid)
    return path


def shared_dir(path: Path, group: str | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return share(path, group)


def private_tree(path: Path) -> None:
    """Take group and other bits off everything under ``path`` (a tool, such as dagster-dbt
    copying dbt's partial-parse state, may copy a file with its original mode)."""
    for item in [path, *path.rglob("*")]:
        mode = item.lstat().st_mode
        if not stat.S_ISLNK(mode) and stat.S_IMODE(mode) & 0o077:
            item.chmod(stat.S_IMODE(mode) & ~0o077)
