"""Jobindsats- and Statbank-shaped files from the simulated world (issues 15 and 16).

The same simulation that writes a municipality's person-level extracts is aggregated, month by
month and for every simulated municipality, into what the national sources publish:

- PTVA02 (CSV export: BOM, `;`, Danish numbers, `..` for suppressed cells): persons and
  full-time persons, age 16-66, per municipality, RAR area, region and the whole country and
  benefit group (and "Ydelsesgrupper i alt": the national measure's groups);
- Y01A02 (a v3 JSON answer): a-dagpenge per municipality and the country, with the share of
  the population 16-66;
- Y30R21 (CSV): the ministry's benchmark per municipality and quarter (moving annual totals):
  actual full-time persons on public benefits against the expected level of a stand-in for
  the framework-conditions model (the actual level / (1 + a fixed factor per municipality,
  N(0, 5 %))), the difference and the rank;
- the Jobloggen smiley table (CSV): jobparate kontanthjælp recipients per municipality and
  month by registered applications (green 6+, light green 1-5, red 0; red three months running);
- FOLK1A (Statbank CSV, codes): population per municipality, quarter and age 16-66.

Jobindsats dates a benefit by the period it was lived in and a municipality's extract by its
case system, so their figures differ a little: the municipal full-time persons are perturbed
by up to +/- `NOISE` (uniform, seeded) before they are summed into areas. PTVA02 comes in two
vintages: one retrieved three months before the end, and the final one, in which the last
months of a few municipalities are revised (a corrected case system, as happened in 2018-19).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from .months import month_bounds, month_label
from .params import SEEDS_DIR, Model
from .people import People
from .simulate import Segments

NOISE = 0.03
REVISED_MUNICIPALITIES = 5
REVISION = 0.04
LABELS = {
    "unemployment_insurance": "A-dagpenge mv.",
    "cash_benefit": "Kontanthjælp mv.",
    "education_benefit": "Uddannelseshjælp",
    "rehabilitation": "Revalidering",
    "pre_rehabilitation": "Forrevalidering",
    "integration_benefit": "Integrationsydelse",
    "sickness_benefit": "Sygedagpenge mv.",
    "job_clarification": "Jobafklaringsforløb",
    "resource_programme": "Ressourceforløb",
    "flexjob_unemployment": "Ledighedsydelse",
    "flexjob": "Fleksjob",
    "disability_pension": "Førtidspension",
    "early_retirement": "Efterløn",
    "total": "Ydelsesgrupper i alt",
}
PTVA02 = "Offentligt forsørgede"
Y30R21 = "Forventet og faktisk antal fuldtidspersoner på offentlig forsørgelse"


def _da(value: float | None, decimals: int = 1) -> str:
    """Danish number format: 82.211,7 (None -> '..', as Jobindsats marks what it hides)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ".."
    text = f"{value:,.{decimals}f}" if decimals else f"{round(value):,}"
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


@dataclass
class Areas:
    """Municipality -> RAR area, region (names as Jobindsats writes them)."""

    names: dict[int, str] = field(default_factory=dict)
    rar: dict[int, str] = field(default_factory=dict)
    region: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Areas:
        areas = cls()
        with (SEEDS_DIR / "municipalities.csv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                code = int(row["kommunekode"])
                areas.names[code] = row["kommunenavn"]
                areas.rar[code] = row["rar_2015"]
                areas.region[code] = row["region"]
        return areas


class ExternalWorld:
    """Collects the month's aggregates while the simulation runs; writes the files at the end."""

    def __init__(self, model: Model, codes: np.ndarray, population: np.ndarray, seed: int):
        self.model = model
        self.codes = codes
        self.population = dict(zip(codes.tolist(), population.tolist(), strict=True))
        self.rng = np.random.default_rng(seed)
        self.areas = Areas.load()
        with (SEEDS_DIR / "benefit_catalogue.csv").open(encoding="utf-8", newline="") as f:
            catalogue = {r["benefit_code"]: r for r in csv.DictReader(f)}
        self.group = np.array(
            [
                catalogue[s]["benefit_group"]
                if catalogue[s]["is_public_benefit_national"] == "true"
                else ""
                for s in model.status
            ]
        )
        self.kont_j = model.index("KONT_J")
        self.benefits: list[pl.DataFrame] = []  # month, code, group, persons, ftp
        self.smileys: list[pl.DataFrame] = []
        self.red_before: list[set[int]] = []
        self.months: list[int] = []
        self.factor = dict(zip(codes.tolist(), self.rng.normal(0, 0.05, len(codes)), strict=True))

    def add_month(self, month: int, seg: Segments, people: People, joblog: pl.DataFrame):
        first, last = month_bounds(month)
        self.months.append(month)
        start = np.maximum(seg.start, first)
        end = np.where(seg.end >= 0, np.minimum(seg.end, last), last)
        days = np.maximum(end - start + 1, 0)
        birth = people.birth[seg.pid]
        age = ((start - birth) / 365.25).astype(np.int32)
        keep = (days > 0) & (age >= 16) & (age <= 66) & (self.group[seg.state] != "")
        frame = pl.DataFrame(
            {
                "code": self.codes[people.muni[seg.pid[keep]]],
                "group": self.group[seg.state[keep]],
                "pid": seg.pid[keep],
                "days": days[keep],
            }
        )
        n_days = last - first + 1
        by_group = frame.group_by("code", "group").agg(
            pl.col("pid").n_unique().alias("persons"), (pl.col("days").sum() / n_days).alias("ftp")
        )
        total = frame.group_by("code").agg(
            pl.col("pid").n_unique().alias("persons"), (pl.col("days").sum() / n_days).alias("ftp")
        )
        both = pl.concat(
            [by_group, total.with_columns(group=pl.lit("total"))], how="diagonal"
        ).sort("code", "group")  # group_by's order varies run to run: the noise must not
        noise = 1 + self.rng.uniform(-NOISE, NOISE, both.height)
        self.benefits.append(
            both.with_columns(month=pl.lit(month), ftp=pl.col("ftp") * pl.Series(noise)).select(
                "month", "code", "group", "persons", "ftp"
            )
        )
        self._smileys(month, first, last, seg, people, joblog)

    def _smileys(self, month, first, last, seg, people, joblog) -> None:  # noqa: ANN001
        on = seg.state == self.kont_j
        population = pl.DataFrame(
            {"cpr": people.cpr[seg.pid[on]], "code": self.codes[people.muni[seg.pid[on]]]}
        ).unique("cpr")
        searched = (
            joblog.filter(pl.col("status") == "Søgt")
            .with_columns(pl.col("cpr").str.replace("-", "").cast(pl.Int64))
            .group_by("cpr")
            .len("applications")
        )
        persons = population.join(searched, on="cpr", how="left").with_columns(
            pl.col("applications").fill_null(0)
        )
        red = set(persons.filter(pl.col("applications") == 0)["cpr"].to_list())
        running = red.copy()
        for earlier in self.red_before[-2:]:
            running &= earlier
        if len(self.red_before) < 2:
            running = set()
        self.red_before.append(red)
        self.smileys.append(
            persons.group_by("code")
            .agg(
                pl.len().alias("population"),
                (pl.col("applications") >= 6).sum().alias("green"),
                pl.col("applications").is_between(1, 5).sum().alias("light_green"),
                (pl.col("applications") == 0).sum().alias("red"),
                pl.col("cpr").is_in(list(running)).sum().alias("red_3_months"),
            )
            .with_columns(month=pl.lit(month))
        )

    # ---------------------------------------------------------------- writing

    def _areas(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Municipal rows plus RAR, region and country sums, with Jobindsats' area names."""
        named = frame.with_columns(
            rar=pl.col("code").replace_strict(self.areas.rar, return_dtype=pl.Utf8),
            region=pl.col("code").replace_strict(self.areas.region, return_dtype=pl.Utf8),
            area=pl.col("code").replace_strict(self.areas.names, return_dtype=pl.Utf8),
        )
        keys = [c for c in frame.columns if c not in ("code", "persons", "ftp")]
        sums = [pl.col("persons").sum(), pl.col("ftp").sum()]
        parts = [named.select("area", *keys, "persons", "ftp")]
        for level in ("rar", "region"):
            parts.append(named.group_by(level, *keys).agg(*sums).rename({level: "area"}))
        parts.append(named.group_by(*keys).agg(*sums).with_columns(area=pl.lit("Hele landet")))
        return pl.concat([p.select("area", *keys, "persons", "ftp") for p in parts])

    def write(self, out_dir: Path, retrieved: str, earlier: str | None) -> list[Path]:
        """Every table's file under ``out_dir/<source>/``; ``earlier`` adds a first PTVA02
        vintage retrieved on that day (ISO date), holding the months before it."""
        written = []
        benefits = pl.concat(self.benefits)
        if earlier is not None:
            cut = int(np.datetime64(earlier[:7], "M").astype(np.int64)) - 1
            written.append(self._ptva02(out_dir, benefits.filter(pl.col("month") <= cut), earlier))
            benefits = self._revise(benefits, cut)
        written.append(self._ptva02(out_dir, benefits, retrieved))
        written.append(self._y01a02(out_dir, benefits, retrieved))
        if len(self.months) >= 12:  # a moving annual total needs a year of months
            written.append(self._y30r21(out_dir, benefits, retrieved))
        written.append(self._jobloggen(out_dir, retrieved))
        written.append(self._folk1a(out_dir, retrieved))
        return written

    def _revise(self, benefits: pl.DataFrame, cut: int) -> pl.DataFrame:
        """The later vintage: the last three months of the earlier one, corrected for a few
        municipalities (their full-time persons up by `REVISION`)."""
        revised = set(self.rng.choice(self.codes, REVISED_MUNICIPALITIES, replace=False).tolist())
        hit = pl.col("code").is_in(list(revised)) & pl.col("month").is_between(cut - 2, cut)
        return benefits.with_columns(
            pl.when(hit).then(pl.col("ftp") * (1 + REVISION)).otherwise(pl.col("ftp")).alias("ftp")
        )

    def _period(self, month: int) -> str:
        label = month_label(month)
        return f"{label[:4]}M{label[5:]}"

    def _ptva02(self, out_dir: Path, benefits: pl.DataFrame, retrieved: str) -> Path:
        rows = self._areas(benefits).sort("area", "month", "group")
        lines = [
            f"Område;Periode;Ydelsesgrupper;{PTVA02}: Antal personer;{PTVA02}: Antal "
            "fuldtidspersoner"
        ]
        for r in rows.iter_rows(named=True):
            hidden = r["persons"] < 5  # Jobindsats discretion: small cells are not shown
            lines.append(
                ";".join(
                    [
                        r["area"],
                        self._period(r["month"]),
                        LABELS[r["group"]],
                        ".." if hidden else _da(r["persons"], 0),
                        ".." if hidden else _da(r["ftp"], 1),
                    ]
                )
            )
        return _write(out_dir / "jobindsats" / f"ptva02_{retrieved}.csv", lines, bom=True)

    def _y01a02(self, out_dir: Path, benefits: pl.DataFrame, retrieved: str) -> Path:
        adag = benefits.filter(pl.col("group") == "unemployment_insurance")
        rows = []
        for r in self._areas(adag).sort("area", "month").iter_rows(named=True):
            if r["area"] != "Hele landet" and r["area"] not in self.areas.names.values():
                continue  # the table is asked for municipalities and the country
            pop = self._population(r["area"], r["month"])
            share = round(100 * r["persons"] / pop, 1) if pop else None
            rows.append([r["area"], self._period(r["month"]), int(r["persons"]),
                         round(r["ftp"], 1), share])  # fmt: skip
        answer = {
            "columns": [
                "Område",
                "Periode",
                "A-dagpenge: Antal personer",
                "A-dagpenge: Antal fuldtidspersoner",
                "A-dagpenge: Andel af befolkningen (16-66 år)",
            ],
            "rows": rows,
        }
        path = out_dir / "jobindsats" / f"y01a02_{retrieved}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
        return path

    def _population(self, area: str, month: int) -> float:
        years = (month - (2018 - 1970) * 12) / 12
        if area == "Hele landet":
            return sum(self.population.values()) * 1.003**years
        code = next(c for c, n in self.areas.names.items() if n == area)
        return self.population.get(code, 0) * 1.003**years

    def _y30r21(self, out_dir: Path, benefits: pl.DataFrame, retrieved: str) -> Path:
        total = benefits.filter(pl.col("group") == "total")
        lines = [
            f"Område;Periode;Ydelsesgrupper;{Y30R21}: Forventet antal;{Y30R21}: Faktisk antal;"
            f"{Y30R21}: Forskel;{Y30R21}: Placering"
        ]
        months = sorted(self.months)
        for end in months[11:]:
            if int(month_label(end)[5:]) % 3:
                continue  # quarters end in March, June, September, December
            year = total.filter(pl.col("month").is_between(end - 11, end))
            actual = year.group_by("code").agg(pl.col("ftp").mean()).sort("code")
            pop = {c: self._population(self.areas.names[c], end) for c in actual["code"]}
            # the framework-conditions model explains most of a municipality's level (here:
            # its simulated level); what it does not is a fixed factor per municipality
            table = actual.with_columns(
                expected=pl.col("ftp")
                / pl.col("code").replace_strict(
                    {c: 1 + self.factor[c] for c in pop}, return_dtype=pl.Float64
                )
            ).with_columns(difference=pl.col("ftp") - pl.col("expected"))
            table = table.with_columns(
                rank=(pl.col("difference") / pl.col("expected")).rank("ordinal").cast(pl.Int32)
            )
            label = month_label(end)
            period = f"{label[:4]}QMAT0{int(label[5:]) // 3}"
            for r in table.sort("code").iter_rows(named=True):
                lines.append(
                    ";".join(
                        [
                            self.areas.names[r["code"]],
                            period,
                            "Offentlig forsørgelse i alt",
                            _da(r["expected"]),
                            _da(r["ftp"]),
                            _da(r["difference"]),
                            str(r["rank"]),
                        ]
                    )
                )
        return _write(out_dir / "jobindsats" / f"y30r21_{retrieved}.csv", lines, bom=True)

    def _jobloggen(self, out_dir: Path, retrieved: str) -> Path:
        smileys = pl.concat(self.smileys)
        country = smileys.group_by("month").agg(pl.exclude("code", "month").sum())
        lines = [
            "Område;Periode;Jobparate kontanthjælpsmodtagere: Antal;Grøn smiley: Antal;"
            "Lysegrøn smiley: Antal;Rød smiley: Antal;Rød smiley tre måneder i træk: Antal"
        ]
        named = smileys.with_columns(
            area=pl.col("code").replace_strict(self.areas.names, return_dtype=pl.Utf8)
        )
        both = pl.concat(
            [
                named.drop("code"),
                country.with_columns(area=pl.lit("Hele landet")),
            ],
            how="diagonal",
        )
        for r in both.sort("area", "month").iter_rows(named=True):
            lines.append(
                ";".join(
                    [r["area"], self._period(r["month"])]
                    + [
                        str(r[k])
                        for k in ("population", "green", "light_green", "red", "red_3_months")
                    ]  # fmt: skip
                )
            )
        return _write(out_dir / "jobindsats" / f"jobloggen_{retrieved}.csv", lines, bom=True)

    def _folk1a(self, out_dir: Path, retrieved: str) -> Path:
        lines = ["OMRÅDE;KØN;ALDER;TID;INDHOLD"]
        quarters = sorted({(m // 12, m % 12 // 3) for m in self.months})
        for code in sorted(self.population):
            for year_index, quarter in quarters:
                first_month = year_index * 12 + quarter * 3
                total = round(self._population(self.areas.names[code], first_month))
                base, extra = divmod(total, 51)
                for i, age in enumerate(range(16, 67)):
                    lines.append(
                        f"{code:03d};TOT;{age};{1970 + year_index}K{quarter + 1};"
                        f"{base + (1 if i < extra else 0)}"
                    )
        return _write(out_dir / "statbank" / f"folk1a_{retrieved}.csv", lines, bom=False)


def _write(path: Path, lines: list[str], *, bom: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path
