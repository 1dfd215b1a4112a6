"""great-expectations in a process of its own, started before it is needed.

Importing great-expectations takes ~3 s of one core (it builds hundreds of pydantic classes
and imports scipy), a third of a small municipality's monthly load. ``start()`` spawns a
worker process that imports it while the load's own process imports Dagster, creates the
run and reads the first files: on two cores the two overlap. ``run_suite`` then sends each
suite and frame there (the frame as Arrow IPC bytes, ~0.1 s for a national month) and gets
back the same ``RawOutcome`` list the in-process path returns; the worker's pandas copy and
great-expectations' memory stay out of the load's process.

Opt-in per process: ``lmkpi load`` and the ingest steps start it; a process that never calls
``start()`` (tests, ``lmkpi plan check``) validates in-process as before. The worker ends
when its pipe closes, so it never outlives the process that started it, also when that is
killed. If it dies, the suite runs in-process and a warning says so.
"""

import io
import logging
import multiprocessing
import threading
import traceback
from typing import Any

import polars as pl

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def start() -> None:
    """Start this process's worker (once; a no-op if it runs already)."""
    with _LOCK:
        if _STATE.get("process") is not None and _STATE["process"].is_alive():
            return
        context = multiprocessing.get_context("spawn")  # no fork of a threaded process
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs,), name="lmkpi-validation")
        process.daemon = True
        process.start()
        theirs.close()
        _STATE.update(process=process, pipe=ours)


def stop() -> None:
    """End the worker (it also ends by itself when this process does)."""
    with _LOCK:
        pipe, process = _STATE.pop("pipe", None), _STATE.pop("process", None)
    if pipe is not None:
        pipe.close()
    if process is not None:
        process.join(timeout=5)


def running() -> bool:
    return _STATE.get("process") is not None


def run(*args: Any) -> list | None:
    """``runner.run_suite_here(*args)`` in the worker; None if there is no worker (or it
    died: the caller then validates in-process)."""
    with _LOCK:
        pipe = _STATE.get("pipe")
        if pipe is None:
            return None
        try:
            pipe.send_bytes(_pack(args))
            status, value = pipe.recv()
        except (EOFError, OSError, BrokenPipeError):
            log.warning("the validation worker stopped; validating in this process instead")
            _STATE.pop("pipe", None)
            _STATE.pop("process", None)
            return None
    if status == "error":
        raise RuntimeError(f"validation failed in the worker process:\n{value}")
    return value


def _pack(args: tuple) -> bytes:
    """Polars frames as Arrow IPC (fast, no pickling of columns), the rest pickled."""
    import pickle

    frames = {}
    plain = []
    for i, arg in enumerate(args):
        if isinstance(arg, pl.DataFrame):
            buffer = io.BytesIO()
            arg.write_ipc(buffer, compression="uncompressed")
            frames[i] = buffer.getvalue()
            plain.append(None)
        else:
            plain.append(arg)
    return pickle.dumps((plain, frames), protocol=pickle.HIGHEST_PROTOCOL)


def _unpack(data: bytes) -> list:
    import pickle

    plain, frames = pickle.loads(data)
    for i, raw in frames.items():
        plain[i] = pl.read_ipc(io.BytesIO(raw))
    return plain


def _serve(pipe: Any) -> None:
    """The worker: import great-expectations at once, then validate until the pipe closes."""
    from lmkpi.quality import runner

    runner.warm_up()
    while True:
        try:
            data = pipe.recv_bytes()
        except (EOFError, OSError):
            return  # the load's process closed the pipe or died
        try:
            pipe.send(("ok", runner.run_suite_here(*_unpack(data))))
        except Exception:  # noqa: BLE001 (reported to the caller, which raises it)
            pipe.send(("error", traceback.format_exc(limit=8)))
