"""dbt in the pipeline's own process, on the manifest ``lmkpi prepare`` parsed.

A load used to run dbt as a child process (dagster-dbt's ``DbtCliResource``). That child paid
for a new Python with dbt's imports (~2 s) and for parsing the project (~3 s in a new home,
whose profile differs from the last one's; ~0.9 s otherwise), before the first model ran.
Here dbt-core's programmatic entry point (``dbtRunner``) runs in the load's process on the
``Manifest`` of ``dbt_project/target/partial_parse.msgpack``, read once per process (0.2 s):
the same project, the same nodes, the same artifacts (``run_results.json``, ``dbt.log``) in
the home's dbt target folder. ``ensure_dbt_manifest`` re-parses it first when a project file
is newer, so the manifest is never stale.

Three things the child process did by itself are done here on purpose:

- **The profile**: dbt reads ``dbt_project/profiles.yml`` (its values from environment
  variables, for dbt by hand and the SQL linter). A load writes a profile of its own with the
  run's values, ``$LMKPI_HOME/work/dbt-profile/profiles.yml``, and points dbt at it: the
  process environment is never changed to pass a setting along.
- **The database file**: dbt-duckdb keeps its DuckDB database open after an invocation
  (``keep_open``), with its own settings (memory limit). Another connection to the same file
  in the same process with other settings is refused, so every invocation ends by closing it
  (``_close_duckdb``): a step opens, writes and closes the working database, dbt included.
- **Events**: dbt's structured events reach a callback in the thread that fired them, as the
  same dictionaries dbt writes as JSON log lines (``msg_to_dict``), so dagster-dbt turns them
  into Dagster events exactly as it did from the child's output (``pipelines.assets.dbt``).
"""

import fcntl
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmkpi.orchestration import ensure_dbt_manifest
from lmkpi.permissions import private_dir, private_file
from lmkpi.settings import DBT_PROJECT_DIR, Settings

log = logging.getLogger(__name__)

RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})
"""dbt's events that report a finished node (what dagster-dbt turns into Dagster events)."""

PROFILE = """\
# Written by lmkpi for each dbt run of this home (lmkpi/dbt_inprocess.py); edit
# dbt_project/profiles.yml and the LMKPI_* settings instead.
lmkpi:
  target: work
  outputs:
    work:
      type: duckdb
      path: {path}
      threads: 1
      settings:
        memory_limit: {memory_limit}
"""

_manifest: dict[str, Any] = {}
_manifest_lock = threading.Lock()


def prepared_manifest() -> Any:
    """The parsed project (a dbt ``Manifest``), read once per process from the prepared
    ``partial_parse.msgpack`` and read again when ``lmkpi prepare`` or a changed project file
    made a new one."""
    from dbt.contracts.graph.manifest import Manifest
    from dbt.version import __version__ as dbt_version

    ensure_dbt_manifest()
    path = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    with _manifest_lock:
        # The parse lock, shared: never read the file while `dbt parse` rewrites it.
        with open(path.with_name(".parse.lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            stamp = path.stat().st_mtime_ns
            if _manifest.get("stamp") != stamp:
                manifest = Manifest.from_msgpack(path.read_bytes())
                if manifest.metadata.dbt_version != dbt_version:  # an older dbt's parse
                    ensure_dbt_manifest(force=True)
                    manifest = Manifest.from_msgpack(path.read_bytes())
                    stamp = path.stat().st_mtime_ns
                # What dbt does to a manifest it reads back for partial parsing.
                manifest.build_parent_and_child_maps()
                manifest.build_flat_graph()
                _manifest.update(stamp=stamp, manifest=manifest)
        return _manifest["manifest"]


def write_profile(settings: Settings) -> Path:
    """The folder of this home's dbt profile (the run's database and memory limit; each
    command gives its threads, ``--threads``)."""
    folder = settings.work_dir / "dbt-profile"
    private_dir(folder)
    text = PROFILE.format(
        path=_yaml_string(str(settings.work_db)),
        memory_limit=_yaml_string(settings.duckdb_memory_limit),
    )
    profile = folder / "profiles.yml"
    if not profile.exists() or profile.read_text() != text:
        profile.write_text(text)
        private_file(profile)
    return folder


def _yaml_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def dbt_args(args: list[str], settings: Settings, project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    """``args`` with where dbt finds the project, this home's profile and its target folder."""
    target = settings.dbt_target_dir
    target.mkdir(parents=True, exist_ok=True)
    return [
        *args,
        *["--project-dir", str(project_dir), "--profiles-dir", str(write_profile(settings))],
        *["--target-path", str(target), "--log-path", str(target)],
        # Nothing on the console (lmkpi logs the outcome); dbt.log in the target folder has
        # each node's start, result and failure (not every SQL statement: that is debug).
        *["--log-level", "none", "--log-level-file", "info"],
    ]


@dataclass
class DbtInvocation:
    """One dbt command run in this process, in a thread of its own: ``events()`` yields the
    finished-node events as dbt fires them (dicts, as in dbt's JSON log); afterwards
    ``success``, ``results`` (run_results' entries as dicts) and ``error`` say how it ended."""

    args: list[str]
    settings: Settings
    project_dir: Path = DBT_PROJECT_DIR
    wanted: frozenset[str] = RESULT_EVENTS
    success: bool = False
    results: list[dict[str, Any]] = field(default_factory=list)
    error: BaseException | None = None

    def events(self) -> Iterator[dict[str, Any]]:
        from dbt_common.events.functions import msg_to_dict

        manifest = prepared_manifest()
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        done = object()

        def on_event(msg: Any) -> None:
            if msg.info.name in self.wanted:
                inbox.put(msg_to_dict(msg))

        def run() -> None:
            try:
                self._invoke(manifest, on_event)
            finally:
                inbox.put(done)

        worker = threading.Thread(target=run, name="dbt", daemon=True)
        worker.start()
        while (item := inbox.get()) is not done:
            yield item
        worker.join()

    def wait(self) -> "DbtInvocation":
        for _ in self.events():
            pass
        return self

    def _invoke(self, manifest: Any, on_event: Callable[[Any], None]) -> None:
        from dbt.cli.main import dbtRunner

        try:
            outcome = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(
                dbt_args(self.args, self.settings, self.project_dir)
            )
            self.success = bool(outcome.success)
            self.error = outcome.exception
            for r in getattr(outcome.result, "results", None) or []:
                self.results.append(
                    {
                        "unique_id": r.node.unique_id,
                        "status": str(r.status),
                        "message": r.message,
                        "execution_time": r.execution_time,
                        "failures": r.failures,
                    }
                )
        except BaseException as exc:  # noqa: BLE001 (reported by the caller, with the rest)
            self.success, self.error = False, exc
        finally:
            _close_duckdb()

    def failures(self) -> list[str]:
        """``unique_id: status: message`` of every node that errored or failed."""
        return [
            f"{r['unique_id']}: {r['status']}: {(r.get('message') or '').strip()}"
            for r in self.results
            if str(r.get("status")) in ("error", "fail")
        ]


def _close_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open between invocations (module docstring)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
        DuckDBConnectionManager._ENV = None
