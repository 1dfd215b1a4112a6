"""Small hand-written extracts for tests (values chosen so results can be computed by hand)."""

from pathlib import Path

YDELSER_COLUMNS = [
    "cpr", "kommunekode", "ydelse", "startdato", "slutdato", "omfang", "visitation", "tilbud",
    "tilbud_cvr", "delvis_raskmeldt", "herkomst", "flygtningestatus", "opholdsdato",
    "ordinaere_timer", "samtaler",
]  # fmt: skip


def write_ydelser(landing: Path, month: str, rows: list[dict], encoding: str = "utf-8") -> Path:
    path = landing / "ydelser" / f"ydelser_{month}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [";".join(YDELSER_COLUMNS)]
    lines += [";".join(str(r.get(c, "")) for c in YDELSER_COLUMNS) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


# Person A (born 1980-03-01, male): ADAG 2019-02-15..2019-03-16, then SDP from 2019-03-10, open.
# Person B (born 1990-07-15, female, 28): KONT jobparat all of 2019.
# Person C (born 1950-02-02, 69): FTP, outside 16-66.
# Person D (born 1985-11-11): ADAG_SYG 2019-03-01..2019-03-14 (not a public benefit).
# Person E (born 1957-05-05): EFTL all of March (national measure only).
CPR_A, CPR_B, CPR_C, CPR_D, CPR_E = (
    "010380-1235", "1507902222", "020250-3334", "111185-4441", "050557-1552",
)  # fmt: skip
ALL_CPRS = [CPR_A, CPR_B, CPR_C, CPR_D, CPR_E]

MARCH_2019 = [
    {"cpr": CPR_A, "kommunekode": 173, "ydelse": "ADAG", "startdato": "2019-02-15",
     "slutdato": "2019-03-16", "herkomst": "dansk"},
    {"cpr": CPR_A, "kommunekode": 173, "ydelse": "SDP", "startdato": "2019-03-10",
     "omfang": "0.5", "delvis_raskmeldt": 1, "herkomst": "dansk"},
    {"cpr": CPR_B, "kommunekode": 173, "ydelse": "KONT", "startdato": "2019-01-01",
     "slutdato": "2019-12-31", "visitation": "jobparat", "herkomst": "dansk"},
    {"cpr": CPR_C, "kommunekode": 173, "ydelse": "FTP", "startdato": "2010-01-01"},
    {"cpr": CPR_D, "kommunekode": 173, "ydelse": "ADAG_SYG", "startdato": "2019-03-01",
     "slutdato": "2019-03-14"},
    {"cpr": CPR_E, "kommunekode": 173, "ydelse": "EFTL", "startdato": "2019-03-01",
     "slutdato": "2019-03-31"},
]  # fmt: skip
# Hand-computed for March (31 days), age 16-66:
#   plan     = A ADAG 16/31 + A SDP 22/31 + B KONT 31/31 = 69/31
#   national = plan + E EFTL 31/31 = 100/31
#   distinct persons on the 12 groups = 2 (A, B)
MARCH_PLAN_FTP = 69 / 31
MARCH_NATIONAL_FTP = 100 / 31

APRIL_2019 = [
    {"cpr": CPR_A, "kommunekode": 173, "ydelse": "SDP", "startdato": "2019-03-10",
     "omfang": "0.5", "delvis_raskmeldt": 1},
    {"cpr": CPR_B, "kommunekode": 173, "ydelse": "KONT", "startdato": "2019-01-01",
     "slutdato": "2019-12-31", "visitation": "jobparat"},
]  # fmt: skip
# April (30 days): A SDP 30/30 + B KONT 30/30 = 2.0
APRIL_PLAN_FTP = 2.0


def read_file(source: str, path: Path, *, month: str | None = None, key: bytes, **kwargs):
    """`read_extract` on the delivery at `path` (loaded as `month` when given)."""
    from lmkpi.ingest import Delivery, read_extract
    from lmkpi.months import Month

    loaded_as = Month.parse(month) if month else None
    return read_extract(Delivery.at(Path(path), source), month=loaded_as, key=key, **kwargs)
