"""Publishing: after every blocking check of the run has passed, swap in a new warehouse."""

from datetime import UTC, datetime

import dagster as dg

from lmkpi.warehouse.db import writer_lock
from lmkpi.warehouse.pending import clear_pending, pending_months
from lmkpi.warehouse.publish import publish
from pipelines.assets.dbt import mart_keys
from pipelines.partitions import monthly_partitions
from pipelines.resources import LmkpiSettings


@dg.asset(
    key=["warehouse", "lmkpi"],
    group_name="publish",
    deps=mart_keys(),
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"duckdb"},
    description=(
        "The analysts' warehouse ($LMKPI_HOME/warehouse/lmkpi.duckdb): the marts copied into a "
        "new file and renamed over the previous one, so open sessions are never disturbed."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, lmkpi: LmkpiSettings
) -> dg.MaterializeResult:
    settings = lmkpi.get()
    with writer_lock(settings.work_dir):
        started = datetime.now(UTC).replace(tzinfo=None)
        pending = pending_months(settings.work_db)
        pub = publish(
            settings.work_db,
            settings.warehouse_db,
            group=settings.publish_group,
            keep_history=settings.history_keep_publications,
            memory_limit=settings.duckdb_memory_limit,
        )
        clear_pending(settings.work_db, pending, before=started)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(pub.path)),
            "version": dg.MetadataValue.path(str(pub.version_path)),
            "publication_id": pub.publication_id,
            "tables": pub.tables,
            "publish_seconds": round(pub.seconds, 2),
        }
    )
