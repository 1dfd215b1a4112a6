"""The dbt project on its own: every model, data test and unit test builds on an empty database.

The pipeline's runs leave dbt's unit tests out (they do not depend on the month's data);
this is where they run, with `dbt build --empty` (models as empty relations, seeds loaded).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

from lmkpi.settings import DBT_PROJECT_DIR
from lmkpi.warehouse.db import connect
from lmkpi.warehouse.raw import ensure_raw_tables


def test_dbt_build_with_unit_tests(tmp_path, dbt_manifest):
    work_db = tmp_path / "work.duckdb"
    with connect(work_db) as con:
        ensure_raw_tables(con)
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "build", "--empty", "--project-dir", str(DBT_PROJECT_DIR)]
        + ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")],
        env=os.environ | {"LMKPI_WORK_DB": str(work_db)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-5000:]
    summary = [line for line in result.stdout.splitlines() if "Done. PASS=" in line]
    assert summary and "ERROR=0" in summary[-1] and "FAIL" not in summary[-1].split("PASS=")[0]
    unit_tests = re.findall(r" PASS \S+::\S+", result.stdout)
    assert len(unit_tests) >= 10, "the KPI formulas' unit tests did not run"
    # The marts' key columns are NOT NULL constraints (contracts), enforced by DuckDB.
    with connect(work_db) as con:
        not_null = con.execute(
            "select table_name, unnest(constraint_column_names) from duckdb_constraints() "
            "where schema_name = 'marts' and constraint_type = 'NOT NULL'"
        ).fetchall()
    assert ("fct_public_benefits", "month") in not_null
    assert ("fct_full_time_persons", "municipality_code") in not_null
    assert len(not_null) >= 50
