# The one DbtProject of lmkpi. Loaded standalone by `dagster-dbt project prepare-and-package`,
# so: no relative imports (lmkpi itself is installed, so absolute imports work).
from dagster_dbt import DbtProject

from lmkpi.orchestration import ensure_dbt_manifest
from lmkpi.settings import DBT_PROJECT_DIR

lmkpi_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# Under `dagster dev`, re-parse the project when a file changed (what prepare_if_dev does),
# with the dbt installed beside this Python: a venv that is not activated has no `dbt` on PATH.
if lmkpi_dbt_project.preparer.using_dagster_dev():
    ensure_dbt_manifest()
