"""Housing scenarios: validated files (file, line, rule), and the report's verdicts."""

from datetime import date
from pathlib import Path

import pytest

from lmkpi.housing_scenarios import ScenarioError, validate
from lmkpi.report.housing import verdict_line

SHIPPED = Path(__file__).resolve().parents[1] / "lmkpi" / "scenarios"


def test_the_demo_scenarios_are_valid():
    names = {validate(p).name: validate(p) for p in sorted(SHIPPED.glob("*.yaml"))}
    assert set(names) == {"other_buildings", "buddingevej", "relaxed_criteria"}
    rows = {r[4]: r for r in names["buddingevej"].rows}
    assert rows["rooms"][5:9] == (date(2020, 7, 1), None, 8.0, "Buddingevej 39")
    assert rows["arrivals"][7] == 2.75  # 0.75 quota refugees + 2 family members a month
    assert {r[4] for r in names["relaxed_criteria"].rows} >= {"outflow_rate"}


def _scenario(tmp_path: Path, body: str, name: str = "housing_test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


GOOD = "municipality: 173\ndescription: Test\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            GOOD + "outflow:\n  - {from: 2020-02, rate: 3}\n",
            "line 4: rule outflow: rate is a share",
        ),
        (
            GOOD + "outflow:\n  - {from: 2020-02, rate: 0.1, count: 2}\n",
            "line 4: rule outflow: give either rate",
        ),
        (GOOD + "arrivals:\n  - {from: 2020-13, refugees: 1}\n", "line 4: rule month: '2020-13'"),
        (
            GOOD + "arrivals:\n  - {from: 2020-05, to: 2020-02, refugees: 1}\n",
            "line 4: rule period: to 2020-02 is before from 2020-05",
        ),
        (GOOD + "arrivals:\n  - {from: 2020-02}\n", "line 4: rule arrivals: give refugees"),
        (
            GOOD + "open:\n  - {address: X, month: 2020-07, rooms: -3}\n",
            "line 4: rule number: rooms must be a number >= 1",
        ),
        (GOOD + "rooms_per_person: 2\n", "line 3: rule known_key: 'rooms_per_person'"),
        ("municipality: 173\n", "line 1: rule description"),
        ("municipality: 9999\ndescription: x\n", "line 1: rule municipality"),
    ],
)
def test_a_bad_scenario_is_refused_with_file_line_and_rule(tmp_path, body, expected):
    with pytest.raises(ScenarioError) as caught:
        validate(_scenario(tmp_path, body))
    assert f"housing_test.yaml {expected}" in str(caught.value)


def test_baseline_is_reserved_and_names_are_checked(tmp_path):
    with pytest.raises(ScenarioError, match="rule reserved_name"):
        validate(_scenario(tmp_path, GOOD, "housing_baseline.yaml"))
    with pytest.raises(ScenarioError, match="rule file_name"):
        validate(_scenario(tmp_path, GOOD, "scenario Buddingevej.yaml"))


def _rows(housed, capacity):
    months = [date(2020, m, 1) for m in range(2, 2 + len(housed))]
    out = next((m for m, h, c in zip(months, housed, capacity, strict=True) if h > c), None)
    return [
        {
            "month": m,
            "housed": h,
            "capacity": c,
            "places_short": max(h - c, 0.0),
            "capacity_runs_out_month": out,
        }
        for m, h, c in zip(months, housed, capacity, strict=True)
    ]


def test_verdicts_say_when_the_capacity_runs_out_and_by_how_much():
    lasts = verdict_line("Basis", _rows([106.2, 107.0, 108.4], [114.0, 114.0, 114.0]))
    assert (
        lasts == "Basis: Kapaciteten rækker til og med april 2020 (højst 108 beboere, 114 pladser)."
    )
    short = verdict_line("Buddingevej 39", _rows([113.0, 115.4, 117.0], [114.0, 114.0, 114.0]))
    # 1.4 places short in March: 2 places (a place is whole); 3 at most by April
    assert short == "Buddingevej 39: Mangler 2 pladser fra marts 2020 (op til 3 inden april 2020)."
