"""SIGKILL the pipeline at random moments: the published warehouse is never broken or mixed.

Each iteration delivers one of two versions of April, starts `lmkpi load` in a subprocess and
kills it after a random delay covering ingest, dbt and publishing. After every kill the
published warehouse must open and be consistent (the public-benefit totals agree with the
full-time-person detail for every month, and April is one of the delivered versions or
absent). A final uninterrupted run must recover without manual steps.

LMKPI_KILL_LOOPS sets the number of kills (default 50). Where each kill landed (start-up,
an ingest step, dbt, publish, after the run) is read from the Dagster event log and logged;
run with `-o log_cli=true` to see the tally. Publishing is short, so random kills hit it
rarely: `test_kill_while_publishing` kills a load exactly while the new file is being built.
"""

import collections
import logging
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from lmkpi.months import Month
from lmkpi.orchestration import run_event_logs, run_monthly_load, step_events
from lmkpi.settings import get_settings

from extract_builders import APRIL_2019, APRIL_PLAN_FTP, MARCH_2019, MARCH_PLAN_FTP, write_ydelser

pytestmark = pytest.mark.e2e
log = logging.getLogger(__name__)

APRIL_B = [dict(r) for r in APRIL_2019]
APRIL_B[1]["slutdato"] = "2019-04-15"  # B leaves KONT on 15 April: 1.0 + 0.5
APRIL_B_PLAN_FTP = 1.5


def _lmkpi(*args: str) -> list[str]:
    return [sys.executable, "-m", "lmkpi.cli", *args]


def _published_state(db) -> dict[str, float]:
    """Month -> plan total, after checking the two marts agree with each other."""
    with duckdb.connect(str(db), read_only=True) as con:
        totals = dict(
            con.execute(
                "select strftime(month, '%Y-%m'), full_time_persons_plan "
                "from marts.fct_public_benefits where municipality_code = 173"
            ).fetchall()
        )
        detail = dict(
            con.execute(
                """
                select strftime(f.month, '%Y-%m'), sum(f.full_time_persons)
                from marts.fct_full_time_persons f
                join marts.dim_benefit b using (benefit_code)
                where f.municipality_code = 173 and b.is_public_benefit_plan
                  and f.age_band <> 'other'
                group by 1
                """
            ).fetchall()
        )
        assert con.execute("select count(*) from meta.publication").fetchone()[0] == 1
    assert totals.keys() == detail.keys()
    for month, total in totals.items():
        assert total == pytest.approx(detail[month]), f"mixed state in {month}"
    return totals


def _phase_of_last_run(dagster_home: Path, runs_before: int) -> str:
    """Where the newest run was when it died, from its Dagster event log."""
    logs = run_event_logs(dagster_home)
    if len(logs) <= runs_before:
        return "start-up (no run yet)"
    events = step_events(logs[-1])
    if any(kind == "PIPELINE_SUCCESS" for kind, _, _ in events):
        return "after the run"
    finished = {step for kind, step, _ in events if kind == "STEP_SUCCESS"}
    running = [step for kind, step, _ in events if kind == "STEP_START"]
    open_steps = [step for step in running if step not in finished]
    if not open_steps:
        return "between steps" if running else "start-up (run created)"
    step = open_steps[-1]
    if step.startswith("raw__"):
        return "ingest"
    return {"lmkpi_dbt_models": "dbt", "warehouse__lmkpi": "publish"}.get(step, step)


def _processes_using(work_db: Path) -> list[int]:
    """Loads or dbt processes still working on this home's working database (an orphaned
    dbt would be one). Dagster's own helper processes of this test process are not."""
    needle = f"LMKPI_WORK_DB={work_db}".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in environ and state != "Z" and (b"dbt" in cmdline or b"lmkpi.cli" in cmdline):
            found.append(int(proc.name))
    return found


def _no_survivors(work_db: Path, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := _processes_using(work_db)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_random_kills_never_break_the_published_warehouse(lmkpi_home, dbt_manifest):
    settings = get_settings()
    write_ydelser(settings.landing_dir, "2019-03", MARCH_2019)
    assert run_monthly_load(settings, Month.parse("2019-03"), triggered_by="test").success

    # How long an uninterrupted load of April takes until its run has finished (published),
    # to spread the kills over start-up, ingest, dbt and publish; not over the exit after.
    write_ydelser(settings.landing_dir, "2019-04", APRIL_2019)
    started = datetime.now(UTC)
    subprocess.run(_lmkpi("load", "--month", "2019-04"), check=True, capture_output=True)
    finished = [
        stamp
        for kind, _, stamp in step_events(run_event_logs(settings.dagster_home)[-1])
        if kind == "PIPELINE_SUCCESS"
    ]
    duration = (datetime.fromisoformat(finished[0]).replace(tzinfo=UTC) - started).total_seconds()

    rng = random.Random(20191001)
    loops = int(os.environ.get("LMKPI_KILL_LOOPS", "50"))
    env = os.environ.copy()
    phases: collections.Counter[str] = collections.Counter()
    for i in range(loops):
        version = APRIL_B if i % 2 == 0 else APRIL_2019
        write_ydelser(settings.landing_dir, "2019-04", version)
        runs_before = len(run_event_logs(settings.dagster_home))
        proc = subprocess.Popen(
            _lmkpi("load", "--month", "2019-04"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.0, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        phase = _phase_of_last_run(settings.dagster_home, runs_before)
        phases[phase] += 1
        # Nothing of the killed run lives on (dbt runs inside the load's process).
        assert not _no_survivors(settings.work_db), f"processes outlived the kill ({phase})"
        state = _published_state(settings.warehouse_db)
        log.info("kill %d/%d during %s: published %s", i + 1, loops, phase, state)
        assert state["2019-03"] == pytest.approx(MARCH_PLAN_FTP)
        assert state.get("2019-04", APRIL_PLAN_FTP) in (
            pytest.approx(APRIL_PLAN_FTP),
            pytest.approx(APRIL_B_PLAN_FTP),
        )

    log.info("kills by phase (%d in all): %s", loops, dict(phases.most_common()))

    # Recovery: the next run needs no manual step and shows the file now delivered.
    write_ydelser(settings.landing_dir, "2019-04", APRIL_B)
    result = subprocess.run(_lmkpi("load", "--month", "2019-04"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    state = _published_state(settings.warehouse_db)
    assert state["2019-04"] == pytest.approx(APRIL_B_PLAN_FTP)
    assert state["2019-03"] == pytest.approx(MARCH_PLAN_FTP)


def test_kill_while_publishing(lmkpi_home, dbt_manifest):
    """SIGKILL while the new warehouse file is being written (its temporary file exists): the
    published file is the previous one, and the next run cleans up and publishes."""
    settings = get_settings()
    write_ydelser(settings.landing_dir, "2019-03", MARCH_2019)
    assert run_monthly_load(settings, Month.parse("2019-03"), triggered_by="test").success
    before = settings.warehouse_db.read_bytes()
    write_ydelser(settings.landing_dir, "2019-04", APRIL_2019)

    caught = False
    for _ in range(3):  # the window is short; try again if the load finished first
        proc = subprocess.Popen(
            _lmkpi("load", "--force", "--month", "2019-04"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while proc.poll() is None:
            if list(settings.warehouse_db.parent.glob(f".{settings.warehouse_db.name}.*.tmp")):
                proc.send_signal(signal.SIGKILL)
                caught = True
                break
            time.sleep(0.002)
        proc.wait()
        if caught:
            break
    assert caught, "the load never reached publishing while watched"
    assert settings.warehouse_db.read_bytes() == before  # still the March publication
    assert _published_state(settings.warehouse_db) == {"2019-03": pytest.approx(MARCH_PLAN_FTP)}

    result = subprocess.run(_lmkpi("load", "--month", "2019-04"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not list(settings.warehouse_db.parent.glob(f".{settings.warehouse_db.name}.*.tmp"))
    state = _published_state(settings.warehouse_db)
    assert state["2019-04"] == pytest.approx(APRIL_PLAN_FTP)
