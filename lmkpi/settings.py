"""Configuration in one place: every setting is read from the environment at call time.

All state lives under one home folder, ``LMKPI_HOME`` (default ``./data``)::

    $LMKPI_HOME/landing/<source>/<source>_<YYYY-MM>.<ext>   files as delivered
    $LMKPI_HOME/archive/<source>/...                         every delivery, kept for audit
    $LMKPI_HOME/work/lmkpi.duckdb                            the pipeline's private database
    $LMKPI_HOME/warehouse/lmkpi.duckdb                       the published analyst warehouse
    $LMKPI_HOME/dagster/                                     Dagster's instance (DAGSTER_HOME)
    $LMKPI_HOME/reports/                                     generated reports
"""

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

PARTITIONS_START = "2017-01-01"


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    home: Path

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def work_db(self) -> Path:
        return self.work_dir / "lmkpi.duckdb"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def warehouse_db(self) -> Path:
        return self.warehouse_dir / "lmkpi.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def quality_dir(self) -> Path:
        return self.home / "quality"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def demo_key_file(self) -> Path:
        return self.secrets_dir / "pseudonym.key"

    def ensure_dirs(self) -> None:
        for d in (
            self.landing_dir,
            self.archive_dir,
            self.work_dir,
            self.warehouse_dir,
            self.dagster_home,
            self.reports_dir,
        ):
            d.mkdir(parents=True, exist_ok=True)


def get_settings() -> Settings:
    """The settings in force now (reads ``LMKPI_HOME`` at call time)."""
    home = Path(os.environ.get("LMKPI_HOME", "data")).expanduser().resolve()
    return Settings(home=home)


def is_demo_mode() -> bool:
    return os.environ.get("LMKPI_DEMO", "").lower() in {"1", "true", "yes"}


def pseudonym_key(settings: Settings | None = None) -> bytes:
    """The secret key for CPR pseudonyms (HMAC-SHA256).

    Taken from ``LMKPI_PSEUDONYM_KEY`` or from the file named by ``LMKPI_PSEUDONYM_KEY_FILE``.
    There is no built-in default: outside demo mode (``LMKPI_DEMO=1``) a missing key stops
    the load. In demo mode a random key is created once under ``$LMKPI_HOME/secrets``.
    """
    settings = settings or get_settings()
    value = os.environ.get("LMKPI_PSEUDONYM_KEY")
    if value:
        key = value.encode()
    elif path := os.environ.get("LMKPI_PSEUDONYM_KEY_FILE"):
        try:
            key = Path(path).read_bytes().strip()
        except OSError as exc:
            raise ConfigurationError(
                f"LMKPI_PSEUDONYM_KEY_FILE={path} cannot be read ({exc.strerror}). "
                "Point it at the file holding the pseudonym key."
            ) from exc
    elif is_demo_mode():
        key_file = settings.demo_key_file
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
            log.warning(
                "Demo mode: created a local pseudonym key at %s. Real data needs a key kept "
                "outside the repository and the warehouse (LMKPI_PSEUDONYM_KEY_FILE).",
                key_file,
            )
        key = key_file.read_bytes().strip()
    else:
        raise ConfigurationError(
            "No pseudonym key: set LMKPI_PSEUDONYM_KEY_FILE to a file holding a secret key "
            "(at least 32 random bytes, kept outside the repository and the warehouse), "
            "or LMKPI_PSEUDONYM_KEY. The demo (LMKPI_DEMO=1) creates a local one."
        )
    if len(key) < 16:
        raise ConfigurationError("The pseudonym key is too short: use at least 16 bytes.")
    return key


def required_sources() -> tuple[str, ...]:
    """Sources a month cannot be loaded without (``LMKPI_REQUIRED_SOURCES``, default ydelser).

    The other sources are loaded when delivered: not every municipality runs temporary
    housing, and a month's Jobloggen file may come later than its benefit extract.
    """
    value = os.environ.get("LMKPI_REQUIRED_SOURCES", "ydelser")
    return tuple(s.strip() for s in value.split(",") if s.strip())
