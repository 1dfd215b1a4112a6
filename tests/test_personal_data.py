"""Personal data at rest and in messages (issue 17): modes, symlinks, CPR numbers in text."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lmkpi.settings import get_settings

from extract_builders import MARCH_2019, write_ydelser

pytestmark = pytest.mark.e2e
LMKPI = str(Path(sys.executable).with_name("lmkpi"))
PRIVATE = ("landing", "archive", "work", "dagster", "quality")


def _load(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LMKPI, "load", *args], capture_output=True, text=True, env=env or os.environ.copy()
    )


def test_person_level_data_is_the_owners_only_and_the_warehouse_the_groups(
    lmkpi_home, dbt_manifest, tmp_path
):
    extracts = tmp_path / "extracts"
    write_ydelser(extracts, "2019-03", MARCH_2019)
    (extracts / "ydelser" / "ydelser_2019-03.csv").chmod(0o644)  # as a source system drops it
    result = _load("--landing", str(extracts), "--month", "2019-03")
    assert result.returncode == 0, result.stderr[-2000:]
    home = get_settings().home
    loose = []
    for top in PRIVATE:
        for path in [home / top, *(home / top).rglob("*")]:
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            if stat.S_IMODE(mode) & 0o077:
                loose.append(f"{path.relative_to(home)} {stat.S_IMODE(mode):o}")
    assert not loose, loose
    assert stat.S_IMODE(home.stat().st_mode) == 0o710  # the group passes through to:
    assert stat.S_IMODE((home / "warehouse").stat().st_mode) == 0o750
    assert stat.S_IMODE((home / "warehouse" / "lmkpi.duckdb").stat().st_mode) == 0o640
    versions = list((home / "warehouse" / "versions").glob("*.duckdb"))
    assert versions and all(stat.S_IMODE(v.stat().st_mode) == 0o640 for v in versions)


def test_a_symlinked_delivery_is_refused_without_reading_it(lmkpi_home, dbt_manifest):
    settings = get_settings()
    secret = settings.home.parent / "pseudonym.key"
    secret.write_text("kZ3v9QpL7xW2mN8rT4yB6cD1fG5hJ0sA-secret-of-44c")
    (settings.landing_dir / "ydelser").mkdir(parents=True)
    (settings.landing_dir / "ydelser" / "ydelser_2019-02.csv").symlink_to(secret)
    result = _load("--month", "2019-02")
    assert result.returncode == 1
    assert "not_a_regular_file" in result.stderr or "symbolic link" in result.stderr
    assert not list(settings.archive_dir.rglob("*ydelser_2019-02*"))
    fragment = "kZ3v9QpL7xW2"
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        messages = con.execute("select outcome, message from audit.load_audit").fetchall()
    assert messages and messages[0][0] == "rejected_file"
    assert all(fragment not in (m or "") for _, m in messages)
    for path in settings.home.rglob("*"):
        if path.is_file() and not path.is_symlink() and path != secret:
            assert fragment.encode() not in path.read_bytes(), path


def test_a_symlink_among_copied_deliveries_refuses_the_whole_copy(lmkpi_home, tmp_path):
    extracts = tmp_path / "extracts"
    write_ydelser(extracts, "2019-03", MARCH_2019)
    (extracts / "ydelser" / "ydelser_2019-04.csv").symlink_to(tmp_path / "elsewhere.csv")
    result = _load("--landing", str(extracts), "--month", "2019-03")
    assert result.returncode == 2 and "not_a_regular_file" not in result.stdout
    assert "symbolic link" in result.stderr
    assert not (get_settings().landing_dir / "ydelser" / "ydelser_2019-03.csv").exists()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("kommunekode", "'kommunekode'"),
        ("Ydelse kode", "'Ydelse kode'"),
        ("010190-1290", None),  # a CPR number as a header (a file without its header line)
        ("Kongevejen 200, v/ 0101901290", None),
        ("1234567890", None),  # data, not a name
        ("x" * 40, None),  # longer than any column name
        ("navn\x00", None),
    ],
)
def test_a_header_name_is_echoed_only_when_it_looks_like_a_column_name(name, shown):
    from lmkpi.ingest.errors import column_label

    assert column_label(name) == (shown or "(a column name that is not shown)")
