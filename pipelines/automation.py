"""Operations: a sensor on the landing folder and the monthly schedule."""

import hashlib
import json
from datetime import datetime

import dagster as dg

from lmkpi.ingest import SOURCES, FileRejected, month_from_file_name
from lmkpi.months import month_key
from lmkpi.settings import get_settings, required_sources
from lmkpi.warehouse.load import MissingDelivery, find_delivery
from pipelines.jobs import monthly_load, monthly_reports


def _delivered(month: str) -> list[str]:
    settings = get_settings()
    found = []
    for source in SOURCES:
        try:
            find_delivery(settings.landing_dir, source, month)
            found.append(source)
        except (MissingDelivery, FileRejected):
            pass
    return found


def _landing_signatures() -> dict[str, tuple[str, str]]:
    """file name -> (month, signature) for every well-named file in the landing folder."""
    settings = get_settings()
    out = {}
    for source in SOURCES:
        folder = settings.landing_dir / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            try:
                month = month_from_file_name(source, path.name)
            except FileRejected:
                continue  # not a delivery (a note, a temp file); the name rule is strict
            stat = path.stat()
            out[f"{source}/{path.name}"] = (month, f"{stat.st_mtime_ns}:{stat.st_size}")
    return out


@dg.sensor(
    job=monthly_load, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED
)
def landing_sensor(context: dg.SensorEvaluationContext):
    """Start a run for the month of every new or changed file in the landing folder."""
    previous = json.loads(context.cursor) if context.cursor else {}
    current = _landing_signatures()
    changed_months: dict[str, list[str]] = {}
    for name, (month, signature) in current.items():
        if previous.get(name) != signature:
            changed_months.setdefault(month, []).append(f"{name}@{signature}")
    requests, skipped = [], []
    for month, files in sorted(changed_months.items()):
        missing = [s for s in required_sources() if s not in _delivered(month)]
        if missing:
            skipped.append(f"{month} (waiting for {', '.join(missing)})")
            for name in [n for n, (m, _) in current.items() if m == month]:
                current.pop(name)  # look again when the rest arrives
            continue
        run_key = hashlib.sha256("|".join(sorted(files)).encode()).hexdigest()[:16]
        requests.append(
            dg.RunRequest(
                partition_key=f"{month}-01",
                run_key=f"{month}:{run_key}",
                tags={"lmkpi/triggered_by": "sensor"},
            )
        )
    context.update_cursor(json.dumps({n: sig for n, (_, sig) in current.items()}))
    if requests:
        return requests
    return dg.SkipReason(
        "no new or changed files" + (f"; not ready: {', '.join(skipped)}" if skipped else "")
    )


def previous_month(moment: datetime) -> str:
    first = moment.replace(day=1)
    return month_key(
        first.replace(year=first.year - 1, month=12)
        if first.month == 1
        else first.replace(month=first.month - 1)
    )


@dg.schedule(
    job=monthly_load,
    cron_schedule="0 6 10 * *",
    execution_timezone="Europe/Copenhagen",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def monthly_schedule(context: dg.ScheduleEvaluationContext):
    """On the 10th at 06:00, load the previous month once its required files are there."""
    month = previous_month(context.scheduled_execution_time)
    missing = [s for s in required_sources() if s not in _delivered(month)]
    if missing:
        return dg.SkipReason(f"{month}: waiting for {', '.join(missing)} in the landing folder")
    return dg.RunRequest(
        partition_key=f"{month}-01", run_key=month, tags={"lmkpi/triggered_by": "schedule"}
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[monthly_load],
    request_job=monthly_reports,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def reports_after_load(context: dg.RunStatusSensorContext):
    """When a month's load has published, render that month's reports."""
    tags = context.dagster_run.tags
    month = tags.get("dagster/partition") or tags.get("dagster/asset_partition_range_end")
    if not month:
        return dg.SkipReason("the load had no partition")
    return dg.RunRequest(run_key=f"reports:{context.dagster_run.run_id}", partition_key=month)
