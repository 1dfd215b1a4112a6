"""Reports: the benchmarking report (HTML + PDF) for each municipality of interest, per month."""

import dagster as dg

from lmkpi.refresh import render_docs, render_reports
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
    settings = lmkpi.get()
    month = partition_months(context)[-1]
    written = render_reports(settings, month)
    for files in written:
        context.log.info(f"report {files.municipality} {month}: {files.html.name}")
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


@dg.asset(
    key=["reports", "dbt_docs"],
    group_name="reports",
    deps=[dg.AssetKey(["warehouse", "lmkpi"])],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"html"},
    description="dbt's docs of the published warehouse for analysts, one offline HTML file "
    "($LMKPI_HOME/warehouse/docs/index.html), opening on the list of marts.",
)
def dbt_docs(context: dg.AssetExecutionContext, lmkpi: LmkpiSettings) -> dg.MaterializeResult:
    page = render_docs(lmkpi.get())
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(page))})
