"""Reports: the benchmarking report (HTML + PDF) for each municipality of interest, per month."""

import os

import dagster as dg

from lmkpi.settings import get_settings
from pipelines.partitions import month_of, monthly_partitions


def report_municipalities(available: list[int]) -> list[int]:
    """``LMKPI_REPORT_MUNICIPALITIES``: codes like ``173,101`` or ``all`` (default ``173``).

    A report costs about 10 s of CPU; all 98 every month is possible but opt-in.
    """
    value = os.environ.get("LMKPI_REPORT_MUNICIPALITIES", "173").strip().lower()
    if value == "all":
        return available
    wanted = [int(v) for v in value.split(",") if v.strip()]
    return [m for m in wanted if m in available]


@dg.asset(
    key=["reports", "benchmarking_report"],
    group_name="reports",
    deps=[dg.AssetKey(["warehouse", "lmkpi"])],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"html", "pdf"},
    description="Beskæftigelsesplan status report per municipality (HTML with SVG charts, PDF), "
    "Danish, with small counts suppressed. Only the latest month of a backfill is rendered.",
)
def benchmarking_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    from lmkpi.report import build_report, municipalities

    settings = get_settings()
    month = month_of(context.partition_keys[-1])
    written = []
    for code in report_municipalities(municipalities(settings.warehouse_db, month)):
        files = build_report(settings.warehouse_db, code, month, settings.reports_dir / month)
        context.log.info(f"report {code} {month}: {files.html.name} in {files.seconds:.1f} s")
        written.append(files)
    return dg.MaterializeResult(
        metadata={
            "month": month,
            "reports": len(written),
            "files": dg.MetadataValue.md(
                "\n".join(f"- `{f.html}`\n- `{f.pdf}`" for f in written) or "(none)"
            ),
            "seconds": round(sum(f.seconds for f in written), 1),
        }
    )
