"""Operations: a sensor on the landing folder, the monthly schedule, reports after a load."""

import hashlib
import json
from collections import defaultdict
from datetime import datetime

import dagster as dg

from lmkpi.ingest import Delivery, scan_landing
from lmkpi.months import Month
from lmkpi.settings import Settings
from pipelines.jobs import monthly_load, monthly_reports
from pipelines.resources import LmkpiSettings


def _missing_sources(settings: Settings, month: Month, deliveries: list[Delivery]) -> list[str]:
    delivered = {d.source for d in deliveries if d.month == month}
    return [s for s in settings.required_sources if s not in delivered]


@dg.sensor(
    job=monthly_load, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED
)
def landing_sensor(context: dg.SensorEvaluationContext, lmkpi: LmkpiSettings):
    """Start a run for the month of every new or changed file in the landing folder."""
    settings = lmkpi.get()
    previous = json.loads(context.cursor) if context.cursor else {}
    scan = scan_landing(settings.landing_dir)
    deliveries = scan.deliveries
    for refused in scan.refused:  # misnamed files, symlinks: said once, never loaded
        if f"{refused.source}/{refused.path.name}" not in previous:
            context.log.warning(f"{refused.source}: {refused.error} ({refused.error.rule})")
    current = {f"{d.source}/{d.file_name}": (d.month, d.signature) for d in deliveries}
    changed: dict[Month, list[str]] = defaultdict(list)
    for name, (month, signature) in current.items():
        if previous.get(name) != signature:
            changed[month].append(f"{name}@{signature}")
    requests, skipped = [], []
    for month, files in sorted(changed.items()):
        missing = _missing_sources(settings, month, deliveries)
        if missing:
            skipped.append(f"{month} (waiting for {', '.join(missing)})")
            for name in [n for n, (m, _) in current.items() if m == month]:
                current.pop(name)  # look again when the rest arrives
            continue
        run_key = hashlib.sha256("|".join(sorted(files)).encode()).hexdigest()[:16]
        requests.append(
            dg.RunRequest(
                partition_key=month.partition_key,
                run_key=f"{month}:{run_key}",
                tags={"lmkpi/triggered_by": "sensor"},
            )
        )
    seen = {f"{r.source}/{r.path.name}": "refused" for r in scan.refused}
    context.update_cursor(json.dumps(seen | {n: sig for n, (_, sig) in current.items()}))
    if requests:
        return requests
    return dg.SkipReason(
        "no new or changed files" + (f"; not ready: {', '.join(skipped)}" if skipped else "")
    )


def previous_month(moment: datetime) -> Month:
    return Month.of(moment.date()).previous


@dg.schedule(
    job=monthly_load,
    cron_schedule="0 6 10 * *",
    execution_timezone="Europe/Copenhagen",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def monthly_schedule(context: dg.ScheduleEvaluationContext, lmkpi: LmkpiSettings):
    """On the 10th at 06:00, load the previous month once its required files are there."""
    settings = lmkpi.get()
    month = previous_month(context.scheduled_execution_time)
    missing = _missing_sources(settings, month, scan_landing(settings.landing_dir).deliveries)
    if missing:
        return dg.SkipReason(f"{month}: waiting for {', '.join(missing)} in the landing folder")
    return dg.RunRequest(
        partition_key=month.partition_key,
        run_key=str(month),
        tags={"lmkpi/triggered_by": "schedule"},
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
