"""National-scale benchmark: issue 18's targets, measured on ten years of synthetic history.

    .venv/bin/python -m benchmarks.national [--months 120] [--end 2019-12] [--reps 3]
                                            [--restate 24] [--skip-backfill] [--smoke]

The months are the `--months` months ending at `--end` (2010-01..2019-12 by default); every
child process gets `LMKPI_HISTORY_START=<first month>`. Measured, in this order:

- on one national month (`--single`, default 2019-12, simulated on its own): the floor
  (DuckDB alone) and the reading / validation stages; the month end to end on an empty
  warehouse (`lmkpi load --month`), then its stages apart; its data work (in-process read +
  pseudonymise and validation seconds, the `validate` stage's TIMING line, plus dbt's own
  query time from run_results.json); the peer (the same dbt models by plain `dbt build`
  after a plain DuckDB ingest); and 173's share of it alone, in its own home;
- on the history: its last month on an empty warehouse, the whole history in one backfill,
  the last month again on top of it, and a restatement of the last `--restate` months
  (corrected files re-delivered, one `lmkpi load --from --to`).

Every figure is a whole process (start-up included) timed from outside, repeated, median
reported, with the process's peak memory (max RSS, from wait4) and the peak size of DuckDB's
temporary files while it ran (sampled every 0.5 s). Results go to docs/benchmarks.md (table
+ SVG chart) and docs/benchmarks.json; the hand-written analysis below ANALYSIS_MARKER is
kept. `--smoke` runs a tiny version of every measurement so CI keeps the script working.
"""

import argparse
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger("benchmarks")
ANALYSIS_MARKER = "<!-- analysis: written by hand, kept when the figures above are regenerated -->"
ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("ydelser", "joblog", "indkvartering")
POPULATION = Path("population") / "population_16_66.csv"  # generate() writes it last
FOCUS = 173  # the municipality measured alone
BENCHMARK_KEY = "benchmark-key-not-secret-0123456789"
ONE_MONTH = (
    "floor",
    "read",
    "validate",
    "e2e_month1",
    "ingest",
    "dbt",
    "publish",
    "peer",
    "e2e_173",
)
GIB = 1024  # MiB


@dataclass
class Measurement:
    name: str
    seconds: list[float]
    peak_mib: list[float]
    peak_spill_mib: list[float] = field(default_factory=list)
    timings: list[dict[str, float]] = field(default_factory=list)  # TIMING lines, per run

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mib_max(self) -> float:
        return max(self.peak_mib)

    @property
    def spill_mib_max(self) -> float:
        return max(self.peak_spill_mib, default=0.0)

    def timing(self, key: str) -> float | None:
        """Median over the runs of one value of the runs' TIMING lines."""
        values = [t[key] for t in self.timings if key in t]
        return statistics.median(values) if values else None


# Where DuckDB spills: a database file X spills into the folder `X.tmp/` beside it (DuckDB's
# default temp_directory; neither dbt_project/profiles.yml nor lmkpi.warehouse.db sets
# another), an in-memory database into `.tmp/` in the working directory (the repository for
# the children). Folders that hold no database are not walked.
SPILL_SKIP = {"landing", "archive", "dagster", "reports", "quality", "dbt-target", "dbt-logs"}


def spill_bytes(roots: list[Path]) -> int:
    """Allocated bytes (st_blocks × 512) of every file under a `*.tmp` folder below `roots`."""
    total = 0
    for root in roots:
        for folder, dirs, files in os.walk(root):
            if os.path.basename(folder).endswith(".tmp"):
                for name in files:
                    try:
                        total += os.lstat(os.path.join(folder, name)).st_blocks * 512
                    except OSError:
                        pass  # DuckDB removed it meanwhile
            else:
                dirs[:] = [d for d in dirs if d not in SPILL_SKIP]
    return total


class SpillSampler:
    """Samples `spill_bytes(roots)` every `interval` s in a thread; `peak` is the maximum."""

    def __init__(self, roots: list[Path], interval: float = 0.5) -> None:
        self.roots, self.interval, self.peak = list(roots), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, spill_bytes(self.roots))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "SpillSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, spill_bytes(self.roots))


def run_timed(
    cmd: list[str], env: dict, spill_roots: list[Path] = ()
) -> tuple[float, float, float, str]:
    """(wall seconds, peak RSS MiB, peak spill MiB, output) of one whole process."""
    # Output goes to a file, not a pipe: a pipe nobody reads until exit fills up and blocks
    # the child (the loads log a lot).
    with tempfile.TemporaryFile() as log_file, SpillSampler(spill_roots) as spill:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        log_file.seek(0)
        output = log_file.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{output[-3000:]}")
    # ru_maxrss is KiB on Linux: the largest of the process and its waited-for children
    return seconds, usage.ru_maxrss / 1024, spill.peak / 2**20, output


REFRESH_LINES = {  # what `lmkpi load` logs when it renders after a publication (lmkpi.refresh)
    "reports": re.compile(r"\breport \d+ \d{4}-\d{2}: .*\(([\d.]+) s\)\s*$"),
    "docs": re.compile(r"\bdbt docs: .*\(([\d.]+) s\)\s*$"),
}


def parse_timing(output: str) -> dict[str, float]:
    """The `TIMING key=value ...` line a stage logs (benchmarks.stages), and the seconds a
    load spent rendering reports and dbt docs (`reports`, `docs`), as numbers."""
    found: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith("TIMING "):
            found |= {k: float(v) for k, v in re.findall(r"(\w+)=([-\d.]+)", line)}
        for key, pattern in REFRESH_LINES.items():
            match = pattern.search(line)
            if match:
                found[key] = found.get(key, 0.0) + float(match[1])
    return found


def measure(
    name: str,
    cmd: list[str],
    env: dict,
    reps: int,
    before=None,  # noqa: ANN001 (a callable run, untimed, before each repetition)
    spill_roots: list[Path] = (),
    log_file: Path | None = None,
) -> Measurement:
    """`reps` runs of `cmd`; the output of the last goes to `log_file`."""
    m = Measurement(name, [], [])
    for i in range(reps):
        if before:
            before()
        s, mib, spill, output = run_timed(cmd, env, spill_roots)
        m.seconds.append(s)
        m.peak_mib.append(mib)
        m.peak_spill_mib.append(spill)
        m.timings.append(parse_timing(output))
        if log_file:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            log_file.write_text(output)
        log.info(
            "%-40s rep %d/%d: %7.2f s, peak %6.0f MiB, spill %6.0f MiB",
            name,
            i + 1,
            reps,
            s,
            mib,
            spill,
        )
    return m


def last_run_steps(home: Path) -> dict[str, float]:
    """Seconds per Dagster step of the latest run under `home`, from its event log (the same
    run the wall time covers), plus the run's own span (`run`)."""
    from datetime import datetime

    from lmkpi.orchestration import run_event_logs, step_events

    logs = run_event_logs(home / "dagster")
    if not logs:
        return {}
    started: dict[str, datetime] = {}
    steps: dict[str, float] = {}
    for kind, step, stamp in step_events(logs[-1]):
        at = datetime.fromisoformat(stamp)
        name = step or "run"
        if kind in ("STEP_START", "PIPELINE_START"):
            started[name] = at
        elif name in started:
            steps[name] = (at - started[name]).total_seconds()
    return steps


def dbt_queries(home: Path) -> tuple[float, int] | None:
    """(sum of `execution_time`, nodes) of the last dbt invocation of `home`: dbt's own
    time in its models, seeds and tests (one thread, so the sum is sequential time)."""
    path = home / "work" / "dbt-target" / "run_results.json"
    if not path.exists():
        return None
    results = json.loads(path.read_text())["results"]
    return sum(r.get("execution_time") or 0.0 for r in results), len(results)


def fresh_home(home: Path, landing: Path) -> None:
    if home.exists():
        shutil.rmtree(home)
    (home / "landing").mkdir(parents=True)
    for item in landing.iterdir():
        if item.is_dir() and not item.name.startswith("_"):
            (home / "landing" / item.name).symlink_to(item)


def ensure_landing(landing: Path, last: str, **generate_args) -> bool:
    """Generate the landing folder unless it is complete (the last month's ydelser file and
    the population file, which generate() writes last, are there). Generated into a partial
    folder, renamed when done, so an interrupted run leaves nothing half-written behind.
    True if it was generated now."""
    if (landing / "ydelser" / f"ydelser_{last}.csv").exists() and (landing / POPULATION).exists():
        return False
    if landing.exists():
        raise RuntimeError(
            f"{landing} is incomplete (no ydelser_{last}.csv or no {POPULATION}): is a "
            "generator still writing it? Wait for it, or remove the folder to generate it anew"
        )
    from lmkpi.synth import generate

    partial = landing.with_name(landing.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    started = time.perf_counter()
    summary = generate(partial, end=last, seed=2019, **generate_args)
    partial.rename(landing)
    log.info(
        "generated %s (%d months, %.0f MB) in %.1f s",
        landing,
        len(summary.months),
        summary.bytes_written / 1e6,
        time.perf_counter() - started,
    )
    return True


def corrected_copy(original: Path, target: Path, column: str = "samtaler", every: int = 100) -> int:
    """Write `original` to `target` with `column` + 1 in every `every`-th data row: a real
    but harmless correction (samtaler counts conversations, a whole number >= 0; an empty
    value is the contract's default 0). Line by line on the bytes, so the encoding, line
    endings, header and `;` separator stay exactly as delivered. Returns the rows changed."""
    lines = original.read_bytes().split(b"\n")
    header = lines[0].rstrip(b"\r").split(b";")
    names = [h.decode("utf-8", errors="replace").lstrip("\ufeff").strip() for h in header]
    index = names.index(column)
    changed = 0
    for i in range(every, len(lines), every):  # lines[i] is data row i (lines[0]: the header)
        line = lines[i]
        crlf = line.endswith(b"\r")
        fields = (line[:-1] if crlf else line).split(b";")
        if len(fields) != len(header) or b'"' in line:
            continue  # a blank last line, or quoted text: left as it is
        value = fields[index].strip()
        fields[index] = str(int(value or b"0") + 1).encode()
        lines[i] = b";".join(fields) + (b"\r" if crlf else b"")
        changed += 1
    partial = target.with_name(f".{target.name}.partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"\n".join(lines))
    partial.replace(target)
    return changed


def _link(source: Path, target: Path) -> None:
    """A hard link (a regular file: lmkpi refuses a symlinked delivery), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def redeliver(home: Path, landing: Path, restated_dir: Path, months: list[str]) -> list[Path]:
    """Make the home's `landing/ydelser` a real folder holding every delivered file (hard
    links into the generated landing) and replace `months` by their corrected versions
    (written once under `restated_dir`, reused afterwards). Returns the corrected files."""
    folder = home / "landing" / "ydelser"
    if folder.is_symlink():
        folder.unlink()
        folder.mkdir()
        for item in sorted((landing / "ydelser").iterdir()):
            if item.is_file() and not item.name.startswith("."):
                _link(item, folder / item.name)
    corrected = []
    for month in months:
        name = f"ydelser_{month}.csv"
        copy = restated_dir / name
        if not copy.exists():
            rows = corrected_copy(landing / "ydelser" / name, copy)
            log.info("restated %s: samtaler + 1 in %d rows", name, rows)
        (folder / name).unlink(missing_ok=True)
        _link(copy, folder / name)
        corrected.append(copy)
    return corrected


def reloaded_months(home: Path, files: list[Path]) -> int:
    """How many of the corrected `files` the home's audit shows loaded (a load of outcome
    `loaded` with the file's checksum), not skipped as unchanged."""
    import duckdb

    con = duckdb.connect(str(home / "work" / "lmkpi.duckdb"), read_only=True)
    try:
        loaded = {
            (str(month)[:7], checksum)
            for month, checksum in con.execute(
                "select month, checksum_sha256 from audit.load_audit "
                "where source = 'ydelser' and outcome = 'loaded'"
            ).fetchall()
        }
    finally:
        con.close()
    found = 0
    for file in files:
        month = file.stem.removeprefix("ydelser_")
        found += (month, hashlib.sha256(file.read_bytes()).hexdigest()) in loaded
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--end", default="2019-12", help="the history's last month (YYYY-MM)")
    parser.add_argument(
        "--single",
        default="2019-12",
        help="the month of the one-month measurements (floor, stages, end to end, peer, 173)",
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--restate", type=int, default=24, help="months restated at the end")
    parser.add_argument("--data", default=str(ROOT / "bench-data"))
    parser.add_argument("--smoke", action="store_true", help="tiny run of every path, for CI")
    parser.add_argument("--skip-backfill", action="store_true")
    parser.add_argument(
        "--no-refresh",
        action="store_true",
        help="loads skip rendering reports and dbt docs after publishing (--smoke does)",
    )
    parser.add_argument(
        "--reuse-one-month",
        metavar="JSON",
        help="take the one-month rows (floor .. 173 alone) from an earlier run's benchmarks.json "
        "instead of measuring them again (after a change that only touches the history)",
    )
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.smoke:
        # Every measurement once, on tiny data; the loads skip the reports and docs they
        # would render after publishing (~20 s each here), which the smoke does not measure.
        args.months, args.reps, args.scale, args.restate = 2, 1, 0.01, 1
        args.no_refresh = True
        args.single = args.end
    wall = time.perf_counter()

    from lmkpi.months import Month

    end = Month.parse(args.end)
    months = [m.key for m in Month.range(end - (args.months - 1), end)]
    first, last = months[0], months[-1]
    # Before anything imports lmkpi.settings (it reads the history start at import).
    os.environ["LMKPI_HISTORY_START"] = first
    suffix = "" if args.scale == 1.0 else f"-scale{args.scale:g}"
    data = Path(args.data).resolve() / f"national-{first}-{last}{suffix}"
    landing = data / "landing"
    ensure_landing(landing, last, start=first, scale=args.scale)
    # The one-month measurements: a recent national month, simulated on its own (month 1 of
    # its own history), and one municipality's share of it.
    single = Month.parse(args.single).key
    one = Path(args.data).resolve() / f"national-{single}{suffix}"
    landing_1 = one / "landing"
    ensure_landing(landing_1, single, start=single, scale=args.scale)
    landing_173 = one / f"only-{FOCUS}" / "landing"
    ensure_landing(landing_173, single, start=single, scale=args.scale, municipalities=[FOCUS])
    month1_files = [landing_1 / s / f"{s}_{single}.csv" for s in SOURCES]
    floor_file = month1_files[0]
    rows = sum(1 for _ in open(floor_file, "rb")) - 1

    py = sys.executable
    load = [
        str(Path(py).with_name("lmkpi")),
        "load",
        *(["--no-refresh"] if args.no_refresh else []),
    ]
    home, home_173, peer_dir = data / "home", one / f"home-{FOCUS}", one / "peer"
    home_1 = one / "home"
    env = os.environ | {
        "LMKPI_HOME": str(home),
        "LMKPI_HISTORY_START": first,
        "LMKPI_PSEUDONYM_KEY": BENCHMARK_KEY,
        "GX_ANALYTICS_ENABLED": "false",
    }
    # where DuckDB may spill (spill_bytes)
    roots = [home, home_1, home_173, peer_dir, ROOT / ".tmp"]
    stage = [py, "-m", "benchmarks.stages"]
    results: dict[str, Measurement] = {}
    steps: dict[str, dict[str, float]] = {}
    notes: dict[str, object] = {
        "months": len(months),
        "first": first,
        "last": last,
        "single": single,
    }

    def run(key: str, name: str, cmd: list[str], reps: int, before=None, run_env=env):  # noqa: ANN001, ANN202
        results[key] = measure(
            name, cmd, run_env, reps, before, roots, data / "logs" / f"{key}.log"
        )
        return results[key]

    def empty_warehouse(key: str, name: str, at: Path, delivered: Path, month: str):  # noqa: ANN202
        """`lmkpi load --month` into a fresh home each time; its steps and dbt query time."""
        run(
            key,
            name,
            [*load, "--month", month],
            args.reps,
            before=lambda: fresh_home(at, delivered),
            run_env=env | {"LMKPI_HOME": str(at)},
        )
        steps[key] = last_run_steps(at)
        return dbt_queries(at)

    earlier = json.loads(Path(args.reuse_one_month).read_text()) if args.reuse_one_month else None
    if earlier:  # the one-month rows of an earlier run, said so in the report
        for key in ONE_MONTH:
            if key in earlier["results"]:
                results[key] = Measurement(**earlier["results"][key])
            if key in earlier["steps"]:
                steps[key] = earlier["steps"][key]
        for key in ("dbt_query_s", "dbt_nodes", "dbt_query_s_173"):
            if key in earlier["notes"]:
                notes[key] = earlier["notes"][key]
        notes["one_month_from"] = args.reuse_one_month
    else:
        # The floor and the data work on month 1: the month "end to end, month 1" loads.
        run(
            "floor",
            "floor (DuckDB alone)",
            [*stage, "floor", "--file", str(floor_file), "--month", single],
            args.reps,
        )
        run(
            "read",
            "read + pseudonymise (ydelser)",
            [*stage, "read", "--file", str(floor_file)],
            args.reps,
        )
        files = [a for f in month1_files if f.exists() for a in ("--file", str(f))]
        run("validate", "read + validate (3 sources)", [*stage, "validate", *files], args.reps)

        # Month 1 on an empty warehouse, end to end through the scheduled job's code path.
        queries = empty_warehouse(
            "e2e_month1",
            f"end to end, one national month ({single}), empty warehouse",
            home_1,
            landing_1,
            single,
        )
        if queries:
            notes["dbt_query_s"], notes["dbt_nodes"] = queries
        # The stages of it, separately (after an end-to-end run, so tables exist).
        for name, cmd in [
            ("ingest", [*stage, "ingest", "--month", single]),
            ("dbt", [*stage, "dbt", "--month", single]),
            ("publish", [*stage, "publish"]),
        ]:
            if not args.smoke:  # the same code as the end-to-end run; not worth CI's minutes
                run(
                    name,
                    f"stage: {name}",
                    cmd,
                    args.reps,
                    run_env=env | {"LMKPI_HOME": str(home_1)},
                )

        # The peer: plain DuckDB ingest + plain dbt build of the same month, fresh each time.
        run(
            "peer",
            f"peer: DuckDB COPY + plain dbt build, {single}",
            [*stage, "peer", "--month", single, "--landing", str(landing_1)],
            args.reps,
            before=lambda: shutil.rmtree(peer_dir, ignore_errors=True),
            run_env=env | {"LMKPI_HOME": str(peer_dir / "home")},
        )

        # One municipality's month alone, in its own home.
        queries = empty_warehouse(
            "e2e_173", f"end to end, {FOCUS} alone, {single}", home_173, landing_173, single
        )
        # dbt's time on a month of a few thousand rows: what its nodes cost whatever the data.
        if queries:
            notes["dbt_query_s_173"] = queries[0]

    if not args.skip_backfill and len(months) > 1:
        # The last month of the history on an empty warehouse: what month N costs without
        # the history, to compare with month N after N-1.
        if not args.smoke:
            empty_warehouse(
                "e2e_month_n_alone",
                f"end to end, month {len(months)} ({last}) alone, empty warehouse",
                home,
                landing,
                last,
            )
        # The whole history in one run (the backfill the BI team starts from the UI or
        # `lmkpi load --from --to`), then the last month delivered again on top of the
        # other months: the cost of a month once the warehouse holds years of history.
        fresh_home(home, landing)
        run(
            "backfill",
            f"backfill {len(months)} months, one run",
            [*load, "--from", first, "--to", last],
            1,
        )
        steps["backfill"] = last_run_steps(home)
        run(
            "e2e_month_n",
            f"end to end, month {len(months)} after {len(months) - 1} months",
            [*load, "--force", "--month", last],
            args.reps,
        )
        steps["e2e_month_n"] = last_run_steps(home)
        # Corrected files for the last months, delivered again, loaded in one run.
        restated = months[-min(args.restate, len(months)) :]
        corrected = redeliver(home, landing, data / "restated" / "ydelser", restated)
        run(
            "restate",
            f"restate the last {len(restated)} months, one run",
            [*load, "--from", restated[0], "--to", restated[-1]],
            1,
        )
        steps["restate"] = last_run_steps(home)
        notes["restated"], notes["restated_reloaded"] = (
            len(restated),
            reloaded_months(home, corrected),
        )
        if notes["restated_reloaded"] != len(restated):
            log.warning(
                "only %s of the %d restated months were reloaded (audit.load_audit)",
                notes["restated_reloaded"],
                len(restated),
            )

    notes["wall_s"] = time.perf_counter() - wall
    out = Path(args.out)
    write_report(out, results, steps, notes, rows, single, args)
    out.with_suffix(".json").write_text(
        json.dumps(
            {
                "results": {k: asdict(v) for k, v in results.items()},
                "steps": steps,
                "notes": notes,
                "targets": targets(results, len(months), notes),
            },
            indent=2,
        )
    )
    log.info("benchmark done in %.0f s", time.perf_counter() - wall)
    return 0


def data_work(results: dict[str, Measurement], notes: dict) -> dict[str, float] | None:
    """In-process seconds of month 1's data work: read + pseudonymise and validation of its
    three files (median of the `validate` stage's TIMING), and dbt's query time in the last
    end-to-end month-1 run."""
    validate = results.get("validate")
    if not validate or validate.timing("read") is None or "dbt_query_s" not in notes:
        return None
    parts = {
        "read": validate.timing("read"),
        "validate": validate.timing("validate"),
        "dbt": notes["dbt_query_s"],
    }
    return parts | {"total": sum(parts.values()), "gx_start": validate.timing("gx_start") or 0.0}


def targets(
    results: dict[str, Measurement], n_months: int, notes: dict | None = None
) -> list[tuple[str, str, str]]:
    """Issue 18's targets on this machine: (target, result, met / missed / not measured)."""
    notes = notes or {}
    floor = results["floor"].median_s
    out: list[tuple[str, str, str]] = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    def absent(target: str) -> None:
        out.append((target, "not run", "not measured"))

    e2e = results.get("e2e_month1")
    if e2e:
        ratio = e2e.median_s / floor
        out.append(
            (
                "one national month end to end ≤ 25 s and ≤ 35× the floor",
                f"{e2e.median_s:.1f} s = {ratio:.0f}× the floor ({floor:.2f} s)",
                verdict(e2e.median_s <= 25 and ratio <= 35),
            )
        )
    work = data_work(results, notes)
    if work:
        ratio = work["total"] / floor
        out.append(
            (
                "data work of that month ≤ 10× the floor",
                f"{work['total']:.1f} s = {ratio:.1f}× the floor ({floor:.2f} s): read + "
                f"pseudonymise "
                f"{work['read']:.1f} s, validation {work['validate']:.1f} s, dbt queries "
                f"{work['dbt']:.1f} s",
                verdict(ratio <= 10),
            )
        )
    else:
        absent("data work of that month ≤ 10× the floor")
    alone = results.get("e2e_173")
    if alone:
        out.append(
            (
                f"one municipality's month ({FOCUS} alone) ≤ 10 s",
                f"{alone.median_s:.1f} s",
                verdict(alone.median_s <= 10),
            )
        )
    backfill = results.get("backfill")
    target = f"{n_months}-month backfill < 30 min, peak RSS < 3 GiB, peak spill ≤ 2 GiB"
    if backfill:
        rss, spill = backfill.peak_mib_max, backfill.spill_mib_max
        ok = backfill.median_s < 30 * 60 and rss < 3 * GIB and spill <= 2 * GIB
        out.append(
            (
                target,
                f"{backfill.median_s / 60:.1f} min, {rss / GIB:.2f} GiB, {spill / GIB:.2f} GiB",
                verdict(ok) + ("" if n_months >= 120 else f" (for {n_months}, not 120, months)"),
            )
        )
    else:
        absent(target)
    month_n = results.get("e2e_month_n")
    alone_n = results.get("e2e_month_n_alone") or e2e
    if month_n and alone_n:
        ratio = month_n.median_s / alone_n.median_s
        out.append(
            (
                f"month {n_months} loaded after {n_months - 1} months vs on an empty "
                "warehouse ≤ 1.2×",
                f"{month_n.median_s:.1f} s vs {alone_n.median_s:.1f} s = {ratio:.2f}×",
                verdict(ratio <= 1.2),
            )
        )
    else:
        absent("month N after N−1 vs month 1 ≤ 1.2×")
    restate = results.get("restate")
    n = notes.get("restated", 24)
    if restate:
        reloaded = notes.get("restated_reloaded")
        out.append(
            (
                f"restating {n} months < 10 min",
                f"{restate.median_s / 60:.1f} min ({reloaded} of {n} months reloaded)",
                verdict(restate.median_s < 10 * 60 and reloaded == n)
                + ("" if n >= 24 else f" (for {n}, not 24, months)"),
            )
        )
    else:
        absent("restating 24 months < 10 min")
    peer = results.get("peer")
    if peer and e2e:
        ratio = e2e.median_s / peer.median_s
        out.append(
            (
                "lmkpi ÷ peer ≤ 1.5× (the aim)",
                f"{e2e.median_s:.1f} s ÷ {peer.median_s:.1f} s = {ratio:.2f}×",
                verdict(ratio <= 1.5),
            )
        )
    else:
        absent("lmkpi ÷ peer ≤ 1.5× (the aim)")
    return out


def write_report(
    out: Path,
    results: dict[str, Measurement],
    steps: dict[str, dict[str, float]],
    notes: dict,
    rows: int,
    month: str,
    args,  # noqa: ANN001
) -> None:
    floor = results["floor"].median_s
    cpu = platform.processor() or platform.machine()
    n_months = notes["months"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python -m benchmarks.national` on {time.strftime('%Y-%m-%d')}"
        + (" (SMOKE run: tiny data, not representative)" if args.smoke else "")
        + f" in {notes['wall_s'] / 60:.1f} min.",
        f"Machine: {os.cpu_count()} cores ({cpu}), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
        f"Python {platform.python_version()}. Data: synthetic, scale {args.scale}, "
        f"a history of {n_months} months {notes['first']}..{notes['last']} "
        f"(`LMKPI_HISTORY_START={notes['first']}`) for the backfill, month N and the "
        f"restatement; the one-month measurements (floor, stages, end to end, peer, 173) use "
        f"{month}, simulated on its own: {rows:,} `ydelser` rows.",
        "",
        "Whole-process wall time (start-up included), median of the repetitions; peak = max RSS "
        "of the process or of its largest child; spill = the largest size of DuckDB's "
        "temporary files while it ran (sampled every 0.5 s).",
        "",
        *(
            [
                f"The one-month rows ({', '.join(k for k in ONE_MONTH if k in results)}) are "
                f"those of an earlier run (`--reuse-one-month {notes['one_month_from']}`); the "
                "history rows were measured in this one.",
                "",
            ]
            if notes.get("one_month_from")
            else []
        ),
        "| measurement | median s | × floor | peak MiB | peak spill MiB | runs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in results.values():
        lines.append(
            f"| {m.name} | {m.median_s:.2f} | {m.median_s / floor:.1f} | {m.peak_mib_max:.0f} "
            f"| {m.spill_mib_max:.0f} | {len(m.seconds)} |"
        )
    lines += ["", "![stage times](benchmarks.svg)", "", "## Targets (issue 18)", ""]
    peer = results.get("peer")
    lines.append(
        f"Floor: {floor:.2f} s (DuckDB alone on {month}'s `ydelser` file)"
        + (
            f"; peer: {peer.median_s:.1f} s (plain DuckDB ingest + plain `dbt build`)"
            if peer
            else ""
        )
        + "."
    )
    lines += ["", "| target | result | |", "|---|---|---|"]
    lines += [f"| {t} | {r} | {v} |" for t, r, v in targets(results, n_months, notes)]
    work = data_work(results, notes)
    if work:
        lines += [
            "",
            "## Data work of month 1",
            "",
            "In-process seconds, without process start-up and imports: reading + "
            "pseudonymising and validating the month's three files (the `validate` stage; "
            "great-expectations' import and context, paid once per process, apart), and the "
            "sum of dbt's `execution_time` over the nodes of the last month-1 load "
            "(`run_results.json`). Writing the raw tables and the audit is not counted.",
            "",
            "| part | s | × floor |",
            "|---|---:|---:|",
            f"| read + pseudonymise | {work['read']:.2f} | {work['read'] / floor:.1f} |",
            f"| validation | {work['validate']:.2f} | {work['validate'] / floor:.1f} |",
            f"| dbt queries ({notes.get('dbt_nodes', 0)} nodes) | {work['dbt']:.2f} "
            f"| {work['dbt'] / floor:.1f} |",
            f"| **data work** | **{work['total']:.2f}** | **{work['total'] / floor:.1f}** |",
            f"| (great-expectations start-up) | {work['gx_start']:.2f} | |",
        ]
        if "dbt_query_s_173" in notes:
            lines.append(
                f"| (dbt queries on {FOCUS} alone: summed over dbt's threads, 4 for so few rows, "
                "so more than its dbt step's wall time) "
                f"| {notes['dbt_query_s_173']:.2f} | {notes['dbt_query_s_173'] / floor:.1f} |"
            )
    if steps:
        lines += [
            "",
            "## Inside the runs: seconds per Dagster step",
            "",
            "From the Dagster event log of the last repetition. `run` is the run itself;",
            "the rest of the wall time is process start-up (imports, loading the code",
            "location, creating the run and its planned events); after a publication the",
            "load also renders the last month's reports and the dbt docs (`refresh`, from",
            "the load's log).",
            "",
        ]
        names = list(results[k].name for k in steps)
        step_keys = sorted({s for v in steps.values() for s in v}, key=_step_order)
        lines += ["| step | " + " | ".join(names) + " |", "|---" + "|---:" * len(names) + "|"]
        for key in step_keys:
            cells = [f"{steps[k][key]:.1f}" if key in steps[k] else "" for k in steps]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
        refresh = {k: {r: results[k].timings[-1].get(r) for r in REFRESH_LINES} for k in steps}
        for r in REFRESH_LINES:
            cells = [f"{refresh[k][r]:.1f}" if refresh[k][r] is not None else "" for k in steps]
            lines.append(f"| refresh: {r} | " + " | ".join(cells) + " |")
        rest = [
            results[k].seconds[-1] - steps[k].get("run", 0) - sum(filter(None, refresh[k].values()))
            for k in steps
        ]
        lines.append("| start-up and exit | " + " | ".join(f"{w:.1f}" for w in rest) + " |")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Hand-written reading of the figures below the marker survives a re-run.
    kept = ""
    if out.exists() and ANALYSIS_MARKER in out.read_text():
        kept = out.read_text().split(ANALYSIS_MARKER, 1)[1]
    out.write_text("\n".join(lines) + "\n\n" + ANALYSIS_MARKER + (kept or "\n"))
    chart(out.with_suffix(".svg"), results)
    log.info("wrote %s", out)


def _step_order(step: str) -> tuple[int, str]:
    order = ["raw__", "lmkpi_dbt_models", "warehouse__", "run"]
    return next((i for i, p in enumerate(order) if step.startswith(p)), len(order)), step


def chart(path: Path, results: dict[str, Measurement]) -> None:
    """Bars of the medians on a log scale (the floor is under a second, a backfill is
    minutes), each labelled with its seconds and its multiple of the floor."""
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    names = [m.name for m in results.values()]
    values = [m.median_s for m in results.values()]
    floor = results["floor"].median_s
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1.2))
    bars = ax.barh(names[::-1], values[::-1], color="#3b6ea5")
    for bar, value in zip(bars, values[::-1], strict=True):
        ax.text(
            bar.get_width() * 1.08,
            bar.get_y() + bar.get_height() / 2,
            f"{value:,.1f} s  ({value / floor:,.0f}× floor)",
            va="center",
            fontsize=8,
        )
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 2, max(values) * 80)  # room for the longest bar's label
    ax.set_xlabel("seconds (median, whole process; log scale)")
    ax.axvline(floor, color="#c0392b", linestyle="--", label="floor")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
