import dagster as dg

from pipelines.partitions import monthly_partitions

# Ingest -> checks -> dbt -> publish for one month (or a range, in one run).
monthly_load = dg.define_asset_job(
    "monthly_load",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly_partitions,
    tags={"lmkpi/triggered_by": "dagster"},
)
