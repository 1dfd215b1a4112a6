"""Publishing the analyst warehouse: build a new file, then swap it in atomically.

Analysts never open the working database (DuckDB allows one writer or many readers, never
both). Instead each successful run copies the marts into a fresh DuckDB file and renames it
over ``warehouse/lmkpi.duckdb`` (``os.replace``): sessions that are open keep the snapshot
they opened, new sessions see the new one, and a crash before the rename leaves the previous
publication untouched. The last ``keep`` publications stay in ``warehouse/versions``.
"""

import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lmkpi.errors import WarehouseError
from lmkpi.permissions import share, shared_dir
from lmkpi.settings import DEFAULT_MEMORY_LIMIT
from lmkpi.warehouse import history
from lmkpi.warehouse.audit import PUBLISHED_TABLES as AUDIT_TABLES
from lmkpi.warehouse.db import connect

log = logging.getLogger(__name__)

# Schemas of the working database that analysts get. Person-level rows (raw, staging,
# intermediate) are not published: every published table is an aggregate or reference data.
PUBLISHED_SCHEMAS = ("marts",)


@dataclass(frozen=True)
class Publication:
    path: Path
    version_path: Path
    tables: int
    seconds: float
    publication_id: int = 0


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """dbt's descriptions (persist_docs) travel with the table: analysts see them in DESCRIBE."""
    comment = con.execute(
        "select comment from duckdb_tables() where database_name = 'work' "
        "and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    if comment and comment[0]:
        con.execute(f'comment on table "{schema}"."{table}" is {_literal(comment[0])}')
    for column, text in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = 'work' "
        "and schema_name = ? and table_name = ? and comment is not null",
        [schema, table],
    ).fetchall():
        con.execute(f'comment on column "{schema}"."{table}"."{column}" is {_literal(text)}')


def build_snapshot(
    work_db: Path,
    target: Path,
    previous: Path | None = None,
    keep_history: int | None = None,
    *,
    after: int = 0,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> tuple[int, int]:
    """Write the published tables of ``work_db`` into a new DuckDB file ``target``, with the
    history carried on from the ``previous`` publication (lmkpi.warehouse.history); return
    the number of tables and the publication id. DuckDB keeps to ``memory_limit`` (it
    spills beyond it): unbounded, comparing ten national years with their history took the
    load's process to 3.5 GB."""
    if target.exists():
        target.unlink()
    tables = 0
    with connect(target) as con:
        con.execute("set memory_limit = ?", [memory_limit])
        con.execute(f"attach '{work_db}' as work (read_only)")
        if previous is not None and previous.exists():
            con.execute(f"attach '{previous}' as previous (read_only)")
        else:
            previous = None
        found = con.execute(
            """
            select schema_name, table_name from duckdb_tables()
            where database_name = 'work' and (schema_name in ({}) or
                  (schema_name = 'audit' and table_name in ({})))
            order by all
            """.format(
                ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS),
                ", ".join(f"'{t}'" for t in AUDIT_TABLES),
            )
        ).fetchall()
        for schema, table in found:
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(
                f'create table "{schema}"."{table}" as select * from work."{schema}"."{table}"'
            )
            _copy_comments(con, schema, table)
            tables += 1
        published_at = datetime.now(UTC).replace(tzinfo=None)
        prior = "previous" if previous is not None else None
        # after: the highest id of any kept version (a rollback does not reuse an id)
        publication_id = max(history.previous_publication_id(con, prior), after) + 1
        con.execute("create schema if not exists meta")
        con.execute(
            "create table meta.publication as select ?::integer as publication_id, "
            "?::timestamp as published_at, ?::integer as tables",
            [publication_id, published_at, tables],
        )
        added = history.record(con, publication_id, published_at, tables, prior, keep_history)
        log.info("publication %d: %d rows of history added", publication_id, added)
        if prior:
            con.execute("detach previous")
        con.execute("detach work")
        con.execute("checkpoint")
    _fsync(target)
    return tables, publication_id


def publish(
    work_db: Path,
    warehouse_db: Path,
    *,
    keep: int = 5,
    group: str | None = None,
    keep_history: int | None = None,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> Publication:
    """Build a snapshot from ``work_db`` and atomically make it ``warehouse_db`` (readable by
    the publish ``group``: aggregates only)."""
    started = time.perf_counter()
    shared_dir(warehouse_db.parent, group)
    versions = shared_dir(warehouse_db.parent / "versions", group)
    for pattern in (f".{warehouse_db.name}.*.tmp", f".{warehouse_db.name}.*.tmp.wal"):
        for stale in warehouse_db.parent.glob(pattern):
            stale.unlink()  # left by a publish that was killed; the caller holds the lock
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    tmp = warehouse_db.parent / f".{warehouse_db.name}.{stamp}.tmp"
    try:
        tables, publication_id = build_snapshot(
            work_db,
            tmp,
            warehouse_db,
            keep_history,
            after=_highest_publication_id(versions),
            memory_limit=memory_limit,
        )
        share(tmp, group)
        version_path = versions / f"{warehouse_db.stem}-{stamp}.duckdb"
        os.link(tmp, version_path)  # same bytes, kept for rollback
        os.replace(tmp, warehouse_db)
        _fsync(warehouse_db.parent)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
    prune_versions(versions, keep)
    seconds = time.perf_counter() - started
    log.info(
        "published %s (publication %d, %d tables) in %.2f s",
        warehouse_db,
        publication_id,
        tables,
        seconds,
    )
    return Publication(warehouse_db, version_path, tables, seconds, publication_id)


def _highest_publication_id(versions: Path) -> int:
    highest = 0
    for version in versions.glob("*.duckdb"):
        try:
            with duckdb.connect(str(version), read_only=True) as con:
                highest = max(highest, history.previous_publication_id(con, _name(con)))
        except duckdb.Error as exc:  # a damaged old version does not stop a publication
            log.warning("%s: could not read its publication id (%s)", version.name, exc)
    return highest


def _name(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_database()").fetchone()[0]


def prune_versions(versions: Path, keep: int) -> None:
    for old in sorted(versions.glob("*.duckdb"))[:-keep]:
        old.unlink()


class NothingToRollBackTo(WarehouseError):
    pass


def rollback(warehouse_db: Path) -> Path:
    """Make the publication before the current one the published warehouse again."""
    versions = sorted((warehouse_db.parent / "versions").glob("*.duckdb"))
    if not versions:
        raise NothingToRollBackTo(f"no publication is kept in {warehouse_db.parent / 'versions'}")
    if not warehouse_db.exists():
        # The published file was deleted: put the last publication back (the versions are
        # hard links of the same bytes), so analysts have a warehouse again.
        previous = versions[-1]
        log.warning("%s was missing: restoring the last publication", warehouse_db)
    else:
        current = warehouse_db.stat().st_ino
        inodes = [v.stat().st_ino for v in versions]
        if current not in inodes:
            raise NothingToRollBackTo(f"{warehouse_db} is not one of the kept versions")
        index = inodes.index(current)
        if index == 0:
            raise NothingToRollBackTo(
                f"{versions[0].name} is the oldest kept version; nothing earlier to restore"
            )
        previous = versions[index - 1]
    tmp = warehouse_db.parent / f".{warehouse_db.name}.rollback.tmp"
    if tmp.exists():
        tmp.unlink()
    os.link(previous, tmp)
    os.replace(tmp, warehouse_db)
    _fsync(warehouse_db.parent)
    log.info("rolled back %s to %s", warehouse_db, previous.name)
    return previous


def open_published(
    warehouse_db: Path, *, memory_limit: str | None = None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """The analysts' connection: read-only, no access to files outside, bounded memory and
    threads when given, settings locked (a query cannot lift them)."""
    if not Path(warehouse_db).exists():
        raise WarehouseError(
            f"nothing is published yet at {warehouse_db}: run lmkpi load (or lmkpi demo) first"
        )
    con = duckdb.connect(str(warehouse_db), read_only=True)
    con.execute("set enable_external_access = false")
    if memory_limit:
        con.execute(f"set memory_limit = '{memory_limit}'")  # validated by lmkpi.settings
    if threads:
        con.execute(f"set threads = {int(threads)}")
    con.execute("set lock_configuration = true")
    return con
