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

    from lmkpi.months import month_range
    from lmkpi.synth import generate

    months = month_range("2017-01", "2019-12")[: args.months]
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
        "end to end, empty warehouse",
        [lmkpi, "load", "--month", months[0]],
        env,
        args.reps,
        before=lambda: fresh_home(home, landing),
    )
    # The stages of it, separately (after an end-to-end run, so tables exist).
    for name, cmd in [
        ("ingest", [*stage, "ingest", "--month", months[0]]),
        ("dbt", [*stage, "dbt", "--month", months[0]]),
        ("publish", [*stage, "publish"]),
    ]:
        results[name] = measure(f"stage: {name}", cmd, env, args.reps)

    if not args.skip_backfill and len(months) > 1:
        fresh_home(home, landing)
        results["backfill"] = measure(
            f"backfill {len(months) - 1} months",
            [lmkpi, "load", "--from", months[0], "--to", months[-2]],
            env,
            1,
        )
        results["e2e_month_n"] = measure(
            f"month {len(months)} after {len(months) - 1}",
            [lmkpi, "load", "--force", "--month", target],
            env,
            args.reps,
        )

    write_report(Path(args.out), results, rows, target, len(months), args)
    Path(args.out).with_suffix(".json").write_text(
        json.dumps({k: asdict(v) for k, v in results.items()}, indent=2)
    )
    return 0


def write_report(
    out: Path, results: dict[str, Measurement], rows: int, month: str, n_months: int, args
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
    lines += ["", "![stage times](benchmarks.svg)", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    chart(out.with_suffix(".svg"), results)
    log.info("wrote %s", out)


def chart(path: Path, results: dict[str, Measurement]) -> None:
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    names = [m.name for m in results.values()]
    values = [m.median_s for m in results.values()]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1))
    ax.barh(names[::-1], values[::-1], color="#3b6ea5")
    ax.set_xlabel("seconds (median, whole process)")
    ax.axvline(results["floor"].median_s, color="#c0392b", linestyle="--", label="floor")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
