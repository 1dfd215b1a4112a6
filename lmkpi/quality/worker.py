"""great-expectations in a process of its own, started before it is needed.

Importing great-expectations takes ~3 s of one core (it builds hundreds of pydantic classes
and imports scipy), a third of a small municipality's monthly load. ``start()`` starts a
worker process (``python -m lmkpi.quality.worker``) that imports it while the load's own
process imports Dagster, creates the run and reads the first files: on two cores the two
overlap. ``run_suite`` then sends each suite and frame there (as Arrow IPC: a national
month's 183 MB of ``ydelser`` take 0.3 s to send, and validating it there costs ~0.6 s more
than here; a municipality's month nothing) and gets back the same
``RawOutcome`` list the in-process path returns; great-expectations' memory and its pandas
copy of the month stay out of the load's process.

Opt-in per process: ``lmkpi load`` and the ingest steps start it for a run of one month (the
scheduled job; ``worth_starting``); a run of several months, and a process that never calls
``start()`` (tests, ``lmkpi plan check``), validate in-process. The worker ends when its
input closes, so it never outlives the process that started it, also when that is killed.
If it dies, the suite runs in-process and a warning says so.

Protocol: length-prefixed messages on the worker's stdin and (a duplicate of) its stdout: a
request is the pickled plain arguments, then one Arrow IPC message per frame; a reply is a
pickle. The worker's own file descriptor 1 points at stderr, so a library that prints cannot
corrupt the replies.
"""

import fcntl
import io
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
import traceback
from typing import IO, Any

import polars as pl

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}
_LENGTH = struct.Struct("!Q")


def worth_starting(months: int) -> bool:
    """Whether a run of ``months`` months should validate in a worker: one month only. The
    worker hides great-expectations' 3 s import once, and sending a national month's frames
    there costs ~0.6 s each time (ydelser and Jobloggen: ~1.2 s a month); a run of several
    months imports it here once instead (a 120-month national backfill: 3 s, not ~3 min)."""
    return months == 1


def start() -> None:
    """Start this process's worker (once; a no-op if it runs already)."""
    with _LOCK:
        process = _STATE.get("process")
        if process is not None and process.poll() is None:
            return
        _STATE["process"] = subprocess.Popen(
            [sys.executable, "-m", "lmkpi.quality.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux: 1 MiB a wake-up, not 64 KiB (0.38 -> 0.30 s)
            try:
                fcntl.fcntl(_STATE["process"].stdin.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
            except OSError:
                pass  # a lower /proc/sys/fs/pipe-max-size: the default size works too


def stop() -> None:
    """End the worker (it also ends by itself when this process does)."""
    with _LOCK:
        process = _STATE.pop("process", None)
    if process is not None:
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()


def running() -> bool:
    return _STATE.get("process") is not None


def run(*args: Any) -> list | None:
    """``runner.run_suite_here(*args)`` in the worker; None if there is no worker (or it
    died: the caller then validates in-process)."""
    with _LOCK:
        process = _STATE.get("process")
        if process is None:
            return None
        try:
            _send_args(process.stdin, args)
            status, value = pickle.loads(_receive(process.stdout))
        except (EOFError, OSError):
            log.warning("the validation worker stopped; validating in this process instead")
            _STATE.pop("process", None)
            process.kill()
            return None
    if status == "error":
        raise RuntimeError(f"validation failed in the worker process:\n{value}")
    return value


def _send(stream: IO[bytes], payload: bytes | memoryview) -> None:
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)


def _receive(stream: IO[bytes]) -> bytes:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError("the other side closed the pipe")
    (size,) = _LENGTH.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("the other side closed the pipe")
    return payload


def _send_args(stream: IO[bytes], args: tuple) -> None:
    """The plain arguments pickled, then each polars frame as its own Arrow IPC message
    (written from the buffer: no pickling or copying of the columns)."""
    frames = [i for i, arg in enumerate(args) if isinstance(arg, pl.DataFrame)]
    plain = [None if i in frames else arg for i, arg in enumerate(args)]
    _send(stream, pickle.dumps((plain, frames), protocol=pickle.HIGHEST_PROTOCOL))
    for i in frames:
        buffer = io.BytesIO()
        args[i].write_ipc(buffer, compression="uncompressed")
        _send(stream, buffer.getbuffer())
        del buffer
    stream.flush()


def _receive_args(stream: IO[bytes]) -> list:
    plain, frames = pickle.loads(_receive(stream))
    for i in frames:
        plain[i] = pl.read_ipc(_receive(stream))
    return plain


def serve() -> None:
    """The worker: import great-expectations at once, then validate until stdin closes."""
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever prints goes to stderr, not into the replies
    from lmkpi.quality import runner

    runner.warm_up()
    while True:
        try:
            args = _receive_args(requests)
        except (EOFError, OSError):
            return  # the load's process closed the pipe or died
        try:
            reply = ("ok", runner.run_suite_here(*args))
        except Exception:  # noqa: BLE001 (reported to the caller, which raises it)
            reply = ("error", traceback.format_exc(limit=8))
        try:
            _send(replies, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
            replies.flush()
        except OSError:
            return


if __name__ == "__main__":
    serve()
