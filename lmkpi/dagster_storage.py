"""Dagster's SQLite event log, with one database engine per shard kept for the process.

Dagster's ``SqliteEventLogStorage`` creates a new SQLAlchemy engine for every event it stores
(``_connect``: a new engine, a connection without a pool, then ``dispose``). A run of lmkpi
stores some 330 events, each in the run's shard and the asset events again in the index
shard, so that cost is paid ~500 times a run: the engine, the connection and SQLAlchemy's
compilation of the same INSERT statement anew each time (its statement cache lives in the
engine), about 8 ms an event here, a quarter of a small municipality's month
(docs/benchmarks.md).

``LmkpiSqliteEventLogStorage`` is the same storage (the same files, schema, WAL journal,
transactions and locking: each event is still one committed transaction, so the webserver
and other processes see it at once) with an engine per shard that lives as long as the
process, its connections pooled. lmkpi's ``dagster.yaml`` names it
(``lmkpi.orchestration.DAGSTER_YAML``).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Connection, Engine

MAX_ENGINES = 8
"""Engines kept at once: the index shard and the runs being written (one at a time here);
the UI's process reads many runs' shards, so the oldest engines are disposed of."""


class LmkpiSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with one pooled engine per shard (module docstring)."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: dict[str, Engine] = {}
        self._tables: set[str] = set()
        self._probe: Engine | None = None
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> "LmkpiSqliteEventLogStorage":  # noqa: D102
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            while len(self._engines) >= MAX_ENGINES:
                self._engines.pop(next(iter(self._engines))).dispose()
        self._engines[shard] = engine  # most recently used last
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def has_table(self, table_name: str) -> bool:
        # Asked before every asset and check event (a new engine each time in Dagster); a
        # table once there stays there.
        if table_name in self._tables:
            return True
        # Its own engine: it is asked while a storing connection holds the (plain) lock.
        if self._probe is None:
            self._probe = create_engine(
                self.conn_string_for_shard(INDEX_SHARD_NAME),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
        with self._probe.connect() as conn:
            found = bool(conn.dialect.has_table(conn, table_name))
        if found:
            self._tables.add(table_name)
        return found

    def _dispose_engines(self) -> None:
        with self._db_lock:
            engines, self._engines = list(self._engines.values()), {}
            if self._probe is not None:
                engines.append(self._probe)
                self._probe = None
        for engine in engines:
            engine.dispose()

    def wipe(self) -> None:  # removes the shard files: no engine may hold them open
        self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
