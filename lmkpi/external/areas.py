"""Areas of the external sources: names (Jobindsats) or codes (Statbank) -> area type and code.

Jobindsats writes areas as names ("Hele landet", "RAR Hovedstaden", "Region Sjælland",
"Lyngby-Taarbæk"); Statbank as codes (173, 000 for the whole country, 081-085 for the
regions). Both are mapped with the municipalities seed (kommunekode, name, region, RAR), so an
area that is not there is refused, never guessed.
"""

import csv
from dataclasses import dataclass
from functools import cache

from lmkpi.settings import SEEDS_DIR

COUNTRY = "Hele landet"


@dataclass(frozen=True)
class Area:
    area_type: str  # municipality, rar, region, country
    name: str
    municipality_code: int | None = None
    region_code: int | None = None


@cache
def areas() -> tuple[dict[str, Area], dict[str, Area]]:
    """(by name, by Statbank code)."""
    by_name: dict[str, Area] = {COUNTRY: Area("country", COUNTRY)}
    by_code: dict[str, Area] = {"000": by_name[COUNTRY], "0": by_name[COUNTRY]}
    with (SEEDS_DIR / "municipalities.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            code = int(row["kommunekode"])
            municipality = Area("municipality", row["kommunenavn"], municipality_code=code)
            by_name[municipality.name] = municipality
            by_code[str(code)] = by_code[f"{code:03d}"] = municipality
            region = Area("region", row["region"], region_code=int(row["regionskode"]))
            by_name[region.name] = region
            statbank = f"0{int(row['regionskode']) - 1000}"  # 1084 -> 084
            by_code[statbank] = by_code[str(int(statbank))] = region
            by_name[row["rar_2015"]] = Area("rar", row["rar_2015"])
    return by_name, by_code


def area_of(value: str, *, codes: bool) -> Area | None:
    by_name, by_code = areas()
    return (by_code if codes else by_name).get(value.strip())
