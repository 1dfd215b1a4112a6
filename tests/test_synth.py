"""The synthetic extract generator: determinism, the extract contracts, the mess switch, and
calibration of Lyngby-Taarbæk (173) against Beskæftigelsesplan 2019.

The plan measures are computed here from the CSV files with polars, independently of the
generator's code (`plan_measures`); a later step can compute them from the dbt marts instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

from lmkpi.synth import generate

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"

YDELSER_COLUMNS = [
    "cpr", "kommunekode", "ydelse", "startdato", "slutdato", "omfang", "visitation", "tilbud",
    "tilbud_cvr", "delvis_raskmeldt", "herkomst", "flygtningestatus", "opholdsdato",
    "ordinaere_timer", "samtaler",
]  # fmt: skip
JOBLOG_COLUMNS = [
    "cpr", "kommunekode", "soegning_id", "registreret_dato", "status", "stilling", "arbejdsgiver"
]  # fmt: skip
INDKVARTERING_COLUMNS = [
    "kommunekode", "adresse", "vaerelser", "ledige_vaerelser", "indkvarterede", "husstande",
    "flyttet_permanent", "restance_personer", "restance_kr",
]  # fmt: skip
CODES = {
    "ADAG", "ADAG_SYG", "KONT", "UDD", "REV", "FREV", "INT", "SDP", "JAF", "RES", "LED",
    "FLEX", "FTP", "EFTL", "IGU", "BESK", "SU", "SELV",
}  # fmt: skip
PUBLIC_12 = ["ADAG", "KONT", "UDD", "REV", "FREV", "INT", "SDP", "JAF", "RES", "LED", "FLEX", "FTP"]
VIRKSOMHEDSRETTET = ["virksomhedspraktik", "nytteindsats", "loentilskud"]
UNEMPLOYED = ["ADAG", "KONT", "UDD", "INT"]
VISITATION = {
    "KONT": {"jobparat", "aktivitetsparat"},
    "INT": {"jobparat", "aktivitetsparat"},
    "UDD": {"uddannelsesparat", "aabenlyst_uddannelsesparat", "aktivitetsparat"},
}


# ---- helpers: read the files as the contract describes them ------------------------------


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    y, m = map(int, month.split("-"))
    first = dt.date(y, m, 1)
    return first, dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)


def months_of(landing: Path, source: str = "ydelser") -> list[str]:
    return sorted(p.stem.rsplit("_", 1)[1] for p in (landing / source).glob(f"{source}_*.csv"))


def read_raw(path: Path) -> pl.DataFrame:
    """Clean files: UTF-8, ';', every column as text (CPR numbers keep leading zeros)."""
    return pl.read_csv(path, separator=";", infer_schema=False, encoding="utf8")


def birth_date(cpr: pl.Expr) -> pl.Expr:
    """Birth date from a CPR number: century from digit 7 and the year (cpr.dk rules)."""
    d = cpr.str.replace("-", "")
    yy = d.str.slice(4, 2).cast(pl.Int32)
    d7 = d.str.slice(6, 1).cast(pl.Int32)
    century = (
        pl.when(d7 <= 3)
        .then(1900)
        .when(d7.is_in([4, 9]))
        .then(pl.when(yy <= 36).then(2000).otherwise(1900))
        .otherwise(pl.when(yy <= 57).then(2000).otherwise(1800))
    )
    return pl.date(century + yy, d.str.slice(2, 2).cast(pl.Int32), d.str.slice(0, 2).cast(pl.Int32))


def read_ydelser(landing: Path, month: str) -> pl.DataFrame:
    """One month's ydelser with typed dates, the days inside the month and age at its start."""
    first, last = month_bounds(month)
    return (
        read_raw(landing / "ydelser" / f"ydelser_{month}.csv")
        .with_columns(
            pl.col("startdato", "slutdato", "opholdsdato").str.to_date("%Y-%m-%d"),
            pl.col("omfang", "ordinaere_timer").cast(pl.Float64),
            pl.col("samtaler").cast(pl.Int64),
            birth=birth_date(pl.col("cpr")),
        )
        .with_columns(
            days=(
                pl.min_horizontal(pl.col("slutdato").fill_null(last), pl.lit(last))
                - pl.max_horizontal("startdato", pl.lit(first))
            ).dt.total_days()
            + 1,
            age=(pl.lit(first) - pl.col("birth")).dt.total_days() / 365.25,
        )
    )


def plan_measures(landing: Path, months: list[str], kommunekode: int = 173) -> pl.DataFrame:
    """The plan's measures per month for one municipality (docs/domain.md §1 and §3).

    Full-time persons = days on the benefit inside the month / calendar days, summed over
    persons, no overlap removal.  Shares count persons with at least one day in the month.
    Age is taken on the first day of the month.
    """
    rows = []
    for month in months:
        first, last = month_bounds(month)
        n_days = (last - first).days + 1
        df = read_ydelser(landing, month).filter(
            (pl.col("kommunekode") == str(kommunekode)) & (pl.col("days") > 0)
        )

        def fte(cond: pl.Expr, df: pl.DataFrame = df, n_days: int = n_days) -> float:
            return df.filter(cond)["days"].sum() / n_days

        def share(population: pl.Expr, numerator: pl.Expr, df: pl.DataFrame = df) -> float:
            persons = df.filter(population)["cpr"].n_unique()
            return df.filter(population & numerator)["cpr"].n_unique() / max(persons, 1)

        ydelse, vis = pl.col("ydelse"), pl.col("visitation")
        job_ready = ((ydelse == "KONT") & (vis == "jobparat")) | (
            (ydelse == "UDD") & vis.is_in(["uddannelsesparat", "aabenlyst_uddannelsesparat"])
        )
        young = pl.col("age") < 30
        company_directed = pl.col("tilbud").is_in(VIRKSOMHEDSRETTET)
        refugee = (
            pl.col("flygtningestatus").is_not_null()
            & (pl.col("opholdsdato") >= dt.date(2004, 1, 1))
            & pl.col("age").is_between(18, 67, closed="left")
        )
        hours = pl.col("ordinaere_timer").fill_null(0) > 0
        activity_kont = (ydelse == "KONT") & (vis == "aktivitetsparat")
        rows.append(
            {
                "month": month,
                "fte_public": fte(ydelse.is_in(PUBLIC_12)),
                "fte_adag": fte(ydelse == "ADAG"),
                "fte_sdp": fte(ydelse == "SDP"),
                "fte_int": fte(ydelse == "INT"),
                "fte_job_ready": fte(job_ready),
                "fte_young_job_ready": fte(young & (job_ready | (ydelse == "ADAG"))),
                "fte_young_activity_ready": fte(
                    young & ydelse.is_in(["KONT", "UDD"]) & (vis == "aktivitetsparat")
                ),
                "goal4": share(
                    ydelse.is_in(UNEMPLOYED) & pl.col("tilbud").is_not_null(), company_directed
                ),
                "goal5": share(ydelse == "SDP", pl.col("delvis_raskmeldt") == "1"),
                "goal6": share(refugee, (ydelse == "BESK") | hours),
                "goal8": share(activity_kont, activity_kont & hours),
                "goal10": share(ydelse == "RES", company_directed),
            }
        )
    return pl.DataFrame(rows)


def joblog_split(landing: Path, month: str) -> dict[str, float]:
    """Jobloggen benchmark for one month: share of jobparate KONT persons with >= 6, 1-5 and
    0 registered applications (an application counts in the month of its first 'Søgt', or
    of its first registration if it never had one)."""
    first, last = month_bounds(month)
    population = (
        read_ydelser(landing, month)
        .filter(
            (pl.col("ydelse") == "KONT")
            & (pl.col("visitation") == "jobparat")
            & (pl.col("days") > 0)
        )
        .select("cpr")
        .unique()
    )
    events = pl.concat(
        [read_raw(landing / "joblog" / f"joblog_{m}.csv") for m in months_of(landing, "joblog")]
    ).with_columns(pl.col("registreret_dato").str.to_date("%Y-%m-%d"))
    counted = (
        events.sort("registreret_dato")
        .group_by("soegning_id")
        .agg(
            pl.col("cpr").first(),
            pl.col("registreret_dato").filter(pl.col("status") == "Søgt").first().alias("soegt"),
            pl.col("registreret_dato").first().alias("any"),
        )
        .with_columns(day=pl.coalesce("soegt", "any"))
        .filter(pl.col("day").is_between(first, last))
        .group_by("cpr")
        .len("n")
    )
    n = population.join(counted, on="cpr", how="left")["n"].fill_null(0)
    total = max(len(n), 1)
    return {
        "green": float((n >= 6).sum() / total),
        "light_green": float(((n >= 1) & (n <= 5)).sum() / total),
        "red": float((n == 0).sum() / total),
    }


# ---- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(
        out, "2017-12", "2018-03", municipalities=[101, 173, 825, 851], seed=7, scale=0.05,
        scale_by_municipality={173: 0.5},
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def lyngby(tmp_path_factory) -> Path:
    """Lyngby-Taarbæk at full size, 2017-2018 (the plan's baseline year and status year)."""
    out = tmp_path_factory.mktemp("lyngby")
    generate(out, "2017-01", "2018-12", municipalities=[173])
    return out


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("messy")
    generate(out, "2018-01", "2018-03", municipalities=[173, 461], scale=0.1, mess=True)
    return out


# ---- determinism --------------------------------------------------------------------------


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*.csv"))}


def test_same_seed_gives_the_same_bytes(tmp_path):
    kwargs = dict(start="2018-01", end="2018-02", municipalities=[173, 147], scale=0.2, mess=True)
    a = generate(tmp_path / "a", seed=11, **kwargs)
    generate(tmp_path / "b", seed=11, **kwargs)
    generate(tmp_path / "c", seed=12, **kwargs)
    tree_a, tree_b, tree_c = (_tree(tmp_path / x) for x in "abc")
    assert tree_a == tree_b
    assert tree_a["ydelser/ydelser_2018-01.csv"] != tree_c["ydelser/ydelser_2018-01.csv"]
    assert a.rows["ydelser"] > 0 and a.seconds > 0
    assert {p.relative_to(tmp_path / "a").as_posix() for p in a.files} >= {
        "ydelser/ydelser_2018-01.csv",
        "joblog/joblog_2018-02.csv",
        "indkvartering/indkvartering_2018-01.csv",
        "population/population_16_66.csv",
    }


# ---- the contracts (clean files) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "columns"),
    [
        ("ydelser", YDELSER_COLUMNS),
        ("joblog", JOBLOG_COLUMNS),
        ("indkvartering", INDKVARTERING_COLUMNS),
    ],
)
def test_layout_header_and_separator(clean, source, columns):
    months = months_of(clean, source)
    assert months == ["2017-12", "2018-01", "2018-02", "2018-03"]
    for month in months:
        raw = (clean / source / f"{source}_{month}.csv").read_bytes()
        assert b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")
        lines = list(csv.reader(raw.decode("utf-8").splitlines(), delimiter=";"))
        assert lines[0] == columns
        assert {len(line) for line in lines} == {len(columns)}
        assert len(lines) > 1


def test_ydelser_rules(clean):
    known = {int(r["kommunekode"]) for r in csv.DictReader((SEEDS / "municipalities.csv").open())}
    frames = []
    for month in months_of(clean):
        first, last = month_bounds(month)
        df = read_ydelser(clean, month)
        assert df.height > 500
        assert set(df["ydelse"].unique()) <= CODES
        assert {int(k) for k in df["kommunekode"].unique()} <= known
        assert df["cpr"].str.contains(r"^\d{6}-?\d{4}$").all()
        assert df["birth"].null_count() == 0, "CPR numbers must be real dates"
        # segments: start <= end, overlapping the file's month, open ones still running
        assert (df["startdato"] <= df["slutdato"].fill_null(dt.date(2100, 1, 1))).all()
        assert (df["startdato"] <= last).all()
        assert (df["slutdato"].fill_null(last) >= first).all()
        assert (df["slutdato"].drop_nulls() <= last).all(), "a known end after the month"
        # visitation exactly where required; uddannelseshjælp only under 30
        for code in set(df["ydelse"].unique()):
            vis = set(df.filter(pl.col("ydelse") == code)["visitation"].unique())
            assert vis <= VISITATION.get(code, {None}), code
        udd = df.filter(pl.col("ydelse") == "UDD")
        end_age = (udd["slutdato"].fill_null(last) - udd["birth"]).dt.total_days() / 365.25
        assert (end_age < 30).all()
        # ages 16-66 (a few 67+ on førtidspension allowed)
        assert (df["age"] >= 16).all()
        assert (df.filter(pl.col("ydelse") != "FTP")["age"] < 67.1).all()
        # values
        assert df["omfang"].drop_nulls().is_between(0, 1, closed="right").all()
        assert set(df["tilbud"].drop_nulls().unique()) <= set(VIRKSOMHEDSRETTET) | {
            "vejledning_opkvalificering"
        }
        company = pl.col("tilbud").is_in(VIRKSOMHEDSRETTET)
        assert (df.select(company == pl.col("tilbud_cvr").is_not_null()).to_series()).all()
        assert df["tilbud_cvr"].drop_nulls().str.contains(r"^\d{8}$").all()
        assert set(df.filter(pl.col("ydelse") == "SDP")["delvis_raskmeldt"].unique()) <= {"0", "1"}
        assert df.filter(pl.col("ydelse") != "SDP")["delvis_raskmeldt"].null_count() == len(
            df.filter(pl.col("ydelse") != "SDP")
        )
        assert (df["flygtningestatus"].is_null() == df["opholdsdato"].is_null()).all()
        assert set(df["herkomst"].unique()) <= {"dansk", "vestlig", "ikke_vestlig"}
        assert (df["ordinaere_timer"].drop_nulls() > 0).all() and (df["samtaler"] >= 0).all()
        # BESK/SU/SELV/IGU only for refugees, who are 18-66 and present every month
        other = df.filter(pl.col("ydelse").is_in(["BESK", "SU", "SELV", "IGU"]))
        assert other["flygtningestatus"].null_count() == 0
        # no two segments of one person and status overlap
        ordered = df.sort("cpr", "ydelse", "startdato")
        prev_end = pl.col("slutdato").fill_null(last).shift(1).over("cpr", "ydelse")
        assert ordered.filter(pl.col("startdato") <= prev_end).height == 0
        frames.append(df.with_columns(month=pl.lit(month)))
    every = pl.concat(frames)
    # one CPR = one person: stable attributes across months
    per_cpr = every.group_by("cpr").agg(
        pl.col("kommunekode", "herkomst", "flygtningestatus", "opholdsdato").n_unique()
    )
    assert (per_cpr.drop("cpr").max_horizontal() == 1).all()
    # spells continue: running segments reappear next month with the same start
    dec = every.filter((pl.col("month") == "2017-12") & pl.col("slutdato").is_null())
    jan = every.filter(pl.col("month") == "2018-01")
    carried = dec.join(jan, on=["cpr", "ydelse", "startdato"], how="semi")
    assert carried.height / dec.height > 0.99
    refugees = every.filter(pl.col("flygtningestatus").is_not_null())
    assert set(refugees["ydelse"].unique()) >= {"INT", "BESK"}


def test_joblog_rules(clean):
    for month in months_of(clean, "joblog"):
        first, last = month_bounds(month)
        jl = read_raw(clean / "joblog" / f"joblog_{month}.csv").with_columns(
            pl.col("registreret_dato").str.to_date("%Y-%m-%d")
        )
        assert jl.height > 0
        assert set(jl["status"].unique()) <= {"Søgt", "Samtale", "Afslag", "Fik job"}
        assert jl["registreret_dato"].is_between(first, last).all()
        assert jl.group_by("soegning_id").agg(pl.col("cpr").n_unique())["cpr"].max() == 1
        soegt = jl.filter(pl.col("status") == "Søgt")
        assert soegt["soegning_id"].is_unique().all()
        # applications come from jobparate kontanthjælp recipients of that month
        ydelser = read_ydelser(clean, month).filter(
            (pl.col("ydelse") == "KONT") & (pl.col("visitation") == "jobparat")
        )
        assert soegt.join(ydelser, on="cpr", how="anti").height == 0


def test_population_file(clean):
    pop = read_raw(clean / "population" / "population_16_66.csv")
    assert pop.columns == ["month", "kommunekode", "population"]
    assert pop.height == 4 * 4
    lyngby = pop.filter((pl.col("kommunekode") == "173") & (pl.col("month") == "2018-01"))
    assert 16_000 < int(lyngby["population"][0]) < 19_000  # 0.5 x ~35,600


def test_population_seed_covers_the_98():
    munis = pl.read_csv(SEEDS / "municipalities.csv")
    pop = pl.read_csv(SEEDS / "municipality_population.csv")
    assert pop.columns == ["kommunekode", "population_2018", "population_16_66_2018"]
    assert set(pop["kommunekode"]) == set(munis["kommunekode"])
    assert 5_600_000 < pop["population_2018"].sum() < 5_900_000
    share = pop["population_16_66_2018"].sum() / pop["population_2018"].sum()
    assert 0.62 < share < 0.67
    assert 54_000 < pop.filter(pl.col("kommunekode") == 173)["population_2018"][0] < 58_000


def test_cpr_registry_never_issues_a_number_twice():
    """Batches crowded onto three birth dates collide with earlier batches and each other and
    use up the dates' numbers with the modulus-11 check (about 545 each); then the registry
    issues numbers without the check, as the CPR office does, instead of drawing for ever."""
    import numpy as np

    from lmkpi.synth.identifiers import CprRegistry, is_mod11
    from lmkpi.synth.months import day_number

    registry, rng = CprRegistry(), np.random.default_rng(1)
    dates = {"1960-02-29": (0, 1, 2, 3, 4, 9), "1985-12-31": (0, 1, 2, 3, 4, 9)}
    dates["2001-01-01"] = (4, 5, 6, 7, 8, 9)  # the first serial digit gives the century
    days = np.array([day_number(d) for d in dates])
    every = np.concatenate([registry.issue(rng, np.repeat(days, 300)) for _ in range(3)])
    assert len(np.unique(every)) == len(every) == 3 * 3 * 300
    assert registry._taken(every).all()
    assert not registry._taken(1506700000 + np.arange(10000)).any()  # 15-06-70: none issued
    for date, first_digits in dates.items():
        y, m, d = date.split("-")
        prefix = int(d + m + y[2:]) * 10000
        mine = every[every // 10000 == prefix // 10000]
        assert len(mine) == 900
        serials = np.array([s for s in range(10000) if s // 1000 in first_digits])
        capacity = is_mod11(prefix + serials).sum()
        assert 500 < capacity < 600
        assert is_mod11(mine).sum() == capacity  # all used before any number without it


# ---- realistic mess -----------------------------------------------------------------------


def _mod11(cpr: str) -> bool:
    digits = [int(c) for c in cpr.replace("-", "")]
    return sum(w * d for w, d in zip([4, 3, 2, 7, 6, 5, 4, 3, 2, 1], digits, strict=True)) % 11 == 0


def test_mess_switch(messy):
    files = sorted(messy.rglob("*.csv"))
    windows = []
    for path in files:
        raw = path.read_bytes()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            windows.append(path)
            assert re.search("[æøåÆØÅ]", raw.decode("cp1252"))
    assert windows, "some files must be Windows-1252"
    first = (messy / "ydelser" / "ydelser_2018-01.csv").read_bytes().decode("cp1252")
    assert "\r\n" in first
    assert re.search(r";\d{2}-\d{2}-\d{4};", first), "a DD-MM-YYYY date"
    assert re.search(r";0,\d+;", first), "a decimal comma"
    assert any(p.read_bytes().splitlines()[0].endswith(b";") for p in files), "a trailing separator"
    # one month delivered twice: a flawed first version and a correction
    restated = list((messy / "_restatements" / "ydelser").glob("ydelser_*.csv"))
    assert len(restated) == 1
    original = messy / "ydelser" / restated[0].name
    assert original.exists() and original.read_bytes() != restated[0].read_bytes()
    # CPR numbers without the modulus-11 check, still real dates
    cprs = set()
    for path in (messy / "ydelser").glob("*.csv"):
        text = path.read_bytes().decode("cp1252")
        cprs |= {line.split(";", 1)[0] for line in text.splitlines()[1:]}
    assert any(not _mod11(c) for c in cprs)
    # free text: odd characters, separators inside quotes, a formula payload
    joblog = "".join(
        p.read_bytes().decode("cp1252" if p in windows else "utf-8")
        for p in (messy / "joblog").glob("*.csv")
    )
    assert '"=HYPERLINK(' in joblog or "=1+1" in joblog
    rows = list(csv.reader(joblog.splitlines(), delimiter=";"))
    assert any(";" in field for row in rows for field in row)


# ---- calibration: Lyngby-Taarbæk against Beskæftigelsesplan 2019 --------------------------


def test_calibration_lyngby_taarbaek(lyngby):
    months = months_of(lyngby)
    measures = plan_measures(lyngby, months)
    by_month = {r["month"]: r for r in measures.iter_rows(named=True)}
    y2018 = measures.filter(pl.col("month").str.starts_with("2018")).drop("month").mean()
    avg = y2018.row(0, named=True)

    oct18 = by_month["2018-10"]["fte_public"]
    assert oct18 == pytest.approx(3250, rel=0.05)
    change = oct18 / by_month["2017-10"]["fte_public"] - 1
    assert -0.065 < change < -0.015, f"Oct 2017 -> Oct 2018 {change:.1%}"
    for key, target in [
        ("fte_adag", 580),
        ("fte_sdp", 480),
        ("fte_int", 100),
        ("fte_job_ready", 115),
        ("fte_young_job_ready", 190),
        ("fte_young_activity_ready", 100),
    ]:
        assert avg[key] == pytest.approx(target, rel=0.10), (key, avg[key])
    for key, target in [
        ("goal4", 0.599),
        ("goal5", 0.255),
        ("goal6", 0.386),
        ("goal8", 0.052),
        ("goal10", 0.287),
    ]:
        assert abs(avg[key] - target) <= 0.03, (key, avg[key])


def test_joblog_registration_split(lyngby):
    split = [joblog_split(lyngby, m) for m in months_of(lyngby) if m.startswith("2018")]
    mean = {k: sum(s[k] for s in split) / len(split) for k in ("green", "light_green", "red")}
    assert mean["green"] == pytest.approx(0.49, abs=0.08)
    assert mean["light_green"] == pytest.approx(0.22, abs=0.08)
    assert mean["red"] == pytest.approx(0.29, abs=0.08)


def test_housing_lyngby_taarbaek(lyngby):
    frames = [
        read_raw(lyngby / "indkvartering" / f"indkvartering_{m}.csv")
        .with_columns(pl.exclude("adresse").cast(pl.Float64))
        .with_columns(month=pl.lit(m))
        for m in months_of(lyngby, "indkvartering")
    ]
    housing = pl.concat(frames)
    assert (housing["ledige_vaerelser"] <= housing["vaerelser"]).all()
    assert (housing["husstande"] <= housing["indkvarterede"]).all()
    monthly = housing.group_by("month").agg(
        pl.len().alias("addresses"),
        pl.col("vaerelser", "indkvarterede", "flyttet_permanent", "restance_personer").sum(),
    )
    assert monthly["addresses"].is_between(11, 14).all()
    assert monthly["vaerelser"].is_between(80, 95).all()
    assert monthly["indkvarterede"].is_between(100, 115).all()
    moved = monthly.group_by(pl.col("month").str.slice(0, 4)).agg(pl.col("flyttet_permanent").sum())
    moved = dict(moved.iter_rows())
    assert moved["2017"] == 39 and 1 <= moved["2018"] <= 9
    assert {"Lykkens Gave, 1. afd.", "Lykkens Gave, 2. afd."} <= set(housing["adresse"])
    assert monthly["restance_personer"].mean() == pytest.approx(28, abs=8)


def test_same_seed_gives_the_same_external_files(tmp_path):
    """The Jobindsats- and Statbank-shaped files too (their noise was once assigned in
    polars' group_by order, which varies from run to run)."""
    kwargs = dict(
        start="2019-11",
        end="2019-12",
        person_level=[173],
        external_retrieved="2020-01-20",
        external_earlier="2019-12-20",
    )
    generate(tmp_path / "a", seed=3, **kwargs)
    generate(tmp_path / "b", seed=3, **kwargs)
    tree_a, tree_b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    external = {k for k in tree_a if k.startswith(("jobindsats/", "statbank/"))}
    assert len(external) >= 4
    assert {k: tree_a[k] for k in external} == {k: tree_b[k] for k in external}
