"""`lmkpi-dbt`: the dbt command, tied to the process that starts it.

dagster-dbt runs dbt as a subprocess. When the pipeline process is killed (SIGKILL, OOM
killer, a lost container), that dbt would live on as an orphan, still writing the working
database and holding DuckDB's file lock, so the next run would fail on the lock instead of
recovering. On Linux this wrapper asks the kernel to SIGKILL it when its parent dies
(PR_SET_PDEATHSIG, kept across exec) and then becomes dbt. Elsewhere it only becomes dbt.
"""

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


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
    dbt = Path(sys.executable).with_name("dbt")
    os.execv(dbt, [str(dbt), *sys.argv[1:]])


if __name__ == "__main__":
    main()
