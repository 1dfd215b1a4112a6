"""What a number was when it was published: history per publication, as-of, changes."""

from datetime import date
from pathlib import Path

import duckdb
import pytest

from lmkpi.warehouse import history
from lmkpi.warehouse.publish import open_published, publish, rollback


def _work(path: Path, rows: list[tuple]) -> None:
    """A working database whose fct_public_benefits holds ``rows`` (month, code, ftp)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.fct_public_benefits (month date, municipality_code "
            "integer, full_time_persons_plan double, full_time_persons_national double, "
            "persons_plan_overlap_removed bigint)"
        )
        con.executemany(
            "insert into marts.fct_public_benefits values (?, ?, ?, ?, ?)",
            [(m, c, v, v, int(v)) for m, c, v in rows],
        )


JAN, FEB = date(2019, 1, 1), date(2019, 2, 1)


@pytest.fixture
def three(tmp_path) -> Path:
    """Three publications: January; January and February; February restated."""
    work, warehouse = tmp_path / "work.duckdb", tmp_path / "wh" / "lmkpi.duckdb"
    for rows in (
        [(JAN, 173, 100.0)],
        [(JAN, 173, 100.0), (FEB, 173, 90.0)],
        [(JAN, 173, 100.0 + 1e-12), (FEB, 173, 95.5)],  # Jan recomputed in another order
    ):
        _work(work, rows)
        publish(work, warehouse)
    return warehouse


def test_each_publication_is_numbered_and_only_changes_are_kept(three):
    with open_published(three) as con:
        assert con.sql("select publication_id from meta.publication").fetchall() == [(3,)]
        assert [p[0] for p in history.publications(con)] == [1, 2, 3]
        rows = con.sql(
            "select month, full_time_persons_plan, valid_from, valid_to "
            "from history.fct_public_benefits order by valid_from, month"
        ).fetchall()
    # January once (its recomputed double is not a change), February twice
    assert rows == [(JAN, 100.0, 1, None), (FEB, 90.0, 2, 3), (FEB, 95.5, 3, None)]


def test_as_of_rebuilds_a_publication_and_changes_list_the_cells(three, tmp_path):
    for ref, expected in (("1", [(JAN, 100.0)]), ("2", [(JAN, 100.0), (FEB, 90.0)])):
        target = tmp_path / f"as_of_{ref}.duckdb"
        assert history.as_of(three, ref, target) == int(ref)
        with duckdb.connect(str(target), read_only=True) as con:
            got = con.sql(
                "select month, full_time_persons_plan from marts.fct_public_benefits order by 1"
            ).fetchall()
            assert got == expected
            assert con.sql("select publication_id from meta.publication").fetchall() == [
                (int(ref),)
            ]
    with open_published(three) as con:
        found = history.changes(con, 2, 3)
        assert {(c.column, c.before, c.after) for c in found} == {
            ("full_time_persons_plan", 90.0, 95.5),
            ("full_time_persons_national", 90.0, 95.5),
            ("persons_plan_overlap_removed", 90, 95),
        }
        assert all(c.key == {"month": FEB, "municipality_code": 173} for c in found)
        assert found[0].difference == pytest.approx(5.5) or found[0].difference == 5
        added = history.changes(con, 1, 2)  # February appears: before is None
        assert {c.before for c in added} == {None} and len(added) == 3
        assert history.changes(con, 2, 3, municipality=101) == []
        assert history.resolve(con, date.today().isoformat()) == 3
        with pytest.raises(history.PublicationNotFound, match="publication 9 is not kept"):
            history.resolve(con, "9")
        with pytest.raises(history.PublicationNotFound, match="no publication kept on or before"):
            history.resolve(con, "2001-01-01")


def test_a_rollback_does_not_reuse_a_publication_id(three, tmp_path):
    rollback(three)  # publication 2 is current again
    _work(tmp_path / "work.duckdb", [(JAN, 173, 100.0), (FEB, 173, 97.0)])
    pub = publish(tmp_path / "work.duckdb", three)
    assert pub.publication_id == 4
    with open_published(three) as con:
        assert [p[0] for p in history.publications(con)] == [1, 2, 4]


def test_history_can_be_bounded(tmp_path):
    work, warehouse = tmp_path / "work.duckdb", tmp_path / "wh" / "lmkpi.duckdb"
    for value in (1.0, 2.0, 3.0, 4.0):
        _work(work, [(JAN, 173, value)])
        publish(work, warehouse, keep_history=2)
    with open_published(warehouse) as con:
        assert [p[0] for p in history.publications(con)] == [3, 4]
        assert con.sql(
            "select full_time_persons_plan from history.fct_public_benefits order by 1"
        ).fetchall() == [(3.0,), (4.0,)]


@pytest.mark.e2e
def test_a_report_renders_again_as_it_was_after_a_restatement(lmkpi_home, tmp_path, dbt_manifest):
    """The real load: January reported, then restated. The marts show the new value, the
    history keeps the old one, and the report --as-of the first publication shows what the
    committee was shown, number for number; the current report lists the revision."""
    import os
    import subprocess
    import sys

    from fixtures.report.page import cells
    from test_restatements import corrected, deliver

    from lmkpi.months import Month
    from lmkpi.orchestration import run_monthly_load
    from lmkpi.report import build_report
    from lmkpi.settings import get_settings
    from lmkpi.synth import generate

    months = [Month(2018, 11), Month(2018, 12), Month(2019, 1)]
    extracts = tmp_path / "extracts"
    generate(extracts, start="2018-11", end="2019-01", municipalities=[173], scale=0.05, seed=3)
    for month in months:
        deliver(lmkpi_home, extracts, month)
    settings = get_settings()
    assert run_monthly_load(settings, months[0], months[-1], triggered_by="test").success
    first = build_report(settings.warehouse_db, 173, "2019-01", tmp_path / "shown")
    shown = cells(first.html.read_text(encoding="utf-8"))

    january = months[-1]
    restated = corrected(extracts / "ydelser" / f"ydelser_{january}.csv", january, seed=11)
    deliver(lmkpi_home, extracts, january, restated)
    assert run_monthly_load(settings, january, january, triggered_by="test").success

    def goal_1(con) -> float:
        return con.sql(
            "select value from marts.fct_goal_indicators where goal_id = '1' "
            "and municipality_code = 173 and month = date '2019-01-01'"
        ).fetchall()[0][0]

    with open_published(settings.warehouse_db) as con:
        now = goal_1(con)
        kept = con.sql(
            "select value, valid_from, valid_to from history.fct_goal_indicators "
            "where goal_id = '1' and municipality_code = 173 and month = date '2019-01-01' "
            "order by valid_from"
        ).fetchall()
    assert [(v_from, v_to) for _v, v_from, v_to in kept] == [(1, 2), (2, None)]
    then = kept[0][0]
    assert then != now and kept[1][0] == now

    again = tmp_path / "again"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lmkpi")), "report", "--month", "2019-01",
         "--as-of", "1", "--out", str(again)],
        capture_output=True, text=True, env=os.environ.copy(), timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (html,) = again.glob("*.html")
    assert cells(html.read_text(encoding="utf-8")) == shown  # every cell as it was shown

    listed = subprocess.run(
        [str(Path(sys.executable).with_name("lmkpi")), "diff", "--municipality", "173",
         "--table", "fct_goal_indicators"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=120,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "publication 1 -> 2" in listed.stderr
    line = next(
        row.split("\t")
        for row in listed.stdout.splitlines()
        if row.startswith("fct_goal_indicators\tplan_year=2019, goal_id=1, month=2019-01-01,")
        and "\tvalue\t" in row
    )
    assert float(line[3]) == pytest.approx(then, rel=1e-5)
    assert float(line[4]) == pytest.approx(now, rel=1e-5)

    current = build_report(settings.warehouse_db, 173, "2019-01", tmp_path / "current")
    text = current.html.read_text(encoding="utf-8")
    assert "(publikation nr. 2)" in text and "revideret siden publikation nr. 1" in text
    assert "Revideret siden publikation nr. 1" in text
    assert cells(text) != shown
