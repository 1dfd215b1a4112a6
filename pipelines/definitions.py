"""The lmkpi code location: `dagster dev -w workspace.yaml` loads ``defs`` from here."""

import importlib.metadata
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from pipelines.assets.dbt import housing_scenarios, lmkpi_dbt_models, plan_goals, run_window
from pipelines.assets.external import external_observations
from pipelines.assets.ingest import ingest_assets
from pipelines.assets.publish import published_warehouse
from pipelines.assets.reports import benchmarking_report, dbt_docs
from pipelines.automation import landing_sensor, monthly_schedule, reports_after_load
from pipelines.dbt_project import lmkpi_dbt_project
from pipelines.jobs import monthly_load, monthly_reports
from pipelines.resources import LmkpiSettings


class LmkpiDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two fixed costs per run (about 7 s of a national month).

    - dagster-dbt runs `dbt --version` before every invocation to tell dbt-core from the
      fusion engine; that imports dbt in a new process (about 5 s here). The dbt we run is the
      dbt-core installed beside this Python (pinned in requirements.lock), so its version is
      the package's (tests/test_definitions.py checks they agree).
    - It also loads the dbt project and adapter in-process (about 2.5 s), which only serves
      `fetch_row_counts()` / `fetch_column_metadata()`; lmkpi uses neither. Without an adapter
      the dbt events also stream to the run as they happen instead of after dbt exits.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001, ANN202 (dagster-dbt's hook)
        return None


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
    resources={
        "lmkpi": LmkpiSettings(),
        "dbt": LmkpiDbtCliResource(
            project_dir=lmkpi_dbt_project,
            # The dbt installed beside this Python, also when the venv is not activated,
            # through lmkpi-dbt so that it dies with the run (lmkpi/dbt_child.py).
            dbt_executable=str(Path(sys.executable).with_name("lmkpi-dbt")),
        ),
    },
    # One process writes the working database at a time; steps run in order in one process.
    executor=dg.in_process_executor,
)
