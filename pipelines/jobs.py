import dagster as dg

from pipelines.partitions import monthly_partitions

# Ingest -> checks -> dbt -> publish for one month (or a range, in one run).
monthly_load = dg.define_asset_job(
    "monthly_load",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("reports"),
    partitions_def=monthly_partitions,
    tags={"lmkpi/triggered_by": "dagster"},
)

# The reports of a month, started when its load has published (see automation.py).
monthly_reports = dg.define_asset_job(
    "monthly_reports",
    selection=dg.AssetSelection.groups("reports"),
    partitions_def=monthly_partitions,
)
