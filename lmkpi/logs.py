"""Logging for the command line: one line per stage by default, detail with ``-v``.

By default the CLI prints lmkpi's own INFO lines (``HH:MM:SS message``), warnings and errors;
third-party libraries (great-expectations, alembic, Dagster's console, dbt adapters) only
from WARNING, and Dagster's own console lines not at all: their step failures are repeated,
shorter and with the check that failed, by ``lmkpi load`` at the end of the run. ``-v``
shows everything (DEBUG, names, Dagster's console and its stack traces).

``Progress`` writes the progress lines of long work: ``[3/36] ydelser 2017-03: ... · 12 s
elapsed · about 2 min left``.
"""

import io
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field

QUIET_LIBRARIES = (
    "great_expectations",
    "alembic",
    "dagster",
    "dagster_dbt",
    "dbt",
    "urllib3",
    "matplotlib",
    "fontTools",
    "weasyprint",
    "PIL",
    "filelock",
    "asyncio",
)

_state: dict = {"verbose": False, "configured": False, "handler": None}


def configure(verbose: bool = False) -> None:
    """Set up the root logger for a CLI process (idempotent: replaces its own handler)."""
    reset()
    _state["verbose"] = verbose
    _state["configured"] = True
    root = logging.getLogger()
    handler = logging.StreamHandler()
    if verbose:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S"
            )
        )
    else:
        handler.setFormatter(_Short())
    if not verbose:  # a filter, as libraries set their own loggers' levels when imported
        handler.addFilter(_quiet_libraries)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    _state["handler"] = handler


def reset() -> None:
    """Remove what ``configure`` set up (tests)."""
    if _state["handler"] is not None:
        logging.getLogger().removeHandler(_state["handler"])
    _state.update(verbose=False, configured=False, handler=None)


def _quiet_libraries(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith(QUIET_LIBRARIES)


@contextmanager
def quiet_stdout(logger: logging.Logger, what: str) -> Iterator[None]:
    """On the quiet CLI, hold what a tool writes to stdout (dbt's progress, which dagster-dbt
    echoes there for Dagster's compute logs); if the work fails, log the last lines of it.
    Elsewhere (Dagster's own processes, ``-v``) stdout is left alone."""
    if _state["verbose"] or not _state["configured"]:
        yield
        return
    held = io.StringIO()
    try:
        with redirect_stdout(held):
            yield
    except BaseException:
        tail = held.getvalue().splitlines()[-25:]
        if tail:
            logger.error("the last lines %s wrote:\n  %s", what, "\n  ".join(tail))
        raise


def dagster_console_level() -> str:
    """The level of Dagster's console logger for runs started from the CLI."""
    return "DEBUG" if _state["verbose"] else "CRITICAL"


class _Short(logging.Formatter):
    """'12:03:04 message'; warnings and errors say so."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.WARNING:
            head, _, rest = text.partition(" ")
            return f"{head} {record.levelname}: {rest}"
        return text


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


@dataclass
class Progress:
    """Counts work done out of ``total`` and logs one line per step with elapsed and ETA."""

    total: int
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("lmkpi.progress"))
    done: int = 0
    started: float = field(default_factory=time.perf_counter)

    def step(self, message: str, level: int = logging.INFO) -> str:
        self.done += 1
        elapsed = time.perf_counter() - self.started
        line = f"[{self.done}/{self.total}] {message} · {_duration(elapsed)} elapsed"
        if 1 < self.total and self.done < self.total:
            left = elapsed / self.done * (self.total - self.done)
            line += f" · about {_duration(left)} left"
        self.logger.log(level, "%s", line)
        return line
