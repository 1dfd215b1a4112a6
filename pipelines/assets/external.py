"""The external aggregates (Jobindsats, Statistics Denmark) as a Dagster asset.

Every file in ``landing/jobindsats/`` and ``landing/statbank/`` not yet loaded (by content) is
loaded by any monthly run, whichever month it is for: a file is a vintage of a table, not a
month. A file refused or blocked fails the step the first time (nothing is published), and
is then left alone until it changes, so one bad file does not stop every later month.
"""

import logging

import dagster as dg

from lmkpi.errors import LmkpiError
from lmkpi.external.load import load_external
from lmkpi.external.specs import EXTERNAL_SOURCES
from lmkpi.ingest import Delivery, FileRejected, scan_landing
from lmkpi.load import LoadOutcome
from lmkpi.logs import Progress
from lmkpi.warehouse.audit import ensure_audit_tables
from lmkpi.warehouse.db import connect, writer_lock
from pipelines.partitions import monthly_partitions
from pipelines.resources import LmkpiSettings

log = logging.getLogger(__name__)

CHECK = "external_files_valid"


def _settled(con, delivery: Delivery) -> str | None:  # noqa: ANN001
    """The outcome of the last attempt at these very bytes, if it was final."""
    row = con.execute(
        """
        select outcome from audit.load_audit
        where source = ? and file_name = ? and checksum_sha256 = ?
        order by finished_at desc limit 1
        """,
        [delivery.source, delivery.file_name, delivery.sha256],
    ).fetchone()
    return row[0] if row and row[0] in ("loaded", "rejected_file", "blocked") else None


@dg.asset(
    key=["raw", "external_observations"],
    group_name="ingest",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"polars", "duckdb"},
    check_specs=[
        dg.AssetCheckSpec(
            CHECK,
            asset=dg.AssetKey(["raw", "external_observations"]),
            blocking=True,
            description="[critical] every new Jobindsats / Statbank file was read and passed "
            "its table's suite (a refused file is named with its rule)",
        )
    ],
    description="Jobindsats and Statistics Denmark tables, every vintage (the day a file was "
    "retrieved) kept: landing/<jobindsats|statbank>/<table>_<YYYY-MM-DD>.<csv|json>.",
)
def external_observations(context: dg.AssetExecutionContext, lmkpi: LmkpiSettings):
    settings = lmkpi.get()
    scan = scan_landing(settings.landing_dir, EXTERNAL_SOURCES)
    for refused in scan.refused:
        context.log.warning(f"{refused.source}: {refused.error}")
    outcomes: list[LoadOutcome] = []
    problems: list[str] = [str(r.error) for r in scan.refused if r.error.rule != "bad_file_name"]
    with writer_lock(settings.work_dir):
        with connect(settings.work_db) as con:
            ensure_audit_tables(con)
            todo = [d for d in scan.deliveries if _settled(con, d) is None]
        force = context.run.tags.get("lmkpi/force") == "true"
        work = scan.deliveries if force else todo
        if scan.deliveries and not work:
            log.info("external sources: %d files, all loaded before", len(scan.deliveries))
        progress = Progress(len(work))
        for delivery in work:
            try:
                outcome = load_external(
                    delivery,
                    settings,
                    triggered_by=context.run.tags.get("lmkpi/triggered_by", "dagster"),
                    run_id=context.run_id,
                    force=force,
                )
            except FileRejected as exc:
                problems.append(str(exc))
                continue
            except LmkpiError as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from None
            outcomes.append(outcome)
            if outcome.record.outcome == "blocked":
                problems.append(outcome.record.message)
            context.log.info(outcome.record.message)
            r = outcome.record
            progress.step(
                f"{delivery.source} {delivery.file_name}: {r.outcome} {r.rows_loaded:,} rows",
                logging.ERROR if r.outcome == "blocked" else logging.INFO,
            )
    loaded = [o for o in outcomes if o.record.outcome == "loaded"]
    return dg.MaterializeResult(
        metadata={
            "files_loaded": len(loaded),
            "files_already_loaded": len(scan.deliveries) - len(todo),
            "rows_loaded": sum(o.record.rows_loaded for o in loaded),
            "files": dg.MetadataValue.md(
                "\n".join(f"- {o.record.file_name}: {o.record.outcome}" for o in outcomes)
                or "(no new files)"
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=CHECK,
                passed=not problems,
                severity=dg.AssetCheckSeverity.ERROR,
                description="; ".join(problems)[:2000] if problems else None,
                metadata={"problems": len(problems), "files_loaded": len(loaded)},
            )
        ],
    )
