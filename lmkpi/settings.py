"""Configuration in one place: ``Settings.from_env()`` reads every setting at call time.

Nothing else in lmkpi reads the environment for configuration, and nothing writes it to pass a
value along: the CLI and the Dagster resource (``pipelines.resources.LmkpiSettings``) build a
``Settings`` and hand it down; child processes (dbt, ``dagster dev``) get what they need as
arguments or in an environment built for them. A wrong value fails at once with a
``ConfigurationError`` naming the variable and what to do.

All state lives under one home folder, ``LMKPI_HOME`` (default ``./data``)::

    $LMKPI_HOME/landing/<source>/<source>_<YYYY-MM>.<ext>   files as delivered
    $LMKPI_HOME/archive/<source>/...                         every delivery, kept for audit
    $LMKPI_HOME/work/lmkpi.duckdb                            the pipeline's private database
    $LMKPI_HOME/warehouse/lmkpi.duckdb                       the published analyst warehouse
    $LMKPI_HOME/dagster/                                     Dagster's instance (DAGSTER_HOME)
    $LMKPI_HOME/reports/                                     generated reports

| variable | default | what |
|---|---|---|
| `LMKPI_HOME` | `./data` | the home folder above |
| `LMKPI_PSEUDONYM_KEY_FILE` / `_KEY` | (none) | the secret key of the CPR pseudonyms |
| `LMKPI_DEMO` | off | demo mode: a local random key is created if none is given |
| `LMKPI_REQUIRED_SOURCES` | `ydelser` | sources a month cannot be loaded without |
| `LMKPI_REPORT_MUNICIPALITIES` | `173` | whose reports the reports job renders (or `all`) |
| `LMKPI_DUCKDB_MEMORY_LIMIT` | `1.5GB` | DuckDB's memory limit inside dbt (it spills beyond it) |
| `LMKPI_DBT_WINDOW_MONTHS` | `3` | a longer dbt rebuild runs in windows of this many months |
| `LMKPI_DBT_THREADS` | `auto` | dbt's threads (`auto`: 4 for few rows, 1 for national ones) |
| `LMKPI_HISTORY_START` | `2017-01` | the first month of history (read once, at import) |
| `LMKPI_PUBLISH_GROUP` | (owner's group) | the group that may read the warehouse and reports |
| `LMKPI_ARCHIVE_RETENTION_MONTHS` | `36` | months of raw deliveries kept in `archive/` |
| `LMKPI_JOBINDSATS_TOKEN_FILE` / `_TOKEN` | (none) | the Jobindsats API token (lmkpi fetch) |
| `LMKPI_JOBINDSATS_URL`, `LMKPI_STATBANK_URL` | the public APIs | where lmkpi fetch asks |
| `LMKPI_SQL_MEMORY_LIMIT` | `2GB` | memory one `lmkpi sql` query may use |
| `LMKPI_SQL_THREADS` | `2` | threads one `lmkpi sql` query may use |
| `LMKPI_SQL_TIMEOUT_SECONDS` | `120` | time one `lmkpi sql` query may take |
| `LMKPI_QUALITY_*` | see `QualityConfig` | thresholds of the quality checks |
"""

import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path

from lmkpi.contracts import SOURCES
from lmkpi.errors import ConfigurationError
from lmkpi.months import Month, MonthError

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

DEFAULT_HISTORY_START = Month(2017, 1)
EARLIEST_HISTORY_START = Month(2000, 1)


def history_start(raw: str) -> Month:
    """``LMKPI_HISTORY_START`` (YYYY-MM; empty: 2017-01), between 2000-01 and this month."""
    text = raw.strip()
    if not text:
        return DEFAULT_HISTORY_START
    try:
        month = Month.parse(text)
    except MonthError:
        month = None
    if month is None or not EARLIEST_HISTORY_START <= month <= Month.of(date.today()):
        raise ConfigurationError(
            f"LMKPI_HISTORY_START={raw!r}: give the first month of history as YYYY-MM, "
            f"from {EARLIEST_HISTORY_START} to this month"
        )
    return month


HISTORY_START = history_start(os.environ.get("LMKPI_HISTORY_START", ""))
"""The first month of history: the first Dagster partition, the start of dbt's calendar and
of the default dbt window (written to ``raw.run_window``, which dbt reads). The one setting
read at import rather than by ``Settings.from_env``: the Dagster partitions are defined when
the code location loads. Earlier history (Jobindsats goes back to 2004) needs it set before
the first load of a home; the BI team sets it once, in the environment of every lmkpi
process."""

DEFAULT_MEMORY_LIMIT = "1.5GB"
"""dbt's DuckDB runs in the load's process, which holds ~0.8 GB of its own (Dagster, dbt,
great-expectations, polars): 1.5 GB keeps a national backfill's process under 3 GiB. 12
national months of 2010 in 3-month windows: 84.0 s and 0.19 GB spilled at 2 GB, 88.7 s and
0.41 GB at 1.5 GB (peak RSS of dbt alone 2.46 -> 1.92 GB)."""


class QualityConfigError(ConfigurationError):
    """A quality threshold is not a valid number or out of its range."""


_QUALITY_ENV = {
    "max_change_share": "LMKPI_QUALITY_MAX_CHANGE",
    "min_rows_for_change": "LMKPI_QUALITY_MIN_ROWS",
    "min_full_time_for_change": "LMKPI_QUALITY_MIN_FULL_TIME",
    "min_code_rows": "LMKPI_QUALITY_MIN_CODE_ROWS",
    "max_reject_share": "LMKPI_QUALITY_MAX_REJECT_SHARE",
    "max_drop_share": "LMKPI_QUALITY_MAX_DROP",
}


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the quality checks (each from its ``LMKPI_QUALITY_*`` variable).

    - `max_change_share` (LMKPI_QUALITY_MAX_CHANGE, 0.25): a municipality's rows or full-time
      persons may change by at most this share from the previous month (else a warning).
    - `min_rows_for_change` (LMKPI_QUALITY_MIN_ROWS, 50): rows a municipality must have had
      last month before its change is judged, and before its disappearance blocks the month.
    - `min_full_time_for_change` (LMKPI_QUALITY_MIN_FULL_TIME, 20): full-time persons a
      municipality must have had last month before their change is judged.
    - `min_code_rows` (LMKPI_QUALITY_MIN_CODE_ROWS, 5): rows a status code must have had last
      month before its disappearance is reported.
    - `max_reject_share` (LMKPI_QUALITY_MAX_REJECT_SHARE, 0.01): share of a file's rows that
      may be rejected, per row rule (GE `mostly` = 1 - share) and in all, before the month is
      blocked.
    - `max_drop_share` (LMKPI_QUALITY_MAX_DROP, 0.25): the month's rows or full-time persons
      may fall by at most this share from the previous month's before the month is blocked
      (a half-delivered file); an operator who knows the drop is real loads it with
      `lmkpi load --accept-drop` (`accept_drop`, never from the environment).
    """

    max_change_share: float = 0.25
    min_rows_for_change: int = 50
    min_full_time_for_change: float = 20.0
    min_code_rows: int = 5
    max_reject_share: float = 0.01
    max_drop_share: float = 0.25
    accept_drop: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.max_change_share:
            raise QualityConfigError("max_change_share must be greater than 0")
        if not 0 <= self.max_reject_share < 1:
            raise QualityConfigError("max_reject_share must be in [0, 1)")
        if not 0 < self.max_drop_share <= 1:
            raise QualityConfigError("max_drop_share must be in (0, 1]")
        for name in ("min_rows_for_change", "min_full_time_for_change", "min_code_rows"):
            if getattr(self, name) < 0:
                raise QualityConfigError(f"{name} must not be negative")

    @property
    def reject_mostly(self) -> float:
        """GE `mostly` of the row rules that reject rows: the share of rows that must pass."""
        return 1.0 - self.max_reject_share

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "QualityConfig":
        values: dict[str, float | int] = {}
        for f in fields(cls):
            if f.name not in _QUALITY_ENV:
                continue  # set by the operator per run (accept_drop), not by the environment
            raw = environ.get(_QUALITY_ENV[f.name], "").strip()
            if not raw:
                continue
            kind = int if f.type in (int, "int") else float
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise QualityConfigError(
                    f"{_QUALITY_ENV[f.name]}={raw!r} is not a valid {kind.__name__}; "
                    f"unset it to use the default {f.default}"
                ) from None
        try:
            return cls(**values)
        except QualityConfigError as exc:
            raise QualityConfigError(f"{exc} (LMKPI_QUALITY_* settings)") from None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes"}


def _sources(value: str) -> tuple[str, ...]:
    sources = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ConfigurationError(
            f"LMKPI_REQUIRED_SOURCES names unknown source(s) {', '.join(unknown)}; "
            f"use some of {', '.join(SOURCES)}"
        )
    return sources


def _municipalities(value: str) -> tuple[int, ...] | None:
    value = value.strip().lower()
    if value == "all":
        return None
    if not re.fullmatch(r"\d{1,3}(\s*,\s*\d{1,3})*", value):
        raise ConfigurationError(
            f"LMKPI_REPORT_MUNICIPALITIES={value!r}: give kommunekoder like 173,101 or 'all'"
        )
    return tuple(int(v) for v in value.split(","))


def _group(value: str) -> str | None:
    import grp

    value = value.strip()
    if not value:
        return None
    try:
        grp.getgrnam(value)
    except KeyError:
        raise ConfigurationError(
            f"LMKPI_PUBLISH_GROUP={value!r} is not a group on this machine; name an existing "
            "group (getent group) or unset it"
        ) from None
    return value


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def _memory_limit(value: str, variable: str = "LMKPI_DUCKDB_MEMORY_LIMIT") -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value.strip()):
        raise ConfigurationError(f"{variable}={value!r}: give a size like 3GB or 1500MB")
    return value.strip()


def _positive(environ: Mapping[str, str], variable: str, default: float) -> float:
    raw = environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigurationError(f"{variable}={raw!r}: give a positive number")
    return value


def _whole(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"{variable}={raw!r}: give a whole number of at least 1")
    return int(raw)


def _threads(raw: str) -> int | None:
    """LMKPI_DBT_THREADS: a number of threads, or empty / ``auto``."""
    if raw.strip().lower() in ("", "auto"):
        return None
    return _whole({"LMKPI_DBT_THREADS": raw}, "LMKPI_DBT_THREADS", 1)


SMALL_WINDOW_ROWS = 200_000
"""Below this many ``ydelser`` rows in a dbt window (a municipality's months), dbt runs 4
models at once; above it (national months), one. A small window's time is dbt's own work
per model, which threads overlap (173's month: 3.2 s -> 2.5 s of dbt with 4); a large one's
is DuckDB's, which already uses every core for each query, so models at once only split its
memory and spill (12 national months of 2010: 89 s and 0.2 GB spilled with 1 thread, 102 s
and 0.8 GB with 2, 128 s and 2.9 GB with 4)."""


def dbt_threads_for(settings: "Settings", window_rows: int) -> int:
    """dbt's threads for a window of ``window_rows`` ydelser rows (LMKPI_DBT_THREADS wins)."""
    if settings.dbt_threads is not None:
        return settings.dbt_threads
    return 4 if window_rows < SMALL_WINDOW_ROWS else 1


def _keep(raw: str) -> int | None:
    """LMKPI_HISTORY_KEEP_PUBLICATIONS: empty or 0 keeps every publication's values."""
    text = raw.strip()
    if text in ("", "0"):
        return None
    if not text.isdigit():
        raise ConfigurationError(
            f"LMKPI_HISTORY_KEEP_PUBLICATIONS={raw!r}: give a number of publications (0: all)"
        )
    return int(text)


@dataclass(frozen=True)
class Settings:
    home: Path
    demo: bool = False
    key_value: str | None = field(default=None, repr=False)  # LMKPI_PSEUDONYM_KEY
    key_file: Path | None = None  # LMKPI_PSEUDONYM_KEY_FILE
    required_sources: tuple[str, ...] = ("ydelser",)
    report_municipalities: tuple[int, ...] | None = (173,)  # None: every municipality
    duckdb_memory_limit: str = DEFAULT_MEMORY_LIMIT
    quality: QualityConfig = field(default_factory=QualityConfig)
    publish_group: str | None = None  # LMKPI_PUBLISH_GROUP: may read warehouse/ and reports/
    archive_retention_months: int = 36  # raw deliveries (with CPR numbers) kept this long
    history_keep_publications: int | None = None  # published values kept; None: forever
    jobindsats_token_file: Path | None = None  # the API token: a secret, like the key
    jobindsats_token: str | None = field(default=None, repr=False)
    jobindsats_url: str = "https://api.jobindsats.dk/v3"
    statbank_url: str = "https://api.statbank.dk/v1"
    sql_memory_limit: str = "2GB"  # bounds of one analyst query (lmkpi sql)
    sql_threads: int = 2
    sql_timeout_s: float = 120.0
    dbt_window_months: int = 3  # a longer dbt rebuild runs in windows of this many months
    dbt_threads: int | None = None  # dbt's threads; None: by the window's size (dbt_threads_for)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, **overrides) -> "Settings":
        """The settings in force now; ``overrides`` (e.g. ``home``, ``demo``) win."""
        home = Path(environ.get("LMKPI_HOME") or "data").expanduser().resolve()
        key_file = environ.get("LMKPI_PSEUDONYM_KEY_FILE") or None
        settings = cls(
            home=home,
            demo=_flag(environ.get("LMKPI_DEMO")),
            key_value=environ.get("LMKPI_PSEUDONYM_KEY") or None,
            key_file=Path(key_file).expanduser() if key_file else None,
            required_sources=_sources(environ.get("LMKPI_REQUIRED_SOURCES", "ydelser")),
            report_municipalities=_municipalities(
                environ.get("LMKPI_REPORT_MUNICIPALITIES", "173")
            ),
            duckdb_memory_limit=_memory_limit(
                environ.get("LMKPI_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
            ),
            quality=QualityConfig.from_env(environ),
            publish_group=_group(environ.get("LMKPI_PUBLISH_GROUP", "")),
            archive_retention_months=int(_positive(environ, "LMKPI_ARCHIVE_RETENTION_MONTHS", 36)),
            history_keep_publications=_keep(environ.get("LMKPI_HISTORY_KEEP_PUBLICATIONS", "")),
            jobindsats_token_file=_path(environ.get("LMKPI_JOBINDSATS_TOKEN_FILE")),
            jobindsats_token=environ.get("LMKPI_JOBINDSATS_TOKEN") or None,
            jobindsats_url=environ.get("LMKPI_JOBINDSATS_URL") or "https://api.jobindsats.dk/v3",
            statbank_url=environ.get("LMKPI_STATBANK_URL") or "https://api.statbank.dk/v1",
            sql_memory_limit=_memory_limit(
                environ.get("LMKPI_SQL_MEMORY_LIMIT", "2GB"), "LMKPI_SQL_MEMORY_LIMIT"
            ),
            sql_threads=int(_positive(environ, "LMKPI_SQL_THREADS", 2)),
            sql_timeout_s=_positive(environ, "LMKPI_SQL_TIMEOUT_SECONDS", 120.0),
            dbt_window_months=_whole(environ, "LMKPI_DBT_WINDOW_MONTHS", 3),
            dbt_threads=_threads(environ.get("LMKPI_DBT_THREADS", "")),
        )
        if "home" in overrides:
            overrides["home"] = Path(overrides["home"]).expanduser().resolve()
        return replace(settings, **overrides) if overrides else settings

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
    def dbt_target_dir(self) -> Path:
        """dbt's target folder for this home, reused run after run (partial-parse state)."""
        return self.work_dir / "dbt-target"

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
    def scenarios_dir(self) -> Path:
        """Housing scenarios, housing_<name>.yaml (lmkpi.housing_scenarios)."""
        return self.home / "scenarios"

    @property
    def plans_dir(self) -> Path:
        """The employment plans, beskaeftigelsesplan_<YYYY>.csv|yaml (lmkpi.employment_plan)."""
        return self.home / "plans"

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
        """The home's folders, person-level ones owner-only, published ones group-readable
        (lmkpi.permissions); folders an older version made with the default umask are
        tightened."""
        from lmkpi.permissions import passage_dir, private_dir, shared_dir

        passage_dir(self.home, self.publish_group)
        for d in (
            self.landing_dir,
            self.archive_dir,
            self.work_dir,
            self.dagster_home,
            self.quality_dir,
            self.secrets_dir,
        ):
            private_dir(d)
        for d in (self.warehouse_dir, self.reports_dir):
            shared_dir(d, self.publish_group)

    def pseudonym_key(self) -> bytes:
        """The secret key for CPR pseudonyms (HMAC-SHA256).

        From ``LMKPI_PSEUDONYM_KEY`` or the file named by ``LMKPI_PSEUDONYM_KEY_FILE``. There is
        no built-in default: outside demo mode a missing key stops the load at once. In demo
        mode a random key is created once under ``$LMKPI_HOME/secrets``.
        """
        if self.key_value:
            key = self.key_value.encode()
        elif self.key_file is not None:
            key = read_key_file(self.key_file)
        elif self.demo:
            key = self._demo_key()
        else:
            raise ConfigurationError(
                "no pseudonym key: set LMKPI_PSEUDONYM_KEY_FILE to a file holding a secret key "
                "(at least 32 random bytes, kept outside the repository and the warehouse), "
                "or LMKPI_PSEUDONYM_KEY; the demo (lmkpi demo) creates a local one"
            )
        check_key_strength(key)
        return key

    def jobindsats_api_token(self, token_file: Path | None = None) -> str:
        """The Jobindsats API token: ``token_file``, else LMKPI_JOBINDSATS_TOKEN_FILE, else
        LMKPI_JOBINDSATS_TOKEN. A secret: never logged, never stored by lmkpi."""
        path = token_file or self.jobindsats_token_file
        if path is not None:
            token = read_key_file(path, "Jobindsats token").decode().strip()
        elif self.jobindsats_token:
            token = self.jobindsats_token.strip()
        else:
            raise ConfigurationError(
                "no Jobindsats API token: give --token-file FILE or set "
                "LMKPI_JOBINDSATS_TOKEN_FILE (a token is issued per organisation by STAR)"
            )
        if not token or any(c.isspace() for c in token):
            raise ConfigurationError("the Jobindsats token file holds no single token")
        return token

    def _demo_key(self) -> bytes:
        key_file = self.demo_key_file
        if not key_file.exists():
            write_new_key(key_file)
            log.warning(
                "Demo mode: created a local pseudonym key at %s. Real data needs a key kept "
                "outside the repository and the warehouse (LMKPI_PSEUDONYM_KEY_FILE).",
                key_file,
            )
        return read_key_file(key_file)


MIN_KEY_BYTES = 32
MIN_KEY_DISTINCT = 10
KEY_ADVICE = "make a good one with: lmkpi key new --out FILE (then LMKPI_PSEUDONYM_KEY_FILE=FILE)"


def check_key_strength(key: bytes) -> None:
    """Refuse a key that cannot protect the pseudonyms: shorter than 32 bytes, or of low
    entropy (fewer than 10 distinct characters, e.g. 32 spaces or 'aaaa...')."""
    if len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"the pseudonym key is too short ({len(key)} bytes; at least {MIN_KEY_BYTES}); "
            + KEY_ADVICE
        )
    if len(set(key)) < MIN_KEY_DISTINCT:
        raise ConfigurationError(
            f"the pseudonym key has too little variety ({len(set(key))} distinct characters; "
            f"at least {MIN_KEY_DISTINCT}): it is guessable; " + KEY_ADVICE
        )


def read_key_file(path: Path, what: str = "pseudonym key") -> bytes:
    """The secret in ``path``; refused when others than its owner may read it."""
    try:
        info = path.stat()
        key = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigurationError(
            f"the {what} file {path} cannot be read ({exc.strerror}); "
            f"point the setting at the file holding the {what}"
        ) from None
    if info.st_mode & 0o077:
        raise ConfigurationError(
            f"the {what} file {path} can be read by others (mode "
            f"{info.st_mode & 0o777:o}); make it the owner's only: chmod 600 {path}"
        )
    return key


def write_new_key(path: Path) -> Path:
    """A new random key (32 bytes as 64 hex characters) in a new file, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def get_settings(**overrides) -> Settings:
    """The settings in force now (the environment at call time, then ``overrides``)."""
    return Settings.from_env(**overrides)
