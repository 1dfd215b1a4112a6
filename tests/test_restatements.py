"""Restatements are exact: whatever the order of deliveries, restatements and no-op runs, the
published marts equal a clean load of the final files (issue 17, item 7).

A property test: random sequences (seeded; `LMKPI_RESTATEMENT_RUNS` sequences, 1 in CI) of
deliveries, corrected re-deliveries of earlier months (spells cut short, rows removed) and
runs that change nothing, loaded through the real pipeline into one home, compared table by
table with one backfill of the final files into another.
"""

import logging
import os
import random
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from lmkpi.months import Month
from lmkpi.orchestration import run_monthly_load
from lmkpi.settings import get_settings
from lmkpi.warehouse.history import HISTORY_TABLES, as_of

pytestmark = pytest.mark.e2e
MONTHS = [Month(2018, 11), Month(2018, 12), Month(2019, 1), Month(2019, 2)]
KEY = "test-key-not-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> Path:
    from lmkpi.synth import generate

    out = tmp_path_factory.mktemp("extracts")
    generate(out, start="2018-11", end="2019-02", municipalities=[173], scale=0.02, seed=5)
    return out


def corrected(path: Path, month: Month, seed: int) -> bytes:
    """A restated month: 4 % of its rows gone, 10 % of its spells cut at mid-month."""
    frame = pl.read_csv(path, separator=";", infer_schema=False)
    rng = random.Random(seed)
    keep = [rng.random() >= 0.04 for _ in range(frame.height)]
    cut = [rng.random() < 0.10 for _ in range(frame.height)]
    middle = date(month.year, month.month, 15).isoformat()
    frame = frame.with_columns(
        pl.when(
            pl.Series(cut)
            & (pl.col("startdato") <= middle)
            & (pl.col("slutdato").is_null() | (pl.col("slutdato") > middle))
        )
        .then(pl.lit(middle))
        .otherwise(pl.col("slutdato"))
        .alias("slutdato")
    ).filter(pl.Series(keep))
    return frame.write_csv(separator=";").encode()


def deliver(home: Path, extracts: Path, month: Month, content: bytes | None = None) -> None:
    for source in ("ydelser", "joblog", "indkvartering"):
        src = extracts / source / f"{source}_{month}.csv"
        dst = home / "landing" / source / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if source == "ydelser" and content is not None:
            dst.write_bytes(content)
        elif not dst.exists():
            shutil.copy(src, dst)
    population = home / "landing" / "population" / "population_16_66.csv"
    population.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(extracts / "population" / "population_16_66.csv", population)


def marts(warehouse: Path) -> dict[str, list[tuple]]:
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall()
        for (table,) in tables:
            rows = con.execute(f"select * from marts.{table}").fetchall()
            out[table] = sorted(
                tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rows
            )
    return out


def _publication_id(home: Path) -> int:
    with duckdb.connect(str(home / "warehouse" / "lmkpi.duckdb"), read_only=True) as con:
        return con.sql("select publication_id from meta.publication").fetchall()[0][0]


def plan(rng: random.Random) -> list[tuple[str, list[Month]]]:
    """A random history: months delivered in order, corrections of earlier months in
    between, some runs that change nothing, and a backfill of two months at once."""
    steps: list[tuple[str, list[Month]]] = []
    delivered: list[Month] = []
    queue = list(MONTHS)
    while queue:
        if len(queue) >= 2 and rng.random() < 0.3:
            batch = [queue.pop(0), queue.pop(0)]
        else:
            batch = [queue.pop(0)]
        steps.append(("deliver", batch))
        delivered += batch
        if len(delivered) >= 2 and rng.random() < 0.7:
            steps.append(("restate", [rng.choice(delivered[:-1])]))
        if rng.random() < 0.4:
            steps.append(("no-op", [rng.choice(delivered)]))
    if not any(kind == "restate" for kind, _ in steps):
        steps.append(("restate", [MONTHS[1]]))
    return steps


def _run(home: Path, months: list[Month], monkeypatch) -> None:
    monkeypatch.setenv("LMKPI_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    outcome = run_monthly_load(get_settings(), months[0], months[-1], triggered_by="test")
    assert outcome.success, outcome.errors


@pytest.mark.parametrize("seed", range(int(os.environ.get("LMKPI_RESTATEMENT_RUNS", "1"))))
def test_any_history_of_deliveries_gives_the_marts_of_a_clean_load(
    extracts, tmp_path, monkeypatch, dbt_manifest, seed
):
    monkeypatch.setenv("LMKPI_PSEUDONYM_KEY", KEY)
    rng = random.Random(seed)
    home, clean = tmp_path / "history", tmp_path / "clean"
    final: dict[Month, bytes | None] = {}
    published: dict[int, dict[str, list[tuple]]] = {}  # what each publication showed
    for step, (kind, months) in enumerate(plan(rng)):
        for month in months:
            if kind == "restate":
                final[month] = corrected(extracts / "ydelser" / f"ydelser_{month}.csv", month, step)
                deliver(home, extracts, month, final[month])
            elif kind == "deliver":
                final[month] = None
                deliver(home, extracts, month)
        _run(home, months, monkeypatch)
        published[_publication_id(home)] = marts(home / "warehouse" / "lmkpi.duckdb")
    for month, content in final.items():
        deliver(clean, extracts, month, content)
    _run(clean, MONTHS, monkeypatch)

    loaded, expected = (
        marts(home / "warehouse" / "lmkpi.duckdb"),
        marts(clean / "warehouse" / "lmkpi.duckdb"),
    )
    assert set(loaded) == set(expected)
    differing = {
        t: len(set(loaded[t]) ^ set(expected[t])) for t in expected if loaded[t] != expected[t]
    }
    assert not differing, f"plan {plan(random.Random(seed))}: rows differing per mart {differing}"
    # Every publication can be rebuilt from the history exactly as analysts saw it then.
    assert len(published) >= 3, sorted(published)
    kept = {table for schema, table in HISTORY_TABLES if schema == "marts"}
    for publication_id, seen in published.items():
        rebuilt = tmp_path / f"as_of_{publication_id}.duckdb"
        assert as_of(home / "warehouse" / "lmkpi.duckdb", str(publication_id), rebuilt) == (
            publication_id
        )
        again = marts(rebuilt)
        assert set(again) == kept & set(seen)
        assert {t: again[t] for t in again} == {t: seen[t] for t in again}, publication_id
    spells = expected["fct_benefit_spells"]
    assert spells, "the data has spells to compare"


def test_a_backfill_in_dbt_windows_gives_the_marts_of_one_window(
    extracts, tmp_path, monkeypatch, dbt_manifest, caplog
):
    """LMKPI_DBT_WINDOW_MONTHS cuts a long rebuild into dbt runs of a few months (bounded
    memory); the spells carried across windows make it the same as one run over all months,
    and each window's months are tested by the window that built them."""
    monkeypatch.setenv("LMKPI_PSEUDONYM_KEY", KEY)
    one, windowed = tmp_path / "one", tmp_path / "windowed"
    for home in (one, windowed):
        for month in MONTHS:
            deliver(home, extracts, month)
    monkeypatch.setenv("LMKPI_DBT_WINDOW_MONTHS", "12")
    _run(one, MONTHS, monkeypatch)
    monkeypatch.setenv("LMKPI_DBT_WINDOW_MONTHS", "3")  # windows 2018-11..2019-01, 2019-02
    with caplog.at_level(logging.INFO, logger="pipelines.assets.dbt"):
        _run(windowed, MONTHS, monkeypatch)
    window_lines = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("dbt window 1/2: ")
    ]
    assert window_lines[0] == "dbt window 1/2: 2018-11..2019-01"
    first = re.fullmatch(
        r"dbt window 1/2: 2018-11\.\.2019-01: "
        r"(\d+) models and seeds built, (\d+) tests passed \(\d+\.\d s\)",
        window_lines[1],
    )
    assert first and int(first[1]) >= 12 and int(first[2]) >= 16, window_lines

    expected, loaded = (
        marts(one / "warehouse" / "lmkpi.duckdb"),
        marts(windowed / "warehouse" / "lmkpi.duckdb"),
    )
    assert set(loaded) == set(expected)
    assert {t: len(v) for t, v in loaded.items()} == {t: len(v) for t, v in expected.items()}
    assert loaded == expected
    # the spells of the first window really carried into the second
    spells = expected["fct_benefit_spells"]
    assert spells
    with duckdb.connect(str(windowed / "work" / "lmkpi.duckdb"), read_only=True) as con:
        carried = con.sql(
            "select count(*) from intermediate.int_benefit_spell_months "
            "where month = date '2019-02-01' and spell_start_date < date '2019-02-01'"
        ).fetchall()[0][0]
    assert carried > 0
