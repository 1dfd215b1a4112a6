"""dbt models as Dagster assets, run for the partition window [start, end) as dbt vars."""

import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from lmkpi.settings import get_settings
from lmkpi.warehouse.db import writer_lock
from lmkpi.warehouse.pending import pending_months, widen_window
from pipelines.dbt_project import lmkpi_dbt_project
from pipelines.partitions import monthly_partitions


class LmkpiDbtTranslator(DagsterDbtTranslator):
    """Groups follow the dbt layers: reference (seeds), staging, intermediate, marts."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "models"


def dbt_build_args(start: str, end: str) -> list[str]:
    """The dbt command for a partition window, as a pure function (unit-tested).

    dbt's unit tests check SQL logic on fixed inputs, not the month's data: they run in the
    test suite (tests/test_dbt_project.py), not in every load.
    """
    return [
        "build",
        "--exclude",
        "test_type:unit",
        "--vars",
        json.dumps({"start_month": start, "end_month": end}),
    ]


@dbt_assets(
    manifest=lmkpi_dbt_project.manifest_path,
    project=lmkpi_dbt_project,
    partitions_def=monthly_partitions,
    # One dbt invocation per backfill, over the whole window: the models filter [start, end).
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=LmkpiDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def lmkpi_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    window = context.partition_time_window
    settings = get_settings()
    os.environ["LMKPI_WORK_DB"] = str(settings.work_db)  # read by dbt_project/profiles.yml
    with writer_lock(settings.work_dir):
        # Months left half-done by an interrupted run are rebuilt too (see pending.py).
        pending = pending_months(settings.work_db)
        start, end = widen_window(window.start.date(), window.end.date(), pending)
        if (start, end) != (window.start.date(), window.end.date()):
            context.log.warning(
                f"also rebuilding unpublished months {', '.join(str(m)[:7] for m in pending)}: "
                f"dbt window {start}..{end}"
            )
        yield from dbt.cli(
            dbt_build_args(start.isoformat(), end.isoformat()), context=context
        ).stream()


def mart_keys() -> list[dg.AssetKey]:
    return [k for k in lmkpi_dbt_models.keys if k.path[-1].startswith(("fct_", "dim_"))]
