"""Reports: the benchmarking report (HTML + PDF) for each municipality of interest, per month."""

import dagster as dg

from pipelines.partitions import monthly_partitions, partition_months
from pipelines.resources import LmkpiSettings


@dg.asset(
    key=["reports", "benchmarking_report"],
    group_name="reports",
    deps=[dg.AssetKey(["warehouse", "lmkpi"])],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"html", "pdf"},
    description="Beskæftigelsesplan status report per municipality (HTML with SVG charts, PDF), "
    "Danish, with small counts suppressed. Only the latest month of a backfill is rendered; "
    "which municipalities: LMKPI_REPORT_MUNICIPALITIES (default 173, or 'all').",
)
def benchmarking_report(
    context: dg.AssetExecutionContext, lmkpi: LmkpiSettings
) -> dg.MaterializeResult:
    from lmkpi.report import build_report, municipalities

    settings = lmkpi.get()
    month = partition_months(context)[-1]
    available = municipalities(settings.warehouse_db, month.key)
    wanted = settings.report_municipalities
    codes = available if wanted is None else [m for m in wanted if m in available]
    written = []
    for code in codes:
        out = settings.reports_dir / month.key
        files = build_report(
            settings.warehouse_db, code, month.key, out, group=settings.publish_group
        )
        context.log.info(f"report {code} {month}: {files.html.name} in {files.seconds:.1f} s")
        written.append(files)
    return dg.MaterializeResult(
        metadata={
            "month": str(month),
            "reports": len(written),
            "files": dg.MetadataValue.md(
                "\n".join(f"- `{f.html}`\n- `{f.pdf}`" for f in written) or "(none)"
            ),
            "seconds": round(sum(f.seconds for f in written), 1),
        }
    )
