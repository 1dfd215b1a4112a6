"""The lmkpi code location: `dagster dev -w workspace.yaml` loads ``defs`` from here."""

import dagster as dg

from pipelines.assets.dbt import housing_scenarios, lmkpi_dbt_models, plan_goals, run_window
from pipelines.assets.external import external_observations
from pipelines.assets.ingest import ingest_assets
from pipelines.assets.publish import published_warehouse
from pipelines.assets.reports import benchmarking_report, dbt_docs
from pipelines.automation import landing_sensor, monthly_schedule, reports_after_load
from pipelines.jobs import monthly_load, monthly_reports
from pipelines.resources import LmkpiSettings

defs = dg.Definitions(
    assets=[
        *ingest_assets,
        external_observations,
        run_window,
        plan_goals,
        housing_scenarios,
        lmkpi_dbt_models,
        published_warehouse,
        benchmarking_report,
        dbt_docs,
    ],
    jobs=[monthly_load, monthly_reports],
    schedules=[monthly_schedule],
    sensors=[landing_sensor, reports_after_load],
    # dbt runs inside the dbt step, in its process (lmkpi.dbt_inprocess): no dbt resource.
    resources={"lmkpi": LmkpiSettings()},
    # One process writes the working database at a time; steps run in order in one process.
    executor=dg.in_process_executor,
)
