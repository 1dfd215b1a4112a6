"""Load the generator's parameters (model.toml, vocabulary.toml) and reference data (seeds)."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .months import DAYS_PER_MONTH

PACKAGE_DIR = Path(__file__).resolve().parent
SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"

VISITATIONS = ("", "jobparat", "aktivitetsparat", "uddannelsesparat", "aabenlyst_uddannelsesparat")
OFFERS = ("", "virksomhedspraktik", "nytteindsats", "loentilskud", "vejledning_opkvalificering")
HERKOMST = ("dansk", "vestlig", "ikke_vestlig")
REFUGEE_STATUS = ("", "flygtning", "familiesammenfoert")
HOURS_MODES = ("", "side", "supplementary", "partial_sick")
MAX_COMPONENTS = 3


@dataclass(frozen=True)
class Model:
    """Per-state parameters as arrays indexed by state (destination NONE = n, EXIT = n + 1)."""

    names: tuple[str, ...]
    status: tuple[str, ...]  # ydelse code per state
    visitation: np.ndarray  # index into VISITATIONS
    refugee_only: np.ndarray
    controlled: np.ndarray
    fte_173: np.ndarray
    fte_national: np.ndarray
    elasticity: np.ndarray
    growth: np.ndarray
    season: np.ndarray
    dur_weight: np.ndarray  # (n, 3)
    dur_mean_days: np.ndarray  # (n, 3)
    age_lo: np.ndarray  # (n, 3) years
    age_hi: np.ndarray
    age_weight: np.ndarray
    next_cum: np.ndarray  # (n, n + 2) cumulative destination probabilities
    offer_off_days: np.ndarray  # 0 = no offers in this state
    offer_cum: np.ndarray  # (n, 4) cumulative over OFFERS[1:]
    offer_days: np.ndarray  # (5, 2) lo/hi days per OFFERS index
    hours_mode: np.ndarray  # index into HOURS_MODES
    hours_on_days: np.ndarray
    hours_off_days: np.ndarray
    hours_lo: np.ndarray
    hours_hi: np.ndarray
    hours_p_start: np.ndarray
    samtale_days: np.ndarray
    herkomst_cum: np.ndarray  # (n, 3)
    cap_age: np.ndarray  # 0 = only the general maximum age
    cap_next: np.ndarray
    bridge_days: np.ndarray  # 0 = not a bridge state
    bridge_p_full: np.ndarray
    bridge_full_next: np.ndarray
    bridge_short_next: np.ndarray
    flex_lo: np.ndarray
    flex_hi: np.ndarray
    general: dict
    joblog: dict
    housing: dict

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def none(self) -> int:
        return self.n

    @property
    def exit(self) -> int:
        return self.n + 1

    def index(self, name: str) -> int:
        return self.names.index(name)


@dataclass(frozen=True)
class Municipalities:
    code: np.ndarray  # kommunekode
    name: tuple[str, ...]
    population: np.ndarray
    population_16_66: np.ndarray
    benefit_share: np.ndarray  # full-time persons on public benefits / population 16-66


@cache
def load_model() -> Model:
    raw = tomllib.loads((PACKAGE_DIR / "model.toml").read_text(encoding="utf-8"))
    states: dict = raw["state"]
    names = tuple(states)
    n = len(names)
    dest_index = {name: i for i, name in enumerate(names)} | {"NONE": n, "EXIT": n + 1}
    offer_names = OFFERS[1:]

    def arr(key: str, default: float = 0.0) -> np.ndarray:
        return np.array([float(states[s].get(key, default)) for s in names])

    dur_w = np.zeros((n, MAX_COMPONENTS))
    dur_mu = np.ones((n, MAX_COMPONENTS))
    age_lo = np.zeros((n, MAX_COMPONENTS))
    age_hi = np.ones((n, MAX_COMPONENTS))
    age_w = np.zeros((n, MAX_COMPONENTS))
    next_p = np.zeros((n, n + 2))
    offer_off = np.zeros(n)
    offer_p = np.zeros((n, 4))
    hours = np.zeros((n, 6))
    hours_mode = np.zeros(n, dtype=np.int8)
    herkomst = np.zeros((n, 3))
    cap_age = np.zeros(n, dtype=np.int32)
    cap_next = np.full(n, n, dtype=np.int32)
    bridge = np.zeros((n, 4))
    bridge[:, 2:] = n
    flex = np.zeros((n, 2))
    for i, s in enumerate(names):
        p = states[s]
        for k, (w, mu) in enumerate(p.get("duration", [[1.0, 1.0]])):
            dur_w[i, k], dur_mu[i, k] = w, mu * DAYS_PER_MONTH
        dur_w[i] /= dur_w[i].sum()
        for k, (lo, hi, w) in enumerate(p.get("age", [[18, 66, 1.0]])):
            age_lo[i, k], age_hi[i, k], age_w[i, k] = lo, hi, w
        age_w[i] /= age_w[i].sum()
        for dest, prob in p.get("next", {"NONE": 1.0}).items():
            next_p[i, dest_index[dest]] = prob
        next_p[i] /= next_p[i].sum()
        if "offers" in p:
            offer_off[i] = p["offers"][0] * DAYS_PER_MONTH
            offer_p[i] = np.array(p["offers"][1:]) / sum(p["offers"][1:])
        if "hours" in p:
            mode, on, off, lo, hi, p_on = p["hours"]
            hours_mode[i] = HOURS_MODES.index(mode)
            hours[i] = [on * DAYS_PER_MONTH, off * DAYS_PER_MONTH, lo, hi, p_on, 0]
        herkomst[i] = np.array(p["herkomst"]) / sum(p["herkomst"])
        if "age_cap" in p:
            cap_age[i] = p["age_cap"]["age"]
            cap_next[i] = dest_index[p["age_cap"]["next"]]
        if "bridge" in p:
            b = p["bridge"]
            bridge[i] = [
                b["days"],
                b["p_full"],
                dest_index[b["full_next"]],
                dest_index[b["short_next"]],
            ]
        if "flex_hours" in p:
            flex[i] = p["flex_hours"]
    offer_days = np.zeros((len(OFFERS), 2))
    for k, name in enumerate(offer_names, start=1):
        offer_days[k] = raw["offer_days"][name]
    return Model(
        names=names,
        status=tuple(states[s]["status"] for s in names),
        visitation=np.array(
            [VISITATIONS.index(states[s].get("visitation", "")) for s in names], dtype=np.int8
        ),
        refugee_only=np.array([bool(states[s].get("refugee", False)) for s in names]),
        controlled=np.array(["fte_173" in states[s] for s in names]),
        fte_173=arr("fte_173"),
        fte_national=arr("fte_national"),
        elasticity=arr("elasticity", 1.0),
        growth=arr("growth"),
        season=arr("season"),
        dur_weight=dur_w,
        dur_mean_days=dur_mu,
        age_lo=age_lo,
        age_hi=age_hi,
        age_weight=age_w,
        next_cum=np.cumsum(next_p, axis=1),
        offer_off_days=offer_off,
        offer_cum=np.cumsum(offer_p, axis=1),
        offer_days=offer_days,
        hours_mode=hours_mode,
        hours_on_days=hours[:, 0],
        hours_off_days=hours[:, 1],
        hours_lo=hours[:, 2],
        hours_hi=hours[:, 3],
        hours_p_start=hours[:, 4],
        samtale_days=arr("samtale_days"),
        herkomst_cum=np.cumsum(herkomst, axis=1),
        cap_age=cap_age,
        cap_next=cap_next,
        bridge_days=bridge[:, 0].astype(np.int32),
        bridge_p_full=bridge[:, 1],
        bridge_full_next=bridge[:, 2].astype(np.int32),
        bridge_short_next=bridge[:, 3].astype(np.int32),
        flex_lo=flex[:, 0],
        flex_hi=flex[:, 1],
        general=raw["general"],
        joblog=raw["joblog"],
        housing=raw["housing"],
    )


@cache
def load_vocabulary() -> dict:
    return tomllib.loads((PACKAGE_DIR / "vocabulary.toml").read_text(encoding="utf-8"))


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def load_municipalities() -> Municipalities:
    """The 98 municipalities with population (seeds) and benefit share (synth profile)."""
    munis = _read_csv(SEEDS_DIR / "municipalities.csv")
    pop = {int(r["kommunekode"]): r for r in _read_csv(SEEDS_DIR / "municipality_population.csv")}
    profile = {
        int(r["kommunekode"]): float(r["public_benefit_share_16_66"])
        for r in _read_csv(PACKAGE_DIR / "municipality_profile.csv")
    }
    codes = [int(r["kommunekode"]) for r in munis]
    missing = [c for c in codes if c not in pop or c not in profile]
    if missing:
        raise ValueError(f"population or profile missing for municipalities {missing}")
    return Municipalities(
        code=np.array(codes, dtype=np.int32),
        name=tuple(r["kommunenavn"] for r in munis),
        population=np.array([int(pop[c]["population_2018"]) for c in codes]),
        population_16_66=np.array([int(pop[c]["population_16_66_2018"]) for c in codes]),
        benefit_share=np.array([profile[c] for c in codes]),
    )
