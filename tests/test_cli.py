"""The command line as an operator meets it: every lmkpi error is one clear line, status 2."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lmkpi.warehouse.db import writer_lock

LMKPI = str(Path(sys.executable).with_name("lmkpi"))


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LMKPI, *args], capture_output=True, text=True, timeout=120, env=env or os.environ.copy()
    )


def _one_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("load", "--from", "2019-13", "--to", "2019-01"), "not a month: '2019-13'"),
        (
            ("load", "--from", "2019-03", "--to", "2019-01"),
            "ends before it starts: 2019-03..2019-01",
        ),
        (("load",), "give --month YYYY-MM"),
        (("report", "--month", "oktober"), "expected YYYY-MM"),
    ],
)
def test_bad_months_are_one_line_and_status_2(lmkpi_home, args, words):
    result = _run(*args)
    assert result.returncode == 2
    assert words in _one_line(result)


def test_a_load_without_a_key_fails_at_once(lmkpi_home, monkeypatch):
    env = os.environ.copy()
    env.pop("LMKPI_PSEUDONYM_KEY")
    started = time.perf_counter()
    result = _run("load", "--month", "2019-03", env=env)
    seconds = time.perf_counter() - started
    assert result.returncode == 2
    assert "no pseudonym key: set LMKPI_PSEUDONYM_KEY_FILE" in _one_line(result)
    assert seconds < 5, f"{seconds:.1f} s"


def test_a_bad_setting_fails_at_once(lmkpi_home):
    env = os.environ | {"LMKPI_QUALITY_MAX_REJECT_SHARE": "lots"}
    result = _run("load", "--month", "2019-03", env=env)
    assert result.returncode == 2
    assert "LMKPI_QUALITY_MAX_REJECT_SHARE='lots' is not a valid float" in _one_line(result)


def test_a_load_while_another_writes_says_so(lmkpi_home):
    from lmkpi.settings import get_settings

    with writer_lock(get_settings().work_dir):
        result = _run("load", "--month", "2019-03", "--wait", "0")
    assert result.returncode == 2
    line = _one_line(result)
    assert "another lmkpi process is writing" in line and "--wait SECONDS" in line


@pytest.fixture
def published(lmkpi_home) -> Path:
    """A published warehouse made by the production publish from a small working database."""
    import duckdb

    from lmkpi.settings import get_settings
    from lmkpi.warehouse.publish import publish

    settings = get_settings()
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.work_db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_x as select range as v from range(1000)")
    publish(settings.work_db, settings.warehouse_db)
    return settings.warehouse_db


def test_sql_stops_a_query_at_its_time_bound(published):
    started = time.perf_counter()
    result = _run(
        "sql",
        "--timeout",
        "1",
        "select sum(a.range * b.range) from range(200000) a, range(200000) b",
    )
    assert time.perf_counter() - started < 20
    assert result.returncode == 2
    assert "stopped after 1 s (LMKPI_SQL_TIMEOUT_SECONDS" in _one_line(result)


def test_sql_stops_a_query_at_its_memory_bound(published):
    env = os.environ | {"LMKPI_SQL_MEMORY_LIMIT": "60MB", "LMKPI_SQL_THREADS": "1"}
    result = _run("sql", "select list(range order by random()) from range(50000000)", env=env)
    assert result.returncode == 2
    assert "needs more memory than 60MB (LMKPI_SQL_MEMORY_LIMIT)" in _one_line(result)


def test_sql_bounds_cannot_be_lifted_by_a_query(published):
    result = _run("sql", "set memory_limit = '100GB'")
    assert result.returncode == 1 and "configuration" in result.stderr.lower()
    ok = _run("sql", "--plain", "select count(*) as n from marts.fct_x")
    assert ok.returncode == 0 and ok.stdout.split() == ["n", "1000"]


@pytest.mark.e2e
def test_a_load_prints_one_line_per_stage_and_a_blocked_month_names_its_cause(
    lmkpi_home, dbt_manifest
):
    """Before: ~300 lines, 240 of them great-expectations and alembic INFO. Now one line per
    stage and month, the outcome, the failed checks naming the code, the quality summary."""
    from lmkpi.settings import get_settings

    from extract_builders import APRIL_2019, MARCH_2019, MARCH_PLAN_FTP, write_ydelser

    landing = get_settings().landing_dir
    write_ydelser(landing, "2019-03", MARCH_2019)
    ok = _run("load", "--month", "2019-03")
    assert ok.returncode == 0, ok.stderr
    lines = ok.stderr.splitlines()
    assert any("[1/1] ydelser 2019-03: loaded 6 rows" in line for line in lines), lines
    assert any("dbt built" in line for line in lines) and not ok.stdout.strip(), ok.stdout
    assert len(lines) <= 14, lines
    # As the reports_after_load sensor does in Dagster: the month's report and the docs.
    settings = get_settings()
    assert list((settings.reports_dir / "2019-03").glob("*173*.pdf")), lines
    assert (settings.warehouse_dir / "docs" / "index.html").is_file()
    assert any("report 173 2019-03" in line for line in lines), lines

    # Exports for Danish Excel, filtered; lmkpi sql --csv writes the same bytes
    out = settings.home / "public_benefits.csv"
    exported = _run(
        "export", "marts.fct_public_benefits", "--municipality", "173",
        "--from", "2019-03", "--to", "2019-03", "--out", str(out),
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header, row = data.decode("utf-8-sig").splitlines()
    columns = dict(zip(header.split(";"), row.split(";"), strict=True))
    assert columns["month"] == "2019-03-01" and columns["municipality_code"] == "173"
    assert float(columns["full_time_persons_plan"].replace(",", ".")) == pytest.approx(
        MARCH_PLAN_FTP
    )
    assert "," in columns["full_time_persons_plan"]  # a decimal comma, not a point
    same = subprocess.run(
        [LMKPI, "sql", "--csv", "select * from marts.fct_public_benefits "
         "where municipality_code = 173 and month = date '2019-03-01' order by month"],
        capture_output=True, env=os.environ.copy(), timeout=120,
    )  # fmt: skip
    assert same.stdout == data
    narrow = _run("export", "marts.fct_public_benefits", "--municipality", "999", "--out", str(out))
    assert narrow.returncode == 0 and out.read_bytes().decode("utf-8-sig").count("\n") == 1
    wrong = _run("export", "marts.dim_benefit", "--month", "2019-03", "--out", str(out))
    assert wrong.returncode == 2 and "has no month column" in wrong.stderr

    write_ydelser(landing, "2019-04", [APRIL_2019[0], {**APRIL_2019[1], "ydelse": "KH"}])
    blocked = _run("load", "--month", "2019-04")
    assert blocked.returncode == 1
    text = blocked.stdout + blocked.stderr
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) <= 12, lines
    assert "great_expectations" not in text and "alembic" not in text
    assert "Traceback" not in text and "Stack Trace" not in text
    assert "[1/1] ydelser 2019-04: BLOCKED by ydelse_known" in text, text
    assert "ydelse 'KH': 1 row;" in text
    assert "quality summary: " in text and ".html" in text

    # lmkpi status shows the last attempt, the blocked one too, with its reason
    status = _run("status", "--month", "2019-04")
    assert status.returncode == 0, status.stderr
    rows = [line for line in status.stdout.splitlines() if line.startswith("ydelser   ")]
    assert len(rows) == 1 and " blocked " in rows[0], status.stdout
    assert "ydelser 2019-04 blocked: ydelser_2019-04.csv: BLOCKED by ydelse_known" in status.stdout
    assert _run("status", "--source", "ydelser", "--fail-on-blocked").returncode == 1
    march = _run("status", "--source", "ydelser", "--month", "2019-03").stdout
    assert " loaded " in march and "2019-04" not in march

    # while a load holds the working database: the last publication's audit, said so
    import duckdb

    with duckdb.connect(str(get_settings().work_db)):
        held = _run("status", "--source", "ydelser")
    assert held.returncode == 0, held.stderr
    assert "a load is running" in held.stderr
    assert "2019-03" in held.stdout and "2019-04" not in held.stdout  # April never published


def test_sql_shows_every_column_unless_a_width_is_given(published):
    """Before: "9 columns (6 shown)". Every column is shown; --width cuts on request."""
    query = "select " + ", ".join(f"{i} as column_number_{i}" for i in range(1, 25))
    wide = _run("sql", query)
    assert wide.returncode == 0, wide.stderr
    assert "column_number_1 " in wide.stdout and "column_number_24" in wide.stdout
    assert "shown" not in wide.stdout
    cut = _run("sql", "--width", "80", query)
    assert "column_number_12" not in cut.stdout and "24 columns (4 shown)" in cut.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _locations(port: int) -> dict[str, str]:
    """Each code location's name and what it loaded as (RepositoryLocation or an error)."""
    import json
    import urllib.request

    query = (
        "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
        "locationOrLoadError { __typename } } } } }"
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        entries = json.load(answer)["data"]["workspaceOrError"]["locationEntries"]
    return {
        e["name"]: (e["locationOrLoadError"] or {}).get("__typename", e["loadStatus"])
        for e in entries
    }


@pytest.mark.e2e
def test_dev_serves_the_code_location_without_an_activated_venv(lmkpi_home):
    """``lmkpi dev -h 127.0.0.1 -p PORT`` as from a fresh shell (the venv's bin not on PATH):
    the UI answers with the lmkpi location loaded, and SIGTERM stops it and its children."""
    import signal

    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != bin_dir)
    env = os.environ | {"PATH": path, "VIRTUAL_ENV": ""}
    proc = subprocess.Popen(
        [LMKPI, "dev", "-h", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        locations: dict[str, str] = {}
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                locations = _locations(port)
            except OSError:
                locations = {}
            if locations.get("lmkpi") not in (None, "LOADING"):
                break
            time.sleep(1)
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        assert locations == {"lmkpi": "RepositoryLocation"}, locations
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    leftover = ["?"]
    deadline = time.monotonic() + 30  # its code server and daemon exit a few seconds later
    while leftover and time.monotonic() < deadline:
        time.sleep(1)
        leftover = subprocess.run(
            ["ps", "-o", "pid=,stat=", "-g", str(proc.pid)], capture_output=True, text=True
        ).stdout.splitlines()
        leftover = [line for line in leftover if "Z" not in line.split()[-1]]  # not zombies
    if leftover:
        os.killpg(proc.pid, signal.SIGKILL)
    assert not leftover, f"processes left running: {leftover}"
