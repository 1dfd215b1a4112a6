"""What a number was when it was published: the ``history`` schema of the warehouse.

Each publication gets the next ``publication_id`` (1, 2, …; ``meta.publication`` and
``history.publications``). The tables a report reads (``HISTORY_TABLES``: the headline marts,
the dimensions and the audit the report cites) are kept as versioned rows: each history
table has the mart's columns plus ``valid_from`` and ``valid_to`` (publication ids; the row
was published in every publication ``p`` with ``valid_from <= p < valid_to``, ``valid_to``
null while it is still current). A publication that changes nothing adds nothing, so the
history costs what the changes cost. Values are compared as published (doubles to 9
decimals, so a sum computed in another order is not a change).

The history is carried from the previous publication into the next (the working database
is not needed: ``lmkpi rebuild`` keeps it), pruned to the last ``keep`` publications if
configured (``LMKPI_HISTORY_KEEP_PUBLICATIONS``; default forever, it is aggregate data).

``as_of`` rebuilds the published tables of any kept publication into a DuckDB file (what
``lmkpi report --as-of`` renders from); ``changes`` lists the cells of the headline marts
that differ between two publications (``lmkpi diff``).
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import duckdb

from lmkpi.errors import WarehouseError
from lmkpi.warehouse.db import connect

log = logging.getLogger(__name__)

# The tables a report reads, kept per publication so a report can be rendered as it was.
HISTORY_TABLES: tuple[tuple[str, str], ...] = (
    ("marts", "dim_benefit"),
    ("marts", "dim_cluster_membership"),
    ("marts", "dim_goal"),
    ("marts", "dim_kpi_measure"),
    ("marts", "dim_municipality"),
    ("marts", "fct_benchmark"),
    ("marts", "fct_benefit_benchmark"),
    ("marts", "fct_benefit_index"),
    ("marts", "fct_goal_indicators"),
    ("marts", "fct_housing_municipality"),
    ("marts", "fct_housing_occupancy"),
    ("marts", "fct_housing_outlook"),
    ("marts", "fct_joblog_benchmark"),
    ("marts", "fct_joblog_benchmark_published"),
    ("marts", "fct_kpi_measures"),
    ("marts", "fct_ministry_benchmark"),
    ("marts", "fct_public_benefits"),
    ("marts", "fct_reconciliation"),
    ("audit", "check_results"),
    ("audit", "load_audit"),
)

# The headline marts ``changes`` compares cell by cell, with the columns that identify a row.
HEADLINE_KEYS: dict[str, tuple[str, ...]] = {
    "fct_public_benefits": ("month", "municipality_code"),
    "fct_goal_indicators": ("plan_year", "goal_id", "month", "municipality_code"),
    "fct_kpi_measures": ("month", "municipality_code", "measure"),
    "fct_benchmark": (
        "month",
        "measure",
        "municipality_code",
        "area_type",
        "area_scheme",
        "area_name",
    ),
}
# Columns of a headline mart that are not values (descriptions of the row, not numbers).
_NOT_VALUES = {"goal_kind", "kind", "target_type", "status_reason", "area_name"}
VERSION_COLUMNS = ("valid_from", "valid_to")


class PublicationNotFound(WarehouseError):
    """The publication asked for is not in the warehouse's history."""


@dataclass(frozen=True)
class Change:
    table: str
    key: dict
    column: str
    before: object
    after: object

    @property
    def difference(self) -> float | None:
        if isinstance(self.before, int | float) and isinstance(self.after, int | float):
            return float(self.after) - float(self.before)
        return None


def history_name(schema: str, table: str) -> str:
    return table if schema == "marts" else f"{schema}_{table}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(con: duckdb.DuckDBPyConnection, database: str, schema: str) -> set[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ?",
        [database, schema],
    ).fetchall()
    return {r[0] for r in rows}


def _columns(con, database: str, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? "
        "and schema_name = ? and table_name = ? order by column_index",
        [database, schema, table],
    ).fetchall()


def _signature(columns: list[tuple[str, str]], alias: str) -> str:
    """A row's value as published: a struct of its columns, doubles to 9 decimals."""
    parts = []
    for name, kind in columns:
        ref = f"{alias}.{_q(name)}"
        if kind in ("DOUBLE", "FLOAT", "REAL"):
            ref = f"round({ref}, 9)"
        parts.append(f"{_q(name)} := {ref}")
    return f"struct_pack({', '.join(parts)})"


def _row(con, sql: str, params: list | None = None) -> tuple:
    rows = con.execute(sql, params or []).fetchall()  # all: no unfinished result is left
    return rows[0]


def _one(con, sql: str, params: list | None = None):
    return _row(con, sql, params)[0]


def _database_name(con) -> str:
    return _one(con, "select current_database()")


def previous_publication_id(con, previous: str | None) -> int:
    """The id of the publication in the attached database ``previous`` (0 if none)."""
    if previous is None or "publication" not in _tables(con, previous, "meta"):
        return 0
    names = {c for c, _ in _columns(con, previous, "meta", "publication")}
    if "publication_id" not in names:
        return 1  # published before publications were numbered: count it as the first
    found = _row(con, f"select max(publication_id) from {_q(previous)}.meta.publication")
    return int(found[0] or 0)


def record(
    con: duckdb.DuckDBPyConnection,
    publication_id: int,
    published_at: datetime,
    tables: int,
    previous: str | None,
    keep: int | None = None,
) -> int:
    """Write ``history.*`` into the database ``con`` is building (its marts and audit already
    there), carried on from the attached database ``previous``; return the rows added."""
    here = _database_name(con)
    con.execute("create schema if not exists history")
    carried = previous is not None and "publications" in _tables(con, previous, "history")
    if carried:
        con.execute(
            f"create table history.publications as select * from {previous}.history.publications"
        )
    else:
        con.execute(
            "create table history.publications (publication_id integer, "
            "published_at timestamp, tables integer)"
        )
    con.execute(
        "insert into history.publications values (?, ?, ?)", [publication_id, published_at, tables]
    )
    old = _tables(con, previous, "history") if carried else set()
    added = 0
    for schema, table in HISTORY_TABLES:
        if table not in _tables(con, here, schema):
            continue
        name = history_name(schema, table)
        columns = _columns(con, here, schema, table)
        target = f"history.{_q(name)}"
        if name in old:
            con.execute(f"create table {target} as select * from {previous}.history.{_q(name)}")
            have = {c for c, _ in _columns(con, here, "history", name)}
            for column, kind in columns:
                if column not in have:  # a column the mart gained: null in earlier rows
                    con.execute(f"alter table {target} add column {_q(column)} {kind}")
            # rows no longer published are closed; rows not yet in the history are added.
            # Explicit anti joins: DuckDB plans the same ``not exists`` as a delim join that
            # groups by every column (ten national years: 2.1 s per table against 0.3 s).
            con.execute(
                f"""
                update {target} set valid_to = ?
                where rowid in (
                    select h.row_id from (
                        select rowid as row_id, * from {target} where valid_to is null
                    ) as h anti join {schema}.{_q(table)} as n
                    on {_signature(columns, "n")} is not distinct from {_signature(columns, "h")})
                """,
                [publication_id],
            )
        else:
            con.execute(
                f"create table {target} as select *, 0::integer as valid_from, "
                f"0::integer as valid_to from {schema}.{_q(table)} limit 0"
            )
        names = ", ".join(_q(c) for c, _ in columns)
        before = _one(con, f"select count(*) from {target}")
        con.execute(
            f"""
            insert into {target} ({names}, valid_from, valid_to)
            select {", ".join("n." + _q(c) for c, _ in columns)}, ?, null
            from {schema}.{_q(table)} as n
            anti join (select * from {target} where valid_to is null) as h
            on {_signature(columns, "n")} is not distinct from {_signature(columns, "h")}
            """,
            [publication_id],
        )
        added += _one(con, f"select count(*) from {target}") - before
        if keep:
            oldest = publication_id - keep + 1
            con.execute(
                f"delete from {target} where valid_to is not null and valid_to <= ?", [oldest]
            )
    if keep:
        con.execute(
            "delete from history.publications where publication_id <= ?", [publication_id - keep]
        )
    return added


def resolve(con: duckdb.DuckDBPyConnection, reference: str) -> int:
    """A publication id from ``N`` or a date ``YYYY-MM-DD`` (the last publication that day or
    before) or a time ``YYYY-MM-DDTHH:MM``."""
    if "publications" not in _tables(con, _database_name(con), "history"):
        raise PublicationNotFound(
            "this warehouse has no history of publications yet (it is kept from the first "
            "publication made by this version of lmkpi on)"
        )
    kept = [
        r[0]
        for r in con.execute(
            "select publication_id from history.publications order by 1"
        ).fetchall()
    ]
    text = reference.strip()
    if text.isdigit():
        wanted = int(text)
        if wanted not in kept:
            raise PublicationNotFound(
                f"publication {wanted} is not kept (kept: {_span(kept)}); see lmkpi diff --list"
            )
        return wanted
    try:
        moment = datetime.fromisoformat(text)
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time.max)
    except ValueError:
        raise PublicationNotFound(
            f"{reference!r}: give a publication id (e.g. 3) or a date YYYY-MM-DD"
        ) from None
    found = _one(
        con,
        "select max(publication_id) from history.publications where published_at <= ?",
        [moment],
    )
    if found is None:
        raise PublicationNotFound(f"no publication kept on or before {text} (kept: {_span(kept)})")
    return int(found)


def _span(ids: list[int]) -> str:
    return f"{ids[0]}..{ids[-1]}" if ids else "none"


def publications(con: duckdb.DuckDBPyConnection) -> list[tuple[int, datetime, int]]:
    if "publications" not in _tables(con, _database_name(con), "history"):
        return []
    return con.execute("select * from history.publications order by 1").fetchall()


def _as_of(schema: str, name: str, columns: list[str], publication_id: int) -> str:
    cols = ", ".join(_q(c) for c in columns)
    return (
        f"select {cols} from {schema}.{_q(name)} where valid_from <= {int(publication_id)} "
        f"and (valid_to is null or valid_to > {int(publication_id)})"
    )


def as_of(warehouse_db: Path, reference: str, target: Path) -> int:
    """Write the published tables of publication ``reference`` into a new DuckDB file
    ``target`` (schemas marts, audit and meta as that publication had them); return its id."""
    if not Path(warehouse_db).is_file():
        raise PublicationNotFound(f"nothing is published at {warehouse_db}; run lmkpi load first")
    if target.exists():
        target.unlink()
    with connect(target) as con:
        here = _database_name(con)
        con.execute(f"attach '{warehouse_db}' as published (read_only)")
        con.execute("use published")
        publication_id = resolve(con, reference)
        con.execute(f"use {_q(here)}")
        kept = _tables(con, "published", "history")
        for schema, table in HISTORY_TABLES:
            name = history_name(schema, table)
            if name not in kept:
                continue
            columns = [c for c, _ in _columns(con, "published", "history", name)]
            columns = [c for c in columns if c not in VERSION_COLUMNS]
            con.execute(f"create schema if not exists {schema}")
            con.execute(
                f"create table {schema}.{_q(table)} as "
                + _as_of("published.history", name, columns, publication_id)
            )
            # and the history up to then (a report compares with the publication before)
            con.execute("create schema if not exists history")
            names = ", ".join(_q(c) for c in columns)
            con.execute(
                f"create table history.{_q(name)} as select {names}, valid_from, "
                f"case when valid_to > {int(publication_id)} then null else valid_to end "
                f"as valid_to from published.history.{_q(name)} "
                f"where valid_from <= {int(publication_id)}"
            )
        con.execute("create schema meta")
        con.execute(
            "create table meta.publication as select * from published.history.publications "
            "where publication_id = ?",
            [publication_id],
        )
        con.execute(
            "create table history.publications as select * from published.history.publications "
            "where publication_id <= ?",
            [publication_id],
        )
        con.execute("detach published")
    return publication_id


def previous_of(con: duckdb.DuckDBPyConnection, publication_id: int) -> int | None:
    """The kept publication before ``publication_id`` (None for the first)."""
    found = [p for p, _at, _n in publications(con) if p < publication_id]
    return found[-1] if found else None


def current(con: duckdb.DuckDBPyConnection) -> int | None:
    """The id of the publication ``con`` shows (None before publications were numbered)."""
    here = _database_name(con)
    if "publication" not in _tables(con, here, "meta"):
        return None
    if "publication_id" not in {c for c, _ in _columns(con, here, "meta", "publication")}:
        return None
    return _one(con, "select max(publication_id) from meta.publication")


def changes(
    con: duckdb.DuckDBPyConnection,
    before: int,
    after: int,
    *,
    municipality: int | None = None,
    tables: tuple[str, ...] | None = None,
) -> list[Change]:
    """The cells of the headline marts that differ between publications ``before`` and
    ``after`` (a row only in one of them: every value column, the other side None)."""
    here = _database_name(con)
    kept = _tables(con, here, "history")
    out: list[Change] = []
    for table, key in HEADLINE_KEYS.items():
        if (tables and table not in tables) or table not in kept:
            continue
        columns = [c for c, _ in _columns(con, here, "history", table) if c not in VERSION_COLUMNS]
        values = [c for c in columns if c not in key and c not in _NOT_VALUES]
        where = "" if municipality is None else f"where municipality_code = {int(municipality)}"
        a = f"({_as_of('history', table, columns, before)}) a"
        b = f"({_as_of('history', table, columns, after)}) b"
        on = " and ".join(f"a.{_q(k)} is not distinct from b.{_q(k)}" for k in key)
        # exact here; doubles equal to 9 decimals are dropped below (_differs)
        differs = " or ".join(f"a.{_q(v)} is distinct from b.{_q(v)}" for v in values)
        keys = ", ".join(f"coalesce(a.{_q(k)}, b.{_q(k)}) as {_q(k)}" for k in key)
        pairs = ", ".join(
            f"a.{_q(v)} as {_q('a_' + v)}, b.{_q(v)} as {_q('b_' + v)}" for v in values
        )
        rows = con.execute(
            f"""
            select * from (
                select {keys}, {pairs} from {a} full outer join {b} on {on}
                where {differs}
            ) {where} order by all
            """
        ).fetchall()
        for row in rows:
            ident = dict(zip(key, row[: len(key)], strict=True))
            rest = row[len(key) :]
            for i, column in enumerate(values):
                was, now = rest[2 * i], rest[2 * i + 1]
                if _differs(was, now):
                    out.append(Change(table, ident, column, was, now))
    return out


def _differs(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return round(a, 9) != round(b, 9)
    return a != b
