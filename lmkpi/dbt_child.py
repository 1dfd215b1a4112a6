"""`lmkpi-dbt`: the dbt command, tied to the process that starts it, told where to write.

dagster-dbt runs dbt as a subprocess. When the pipeline process is killed (SIGKILL, OOM
killer, a lost container), that dbt would live on as an orphan, still writing the working
database and holding DuckDB's file lock, so the next run would fail on the lock instead of
recovering. On Linux this wrapper asks the kernel to SIGKILL it when its parent dies
(PR_SET_PDEATHSIG, kept across exec) and then becomes dbt. Elsewhere it only becomes dbt.

The run's settings reach dbt through this wrapper, not through the parent's environment:
leading ``--lmkpi-work-db=PATH`` and ``--lmkpi-memory-limit=SIZE`` arguments (from
``dbt_child_flags``) become the ``LMKPI_WORK_DB`` and ``LMKPI_DUCKDB_MEMORY_LIMIT`` that
``dbt_project/profiles.yml`` reads, in the environment of the dbt it execs.
"""

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1
_FLAGS = {"--lmkpi-work-db": "LMKPI_WORK_DB", "--lmkpi-memory-limit": "LMKPI_DUCKDB_MEMORY_LIMIT"}


def dbt_child_flags(settings) -> list[str]:  # noqa: ANN001 (lmkpi.settings.Settings)
    """The arguments that give dbt the run's working database and memory limit."""
    return [
        f"--lmkpi-work-db={settings.work_db}",
        f"--lmkpi-memory-limit={settings.duckdb_memory_limit}",
    ]


def split_flags(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """(environment for dbt, dbt's own arguments) from the wrapper's arguments."""
    env: dict[str, str] = {}
    rest = []
    for arg in argv:
        name, _, value = arg.partition("=")
        if name in _FLAGS and value:
            env[_FLAGS[name]] = value
        else:
            rest.append(arg)
    return env, rest


def die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    if parent == 1:  # orphaned before we even started
        os._exit(1)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # not fatal: dbt then simply outlives a killed parent, as before
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def main() -> None:
    die_with_parent()
    env, args = split_flags(sys.argv[1:])
    dbt = Path(sys.executable).with_name("dbt")
    os.execve(dbt, [str(dbt), *args], os.environ | env)


if __name__ == "__main__":
    main()
