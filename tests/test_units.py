"""Pure unit tests of the wiring helpers: months, settings, dbt arguments, publishing."""

import os
import subprocess
import sys
import textwrap
from datetime import date

import duckdb
import pytest

from lmkpi.errors import ConfigurationError, LmkpiError, MonthError
from lmkpi.months import Month
from lmkpi.settings import get_settings
from lmkpi.warehouse.publish import open_published, publish
from lmkpi.warehouse.raw import set_run_window


@pytest.mark.parametrize(
    "bad",
    ["2019-13", "2019-1", "19-01", "2019-01-01", "../2019-01", "2019-01;drop", " 2019-01",
     "２０１９-01", "2019\u201101", None, 201901],
)  # fmt: skip
def test_month_keys_are_strict(bad):
    with pytest.raises(MonthError):
        Month.parse(bad)


def test_month_knows_its_keys_bounds_and_neighbours():
    m = Month.parse("2019-12")
    assert (str(m), m.partition_key) == ("2019-12", "2019-12-01")
    assert m.bounds == (date(2019, 12, 1), date(2019, 12, 31)) and m.end == date(2020, 1, 1)
    assert (str(m.next), str(m.previous), m.days) == ("2020-01", "2019-11", 31)
    assert Month.parse("2020-02").days == 29 and Month.from_partition_key("2020-02-01") == m + 2
    assert Month.of(date(2019, 12, 24)) == m and m.months_until(Month(2020, 3)) == 3
    with pytest.raises(MonthError):
        Month.from_partition_key("2020-02-02")


def test_month_range_is_inclusive_and_crosses_years():
    months = Month.range(Month.parse("2018-11"), Month.parse("2019-02"))
    assert [str(m) for m in months] == ["2018-11", "2018-12", "2019-01", "2019-02"]
    with pytest.raises(MonthError, match="ends before it starts"):
        Month.range(Month.parse("2019-02"), Month.parse("2019-01"))


def test_no_pseudonym_key_outside_demo_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("LMKPI_HOME", str(tmp_path))
    for var in ("LMKPI_PSEUDONYM_KEY", "LMKPI_PSEUDONYM_KEY_FILE", "LMKPI_DEMO"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigurationError, match="no pseudonym key"):
        get_settings().pseudonym_key()
    key = get_settings(demo=True).pseudonym_key()
    assert len(key) >= 32 and get_settings(demo=True).pseudonym_key() == key  # made once
    assert (tmp_path / "secrets" / "pseudonym.key").stat().st_mode & 0o077 == 0


def test_key_file_is_read(tmp_path, monkeypatch):
    key_file = tmp_path / "k"
    key_file.write_text("a-long-enough-secret-key-0123456789\n")
    key_file.chmod(0o600)
    monkeypatch.delenv("LMKPI_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("LMKPI_PSEUDONYM_KEY_FILE", str(key_file))
    assert get_settings().pseudonym_key() == b"a-long-enough-secret-key-0123456789"


@pytest.mark.parametrize(
    ("content", "mode", "words"),
    [
        ("a-long-enough-secret-key-0123456789", 0o644, "can be read by others (mode 644)"),
        ("a-long-enough-secret-key-0123456789", 0o640, "chmod 600"),
        ("short-key-0123456789", 0o600, "too short (20 bytes; at least 32)"),
        ("ab" * 20, 0o600, "too little variety (2 distinct characters"),
        (" " * 16, 0o600, "too short (0 bytes"),
        ("a" * 40, 0o600, "lmkpi key new --out FILE"),
    ],
)
def test_a_weak_or_exposed_key_is_refused_saying_how_to_make_one(
    tmp_path, monkeypatch, content, mode, words
):
    key_file = tmp_path / "k"
    key_file.write_text(content)
    key_file.chmod(mode)
    monkeypatch.delenv("LMKPI_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("LMKPI_PSEUDONYM_KEY_FILE", str(key_file))
    with pytest.raises(ConfigurationError) as info:
        get_settings().pseudonym_key()
    assert words in str(info.value) and content not in str(info.value)


def test_key_new_writes_a_strong_private_key(tmp_path):
    from lmkpi.settings import check_key_strength, write_new_key

    path = write_new_key(tmp_path / "secrets" / "lmkpi.key")
    assert path.stat().st_mode & 0o777 == 0o600
    check_key_strength(path.read_bytes().strip())
    with pytest.raises(FileExistsError):
        write_new_key(path)  # never overwrites a key


def test_settings_are_read_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setenv("LMKPI_HOME", str(tmp_path / "a"))
    assert get_settings().warehouse_db == tmp_path / "a" / "warehouse" / "lmkpi.duckdb"
    monkeypatch.setenv("LMKPI_HOME", str(tmp_path / "b"))
    assert get_settings().work_db == tmp_path / "b" / "work" / "lmkpi.duckdb"
    assert get_settings(home=tmp_path / "c").work_db == tmp_path / "c" / "work" / "lmkpi.duckdb"


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("LMKPI_REQUIRED_SOURCES", "ydelser,jobllog", "unknown source(s) jobllog"),
        ("LMKPI_REPORT_MUNICIPALITIES", "173;101", "kommunekoder like 173,101"),
        ("LMKPI_DUCKDB_MEMORY_LIMIT", "lots", "a size like 3GB"),
        ("LMKPI_QUALITY_MAX_REJECT_SHARE", "2", "max_reject_share must be in [0, 1)"),
        ("LMKPI_QUALITY_MIN_ROWS", "many", "LMKPI_QUALITY_MIN_ROWS='many' is not a valid int"),
    ],
)
def test_a_bad_setting_fails_at_once_naming_it(monkeypatch, variable, value, words):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as info:
        get_settings()
    assert words in str(info.value)


def test_dbt_window_is_data_not_vars(tmp_path):
    """The window goes into raw.run_window (no --vars: one manifest serves every window);
    a window of few rows runs 4 models at once, a national one 1, unless the setting says."""
    from lmkpi.settings import get_settings
    from pipelines.assets.dbt import prepare_dbt_window

    settings = get_settings(home=tmp_path)
    work_db = settings.work_db
    args = prepare_dbt_window(settings, date(2019, 3, 1), date(2019, 5, 1))
    assert args[0] == "build" and "--vars" not in args
    assert args[-2:] == ["--threads", "4"]  # no rows: a small window
    with duckdb.connect(str(work_db)) as con:
        con.execute(
            "insert into raw.ydelser (month, ydelse) select date '2019-04-01', 'KONT' "
            "from range(200000)"
        )
    assert prepare_dbt_window(settings, date(2019, 3, 1), date(2019, 4, 1))[-1] == "4"
    assert prepare_dbt_window(settings, date(2019, 4, 1), date(2019, 5, 1))[-1] == "1"
    pinned = get_settings(home=tmp_path, dbt_threads=2)
    assert prepare_dbt_window(pinned, date(2019, 4, 1), date(2019, 5, 1))[-1] == "2"
    args = prepare_dbt_window(settings, date(2019, 4, 1), date(2019, 5, 1))
    with duckdb.connect(str(work_db), read_only=True) as con:
        assert con.sql("select * from raw.run_window").fetchall() == [
            (date(2019, 4, 1), date(2019, 5, 1), date(2017, 1, 1))  # window, history start
        ]
    with duckdb.connect(str(work_db)) as con, pytest.raises(duckdb.ConstraintException):
        set_run_window(con, date(2019, 5, 1), date(2019, 5, 1))  # empty window: refused


def _work_db(path, value):
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists raw")
        con.execute("create or replace table marts.fct_x as select ? as v", [value])
        con.execute("create or replace table raw.ydelser as select 'person' as person_key")


def test_publish_swaps_atomically_and_readers_keep_their_snapshot(tmp_path):
    work, warehouse = tmp_path / "work.duckdb", tmp_path / "wh" / "lmkpi.duckdb"
    _work_db(work, 1)
    publish(work, warehouse)
    reader = open_published(warehouse)
    assert reader.execute("select v from marts.fct_x").fetchone() == (1,)
    # Person-level raw rows are not published.
    with pytest.raises(duckdb.CatalogException):
        reader.execute("select * from raw.ydelser")

    _work_db(work, 2)
    publish(work, warehouse)  # succeeds while a reader holds the old file open
    assert reader.execute("select v from marts.fct_x").fetchone() == (1,)
    reader.close()
    with open_published(warehouse) as fresh:
        assert fresh.execute("select v from marts.fct_x").fetchone() == (2,)
    assert len(list((warehouse.parent / "versions").glob("*.duckdb"))) == 2


def test_publish_while_another_process_reads(tmp_path):
    """A read-only session in another process does not block publishing (DuckDB locks)."""
    work, warehouse = tmp_path / "work.duckdb", tmp_path / "wh" / "lmkpi.duckdb"
    _work_db(work, 1)
    publish(work, warehouse)
    script = textwrap.dedent(
        f"""
        import duckdb, sys, time
        con = duckdb.connect({str(warehouse)!r}, read_only=True)
        print(con.execute("select v from marts.fct_x").fetchone()[0], flush=True)
        sys.stdin.readline()
        print(con.execute("select v from marts.fct_x").fetchone()[0], flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "1"
    _work_db(work, 2)
    publish(work, warehouse)
    out, _ = proc.communicate("\n", timeout=30)
    assert out.strip() == "1"  # the open session's answers did not change
    with open_published(warehouse) as fresh:
        assert fresh.execute("select v from marts.fct_x").fetchone() == (2,)


def test_analyst_connection_cannot_read_files_or_write(tmp_path):
    work, warehouse = tmp_path / "work.duckdb", tmp_path / "wh" / "lmkpi.duckdb"
    _work_db(work, 1)
    publish(work, warehouse)
    with open_published(warehouse) as con:
        with pytest.raises(duckdb.Error):
            con.execute("select * from read_csv('/etc/passwd')").fetchall()
        with pytest.raises(duckdb.Error):
            con.execute("create table marts.evil as select 1")
        with pytest.raises(duckdb.Error):
            con.execute("set enable_external_access = true")
    assert os.path.exists(warehouse)


def test_rollback_restores_the_previous_publication(tmp_path):
    from lmkpi.warehouse.publish import NothingToRollBackTo, rollback

    work, warehouse = tmp_path / "work.duckdb", tmp_path / "wh" / "lmkpi.duckdb"
    for value in (1, 2, 3):
        _work_db(work, value)
        publish(work, warehouse)
    rollback(warehouse)
    with open_published(warehouse) as con:
        assert con.execute("select v from marts.fct_x").fetchone() == (2,)
    rollback(warehouse)
    with open_published(warehouse) as con:
        assert con.execute("select v from marts.fct_x").fetchone() == (1,)
    with pytest.raises(NothingToRollBackTo):
        rollback(warehouse)


def test_rollback_works_when_the_published_file_was_deleted(tmp_path):
    from lmkpi.warehouse.publish import rollback

    work, warehouse = tmp_path / "work.duckdb", tmp_path / "wh" / "lmkpi.duckdb"
    for value in (1, 2):
        _work_db(work, value)
        publish(work, warehouse)
    warehouse.unlink()
    rollback(warehouse)  # the last publication comes back
    with open_published(warehouse) as con:
        assert con.execute("select v from marts.fct_x").fetchone() == (2,)


def test_a_killed_publish_leaves_no_temporary_file_or_wal(tmp_path):
    work, warehouse = tmp_path / "work.duckdb", tmp_path / "wh" / "lmkpi.duckdb"
    _work_db(work, 1)
    warehouse.parent.mkdir()
    for stale in (".lmkpi.duckdb.20191001T000000Z.tmp", ".lmkpi.duckdb.20191001T000000Z.tmp.wal"):
        (warehouse.parent / stale).write_bytes(b"half a publication")
    publish(work, warehouse)
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["lmkpi.duckdb", "versions"]


def test_rebuild_window_runs_from_what_changed_to_the_end_of_history():
    from lmkpi.warehouse.pending import rebuild_window

    may = (date(2019, 5, 1), date(2019, 6, 1))
    latest = date(2019, 8, 1)
    assert rebuild_window(may, [], latest) is None  # nothing changed: no dbt, no publish
    forced = rebuild_window(may, [], latest, force=True)
    assert (forced.start, forced.end) == (date(2019, 5, 1), date(2019, 9, 1))
    # a restated February (or one left pending by a killed run) rebuilds every later month
    feb = rebuild_window(may, [date(2019, 2, 1)], latest)
    assert (feb.start, feb.end) == (date(2019, 2, 1), date(2019, 9, 1))
    assert "changed and unpublished: 2019-02" in feb.reason and "up to 2019-08" in feb.reason
    first = rebuild_window(may, [date(2019, 5, 1)], date(2019, 5, 1))  # the newest month
    assert (first.start, first.end) == may
    assert rebuild_window(may, [date(2019, 5, 1)], None) is not None


def test_exports_defuse_formulas(tmp_path):
    import polars as pl
    from openpyxl import load_workbook

    from lmkpi.export import write_export

    frame = pl.DataFrame(
        {"address": ["=HYPERLINK(\"http://x\")", "+1", "Lykkens Gave", "@SUM(A1)", None],
         "rooms": [-1, 2, 3, 4, 5]}
    )  # fmt: skip
    csv = write_export(frame, tmp_path / "x.csv").read_text()
    assert "'=HYPERLINK" in csv and "\n'+1;2" in csv and "\nLykkens Gave;3" in csv
    assert "\n'@SUM(A1);4" in csv and "-1" in csv  # numbers untouched

    ws = load_workbook(write_export(frame, tmp_path / "x.xlsx")).active
    values = [c.value for c in ws["A"][1:]]
    assert values[:4] == ['\'=HYPERLINK("http://x")', "'+1", "Lykkens Gave", "'@SUM(A1)"]
    assert all(c.data_type != "f" for c in ws["A"])
    assert ws["B2"].value == -1


def test_exports_open_right_in_danish_excel(tmp_path):
    """CSV by default as a Danish Excel reads it (BOM, ';', decimal comma), plain CSV on
    request, Parquet typed; money exact (DECIMAL), never 275855.45999999996."""
    from decimal import Decimal

    import polars as pl

    from lmkpi.export import write_export

    frame = pl.DataFrame(
        {
            "month": [date(2019, 12, 1)],
            "area_name": ["Lyngby-Taarbæk"],
            "share_red": [0.354],
            "rent_arrears_dkk": [Decimal("275855.46")],
        },
        schema_overrides={"rent_arrears_dkk": pl.Decimal(18, 2)},
    )
    excel = write_export(frame, tmp_path / "x.csv").read_bytes()
    assert excel.startswith(b"\xef\xbb\xbf")  # Excel reads the file as UTF-8
    assert excel.decode("utf-8-sig").splitlines() == [
        "month;area_name;share_red;rent_arrears_dkk",
        "2019-12-01;Lyngby-Taarbæk;0,354;275855,46",
    ]
    plain = write_export(frame, tmp_path / "y.csv", plain=True).read_bytes()
    assert plain.decode("utf-8").splitlines()[1] == "2019-12-01,Lyngby-Taarbæk,0.354,275855.46"
    back = pl.read_parquet(write_export(frame, tmp_path / "z.parquet"))
    assert back.schema["rent_arrears_dkk"] == pl.Decimal(18, 2)
    assert back.row(0) == (date(2019, 12, 1), "Lyngby-Taarbæk", 0.354, Decimal("275855.46"))
    with pytest.raises(LmkpiError, match=r"\.csv .*\.xlsx or \.parquet"):
        write_export(frame, tmp_path / "x.txt")


def test_full_disk_during_publish_leaves_the_published_warehouse(tmp_path, monkeypatch):
    import errno

    from lmkpi.warehouse import publish as publish_module

    work, warehouse = tmp_path / "work.duckdb", tmp_path / "wh" / "lmkpi.duckdb"
    _work_db(work, 1)
    publish(work, warehouse)
    before = warehouse.read_bytes()

    real_fsync = publish_module._fsync

    def disk_full(path):
        if path.name.endswith(".tmp"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_fsync(path)

    monkeypatch.setattr(publish_module, "_fsync", disk_full)
    _work_db(work, 2)
    with pytest.raises(OSError, match="No space left"):
        publish(work, warehouse)
    assert warehouse.read_bytes() == before
    assert not list(warehouse.parent.glob(".*.tmp"))  # no half-written file left behind
    with open_published(warehouse) as con:
        assert con.execute("select v from marts.fct_x").fetchone() == (1,)


def test_contracts_doc_is_up_to_date():
    from lmkpi.contracts_doc import render
    from lmkpi.settings import REPO_ROOT

    committed = (REPO_ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate: python -m lmkpi.contracts_doc > docs/contracts.md"


def test_audit_of_an_older_working_database_gains_the_new_columns(tmp_path):
    from lmkpi.warehouse.audit import ensure_audit_tables

    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        con.execute("create schema audit")
        con.execute(
            "create table audit.load_audit (load_id varchar primary key, source varchar "
            "not null, month date not null, outcome varchar not null)"
        )
        con.execute("insert into audit.load_audit values ('a', 'ydelser', '2019-03-01', 'loaded')")
        ensure_audit_tables(con)
        columns = [r[0] for r in con.sql("describe audit.load_audit").fetchall()]
        assert {"profile_json", "validation_summary", "checks_blocking"} <= set(columns)
        assert con.sql("select load_id, profile_json from audit.load_audit").fetchall() == [
            ("a", None)
        ]


def _invocation(results: list[dict] | None, ok: bool, error: Exception | None = None):
    """A finished in-process dbt invocation, as the dbt asset reads it."""
    from lmkpi.dbt_inprocess import DbtInvocation

    return DbtInvocation([], None, success=ok, results=results or [], error=error)


def test_an_earlier_dbt_window_that_fails_a_test_stops_the_run_naming_window_and_test():
    import dagster as dg

    from pipelines.assets.dbt import _window_results

    passed = [
        {"unique_id": "model.lmkpi.fct_kpi_measures", "status": "success", "message": "OK"},
        {"unique_id": "test.lmkpi.unique_x", "status": "pass", "message": None},
    ]
    assert _window_results(_invocation(passed, ok=True), "2018-11..2019-01") == passed
    failed = [
        *passed,
        {
            "unique_id": "test.lmkpi.unique_combination_of_columns_fct_kpi_measures_month",
            "status": "fail",
            "message": "Got 2 results, configured to fail if != 0",
        },
    ]
    with pytest.raises(dg.Failure) as caught:
        _window_results(_invocation(failed, ok=False), "2018-11..2019-01")
    assert caught.value.description == (
        "dbt failed in the window 2018-11..2019-01:\n"
        "test.lmkpi.unique_combination_of_columns_fct_kpi_measures_month: fail: "
        "Got 2 results, configured to fail if != 0"
    )
    assert caught.value.metadata["failed_nodes"].value == 1
    with pytest.raises(dg.Failure, match="window 2019-02..2019-02:\nsee dbt.log in the dbt"):
        _window_results(_invocation(None, ok=False), "2019-02..2019-02")

    class CompilationError(Exception):
        pass

    # dbt stopped before running a node (e.g. a compilation error): its error is named
    with pytest.raises(dg.Failure, match="02:\nCompilationError: bad macro"):
        _window_results(
            _invocation(None, ok=False, error=CompilationError("bad macro")), "2019-02..2019-02"
        )
    assert caught.value.metadata["window"].value == "2018-11..2019-01"


def test_month_windows_cut_a_rebuild_into_pieces_of_at_most_n_months():
    from pipelines.assets.dbt import month_windows

    d = date
    assert month_windows(d(2018, 11, 1), d(2019, 3, 1), 3) == [
        (d(2018, 11, 1), d(2019, 2, 1)),
        (d(2019, 2, 1), d(2019, 3, 1)),
    ]
    assert month_windows(d(2019, 1, 1), d(2019, 2, 1), 12) == [(d(2019, 1, 1), d(2019, 2, 1))]
    assert month_windows(d(2010, 1, 1), d(2020, 1, 1), 12)[-1] == (d(2019, 1, 1), d(2020, 1, 1))
    assert len(month_windows(d(2010, 1, 1), d(2020, 1, 1), 12)) == 10
    # the default dbt window when everything is rebuilt ends in 2100: still whole months
    assert month_windows(d(2019, 12, 1), d(2100, 1, 1), 1200)[0][0] == d(2019, 12, 1)


def test_history_start_and_dbt_window_settings_fail_at_once_when_wrong():
    from lmkpi.errors import ConfigurationError
    from lmkpi.months import Month
    from lmkpi.settings import Settings, history_start

    assert history_start("") == Month(2017, 1)
    assert history_start(" 2010-01 ") == Month(2010, 1)
    for bad in ("2010", "1999-12", "2999-01", "jan 2010"):
        with pytest.raises(ConfigurationError, match="LMKPI_HISTORY_START"):
            history_start(bad)
    assert Settings.from_env({}).dbt_window_months == 3
    assert Settings.from_env({"LMKPI_DBT_WINDOW_MONTHS": "3"}).dbt_window_months == 3
    for bad in ("0", "-2", "six"):
        with pytest.raises(ConfigurationError, match="LMKPI_DBT_WINDOW_MONTHS"):
            Settings.from_env({"LMKPI_DBT_WINDOW_MONTHS": bad})
    assert Settings.from_env({}).dbt_threads is None  # auto: by the window's rows
    assert Settings.from_env({"LMKPI_DBT_THREADS": "auto"}).dbt_threads is None
    assert Settings.from_env({"LMKPI_DBT_THREADS": "2"}).dbt_threads == 2
    for bad in ("0", "many"):
        with pytest.raises(ConfigurationError, match="LMKPI_DBT_THREADS"):
            Settings.from_env({"LMKPI_DBT_THREADS": bad})


def test_an_earlier_history_start_moves_the_first_partition():
    """LMKPI_HISTORY_START is read when lmkpi is imported: a new process sees it."""
    code = (
        "from pipelines.partitions import monthly_partitions as p;"
        "from lmkpi.settings import HISTORY_START as h;"
        "print(p.get_first_partition_key(), h)"
    )
    env = os.environ | {"LMKPI_HISTORY_START": "2010-01"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["2010-01-01", "2010-01"]


def test_polars_allocator_returns_freed_memory_unless_the_operator_says_otherwise():
    """lmkpi turns on jemalloc's background purging for polars before polars loads
    (lmkpi/__init__.py); an operator's own _RJEM_MALLOC_CONF is kept (polars prepends its
    own decay settings to whatever it finds)."""
    code = "import os, lmkpi, polars; print(os.environ['_RJEM_MALLOC_CONF'])"
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    ours = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert ours.stdout.strip().endswith(",background_thread:true")
    env["_RJEM_MALLOC_CONF"] = "dirty_decay_ms:0"
    theirs = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert theirs.stdout.strip().endswith(",dirty_decay_ms:0")
