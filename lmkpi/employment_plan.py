"""The employment plan (Beskæftigelsesplan) of each year: a file the BI team writes.

``<LMKPI_HOME>/plans/beskaeftigelsesplan_<YYYY>.csv`` (or ``.yaml``), one per plan year; with
no plan file there, the 2019 plan shipped in ``lmkpi/plans/`` is used. Every plan is validated
before it is loaded (``validate``; ``lmkpi plan check FILE`` does only that): a bad plan fails
the load with the file, the line and the rule, and the published warehouse stays as it was.
The plans in force are written to ``raw.plan_goals`` (the dbt source of ``dim_goal``) before
each dbt run; a changed plan rebuilds the goals even when no month changed.

Columns (CSV header, or keys of each entry under ``goals:`` in YAML):

=====================  ==================================================================
goal_id                1-11 for goals, a-f for follow-ups; unique in the plan
kind                   goal | followup
measure                a measure of the KPI catalogue (dbt_project/seeds/kpi_measures.csv);
                       empty for qualitative goals
target_type            relative_change_max | relative_change_min: a level that must fall
                       (rise) by target_value (e.g. -0.04) from baseline_period to
                       target_period (one month each, baseline before target);
                       monthly_average_min | _max: the average of the monthly shares over
                       target_period (YYYY-MM/YYYY-MM) at least (at most) target_value (0-1);
                       follow: a follow-up without target; qualitative: not measured
baseline_period        relative goals: the baseline month YYYY-MM
target_period          the target month (relative) or period YYYY-MM/YYYY-MM; it ends in
                       the plan year
target_value           relative: the change (-0.04 = 4 % down); average: the share
approx_target_ftp      optional: the plan's own rounding of the target in full-time persons
reported_status_value  optional: the status the plan reported for the year before
reported_status_period optional: its period (average goals: their baseline average)
qualitative_reason     qualitative goals: why there is no value to track (required)
title_da               the goal as the plan words it, in Danish (required)
=====================  ==================================================================
"""

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from lmkpi.errors import ConfigurationError, MonthError
from lmkpi.months import Month
from lmkpi.settings import DBT_PROJECT_DIR

PLAN_FILE = re.compile(r"beskaeftigelsesplan_(?P<year>\d{4})\.(?P<ext>csv|ya?ml)")
COLUMNS = (
    "goal_id",
    "kind",
    "measure",
    "target_type",
    "baseline_period",
    "target_period",
    "target_value",
    "approx_target_ftp",
    "reported_status_value",
    "reported_status_period",
    "qualitative_reason",
    "title_da",
)
NUMBERS = ("target_value", "approx_target_ftp", "reported_status_value")
REQUIRED = ("goal_id", "kind", "target_type", "target_period", "title_da")
KINDS = ("goal", "followup")
RELATIVE = ("relative_change_max", "relative_change_min")
AVERAGE = ("monthly_average_min", "monthly_average_max")
TARGET_TYPES = (*RELATIVE, *AVERAGE, "follow", "qualitative")
GOAL_ID = re.compile(r"[0-9]{1,2}|[a-z]")
DEFAULT_PLAN_YEAR = 2019


class PlanError(ConfigurationError):
    """A plan file breaks a rule; the message lists file, line and rule of each problem."""


@dataclass(frozen=True)
class Plan:
    year: int
    path: Path
    goals: tuple[dict, ...]  # one dict per goal: COLUMNS, numbers as float or None

    @property
    def label(self) -> str:
        return f"Beskæftigelsesplan {self.year}"


def shipped_plans_dir() -> Path:
    return Path(str(resources.files("lmkpi") / "plans"))


def known_measures(project_dir: Path = DBT_PROJECT_DIR) -> set[str]:
    with (project_dir / "seeds" / "kpi_measures.csv").open(encoding="utf-8") as f:
        return {row["measure"] for row in csv.DictReader(f)}


def _rows(path: Path, text: str) -> list[tuple[int, dict]]:
    """(line number, raw values) per goal of a CSV or YAML plan."""
    if path.suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise PlanError(
                f"{path.name} line 1: rule required_columns: the header lacks "
                f"{', '.join(missing)} (columns: {', '.join(COLUMNS)})"
            )
        return [(i + 2, row) for i, row in enumerate(reader)]
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise PlanError(f"{path.name} line {line}: rule yaml: not valid YAML") from None
    goals = loaded.get("goals") if isinstance(loaded, dict) else None
    if not isinstance(goals, list):
        raise PlanError(f"{path.name} line 1: rule yaml: expected a list under 'goals:'")
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if line.lstrip().startswith("- ")]
    out = []
    for i, goal in enumerate(goals):
        line = lines[i] if i < len(lines) else 1
        if not isinstance(goal, dict):
            raise PlanError(f"{path.name} line {line}: rule yaml: each goal is a mapping")
        out.append((line, {k: "" if v is None else str(v) for k, v in goal.items()}))
    return out


def _period(text: str) -> tuple[Month, Month] | None:
    parts = text.split("/")
    if len(parts) > 2:
        return None
    try:
        months = [Month.parse(p.strip()) for p in parts]
    except MonthError:
        return None
    return months[0], months[-1]


def _check_goal(goal: dict, year: int, measures: set[str]) -> list[tuple[str, str]]:
    """(rule, what is wrong) for one goal."""
    problems: list[tuple[str, str]] = []
    kind, target_type, measure = goal["kind"], goal["target_type"], goal["measure"]
    if not GOAL_ID.fullmatch(goal["goal_id"]):
        problems.append(("goal_id", f"goal_id {goal['goal_id']!r} is not 1-99 or a letter a-z"))
    if kind not in KINDS:
        problems.append(("known_kind", f"kind {kind!r} is not one of {', '.join(KINDS)}"))
    if target_type not in TARGET_TYPES:
        problems.append(
            (
                "known_target_type",
                f"target_type {target_type!r} is not one of {', '.join(TARGET_TYPES)}",
            )
        )
        return problems
    if not goal["title_da"].strip():
        problems.append(("title_da", "the Danish title (title_da) is empty"))
    if target_type == "qualitative":
        if measure:
            problems.append(("qualitative_measure", "a qualitative goal has no measure"))
        if not goal["qualitative_reason"].strip():
            problems.append(
                ("qualitative_reason", "say why it is not measured (qualitative_reason)")
            )
    elif measure not in measures:
        problems.append(
            (
                "known_measure",
                f"measure {measure!r} is not in the KPI measure catalogue "
                "(dbt_project/seeds/kpi_measures.csv)",
            )
        )
    for name in NUMBERS:
        if goal[name] is not None and not isinstance(goal[name], float):
            problems.append(("number", f"{name} {goal[name]!r} is not a number"))
    target = _period(goal["target_period"])
    if target is None:
        problems.append(
            ("period", f"target_period {goal['target_period']!r} is not YYYY-MM or YYYY-MM/YYYY-MM")
        )
        return problems
    first, last = target
    if last.year != year:
        problems.append(
            ("plan_year", f"target_period {goal['target_period']} does not end in {year}")
        )
    value = goal["target_value"]
    if target_type in RELATIVE:
        baseline = _period(goal["baseline_period"])
        if baseline is None or baseline[0] != baseline[1]:
            problems.append(("baseline", "a relative goal needs one baseline month (YYYY-MM)"))
        elif first != last:
            problems.append(("period", "a relative goal's target_period is one month"))
        elif baseline[0] >= first:
            problems.append(
                ("baseline", f"baseline {goal['baseline_period']} is not before the target month")
            )
        if not isinstance(value, float):
            problems.append(("target_value", "a relative goal needs target_value (e.g. -0.04)"))
        elif target_type == "relative_change_max" and value >= 0:
            problems.append(("target_value", "relative_change_max needs a fall (target_value < 0)"))
        elif target_type == "relative_change_min" and value <= 0:
            problems.append(("target_value", "relative_change_min needs a rise (target_value > 0)"))
    if target_type in AVERAGE:
        if first > last:
            problems.append(
                ("period", f"target_period {goal['target_period']} ends before it starts")
            )
        if not isinstance(value, float) or not 0 <= value <= 1:
            problems.append(
                ("target_value", "an average-share goal needs a share 0-1 (target_value)")
            )
        status = goal["reported_status_period"]
        if status and (_period(status) is None or _period(status)[0] > _period(status)[1]):
            problems.append(("period", f"reported_status_period {status!r} is not a valid period"))
    if target_type == "follow" and isinstance(value, float):
        problems.append(("target_value", "a follow-up has no target_value"))
    return problems


def _number(text: str) -> float | str | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        return text


def validate(path: Path, measures: set[str] | None = None) -> Plan:
    """The plan in ``path``, or PlanError naming file, line and rule of every problem."""
    path = Path(path)
    found = PLAN_FILE.fullmatch(path.name)
    if found is None:
        raise PlanError(
            f"{path.name}: rule file_name: a plan is named beskaeftigelsesplan_<YYYY>.csv "
            "(or .yaml), the year it is the plan for"
        )
    if not path.is_file() or path.is_symlink():
        raise PlanError(f"{path}: rule regular_file: not a regular file")
    year = int(found["year"])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PlanError(f"{path.name} line 1: rule encoding: the file is not UTF-8") from None
    measures = known_measures() if measures is None else measures
    problems: list[str] = []
    goals: list[dict] = []
    seen: dict[str, int] = {}
    for line, raw in _rows(path, text):
        goal = {c: (raw.get(c) or "").strip() for c in COLUMNS}
        for name in NUMBERS:
            goal[name] = _number(goal[name])
        for rule, what in _check_goal(goal, year, measures):
            problems.append(
                f"{path.name} line {line}: rule {rule}: goal {goal['goal_id']!r}: {what}"
            )
        if goal["goal_id"] in seen:
            problems.append(
                f"{path.name} line {line}: rule unique_goal_id: goal {goal['goal_id']!r} is "
                f"also on line {seen[goal['goal_id']]}"
            )
        seen.setdefault(goal["goal_id"], line)
        goals.append({c: (None if v == "" else v) for c, v in goal.items()})  # empty: null
    if not goals:
        problems.append(f"{path.name} line 1: rule not_empty: the plan has no goals")
    if problems:
        shown = problems[:10] + ([f"and {len(problems) - 10} more"] if len(problems) > 10 else [])
        raise PlanError("plan refused: " + "; ".join(shown))
    return Plan(year, path, tuple(goals))


def plan_files(plans_dir: Path) -> list[Path]:
    """The plan files in ``plans_dir`` (every file there must be one)."""
    if not plans_dir.is_dir():
        return []
    files = sorted(p for p in plans_dir.iterdir() if not p.name.startswith("."))
    years: dict[int, Path] = {}
    for path in files:
        found = PLAN_FILE.fullmatch(path.name)
        if found is None:
            raise PlanError(
                f"{path}: rule file_name: only beskaeftigelsesplan_<YYYY>.csv/.yaml belong in "
                f"{plans_dir}"
            )
        year = int(found["year"])
        if year in years:
            raise PlanError(
                f"{path.name}: rule one_plan_a_year: {years[year].name} is the {year} plan too"
            )
        years[year] = path
    return files


def plans_in_force(plans_dir: Path) -> list[Plan]:
    """Every plan in ``plans_dir``, validated; the shipped 2019 plan if there is none."""
    files = plan_files(plans_dir) or [
        shipped_plans_dir() / f"beskaeftigelsesplan_{DEFAULT_PLAN_YEAR}.csv"
    ]
    measures = known_measures()
    return [validate(path, measures) for path in files]


PLAN_TABLE = "raw.plan_goals"


def ensure_plan_table(con) -> None:
    numbers = {"target_value", "approx_target_ftp", "reported_status_value"}
    columns = ", ".join(f"{c} {'double' if c in numbers else 'varchar'}" for c in COLUMNS)
    con.execute(f"create table if not exists {PLAN_TABLE} (plan_year integer not null, {columns})")
    if not con.execute(f"select count(*) from {PLAN_TABLE}").fetchall()[0][0]:
        shipped = shipped_plans_dir() / f"beskaeftigelsesplan_{DEFAULT_PLAN_YEAR}.csv"
        store_plans(con, [validate(shipped)])


def store_plans(con, plans: list[Plan]) -> bool:
    """Make ``raw.plan_goals`` hold ``plans``; True if that changed it."""
    from lmkpi.warehouse.db import replace_rows

    rows = [(plan.year, *(goal[c] for c in COLUMNS)) for plan in plans for goal in plan.goals]
    return replace_rows(con, PLAN_TABLE, ["plan_year", *COLUMNS], rows)
