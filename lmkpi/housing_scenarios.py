"""Scenarios for temporary housing: what the committee asks ("will the rooms be enough?").

A scenario is a file the BI team writes, ``<LMKPI_HOME>/scenarios/housing_<name>.yaml``
(docs/housing_scenarios.md). It is validated like every input (file, line, rule) when a load
starts; the scenarios in force are written to ``raw.housing_scenarios`` (the dbt source of
``marts.fct_housing_outlook``), one row per assumption, before each dbt run. A scenario named
``baseline`` is derived from the loaded history in dbt and always exists, so the outlook is
there without any file.

.. code-block:: yaml

    title: Buddingevej 39            # the name in the report's chart (default: from the file)
    municipality: 173
    description: Buddingevej 39 renoveres (8 boliger fra juli 2020)
    persons_per_room: 1.2          # the norm: capacity = rooms x norm (default 1.0)
    arrivals:                      # persons a month: refugees in the quota and family members
      - {from: 2020-02, to: 2020-12, refugees: 1, family_members: 2}
    outflow:                       # to permanent housing: a share of those housed, or a count
      - {from: 2020-02, rate: 0.02}
    open:
      - {address: Buddingevej 39, month: 2020-07, rooms: 8}
    close:
      - {address: "Lykkens Gave, 2. afd.", month: 2020-03, rooms: 19}

Arrivals and outflow without ``from``/``to`` hold for the whole horizon; with only ``from``,
from then on. A month without an ``arrivals`` or ``outflow`` entry assumes the baseline's
(the recent history's) value, so a scenario only says what it changes.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from lmkpi.errors import ConfigurationError, MonthError
from lmkpi.months import Month

SCENARIO_FILE = re.compile(r"housing_(?P<name>[a-z0-9][a-z0-9_]{0,39})\.ya?ml")
TABLE = "raw.housing_scenarios"
KINDS = ("arrivals", "outflow_rate", "outflow_count", "rooms", "persons_per_room")
COLUMNS = (
    ("scenario", "varchar"),
    ("title", "varchar"),
    ("municipality_code", "integer"),
    ("description", "varchar"),
    ("kind", "varchar"),
    ("month_from", "date"),
    ("month_to", "date"),
    ("value", "double"),
    ("label", "varchar"),
)
_TOP = {
    "title",
    "municipality",
    "description",
    "persons_per_room",
    "arrivals",
    "outflow",
    "open",
    "close",
}


class ScenarioError(ConfigurationError):
    """A scenario file breaks a rule; the message names file, line and rule."""


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    municipality: int
    description: str
    rows: tuple[tuple, ...]  # COLUMNS of raw.housing_scenarios


def _item_lines(text: str) -> dict[tuple[str, int], int]:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    out: dict[tuple[str, int], int] = {}
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            out[(key.value, -1)] = key.start_mark.line + 1
            if isinstance(value, yaml.SequenceNode):
                for i, item in enumerate(value.value):
                    out[(key.value, i)] = item.start_mark.line + 1
    return out


def _month(value: object, where: str) -> Month:
    try:
        return Month.parse(str(value))
    except MonthError:
        raise ScenarioError(f"{where}: rule month: {value!r} is not a month YYYY-MM") from None


def _number(item: dict, key: str, where: str, *, minimum: float = 0.0) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ScenarioError(f"{where}: rule number: {key} must be a number >= {minimum:g}")
    return float(value)


def validate(path: Path) -> Scenario:
    """The scenario in ``path``, or ScenarioError naming file, line and rule."""
    path = Path(path)
    found = SCENARIO_FILE.fullmatch(path.name)
    if found is None:
        raise ScenarioError(
            f"{path.name}: rule file_name: a scenario is named housing_<name>.yaml "
            "(name: lower-case letters, digits, _)"
        )
    name = found["name"]
    if name == "baseline":
        raise ScenarioError(
            f"{path.name}: rule reserved_name: baseline is derived from the history"
        )
    if not path.is_file() or path.is_symlink():
        raise ScenarioError(f"{path}: rule regular_file: not a regular file")
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(
            f"{path.name} line {mark.line + 1 if mark else 1}: rule yaml: not valid YAML"
        ) from None
    lines = _item_lines(text)

    def where(section: str, index: int = -1) -> str:
        return f"{path.name} line {lines.get((section, index), 1)}"

    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name} line 1: rule yaml: expected a mapping of settings")
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise ScenarioError(
            f"{where(unknown[0])}: rule known_key: {unknown[0]!r} is not one of "
            + ", ".join(sorted(_TOP))
        )
    code = data.get("municipality")
    if isinstance(code, bool) or not isinstance(code, int) or not 101 <= code <= 860:
        raise ScenarioError(
            f"{where('municipality')}: rule municipality: give a kommunekode, e.g. 173"
        )
    description = str(data.get("description") or "").strip()
    if not description:
        raise ScenarioError(
            f"{where('description')}: rule description: say what the scenario assumes (in Danish)"
        )
    title = str(data.get("title") or name.replace("_", " ").capitalize()).strip()[:40]
    rows: list[tuple] = []

    def row(
        kind: str, first: Month | None, last: Month | None, value: float, label: str = ""
    ) -> None:
        rows.append(
            (
                name,
                title,
                code,
                description,
                kind,
                first.first_day if first else None,
                last.first_day if last else None,
                value,
                label,
            )
        )

    if "persons_per_room" in data:
        norm = _number(data, "persons_per_room", where("persons_per_room"), minimum=0.1)
        row("persons_per_room", None, None, norm)
    for section in ("arrivals", "outflow", "open", "close"):
        items = data.get(section) or []
        if not isinstance(items, list):
            raise ScenarioError(f"{where(section)}: rule list: {section} is a list of entries")
        for i, item in enumerate(items):
            at = where(section, i)
            if not isinstance(item, dict):
                raise ScenarioError(f"{at}: rule entry: each {section} entry is a mapping")
            if section in ("open", "close"):
                month = _month(item.get("month"), at)
                rooms = _number(item, "rooms", at, minimum=1)
                address = str(item.get("address") or "").strip()
                if not address:
                    raise ScenarioError(f"{at}: rule address: name the address")
                row("rooms", month, None, rooms if section == "open" else -rooms, address)
                continue
            first = _month(item["from"], at) if "from" in item else None
            last = _month(item["to"], at) if "to" in item else None
            if first and last and last < first:
                raise ScenarioError(f"{at}: rule period: to {last} is before from {first}")
            if section == "arrivals":
                parts = [k for k in ("refugees", "family_members") if k in item]
                if not parts:
                    raise ScenarioError(
                        f"{at}: rule arrivals: give refugees and/or family_members a month"
                    )
                value = sum(_number(item, k, at) for k in parts)
                row("arrivals", first, last, value, " + ".join(parts))
            else:
                if ("rate" in item) == ("count" in item):
                    raise ScenarioError(
                        f"{at}: rule outflow: give either rate (a share a month) or count"
                    )
                if "rate" in item:
                    rate = _number(item, "rate", at)
                    if rate > 1:
                        raise ScenarioError(
                            f"{at}: rule outflow: rate is a share of those housed, 0-1"
                        )
                    row("outflow_rate", first, last, rate)
                else:
                    row("outflow_count", first, last, _number(item, "count", at))
    return Scenario(name, path, code, description, tuple(rows))


def scenarios_in_force(scenarios_dir: Path) -> list[Scenario]:
    if not scenarios_dir.is_dir():
        return []
    files = sorted(p for p in scenarios_dir.iterdir() if not p.name.startswith("."))
    return [validate(p) for p in files]


def ensure_scenario_table(con) -> None:
    columns = ", ".join(f"{c} {t}" for c, t in COLUMNS)
    con.execute(f"create table if not exists {TABLE} ({columns})")
    for column, kind in COLUMNS:  # a table from an earlier version gains the new columns
        con.execute(f"alter table {TABLE} add column if not exists {column} {kind}")


def store_scenarios(con, scenarios: list[Scenario]) -> bool:
    """Make ``raw.housing_scenarios`` hold ``scenarios``; True if that changed it."""
    from lmkpi.warehouse.db import replace_rows

    rows = [r for s in scenarios for r in s.rows]
    return replace_rows(con, TABLE, [c for c, _ in COLUMNS], rows)
