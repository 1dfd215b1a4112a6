"""Connections to the working database: open, write, close (never held across a dbt call)."""

import contextlib
import fcntl
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from lmkpi.errors import WarehouseError, WriterBusy

log = logging.getLogger(__name__)


_held: dict[Path, int] = {}


@contextlib.contextmanager
def writer_lock(work_dir: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Only one writer at a time: an exclusive lock file beside the working database.

    Re-entrant within a process, so a whole run can hold it while its steps take it again.
    The operating system releases it when the process dies, even by SIGKILL.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    lock_path = (work_dir / ".writer.lock").resolve()
    if _held.get(lock_path):
        _held[lock_path] += 1
        try:
            yield
        finally:
            _held[lock_path] -= 1
        return
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + timeout_s
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WriterBusy(
                        f"another lmkpi process is writing {work_dir} (it holds {lock_path.name}) "
                        f"and did not finish within {timeout_s:.0f} s; wait for it to finish "
                        "(lmkpi status) and try again, or give lmkpi load --wait SECONDS"
                    ) from None
                if not waited:
                    log.info("waiting for another writer to release %s", lock_path)
                    waited = True
                time.sleep(0.5)
        _held[lock_path] = 1
        try:
            yield
        finally:
            _held.pop(lock_path, None)
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; closed on exit even when the body raises."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        text = str(exc).splitlines()[0][:160]
        if "not a valid DuckDB database" in text or "Corrupt database" in text:
            raise WarehouseError(
                f"{path} is damaged ({text}); rebuild the working database from the archive, "
                "keeping the audit history: lmkpi rebuild (the published warehouse is unchanged)"
            ) from None
        raise
    try:
        yield con
    finally:
        con.close()


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, names: list[str], rows) -> bool:
    """Make ``table`` hold exactly ``rows`` (of the columns ``names``), in one transaction;
    False (nothing written) if it already does, whatever the order."""

    def key(row: tuple) -> tuple:
        return tuple("" if v is None else str(v) for v in row)

    wanted = sorted((tuple(r) for r in rows), key=key)
    columns = ", ".join(names)
    current = sorted(con.execute(f"select {columns} from {table}").fetchall(), key=key)
    if [key(r) for r in current] == [key(r) for r in wanted]:
        return False
    con.execute("begin")
    con.execute(f"delete from {table}")
    if wanted:
        marks = ", ".join("?" for _ in names)
        con.executemany(f"insert into {table} ({columns}) values ({marks})", wanted)
    con.execute("commit")
    return True
