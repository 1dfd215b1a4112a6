"""Synthetic monthly extracts (ydelser, joblog, indkvartering) in the contract's landing layout.

`generate()` simulates the job centre's target groups person by person, month by month, and
writes per month `ydelser/ydelser_<YYYY-MM>.csv`, `joblog/joblog_<YYYY-MM>.csv` and
`indkvartering/indkvartering_<YYYY-MM>.csv`, plus `population/population_16_66.csv`.
Parameters live in `model.toml` and `vocabulary.toml`; populations in the dbt seeds.

Column semantics beyond the contract: `ordinaere_timer` and `samtaler` count the hours and
conversations in the segment up to the end of the reporting month (or the segment's end), so
a running segment's values grow from one month's file to the next.

With `mess=True` the files look more like real deliveries: some are Windows-1252 with
decimal commas, DD-MM-YYYY dates, CRLF and DDMMYY-SSSS CPR numbers, some carry a trailing
separator or a UTF-8 BOM, a few CPR numbers lack the modulus-11 check, free text holds
quotes, separators and formula payloads, and one ydelser month is delivered twice: the
first version in the landing folder and a corrected one in `_restatements/ydelser/`.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from .external import ExternalWorld
from .frames import YDELSER_COLUMNS, ydelser_frame
from .housing import INDKVARTERING_COLUMNS, housing_months, plan_sites
from .joblog import JOBLOG_COLUMNS, Joblog
from .months import month_index, month_label
from .params import SEEDS_DIR, load_model, load_municipalities, load_vocabulary
from .simulate import Segments, Simulation
from .writer import CLEAN, UTF8_BOM_DIALECT, WINDOWS, Dialect, write_csv

__all__ = [
    "INDKVARTERING_COLUMNS",
    "JOBLOG_COLUMNS",
    "SOURCES",
    "YDELSER_COLUMNS",
    "SynthSummary",
    "generate",
]

logger = logging.getLogger("lmkpi.synth")

SOURCES = ("ydelser", "joblog", "indkvartering")
RESTATEMENTS_DIR = "_restatements"
POPULATION_FILE = Path("population") / "population_16_66.csv"


@dataclass
class SynthSummary:
    """What `generate` wrote: every file (`files`, restatements included and also listed in
    `restatements`), rows per source (the restated month counted once), bytes and seconds."""

    out_dir: Path
    months: list[str]
    municipalities: list[int]
    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    bytes_written: int = 0
    seconds: float = 0.0
    restatements: list[Path] = field(default_factory=list)
    external: list[Path] = field(default_factory=list)


def generate(
    out_dir: Path,
    start: str = "2017-01",
    end: str = "2019-12",
    municipalities: list[int] | None = None,
    seed: int = 2019,
    scale: float = 1.0,
    scale_by_municipality: dict[int, float] | None = None,
    sources: tuple[str, ...] = SOURCES,
    mess: bool = False,
    progress: Callable[[str], None] | None = None,
    person_level: Collection[int] | None = None,
    external_retrieved: str | None = None,
    external_earlier: str | None = None,
) -> SynthSummary:
    """Write synthetic extracts for the months `start`..`end` (YYYY-MM, inclusive).

    `person_level`: the municipalities whose person-level extracts are written (default all
    simulated ones: a municipality has its own citizens' data only). `external_retrieved`
    (an ISO date): also write Jobindsats- and Statbank-shaped files of the whole simulated
    world, retrieved that day (`lmkpi.synth.external`); `external_earlier`: an earlier PTVA02
    vintage retrieved that day.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    first, last = month_index(start), month_index(end)
    if last < first:
        raise ValueError(f"end {end} is before start {start}")
    unknown_sources = set(sources) - set(SOURCES)
    if unknown_sources:
        raise ValueError(f"unknown sources {sorted(unknown_sources)}; choose from {SOURCES}")
    model, munis, vocab = load_model(), load_municipalities(), load_vocabulary()
    codes = munis.code.tolist()
    chosen = codes if municipalities is None else sorted(set(municipalities))
    unknown = [c for c in chosen if c not in codes]
    if unknown or not chosen:
        raise ValueError(f"unknown municipality codes {unknown}; use codes of the 98")
    selected = np.array([codes.index(c) for c in chosen])
    overrides = scale_by_municipality or {}
    scales = np.array([float(overrides.get(c, scale)) for c in chosen])
    if (scales < 0).any():
        raise ValueError("scale must be >= 0")

    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    sim_rng, cpr_rng, joblog_rng, housing_rng, mess_rng = streams
    sim = Simulation(
        model,
        munis,
        selected,
        scales,
        _public_states(model.status),
        sim_rng,
        cpr_rng,
        no_mod11_share=0.002 if mess else 0.0,
    )
    joblog = Joblog(model, vocab, joblog_rng, mess)
    housing = {}
    if "indkvartering" in sources:
        sites = plan_sites(
            sim.codes,
            munis.population[selected],
            scales,
            model.housing,
            vocab,
            first,
            last,
            housing_rng,
        )
        housing = housing_months(sites, vocab, model.housing, first, last, housing_rng)
    dialects = _plan_dialects(first, last, mess, mess_rng)
    restated = first + (last - first) // 2 if mess else None

    months = [month_label(m) for m in range(first, last + 1)]
    own = None if person_level is None else np.isin(sim.codes, list(person_level))
    world = (
        ExternalWorld(model, sim.codes, munis.population_16_66[selected] * scales, seed)
        if external_retrieved
        else None
    )
    summary = SynthSummary(out_dir=out_dir, months=months, municipalities=chosen)
    summary.rows = {s: 0 for s in sources}

    def put(frame: pl.DataFrame, rel: Path, dialect: Dialect, source: str | None) -> None:
        path = out_dir / rel
        summary.bytes_written += write_csv(frame, path, dialect)
        summary.files.append(path)
        if source:
            summary.rows[source] += frame.height

    sim.start(first)
    for m in range(first, last + 1):
        t_month = time.perf_counter()
        label = month_label(m)
        all_segments = sim.step(m)
        segments = all_segments if own is None else _segments_of(all_segments, sim.p, own)
        counts = []
        if "ydelser" in sources:
            frame = ydelser_frame(segments, sim.p, model, sim.codes)
            name = Path("ydelser") / f"ydelser_{label}.csv"
            if m == restated:
                put(_first_version(frame, mess_rng), name, dialects["ydelser", m], None)
                summary.rows["ydelser"] += frame.height
                put(frame, Path(RESTATEMENTS_DIR) / name, CLEAN, None)
                summary.restatements.append(out_dir / RESTATEMENTS_DIR / name)
            else:
                put(frame, name, dialects["ydelser", m], "ydelser")
            counts.append(f"ydelser {frame.height:,}")
        registrations = None
        if "joblog" in sources or world is not None:
            registrations = joblog.month(m, all_segments, sim.p, sim.codes)
        if "joblog" in sources:
            frame = registrations
            if own is not None:
                frame = frame.filter(pl.col("kommunekode").is_in(sim.codes[own].tolist()))
            put(frame, Path("joblog") / f"joblog_{label}.csv", dialects["joblog", m], "joblog")
            counts.append(f"joblog {frame.height:,}")
        if world is not None:
            world.add_month(m, all_segments, sim.p, registrations)
        if "indkvartering" in sources:
            frame = housing[label]
            if own is not None:
                frame = frame.filter(pl.col("kommunekode").is_in(sim.codes[own].tolist()))
            name = Path("indkvartering") / f"indkvartering_{label}.csv"
            put(frame, name, dialects["indkvartering", m], "indkvartering")
            counts.append(f"indkvartering {frame.height:,}")
        message = (
            f"synth {label}: {', '.join(counts) or 'simulated'} rows "
            f"({time.perf_counter() - t_month:.1f} s)"
        )
        logger.info(message)
        if progress:
            progress(message)

    population = _population_frame(months, sim.codes, munis.population_16_66[selected], scales)
    put(population, POPULATION_FILE, CLEAN, None)
    summary.rows["population"] = population.height
    if world is not None:
        for path in world.write(out_dir, external_retrieved, external_earlier):
            summary.files.append(path)
            summary.external.append(path)
            summary.bytes_written += path.stat().st_size
    summary.seconds = time.perf_counter() - t0
    logger.info(
        "synth done: %d files, %s rows, %.1f MB in %.1f s",
        len(summary.files),
        summary.rows,
        summary.bytes_written / 1e6,
        summary.seconds,
    )
    return summary


def _segments_of(seg: Segments, people, own: np.ndarray) -> Segments:  # noqa: ANN001
    """The segments of the persons of the municipalities marked in ``own``."""
    mask = own[people.muni[seg.pid]]
    return Segments(**{k: getattr(seg, k)[mask] for k in Segments.__dataclass_fields__})


def _public_states(status: tuple[str, ...]) -> np.ndarray:
    """Which states count in "offentlig forsørgelse" (plan goal 1), from the benefit catalogue."""
    with (SEEDS_DIR / "benefit_catalogue.csv").open(encoding="utf-8", newline="") as f:
        public = {
            r["benefit_code"]: r["is_public_benefit_plan"] == "true" for r in csv.DictReader(f)
        }
    return np.array([public[s] for s in status])


def _plan_dialects(
    first: int, last: int, mess: bool, rng: np.random.Generator
) -> dict[tuple[str, int], Dialect]:
    """Clean UTF-8 everywhere, or (mess) a mix; the first month is always a Windows export."""
    plan: dict[tuple[str, int], Dialect] = {}
    for m in range(first, last + 1):
        for source in SOURCES:
            u, t = rng.random(), rng.random()
            if not mess:
                plan[source, m] = CLEAN
                continue
            dialect = (
                WINDOWS if (m == first or u < 0.25) else UTF8_BOM_DIALECT if u < 0.35 else CLEAN
            )
            if t < 0.1 or (m == first and source == "indkvartering"):
                dialect = dialect.with_trailing_separator()
            plan[source, m] = dialect
    return plan


def _first_version(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The flawed first delivery of a restated month: late registrations missing, some
    partial degrees not yet entered."""
    n = frame.height
    keep = rng.random(n) >= 0.02
    blank = pl.Series(rng.random(n) < 0.2)
    return frame.with_columns(
        pl.when(blank).then(None).otherwise(pl.col("omfang")).alias("omfang")
    ).filter(pl.Series(keep))


def _population_frame(
    months: list[str], codes: np.ndarray, pop_16_66: np.ndarray, scales: np.ndarray
) -> pl.DataFrame:
    """Population 16-66 per municipality and month, scaled like the extracts (0.3 % a year)."""
    rows_m, rows_c, rows_p = [], [], []
    for label in months:
        years = (month_index(label) - month_index("2018-01")) / 12
        pop = np.round(pop_16_66 * scales * (1.003**years)).astype(np.int64)
        rows_m += [label] * len(codes)
        rows_c += codes.tolist()
        rows_p += pop.tolist()
    return pl.DataFrame(
        {"month": rows_m, "kommunekode": rows_c, "population": rows_p},
        schema={"month": pl.String, "kommunekode": pl.Int32, "population": pl.Int64},
    )
