"""Running loads through Dagster from the command line (in-process, same job as the schedule)."""

import fcntl
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lmkpi.months import Month
from lmkpi.settings import DBT_PROJECT_DIR, Settings

log = logging.getLogger(__name__)

DAGSTER_YAML = """\
# Written by lmkpi (lmkpi/orchestration.py) and rewritten by it when it differs; delete the
# first line to keep a file of your own. Telemetry off; one run at a time (one writer of the
# working database); Dagster's SQLite event log with its engines kept for the process
# (lmkpi/dagster_storage.py).
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
event_log_storage:
  module: lmkpi.dagster_storage
  class: LmkpiSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
"""
WRITTEN_BY_LMKPI = "# Written by lmkpi"


def prepare_dagster_home(settings: Settings) -> Path:
    """``$LMKPI_HOME/dagster`` with lmkpi's ``dagster.yaml`` (the instance's DAGSTER_HOME).

    The event log stays where Dagster keeps it by default (``history/runs``), so runs of an
    earlier version remain visible."""
    settings.ensure_dirs()
    config = settings.dagster_home / "dagster.yaml"
    text = DAGSTER_YAML.format(
        event_log_dir=json.dumps(str(settings.dagster_home / "history" / "runs"))
    )
    if not config.exists() or (
        config.read_text().startswith(WRITTEN_BY_LMKPI) and config.read_text() != text
    ):
        config.write_text(text)
    return settings.dagster_home


def dagster_env(settings: Settings) -> dict[str, str]:
    """The environment of a Dagster process started for ``settings`` (``lmkpi dev``)."""
    # The venv's bin first on PATH: its dagster and dbt, activated or not.
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return os.environ | {
        "PATH": bin_dir + (os.pathsep + path if path else ""),
        # Dagster's own deprecation notices (e.g. "use dg dev") are not the operator's
        "PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS", "ignore"),
        "DAGSTER_HOME": str(prepare_dagster_home(settings)),
        "LMKPI_HOME": str(settings.home),
        "LMKPI_DEMO": "1" if settings.demo else "",
    }


def _dbt_sources() -> list[Path]:
    files = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        files += [p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file()]
    return files


def ensure_dbt_manifest(force: bool = False) -> Path:
    """Run `dbt parse` when target/manifest.json is missing or older than the project files."""
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not force and _manifest_is_current(manifest):
        return manifest
    # Several processes (test workers, a load and `dagster dev`) may ask at once: parse once.
    lock_path = DBT_PROJECT_DIR / "target" / ".parse.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and _manifest_is_current(manifest):
            return manifest
        _dbt_parse(manifest)
    return manifest


def _manifest_is_current(manifest: Path) -> bool:
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return all(p.stat().st_mtime <= built for p in _dbt_sources())


def _dbt_parse(manifest: Path) -> None:
    log.info("parsing the dbt project (dbt parse) to build %s", manifest)
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [str(dbt), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR)]
        + ["--profiles-dir", str(DBT_PROJECT_DIR)],
        check=True,
        cwd=DBT_PROJECT_DIR,
        env=os.environ | {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str
    months: list[Month]
    errors: list[str]
    summaries: list[str] = field(default_factory=list)  # quality summaries the run wrote
    published: bool = False  # the run swapped in a new warehouse (not a no-op)


def run_monthly_load(
    settings: Settings,
    start: Month,
    end: Month | None = None,
    *,
    triggered_by: str = "cli",
    force: bool = False,
    accept_drop: bool = False,
    wait_s: float = 600.0,
) -> RunOutcome:
    """Materialize ingest -> dbt -> publish for the months ``start``..``end`` in one run.

    The whole run is one writer: it waits up to ``wait_s`` for another lmkpi process to
    finish (then WriterBusy), before anything is imported or started.
    """
    months = Month.range(start, end or start)
    from lmkpi.warehouse.db import writer_lock

    with writer_lock(settings.work_dir, timeout_s=wait_s):
        tags = {"lmkpi/triggered_by": triggered_by}
        tags |= {"lmkpi/force": "true"} if force else {}
        tags |= {"lmkpi/accept-drop": "true"} if accept_drop else {}
        result = _execute(settings, months, tags)
    return _outcome(result, months)


def _outcome(result, months: list[Month]) -> RunOutcome:  # noqa: ANN001 (a Dagster result)
    """Success, the messages of failed blocking checks and failed steps, and the paths of the
    quality summaries of the run's loads."""
    errors: list[str] = []
    summaries: list[str] = []
    published = False
    for event in result.all_events:
        metadata = {}
        if event.event_type_value == "ASSET_MATERIALIZATION":
            metadata = event.event_specific_data.materialization.metadata
            published |= event.asset_key.path == ["warehouse", "lmkpi"]
        elif event.is_step_failure and event.step_failure_data.user_failure_data:
            metadata = event.step_failure_data.user_failure_data.metadata or {}
        summary = metadata.get("validation_summary")
        if summary is not None and summary.value not in summaries:
            summaries.append(summary.value)
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity.value == "ERROR":
                errors.append(
                    f"{evaluation.asset_key.to_user_string()} check {evaluation.check_name} "
                    f"failed (blocking): {evaluation.description or ''}"
                )
        if event.is_step_failure and event.step_failure_data:
            failure = event.step_failure_data
            if failure.user_failure_data and failure.user_failure_data.description:
                errors.append(failure.user_failure_data.description)
            elif failure.error:
                errors.append(failure.error.message.strip())
    return RunOutcome(result.success, result.run_id, months, errors, summaries, published)


def run_models_and_publish(settings: Settings, triggered_by: str) -> RunOutcome:
    """dbt and publish over the whole loaded history, without the ingest (after the raw layer
    was rebuilt from the archive: lmkpi.rebuild)."""
    from lmkpi.warehouse.db import writer_lock
    from lmkpi.warehouse.pending import latest_loaded_month, pending_months

    with writer_lock(settings.work_dir):
        pending = pending_months(settings.work_db)
        latest = latest_loaded_month(settings.work_db)
        if not pending or latest is None:
            return RunOutcome(True, "", [], ["nothing to rebuild"])
        months = Month.range(Month.of(min(pending)), Month.of(latest))
        tags = {"lmkpi/triggered_by": triggered_by}
        result = _execute(settings, months, tags, models_only=True)
    return _outcome(result, months)


def _execute(
    settings: Settings, months: list[Month], tags: dict[str, str], *, models_only: bool = False
):
    """The monthly_load job in this process, for ``months``, with this run's settings
    (``models_only``: dbt and publish, not the ingest)."""
    dagster_home = prepare_dagster_home(settings)
    ensure_dbt_manifest()
    from lmkpi.quality import worker

    if not models_only and worker.worth_starting(len(months)):
        worker.start()  # great-expectations' import runs beside Dagster's (quality/worker.py)

    import dagster as dg
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from lmkpi.logs import dagster_console_level
    from pipelines.definitions import defs
    from pipelines.resources import LmkpiSettings

    partition_key = None
    if len(months) == 1:
        partition_key = months[0].partition_key
    else:
        tags |= {
            ASSET_PARTITION_RANGE_START_TAG: months[0].partition_key,
            ASSET_PARTITION_RANGE_END_TAG: months[-1].partition_key,
        }
    span = f"{months[0]}..{months[-1]} ({len(months)} months)" if len(months) > 1 else months[0]
    log.info("loading %s through Dagster", span)
    job = defs.resolve_job_def("monthly_load")
    selection = None
    if models_only:
        selection = [k for k in job.asset_layer.executable_asset_keys if k.path[0] != "raw"]
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        return job.execute_in_process(
            asset_selection=selection,
            instance=instance,
            partition_key=partition_key,
            tags=tags,
            raise_on_error=False,
            # Dagster's console is off on the CLI unless -v: its step failures come back
            # shorter, with the failed check, from RunOutcome.errors (lmkpi.logs).
            run_config={"loggers": {"console": {"config": {"log_level": dagster_console_level()}}}},
            # A subset job cannot take resource overrides (Dagster refuses them); it reads the
            # same settings from the environment, and runs no ingest, so needs no key.
            resources=None if models_only else {"lmkpi": LmkpiSettings.of(settings)},
        )


STEP_EVENTS = ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "PIPELINE_START", "PIPELINE_SUCCESS")


def run_event_logs(dagster_home: Path) -> list[Path]:
    """The per-run event-log databases of a SQLite Dagster instance, oldest first."""
    runs = (dagster_home / "history" / "runs").glob("*-*.db")
    return sorted(runs, key=lambda p: p.stat().st_mtime)


def step_events(run_log: Path) -> list[tuple[str, str, str]]:
    """(event type, step key or '', ISO timestamp) of a run's step and run events, in order:
    where a run spent its time, or where it was when it died (read-only, from its log)."""
    import sqlite3

    with sqlite3.connect(f"file:{run_log}?mode=ro", uri=True) as con:
        tables = con.execute("select name from sqlite_master where type = 'table'").fetchall()
        if ("event_logs",) not in tables:
            return []  # the run was killed while Dagster was still creating its log
        return con.execute(
            "select dagster_event_type, coalesce(step_key, ''), timestamp from event_logs "
            f"where dagster_event_type in ({', '.join('?' * len(STEP_EVENTS))}) order by id",
            STEP_EVENTS,
        ).fetchall()
