"""Ingest assets: one per extract source, partitioned by reporting month.

Each reads the month's delivered file from the landing folder, pseudonymises CPR numbers at
the door, validates it with the source's great-expectations suite and replaces the month in
``raw.<source>`` of the working database (see ``lmkpi.warehouse.load``). A file refused whole
fails the step with a message naming the file and the rule; a failed critical expectation is a
failed blocking asset check (``pipelines.checks``), so nothing downstream runs. Bad data is
never retried; transient I/O errors are.
"""

import dagster as dg

from lmkpi.ingest import FileRejected
from lmkpi.settings import get_settings, pseudonym_key, required_sources
from lmkpi.warehouse.db import writer_lock
from lmkpi.warehouse.load import AccountingError, LoadOutcome, MissingDelivery, load_month
from lmkpi.warehouse.raw import load_population
from pipelines.checks import check_results, check_specs
from pipelines.partitions import month_of, monthly_partitions

TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)


def _outcomes_metadata(outcomes: list[LoadOutcome]) -> dict:
    rows = [
        f"| {o.month} | {o.file_name} | {o.outcome} | {o.rows_read} | {o.rows_loaded} "
        f"| {o.rows_rejected} | {o.checksum_sha256[:12]} |"
        for o in outcomes
    ]
    table = "\n".join(
        ["| month | file | outcome | read | loaded | rejected | sha256 |", "|---" * 7 + "|", *rows]
    )
    meta = {
        "loads": dg.MetadataValue.md(table),
        "rows_read": sum(o.rows_read for o in outcomes),
        "rows_loaded": sum(o.rows_loaded for o in outcomes),
        "rows_rejected": sum(o.rows_rejected for o in outcomes),
    }
    if len(outcomes) == 1:
        meta |= {"file": outcomes[0].file_name, "load_id": outcomes[0].load_id}
    return meta


def ingest_source(context: dg.AssetExecutionContext, source: str) -> dg.MaterializeResult:
    settings = get_settings()
    key = pseudonym_key(settings)
    required = source in required_sources()
    outcomes: list[LoadOutcome] = []
    not_delivered: list[str] = []
    months = [month_of(k) for k in context.partition_keys]
    with writer_lock(settings.work_dir):
        for i, month in enumerate(months, start=1):
            try:
                outcome = load_month(
                    source=source,
                    month=month,
                    landing_dir=settings.landing_dir,
                    archive_dir=settings.archive_dir,
                    work_db=settings.work_db,
                    quality_dir=settings.quality_dir,
                    key=key,
                    triggered_by=context.run.tags.get("lmkpi/triggered_by", "dagster"),
                    run_id=context.run_id,
                    force=context.run.tags.get("lmkpi/force") == "true",
                )
            except MissingDelivery as exc:
                if required:
                    raise _failure(source, month, exc, outcomes) from exc
                not_delivered.append(month)
                context.log.warning(f"{source} {month}: not delivered; nothing loaded ({exc})")
                continue
            except (FileRejected, AccountingError) as exc:
                raise _failure(source, month, exc, outcomes) from exc
            outcomes.append(outcome)
            log = context.log.error if outcome.outcome == "blocked" else context.log.info
            log(f"[{i}/{len(months)}] {source} {month}: {outcome.message}")
    metadata = _outcomes_metadata(outcomes) if outcomes else {}
    if not_delivered:
        metadata["not_delivered"] = ", ".join(not_delivered)
    summaries = [o.report_path for o in outcomes if o.report_path]
    if summaries:
        metadata["validation_summary"] = dg.MetadataValue.path(str(summaries[-1]))
    return dg.MaterializeResult(metadata=metadata, check_results=check_results(source, outcomes))


def _failure(source: str, month: str, exc: Exception, outcomes: list[LoadOutcome]) -> dg.Failure:
    return dg.Failure(
        description=f"{source} {month}: {exc}",
        metadata={"source": source, "month": month, "problem": str(exc)}
        | (_outcomes_metadata(outcomes) if outcomes else {}),
        allow_retries=False,
    )


def _ingest_asset(source: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        check_specs=check_specs(source, dg.AssetKey(["raw", source])),
        name=source,
        key_prefix=["raw"],
        group_name="ingest",
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=TRANSIENT_RETRY,
        kinds={"polars", "duckdb"},
        description=description,
    )
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return ingest_source(context, source)

    return _asset


ydelser = _ingest_asset(
    "ydelser",
    "Benefit status segments per month (required every month); CPR replaced by keyed pseudonyms.",
)
joblog = _ingest_asset(
    "joblog",
    "Jobloggen registrations per month, pseudonymised, without the free-text fields "
    "(loaded when delivered).",
)
indkvartering = _ingest_asset(
    "indkvartering",
    "Temporary housing per address and month, from CSV or xlsx (loaded when delivered).",
)


@dg.asset(
    key=["raw", "population"],
    group_name="ingest",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"polars", "duckdb"},
    description="Residents aged 16-66 per municipality and month: the denominator of rates "
    "(landing/population/population_16_66.csv, optional).",
)
def population(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = get_settings()
    loaded: dict[str, int | None] = {}
    with writer_lock(settings.work_dir):
        for partition_key in context.partition_keys:
            month = month_of(partition_key)
            loaded[month] = load_population(settings.landing_dir, settings.work_db, month)
    missing = [m for m, n in loaded.items() if n is None]
    if missing:
        context.log.warning(f"no population file for {', '.join(missing)}; rates stay empty")
    return dg.MaterializeResult(
        metadata={"rows_loaded": sum(n or 0 for n in loaded.values()), "months": len(loaded)}
    )


ingest_assets = [ydelser, joblog, indkvartering, population]
