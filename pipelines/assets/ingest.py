"""Ingest assets: one per extract source, partitioned by reporting month.

Each reads the month's delivered file from the landing folder, pseudonymises CPR numbers at
the door, validates it with the source's great-expectations suite and replaces the month in
``raw.<source>`` of the working database (see ``lmkpi.load``). A file refused whole
fails the step with a message naming the file and the rule; a failed critical expectation is a
failed blocking asset check (``pipelines.checks``), so nothing downstream runs. Bad data is
never retried; transient I/O errors are.
"""

import logging
from collections.abc import Iterator
from dataclasses import replace

import dagster as dg
import duckdb

from lmkpi.errors import DeliveryError, LmkpiError, MissingDelivery
from lmkpi.ingest import FileRejected, find_delivery
from lmkpi.load import LoadOutcome, load_delivery, refuse, release_memory
from lmkpi.logs import Progress
from lmkpi.months import Month
from lmkpi.quality import worker as validation_worker
from lmkpi.warehouse.db import connect, writer_lock
from lmkpi.warehouse.keys import check_key
from lmkpi.warehouse.raw import load_population
from pipelines.checks import check_results, check_specs
from pipelines.partitions import monthly_partitions, partition_months
from pipelines.resources import LmkpiSettings

# Only transient I/O is retried: every LmkpiError (a missing key, a refused file, a bad
# setting) fails the step at once through dg.Failure(allow_retries=False).
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)
# What may pass on its own: I/O (a share that blips, a file still being copied), a DuckDB I/O
# error or a timeout. Everything else fails at once.
TRANSIENT = (OSError, TimeoutError, duckdb.IOException)


def _short(outcome: LoadOutcome) -> str:
    """The outcome of one month in a few words, for the progress line."""
    r = outcome.record
    if r.outcome == "blocked":
        failed = [e.rule for e in outcome.report.blocking] if outcome.report else []
        return f"BLOCKED by {', '.join(failed) or 'a critical check'}; nothing loaded"
    if r.outcome == "unchanged":
        return "unchanged (identical to the file already loaded)"
    text = f"{r.outcome} {r.rows_loaded:,} rows"
    if r.rows_rejected:
        text += f", {r.rows_rejected:,} rejected"
    if r.checks_warning:
        text += f", {r.checks_warning} warning{'s' if r.checks_warning != 1 else ''}"
    return text


def _outcomes_metadata(outcomes: list[LoadOutcome]) -> dict:
    records = [o.record for o in outcomes]
    rows = [
        f"| {o.month} | {r.file_name} | {r.outcome} | {r.rows_read} | {r.rows_loaded} "
        f"| {r.rows_rejected} | {r.checksum_sha256[:12]} |"
        for o, r in zip(outcomes, records, strict=True)
    ]
    table = "\n".join(
        ["| month | file | outcome | read | loaded | rejected | sha256 |", "|---" * 7 + "|", *rows]
    )
    meta = {
        "loads": dg.MetadataValue.md(table),
        "rows_read": sum(r.rows_read for r in records),
        "rows_loaded": sum(r.rows_loaded for r in records),
        "rows_rejected": sum(r.rows_rejected for r in records),
    }
    if len(records) == 1:
        meta |= {"file": records[0].file_name, "load_id": records[0].load_id}
    return meta


def ingest_source(
    context: dg.AssetExecutionContext, source: str, lmkpi: LmkpiSettings
) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization | dg.AssetCheckResult]:
    """Load the run's months; a blocked month fails the step (see ``_blocked``)."""
    outcomes: list[LoadOutcome] = []
    not_delivered: list[Month] = []
    months = partition_months(context)
    month = months[0]
    if validation_worker.worth_starting(len(months)):
        validation_worker.start()  # runs already when lmkpi load started the run
    try:
        settings = lmkpi.get()
        if context.run.tags.get("lmkpi/accept-drop") == "true":  # the operator knows why
            settings = replace(settings, quality=replace(settings.quality, accept_drop=True))
        key = settings.pseudonym_key()
        with writer_lock(settings.work_dir):
            with connect(settings.work_db) as con:
                check_key(con, key)  # the key the history was built with, or refused
            progress = Progress(len(months))
            for i, month in enumerate(months, start=1):
                triggered_by = context.run.tags.get("lmkpi/triggered_by", "dagster")
                try:
                    delivery = find_delivery(settings.landing_dir, source, month)
                except MissingDelivery as exc:
                    if source in settings.required_sources:
                        raise
                    not_delivered.append(month)
                    context.log.warning(f"{source} {month}: not delivered; nothing loaded ({exc})")
                    continue
                except FileRejected as exc:
                    refuse(
                        settings,
                        source,
                        month,
                        exc,
                        triggered_by=triggered_by,
                        run_id=context.run_id,
                    )
                    raise
                outcome = load_delivery(
                    delivery,
                    settings,
                    key=key,
                    triggered_by=triggered_by,
                    run_id=context.run_id,
                    force=context.run.tags.get("lmkpi/force") == "true",
                )
                outcomes.append(outcome)
                release_memory()  # a long backfill stays at one month's memory
                record = outcome.record
                blocked = record.outcome == "blocked"
                (context.log.error if blocked else context.log.info)(
                    f"[{i}/{len(months)}] {source} {month}: {record.message}"
                )
                progress.step(
                    f"{source} {month}: {_short(outcome)}",
                    logging.ERROR if blocked else logging.INFO,
                )
    except LmkpiError as exc:
        raise _failure(source, month, exc, outcomes) from None
    except PermissionError as exc:  # not transient: retrying cannot help
        problem = f"cannot read {exc.filename}: permission denied; make it readable by lmkpi"
        raise _failure(source, month, DeliveryError(problem), outcomes) from None
    except Exception as exc:
        if isinstance(exc, TRANSIENT):
            raise  # the step's retry policy tries again
        # A bug is not transient either: fail once, with the traceback as the cause.
        raise dg.Failure(
            description=f"{source} {month}: {type(exc).__name__}: {exc} (an error in lmkpi, "
            "not in the delivery; not retried)",
            allow_retries=False,
        ) from exc
    checks = check_results(source, outcomes)
    blocked = [o for o in outcomes if o.record.outcome == "blocked"]
    if blocked:
        yield from _blocked(context, source, outcomes, blocked, checks)
        return
    metadata = _outcomes_metadata(outcomes) if outcomes else {}
    if not_delivered:
        metadata["not_delivered"] = ", ".join(map(str, not_delivered))
    summaries = [o.report_path for o in outcomes if o.report_path]
    if summaries:
        metadata["validation_summary"] = dg.MetadataValue.path(str(summaries[-1]))
    yield dg.MaterializeResult(metadata=metadata, check_results=checks)


def _blocked(
    context: dg.AssetExecutionContext,
    source: str,
    outcomes: list[LoadOutcome],
    blocked: list[LoadOutcome],
    checks: list[dg.AssetCheckResult],
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckResult]:
    """A blocked month is a failed partition, not a green one: the months of the run that did
    load are materialized one by one, the check results are recorded, and the step fails with
    the failed critical checks as its reason (so the partition bar shows the blocked month red,
    the reason one click away, and nothing downstream runs)."""
    for outcome in outcomes:
        if outcome not in blocked:
            yield dg.AssetMaterialization(
                asset_key=context.asset_key,
                partition=outcome.month.partition_key,
                metadata=_outcomes_metadata([outcome]),
            )
    yield from checks
    failed = [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    months = ", ".join(str(o.month) for o in blocked)
    summaries = [o.report_path for o in blocked if o.report_path]
    rules = sorted({e.rule for o in blocked if o.report for e in o.report.blocking})
    metadata = _outcomes_metadata(blocked) | {
        "source": source,
        "blocked_months": months,
        "failed_checks": ", ".join(c.check_name for c in failed),
        "failed_rules": ", ".join(rules),
    }
    if summaries:
        metadata["validation_summary"] = dg.MetadataValue.path(str(summaries[-1]))
    named = ", ".join(c.check_name for c in failed) or "(see the checks)"
    raise dg.Failure(
        description=f"{source} {months}: blocked by the failed check {named}"
        + (f" ({', '.join(rules)})" if rules else "")
        + "; not published",
        metadata=metadata,
        allow_retries=False,
    )


def _failure(source: str, month: Month, exc: Exception, outcomes: list[LoadOutcome]) -> dg.Failure:
    """A failed step that names the problem; never retried (it is not transient)."""
    return dg.Failure(
        description=f"{source} {month}: {exc}",
        metadata={"source": source, "month": str(month), "problem": str(exc)}
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
    def _asset(context: dg.AssetExecutionContext, lmkpi: LmkpiSettings):  # noqa: ANN202
        yield from ingest_source(context, source, lmkpi)

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
def population(context: dg.AssetExecutionContext, lmkpi: LmkpiSettings) -> dg.MaterializeResult:
    settings = lmkpi.get()
    loaded: dict[Month, int | None] = {}
    with writer_lock(settings.work_dir):
        for month in partition_months(context):
            loaded[month] = load_population(settings.landing_dir, settings.work_db, month)
    missing = [str(m) for m, n in loaded.items() if n is None]
    if missing:
        context.log.warning(f"no population file for {', '.join(missing)}; rates stay empty")
    return dg.MaterializeResult(
        metadata={"rows_loaded": sum(n or 0 for n in loaded.values()), "months": len(loaded)}
    )


ingest_assets = [ydelser, joblog, indkvartering, population]
