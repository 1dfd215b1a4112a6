"""great-expectations in a worker process (lmkpi.quality.worker): the same reports as
in-process, a fallback when the worker dies, and no worker outliving its process."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lmkpi.quality import validate_read, worker

from extract_builders import read_file

KEY = b"test-key-not-secret-0123456789abcdef"
VALID = Path(__file__).parent / "fixtures" / "extracts" / "valid"
BAD = Path(__file__).parent / "bad_inputs"


def _report(source: str, path: Path, folder: Path):
    """The validation report of ``path`` delivered as ``<source>_2019-10``."""
    delivered = folder / f"{source}_2019-10{path.suffix}"
    shutil.copyfile(path, delivered)
    result = read_file(source, delivered, month="2019-10", key=KEY)
    report = validate_read(result)
    return [
        (o.rule, o.success, o.unexpected_count, tuple(o.example_lines), o.message)
        for o in report.outcomes
    ] + [tuple(report.rejected_lines)]


@pytest.fixture
def started():
    worker.start()
    yield
    worker.stop()


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ("ydelser", VALID / "ydelser_2019-10.csv"),
        ("joblog", VALID / "joblog_2019-10.csv"),
        ("indkvartering", VALID / "indkvartering_2019-10.csv"),
        ("ydelser", BAD / "ydelser" / "many_overlaps.csv"),  # blocked, with line numbers
        ("ydelser", BAD / "ydelser" / "visitation_wrong_for_benefit.csv"),
        ("joblog", BAD / "joblog" / "duplicate_registration.csv"),
    ],
)
def test_the_worker_reports_what_validating_here_reports(source, path, started, tmp_path):
    there = _report(source, path, tmp_path)
    assert worker.running()
    worker.stop()
    assert not worker.running()
    here = _report(source, path, tmp_path)
    assert there == here and len(there) > 5


def test_a_dead_worker_falls_back_to_validating_here(started, caplog, tmp_path):
    os.kill(worker._STATE["process"].pid, signal.SIGKILL)
    time.sleep(0.5)
    report = _report("ydelser", VALID / "ydelser_2019-10.csv", tmp_path)
    assert report and "validating in this process instead" in caplog.text
    assert not worker.running()


def test_the_worker_ends_with_the_process_that_started_it(tmp_path):
    code = (
        "import sys, time\n"
        "from lmkpi.quality import worker\n"
        "worker.start()\n"
        "print(worker._STATE['process'].pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20  # it may still be importing great-expectations
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
