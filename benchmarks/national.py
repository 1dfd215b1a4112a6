"""National-scale benchmark: one month of the whole country, its stages, a 36-month backfill.

    .venv/bin/python -m benchmarks.national [--months 36] [--reps 3] [--smoke]

Every figure is a whole process (start-up included) timed from outside, repeated, median
reported, with the process's peak memory (max RSS, from wait4). Results go to
docs/benchmarks.md (table + SVG chart) and docs/benchmarks.json. `--smoke` runs a tiny
version (one small month, one repetition) so CI keeps the script working.
"""

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("benchmarks")
ANALYSIS_MARKER = "<!-- analysis: written by hand, kept when the figures above are regenerated -->"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Measurement:
    name: str
    seconds: list[float]
    peak_mib: list[float]

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mib_max(self) -> float:
        return max(self.peak_mib)


def run_timed(cmd: list[str], env: dict) -> tuple[float, float]:
    # Output goes to a file, not a pipe: a pipe nobody reads until exit fills up and blocks
    # the child (the loads log a lot).
    with tempfile.TemporaryFile() as log_file:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        log_file.seek(0)
        output = log_file.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{output[-3000:]}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def measure(name: str, cmd: list[str], env: dict, reps: int, before=None) -> Measurement:
    m = Measurement(name, [], [])
    for i in range(reps):
        if before:
            before()
        s, mib = run_timed(cmd, env)
        m.seconds.append(s)
        m.peak_mib.append(mib)
        log.info("%-28s rep %d/%d: %6.2f s, peak %6.0f MiB", name, i + 1, reps, s, mib)
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


def fresh_home(home: Path, landing: Path) -> None:
    if home.exists():
        shutil.rmtree(home)
    (home / "landing").mkdir(parents=True)
    for item in landing.iterdir():
        if item.is_dir() and not item.name.startswith("_"):
            (home / "landing" / item.name).symlink_to(item)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--data", default=str(ROOT / "bench-data"))
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    parser.add_argument("--skip-backfill", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.smoke:
        args.months, args.reps, args.scale, args.skip_backfill = 1, 1, 0.01, True

    from lmkpi.months import Month
    from lmkpi.settings import HISTORY_START
    from lmkpi.synth import generate

    months = [m.key for m in Month.range(HISTORY_START, Month(2019, 12))][: args.months]
    target = months[-1]
    data = Path(args.data) / f"scale-{args.scale}"
    landing = data / "landing"
    if not (landing / "ydelser" / f"ydelser_{target}.csv").exists():
        started = time.perf_counter()
        summary = generate(landing, start=months[0], end=target, scale=args.scale, seed=2019)
        log.info(
            "generated %d months of national data in %.1f s",
            len(months),
            time.perf_counter() - started,
        )
        del summary
    target_file = landing / "ydelser" / f"ydelser_{target}.csv"
    rows = sum(1 for _ in open(target_file, "rb")) - 1

    py = sys.executable
    lmkpi = str(Path(py).with_name("lmkpi"))
    home = data / "home"
    env = os.environ | {
        "LMKPI_HOME": str(home),
        "LMKPI_PSEUDONYM_KEY": "benchmark-key-not-secret-0123456789",
        "GX_ANALYTICS_ENABLED": "false",
    }
    stage = [py, "-m", "benchmarks.stages"]
    results: dict[str, Measurement] = {}

    results["floor"] = measure(
        "floor (DuckDB alone)",
        [*stage, "floor", "--file", str(target_file), "--month", target],
        env,
        args.reps,
    )
    results["read"] = measure(
        "read + pseudonymise",
        [*stage, "read", "--file", str(target_file), "--month", target],
        env,
        args.reps,
    )
    try:
        results["validate"] = measure(
            "read + validate",
            [*stage, "validate", "--file", str(target_file), "--month", target],
            env,
            args.reps,
        )
    except RuntimeError as exc:
        log.warning("validation stage unavailable: %s", str(exc)[:300])

    # Month 1 on an empty warehouse, end to end through the scheduled job's code path.
    results["e2e_month1"] = measure(
        "end to end, month 1, empty warehouse",
        [lmkpi, "load", "--month", months[0]],
        env,
        args.reps,
        before=lambda: fresh_home(home, landing),
    )
    steps = {"e2e_month1": last_run_steps(home)}
    # The stages of it, separately (after an end-to-end run, so tables exist).
    for name, cmd in [
        ("ingest", [*stage, "ingest", "--month", months[0]]),
        ("dbt", [*stage, "dbt", "--month", months[0]]),
        ("publish", [*stage, "publish"]),
    ]:
        results[name] = measure(f"stage: {name}", cmd, env, args.reps)

    if not args.skip_backfill and len(months) > 1:
        # The whole history in one run (the backfill the BI team starts from the UI or
        # `lmkpi load --from --to`), then the last month delivered again on top of the
        # other months: the cost of a month once the warehouse holds years of history.
        fresh_home(home, landing)
        results["backfill"] = measure(
            f"backfill {len(months)} months, one run",
            [lmkpi, "load", "--from", months[0], "--to", months[-1]],
            env,
            1,
        )
        steps["backfill"] = last_run_steps(home)
        results["e2e_month_n"] = measure(
            f"end to end, month {len(months)} after {len(months) - 1} months",
            [lmkpi, "load", "--force", "--month", target],
            env,
            args.reps,
        )
        steps["e2e_month_n"] = last_run_steps(home)

    write_report(Path(args.out), results, steps, rows, target, len(months), args)
    Path(args.out).with_suffix(".json").write_text(
        json.dumps(
            {"results": {k: asdict(v) for k, v in results.items()}, "steps": steps}, indent=2
        )
    )
    return 0


def targets(results: dict[str, Measurement], n_months: int) -> list[tuple[str, str, str]]:
    """Issue 10's targets on this machine: (target, result, met / missed / not measured)."""
    floor = results["floor"].median_s
    out: list[tuple[str, str, str]] = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    e2e = results.get("e2e_month1")
    if e2e:
        ratio = e2e.median_s / floor
        out.append(
            (
                "one national month end to end ≤ 10× floor",
                f"{e2e.median_s:.1f} s = {ratio:.0f}× the floor ({floor:.2f} s)",
                verdict(ratio <= 10),
            )
        )
        out.append(
            (
                "one national month end to end < 60 s",
                f"{e2e.median_s:.1f} s",
                verdict(e2e.median_s < 60),
            )
        )
    if e2e and "validate" in results:
        validation = results["validate"].median_s - results["read"].median_s
        share = validation / e2e.median_s
        out.append(
            (
                "validation ≤ 25 % of end to end",
                f"read+validate − read = {validation:.1f} s = {share:.0%} of {e2e.median_s:.1f} s",
                verdict(share <= 0.25),
            )
        )
    backfill = results.get("backfill")
    if backfill:
        out.append(
            (
                f"{n_months}-month backfill < 20 min",
                f"{backfill.median_s / 60:.1f} min",
                verdict(backfill.median_s < 20 * 60) if n_months >= 36 else "not measured (short)",
            )
        )
    else:
        out.append(("36-month backfill < 20 min", "not run", "not measured"))
    month_n = results.get("e2e_month_n")
    if month_n and e2e:
        ratio = month_n.median_s / e2e.median_s
        out.append(
            (
                f"month {n_months} ≤ 1.3× month 1",
                f"{month_n.median_s:.1f} s vs {e2e.median_s:.1f} s = {ratio:.2f}×",
                verdict(ratio <= 1.3),
            )
        )
    peak = max(m.peak_mib_max for m in results.values())
    worst = max(results.values(), key=lambda m: m.peak_mib_max).name
    out.append(("peak memory < 4 GiB", f"{peak / 1024:.2f} GiB ({worst})", verdict(peak < 4096)))
    return out


def write_report(
    out: Path,
    results: dict[str, Measurement],
    steps: dict[str, dict[str, float]],
    rows: int,
    month: str,
    n_months: int,
    args,
) -> None:
    floor = results["floor"].median_s
    cpu = platform.processor() or platform.machine()
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python -m benchmarks.national` on {time.strftime('%Y-%m-%d')}"
        + (" (SMOKE run: tiny data, not representative)" if args.smoke else "")
        + ".",
        f"Machine: {os.cpu_count()} cores ({cpu}), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
        f"Python {platform.python_version()}. Data: synthetic, scale {args.scale}, "
        f"{rows:,} `ydelser` rows in the measured month ({month}).",
        "",
        "Whole-process wall time (start-up included), median of the repetitions; peak = max RSS.",
        "",
        "| measurement | median s | × floor | peak MiB | runs |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in results.values():
        lines.append(
            f"| {m.name} | {m.median_s:.2f} | {m.median_s / floor:.1f} | {m.peak_mib_max:.0f} "
            f"| {len(m.seconds)} |"
        )
    lines += ["", "![stage times](benchmarks.svg)", "", "## Targets (issue 10)", ""]
    lines += ["| target | result | |", "|---|---|---|"]
    lines += [f"| {t} | {r} | {v} |" for t, r, v in targets(results, n_months)]
    if steps:
        lines += [
            "",
            "## Inside the runs: seconds per Dagster step",
            "",
            "From the Dagster event log of the last repetition. `run` is the run itself;",
            "the rest of the wall time is process start-up (imports, loading the code",
            "location, creating the run and its planned events).",
            "",
        ]
        names = list(results[k].name for k in steps)
        step_keys = sorted({s for v in steps.values() for s in v}, key=_step_order)
        lines += ["| step | " + " | ".join(names) + " |", "|---" + "|---:" * len(names) + "|"]
        for key in step_keys:
            cells = [f"{steps[k][key]:.1f}" if key in steps[k] else "" for k in steps]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
        wall = [results[k].seconds[-1] - steps[k].get("run", 0) for k in steps]
        lines.append("| start-up and exit | " + " | ".join(f"{w:.1f}" for w in wall) + " |")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Hand-written reading of the figures below the marker survives a re-run.
    kept = ""
    if out.exists() and ANALYSIS_MARKER in out.read_text():
        kept = out.read_text().split(ANALYSIS_MARKER, 1)[1]
    out.write_text("\n".join(lines) + "\n\n" + ANALYSIS_MARKER + kept)
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
    ax.set_xlim(min(values) / 2, max(values) * 12)
    ax.set_xlabel("seconds (median, whole process; log scale)")
    ax.axvline(floor, color="#c0392b", linestyle="--", label="floor")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
