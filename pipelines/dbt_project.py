# The one DbtProject of lmkpi. Loaded standalone by `dagster-dbt project prepare-and-package`,
# so: no relative imports, nothing from the rest of the package.
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

lmkpi_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
lmkpi_dbt_project.prepare_if_dev()
