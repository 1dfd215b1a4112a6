"""The pseudonym key and the working database over time (issue 17, items 4, 5 and 12): a
changed key is refused, a deliberate rotation re-pseudonymises the history, a damaged working
database is rebuilt from the archive with its audit history, and the archive is pruned."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from lmkpi.months import Month
from lmkpi.orchestration import run_monthly_load
from lmkpi.settings import get_settings, write_new_key

from extract_builders import APRIL_2019, MARCH_2019, write_ydelser

pytestmark = pytest.mark.e2e
LMKPI = str(Path(sys.executable).with_name("lmkpi"))


def _marts(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall()]  # fmt: skip
        return {t: sorted(con.execute(f"select * from marts.{t}").fetchall()) for t in tables}


def _persons(work_db: Path) -> set[str]:
    with duckdb.connect(str(work_db), read_only=True) as con:
        return {r[0] for r in con.execute("select person_key from raw.ydelser").fetchall()}


def _lmkpi(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([LMKPI, *args], capture_output=True, text=True, env=env, timeout=600)


def test_key_rotation_and_rebuild_keep_the_numbers(lmkpi_home, dbt_manifest, tmp_path):
    settings = get_settings()
    write_ydelser(settings.landing_dir, "2019-03", MARCH_2019)
    write_ydelser(settings.landing_dir, "2019-04", APRIL_2019)
    march, april = Month(2019, 3), Month(2019, 4)
    assert run_monthly_load(settings, march, april, triggered_by="test").success
    before, persons_a = _marts(settings.warehouse_db), _persons(settings.work_db)

    # Another key for May: refused, naming both fingerprints and the way to rotate.
    new_key = write_new_key(tmp_path / "new.key")
    env = os.environ | {"LMKPI_PSEUDONYM_KEY_FILE": str(new_key)}
    env.pop("LMKPI_PSEUDONYM_KEY")
    write_ydelser(settings.landing_dir, "2019-05", APRIL_2019)
    refused = _lmkpi("load", "--month", "2019-05", env=env)
    assert refused.returncode == 1
    assert "is not the one the working database was built with" in refused.stderr
    assert "lmkpi key rotate --new-key-file" in refused.stderr
    assert new_key.read_text().strip() not in refused.stderr + refused.stdout

    # The deliberate change: every month read again from the archive with the new key.
    rotated = _lmkpi("key", "rotate", "--new-key-file", str(new_key), env=env)
    assert rotated.returncode == 0, rotated.stderr[-3000:]
    assert _marts(settings.warehouse_db) == before  # the same numbers
    persons_b = _persons(settings.work_db)
    assert len(persons_b) == len(persons_a) and not persons_a & persons_b
    assert _lmkpi("load", "--month", "2019-05", env=env).returncode == 0

    # A damaged working database: a clear message, then rebuilt with its audit history.
    after_may = _marts(settings.warehouse_db)
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        loads = con.execute("select count(*) from audit.load_audit").fetchone()[0]
    data = bytearray(settings.work_db.read_bytes())
    data[4096:12288] = b"\x00garbage" * 1024
    settings.work_db.write_bytes(bytes(data))
    damaged = _lmkpi("load", "--month", "2019-05", "--force", env=env)
    assert damaged.returncode != 0 and "lmkpi rebuild" in damaged.stderr
    rebuilt = _lmkpi("rebuild", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert _marts(settings.warehouse_db) == after_may
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        history = con.execute("select count(*) from audit.load_audit").fetchone()[0]
    assert history >= loads  # the earlier loads are still in the audit
    assert list(settings.work_dir.glob("lmkpi.duckdb.damaged-*"))

    # Retention: months older than the retention lose their raw files, recorded in the audit.
    months_back = (date.today().year - 2019) * 12 + date.today().month - 4  # keep April on
    pruned = _lmkpi("archive", "prune", "--retention-months", str(months_back), env=env)
    assert pruned.returncode == 0, pruned.stderr
    assert not (settings.archive_dir / "ydelser" / "2019-03").exists()
    assert (settings.archive_dir / "ydelser" / "2019-04").exists()
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        logged = con.execute(
            "select source, strftime(month, '%Y-%m') from audit.archive_prunes"
        ).fetchall()
    assert logged == [("ydelser", "2019-03")]
