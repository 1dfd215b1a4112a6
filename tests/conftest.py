import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

TEST_KEY = "test-key-not-secret-0123456789abcdef"


def pytest_configure(config) -> None:  # noqa: ANN001
    """dbt's manifest must be current before test modules import the Dagster definitions
    (they read it at import): after a pull, the project's files may be newer than it."""
    from lmkpi.orchestration import ensure_dbt_manifest

    ensure_dbt_manifest()


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """dbt's manifest, built once per session (the definitions need it to load)."""
    from lmkpi.orchestration import ensure_dbt_manifest

    return ensure_dbt_manifest()


@pytest.fixture
def lmkpi_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh LMKPI_HOME with a test pseudonym key; settings are read at run time."""
    home = tmp_path / "home"
    monkeypatch.setenv("LMKPI_HOME", str(home))
    monkeypatch.setenv("LMKPI_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.delenv("LMKPI_PSEUDONYM_KEY_FILE", raising=False)
    monkeypatch.delenv("LMKPI_DEMO", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.setenv("LMKPI_WORK_DB", str(home / "work" / "lmkpi.duckdb"))
    (home / "dagster").mkdir(parents=True)
    return home
