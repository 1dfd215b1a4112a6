"""The quiet CLI: progress lines with ETA, library noise filtered, tool stdout held."""

import logging
import sys

import pytest

from lmkpi import logs


@pytest.fixture
def quiet(capsys):
    """capsys, and the CLI's quiet logging configured when the test calls it (a handler made
    in the fixture's setup would hold the setup phase's stream)."""
    yield capsys
    logs.reset()


def test_progress_says_done_total_elapsed_and_time_left(caplog):
    progress = logs.Progress(4)
    progress.started -= 20  # as if the first step took 20 s
    with caplog.at_level(logging.INFO, logger="lmkpi.progress"):
        first = progress.step("ydelser 2017-01: loaded 4,321 rows")
        progress.step("ydelser 2017-02: loaded 4,400 rows")
        progress.step("ydelser 2017-03: loaded 4,410 rows")
        last = progress.step("ydelser 2017-04: loaded 4,420 rows")
    # 20 s for 1 of 4: 60 s left (3 more at 20 s each)
    assert first == "[1/4] ydelser 2017-01: loaded 4,321 rows · 20 s elapsed · about 60 s left"
    assert last.startswith("[4/4] ydelser 2017-04") and "left" not in last
    assert [r.getMessage() for r in caplog.records][0] == first


def test_durations_read_naturally():
    assert logs._duration(42) == "42 s"
    assert logs._duration(600) == "10 min"
    assert logs._duration(4 * 3600) == "4.0 h"


def test_library_info_is_dropped_and_lmkpi_kept(quiet):
    logs.configure(verbose=False)
    logging.getLogger("great_expectations.data_context").info("Created temporary directory")
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("great_expectations.core").warning("a real warning")
    logging.getLogger("lmkpi.load").info("one line per stage")
    logging.getLogger("lmkpi.load").debug("detail")
    err = quiet.readouterr().err
    assert "Created temporary directory" not in err and "SQLiteImpl" not in err
    assert "WARNING: a real warning" in err
    assert "one line per stage" in err and "detail" not in err
    assert logs.dagster_console_level() == "CRITICAL"


def test_verbose_shows_everything(capsys):
    logs.configure(verbose=True)
    try:
        logging.getLogger("great_expectations.core").info("library detail")
        logging.getLogger("lmkpi.load").debug("debug detail")
        err = capsys.readouterr().err
        assert "great_expectations.core: library detail" in err
        assert "DEBUG" in err and "debug detail" in err
        assert logs.dagster_console_level() == "DEBUG"
    finally:
        logs.reset()


def test_tool_stdout_is_held_and_its_tail_shown_when_it_fails(quiet):
    logs.configure(verbose=False)
    log = logging.getLogger("lmkpi.test")
    with logs.quiet_stdout(log, "dbt"):
        sys.stdout.write("1 of 81 START sql table model marts.dim_month\n")
    assert "START" not in quiet.readouterr().out
    with pytest.raises(RuntimeError), logs.quiet_stdout(log, "dbt"):
        sys.stdout.write("Database Error in model fct_x\n")
        raise RuntimeError("dbt failed")
    captured = quiet.readouterr()
    assert "Database Error in model fct_x" in captured.err and not captured.out


def test_outside_the_cli_stdout_is_left_alone(capsys):
    logs.reset()
    with logs.quiet_stdout(logging.getLogger("x"), "dbt"):
        sys.stdout.write("compute log line\n")
    assert "compute log line" in capsys.readouterr().out
