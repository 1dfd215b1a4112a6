"""The lmkpi code location: `dagster dev -w workspace.yaml` loads ``defs`` from here."""

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.assets.dbt import lmkpi_dbt_models
from pipelines.assets.ingest import ingest_assets
from pipelines.assets.publish import published_warehouse
from pipelines.assets.reports import benchmarking_report
from pipelines.automation import landing_sensor, monthly_schedule, reports_after_load
from pipelines.dbt_project import lmkpi_dbt_project
from pipelines.jobs import monthly_load, monthly_reports

defs = dg.Definitions(
    assets=[*ingest_assets, lmkpi_dbt_models, published_warehouse, benchmarking_report],
    jobs=[monthly_load, monthly_reports],
    schedules=[monthly_schedule],
    sensors=[landing_sensor, reports_after_load],
    resources={
        "dbt": DbtCliResource(
            project_dir=lmkpi_dbt_project,
            # The dbt installed beside this Python, also when the venv is not activated.
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        )
    },
    # One process writes the working database at a time; steps run in order in one process.
    executor=dg.in_process_executor,
)
