"""Temporary housing for refugees (indkvartering): one row per address in use per month.

Lyngby-Taarbæk (173) follows its fact sheet: named addresses (Lykkens Gave emptied during
2019), about 89 rooms, 100-115 housed, 39 moved to permanent housing in 2017 and a handful
in 2018, about 28 residents owing rent.  A random share of the other municipalities runs a
few addresses sized by population and scale, some opening or closing during the period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .months import month_index, month_label

INDKVARTERING_COLUMNS = (
    "kommunekode",
    "adresse",
    "vaerelser",
    "ledige_vaerelser",
    "indkvarterede",
    "husstande",
    "flyttet_permanent",
    "restance_personer",
    "restance_kr",
)
SCHEMA = {
    "kommunekode": pl.Int32,
    "adresse": pl.String,
    "vaerelser": pl.Int32,
    "ledige_vaerelser": pl.Int32,
    "indkvarterede": pl.Int32,
    "husstande": pl.Int32,
    "flyttet_permanent": pl.Int32,
    "restance_personer": pl.Int32,
    "restance_kr": pl.Float64,
}
REFERENCE_MONTH = "2018-07"
MAX_ARREARS_KR = 45620.35  # the largest arrear on the fact sheet
MIN_ARREARS_KR = 342.0


@dataclass
class Site:
    kommunekode: int
    adresse: str
    vaerelser: int
    first: int  # month index of the first and last month in use
    last: int
    emptied_from: int | None = None  # residents move out gradually from this month
    fact_sheet: bool = False  # 173's named addresses, calibrated to the fact sheet


def plan_sites(
    codes: np.ndarray,
    population: np.ndarray,
    scales: np.ndarray,
    housing: dict,
    vocabulary: dict,
    first: int,
    last: int,
    rng: np.random.Generator,
) -> list[Site]:
    """The addresses of every municipality that runs temporary housing."""
    sites: list[Site] = []
    for code, pop, scale in zip(codes.tolist(), population.tolist(), scales.tolist(), strict=True):
        runs = rng.random() < housing["share_municipalities"]
        if code == 173 and scale >= 0.5:
            sites += _fact_sheet_sites(code, vocabulary["housing_173"], first, last)
            continue
        rooms = pop / 1000 * housing["rooms_per_1000_inhabitants"] * scale * rng.uniform(0.5, 1.5)
        if (runs or code == 173) and rooms >= 2:
            sites += _random_sites(code, rooms, vocabulary["street_names"], first, last, rng)
    return sites


def _fact_sheet_sites(code: int, addresses: list[dict], first: int, last: int) -> list[Site]:
    sites = []
    for a in addresses:
        opened, closed = a.get("months", ["", ""])
        emptied = a.get("emptied_from")
        sites.append(
            Site(
                code,
                a["adresse"],
                a["vaerelser"],
                month_index(opened) if opened else first,
                month_index(closed) if closed else last,
                month_index(emptied) if emptied else None,
                fact_sheet=True,
            )
        )
    return sites


def _random_sites(
    code: int, rooms: float, streets: list[str], first: int, last: int, rng: np.random.Generator
) -> list[Site]:
    n_sites = max(1, round(rooms / 7))
    extra = rng.multinomial(max(int(round(rooms)), n_sites) - n_sites, [1 / n_sites] * n_sites)
    sites, used = [], set()
    for k in extra:
        start = first if rng.random() > 0.15 else int(rng.integers(first, last + 1))
        end = last if rng.random() > 0.15 else int(rng.integers(start, last + 1))
        adresse = f"{streets[int(rng.integers(len(streets)))]} {int(rng.integers(1, 200))}"
        while adresse in used:
            adresse += " B"
        used.add(adresse)
        sites.append(Site(code, adresse, 1 + int(k), start, end))
    return sites


def housing_months(
    sites: list[Site],
    vocabulary: dict,
    housing: dict,
    first: int,
    last: int,
    rng: np.random.Generator,
) -> dict[str, pl.DataFrame]:
    """The indkvartering frame of every month from `first` to `last`."""
    flows = vocabulary["housing_173_flows"]
    housed_lo, housed_hi = flows["housed_range"]
    # 173's moves to permanent housing: each year's total spread over its months
    moved_173: dict[int, int] = {}
    for year, total in flows["moved_permanent"].items():
        months = [month_index(f"{year}-{m:02d}") for m in range(1, 13)]
        for mi, k in zip(months, rng.multinomial(total, [1 / 12] * 12), strict=True):
            moved_173[mi] = int(k)
    noise = 0.0
    out: dict[str, pl.DataFrame] = {}
    for mi in range(first, last + 1):
        years = (mi - month_index(REFERENCE_MONTH)) / 12
        live = [s for s in sites if s.first <= mi <= s.last]
        rows: list[dict] = []
        for code in sorted({s.kommunekode for s in live}):
            here = [s for s in live if s.kommunekode == code]
            rooms = np.array([s.vaerelser for s in here])
            if here[0].fact_sheet:
                noise = 0.6 * noise + rng.normal(0, 1.6)
                level = (housed_lo + housed_hi) / 2 + 0.5 - 3 * years + noise
                total = int(round(np.clip(level, housed_lo, housed_hi)))
                moved = moved_173.get(mi, int(rng.poisson(0.7)))
            else:
                total = int(rng.poisson(rooms.sum() * housing["persons_per_room"] * 0.93**years))
                moved = int(rng.poisson(0.03 * total))
            rows += _site_rows(here, rooms, mi, total, moved, rng)
        out[month_label(mi)] = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    return out


def _site_rows(
    here: list[Site], rooms: np.ndarray, mi: int, total: int, moved: int, rng: np.random.Generator
) -> list[dict]:
    """Spread one municipality's residents, moves and arrears over its addresses."""
    weight = rooms.astype(float)
    for i, s in enumerate(here):
        if s.emptied_from is not None and mi >= s.emptied_from:
            weight[i] *= max(0.0, (s.last - mi) / max(s.last - s.emptied_from, 1))
    housed = _allocate(total, weight, rooms * 3, rng)  # families share rooms
    moved_out = _allocate(min(moved, int(housed.sum())), housed.astype(float), housed, rng)
    family_size = rng.uniform(1.5, 2.6, len(here))
    households = np.clip(np.round(housed / family_size), (housed > 0).astype(int), housed)
    used_rooms = np.minimum(rooms, np.maximum(households, np.ceil(housed / 1.6)))
    owing_total = int(np.clip(round(0.25 * housed.sum() + rng.normal(0, 2)), 0, housed.sum()))
    owing = _allocate(owing_total, housed.astype(float), housed, rng)
    return [
        {
            "kommunekode": s.kommunekode,
            "adresse": s.adresse,
            "vaerelser": int(rooms[i]),
            "ledige_vaerelser": int(rooms[i] - used_rooms[i]),
            "indkvarterede": int(housed[i]),
            "husstande": int(households[i]),
            "flyttet_permanent": int(moved_out[i]),
            "restance_personer": int(owing[i]),
            "restance_kr": round(
                float(
                    np.clip(rng.lognormal(8.8, 1.0, owing[i]), MIN_ARREARS_KR, MAX_ARREARS_KR).sum()
                ),
                2,
            ),
        }
        for i, s in enumerate(here)
    ]


def _allocate(
    total: int, weight: np.ndarray, cap: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Spread `total` over sites in proportion to `weight`, never above `cap`."""
    result = np.zeros(len(weight), dtype=int)
    cap = np.asarray(cap, dtype=int)
    remaining = int(total)
    while remaining > 0:
        w = np.where(cap - result > 0, weight, 0.0)
        if w.sum() <= 0:
            break
        add = np.minimum(rng.multinomial(remaining, w / w.sum()), cap - result)
        result += add
        remaining -= int(add.sum())
    return result
