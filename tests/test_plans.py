"""Employment plans as files: validated with file, line and rule; several years side by side."""

import shutil
from pathlib import Path

import duckdb
import pytest

from lmkpi.employment_plan import (
    PlanError,
    ensure_plan_table,
    plans_in_force,
    shipped_plans_dir,
    store_plans,
    validate,
)

HEADER = (
    "goal_id,kind,measure,target_type,baseline_period,target_period,target_value,"
    "reported_status_period,qualitative_reason,title_da\n"
)


def _plan(tmp_path: Path, body: str, name: str = "beskaeftigelsesplan_2020.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_the_shipped_plans_are_valid():
    p2019 = validate(shipped_plans_dir() / "beskaeftigelsesplan_2019.csv")
    p2020 = validate(shipped_plans_dir() / "beskaeftigelsesplan_2020.yaml")
    assert (p2019.year, len(p2019.goals)) == (2019, 17)
    assert (p2020.year, len(p2020.goals)) == (2020, 8)
    goal_1 = next(g for g in p2020.goals if g["goal_id"] == "1")
    assert (goal_1["baseline_period"], goal_1["target_value"]) == ("2019-10", -0.03)
    assert all(g["title_da"].startswith("EKSEMPEL") for g in p2020.goals if g["kind"] == "goal")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "1,goal,ftp_nope,relative_change_max,2019-10,2020-10,-0.04,,,Fald\n",
            "line 2: rule known_measure: goal '1': measure 'ftp_nope' is not in the KPI",
        ),
        (
            "1,goal,ftp_public_benefits,relative_change_max,2020-10,2020-10,-0.04,,,Fald\n",
            "line 2: rule baseline: goal '1': baseline 2020-10 is not before the target month",
        ),
        (
            "1,goal,ftp_public_benefits,relative_change_max,2019-10,2020-10,0.04,,,Fald\n",
            "line 2: rule target_value: goal '1': relative_change_max needs a fall",
        ),
        (
            "4,goal,share_sickness_partially_recovered,monthly_average_min,,2020-01/2020-12,"
            "26,,,Andel\n",
            "line 2: rule target_value: goal '4': an average-share goal needs a share 0-1",
        ),
        (
            "4,goal,share_sickness_partially_recovered,monthly_average_min,,2020-12/2020-01,"
            "0.26,,,Andel\n",
            "line 2: rule period: goal '4': target_period 2020-12/2020-01 ends before it starts",
        ),
        (
            "1,goal,ftp_public_benefits,relative_change_max,2018-10,2019-10,-0.04,,,Fald\n",
            "line 2: rule plan_year: goal '1': target_period 2019-10 does not end in 2020",
        ),
        (
            "9,goal,,qualitative,,2020-01/2020-12,,,,Kvalitativt\n",
            "line 2: rule qualitative_reason: goal '9': say why it is not measured",
        ),
        (
            "1,goal,ftp_public_benefits,relative_change_max,2019-10,2020-10,-0.04,,,\n",
            "line 2: rule title_da: goal '1': the Danish title (title_da) is empty",
        ),
        (
            "1,goal,ftp_public_benefits,relative_change_max,2019-10,2020-10,-0.04,,,A\n"
            "1,goal,ftp_public_benefits,relative_change_max,2019-11,2020-11,-0.04,,,B\n",
            "line 3: rule unique_goal_id: goal '1' is also on line 2",
        ),
        (
            "1,goal,ftp_public_benefits,sometimes,2019-10,2020-10,-0.04,,,A\n",
            "line 2: rule known_target_type: goal '1': target_type 'sometimes' is not one of",
        ),
    ],
)
def test_a_bad_plan_is_refused_with_file_line_and_rule(tmp_path, body, expected):
    with pytest.raises(PlanError) as caught:
        validate(_plan(tmp_path, body))
    assert f"beskaeftigelsesplan_2020.csv {expected}" in str(caught.value)


def test_a_plan_file_is_named_for_its_year_and_one_per_year(tmp_path):
    with pytest.raises(PlanError, match="rule file_name"):
        validate(_plan(tmp_path, "", name="plan2020.csv"))
    plans = tmp_path / "plans"
    plans.mkdir()
    shutil.copy(shipped_plans_dir() / "beskaeftigelsesplan_2020.yaml", plans)
    (plans / "beskaeftigelsesplan_2020.csv").write_text(HEADER, encoding="utf-8")
    with pytest.raises(PlanError, match="rule one_plan_a_year"):
        plans_in_force(plans)


def test_a_yaml_plan_names_the_line_of_the_goal(tmp_path):
    path = tmp_path / "beskaeftigelsesplan_2021.yaml"
    path.write_text(
        "goals:\n"
        "  - goal_id: '1'\n    kind: goal\n    measure: ftp_public_benefits\n"
        "    target_type: relative_change_max\n    baseline_period: 2020-10\n"
        "    target_period: 2021-10\n    target_value: -0.02\n    title_da: Fald\n"
        "  - goal_id: '2'\n    kind: goal\n    measure: ftp_unknown\n"
        "    target_type: relative_change_max\n    baseline_period: 2020-10\n"
        "    target_period: 2021-10\n    target_value: -0.02\n    title_da: Fald\n",
        encoding="utf-8",
    )
    with pytest.raises(PlanError, match=r"yaml line 10: rule known_measure: goal '2'"):
        validate(path)


def test_plans_in_force_default_to_2019_and_store_only_on_change(tmp_path):
    assert [p.year for p in plans_in_force(tmp_path / "none")] == [2019]
    plans = tmp_path / "plans"
    plans.mkdir()
    for name in ("beskaeftigelsesplan_2019.csv", "beskaeftigelsesplan_2020.yaml"):
        shutil.copy(shipped_plans_dir() / name, plans)
    both = plans_in_force(plans)
    with duckdb.connect(str(tmp_path / "work.duckdb")) as con:
        con.execute("create schema raw")
        ensure_plan_table(con)  # the shipped 2019 plan until the home's are stored
        assert con.sql("select count(*) from raw.plan_goals").fetchall() == [(17,)]
        assert store_plans(con, both) is True
        assert store_plans(con, both) is False  # unchanged: no rebuild needed
        counts = con.sql(
            "select plan_year, count(*) from raw.plan_goals group by 1 order by 1"
        ).fetchall()
    assert counts == [(2019, 17), (2020, 8)]


@pytest.mark.e2e
def test_two_plan_years_load_and_a_bad_plan_or_scenario_leaves_the_warehouse_as_it_was(
    lmkpi_home, tmp_path, dbt_manifest
):
    import os

    from fixtures.report.page import cells
    from test_restatements import deliver

    from lmkpi.months import Month
    from lmkpi.orchestration import run_monthly_load
    from lmkpi.report import build_report
    from lmkpi.settings import get_settings
    from lmkpi.synth import generate

    extracts = tmp_path / "extracts"
    generate(extracts, start="2019-10", end="2020-01", municipalities=[173], scale=0.05, seed=4)
    months = [Month(2019, 10), Month(2019, 11), Month(2019, 12), Month(2020, 1)]
    for month in months:
        deliver(lmkpi_home, extracts, month)
    settings = get_settings()
    settings.plans_dir.mkdir(parents=True)
    for name in ("beskaeftigelsesplan_2019.csv", "beskaeftigelsesplan_2020.yaml"):
        shutil.copy(shipped_plans_dir() / name, settings.plans_dir)
    outcome = run_monthly_load(settings, months[0], months[-1], triggered_by="test")
    assert outcome.success, outcome.errors

    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        per_plan = con.sql(
            "select plan_year, count(*) from marts.dim_goal group by 1 order by 1"
        ).fetchall()
        ((progress, now, baseline),) = con.sql(
            """
            select g.progress, n.value, b.value
            from marts.fct_goal_indicators g
            join marts.fct_kpi_measures n on n.measure = g.measure
                and n.municipality_code = 173 and n.month = date '2020-01-01'
            join marts.fct_kpi_measures b on b.measure = g.measure
                and b.municipality_code = 173 and b.month = date '2019-10-01'
            where g.plan_year = 2020 and g.goal_id = '1' and g.municipality_code = 173
              and g.month = date '2020-01-01'
            """
        ).fetchall()
        final_2019 = con.sql(
            "select status from marts.fct_goal_indicators where plan_year = 2019 "
            "and goal_id = '4' and municipality_code = 173 and month = date '2019-12-01'"
        ).fetchall()[0][0]
    assert per_plan == [(2019, 17), (2020, 8)]
    assert progress == pytest.approx(now / baseline - 1)  # 2020's goal 1 from its own baseline
    assert final_2019 in ("met", "not_met")

    report = build_report(settings.warehouse_db, 173, "2020-01", tmp_path / "january")
    html = report.html.read_text(encoding="utf-8")
    shown = cells(html)
    assert "Status for Beskæftigelsesplan 2020" in html
    assert "Resultatrevision: Beskæftigelsesplan 2019" in html
    assert shown["final-2019-4-status"] == {"met": "Nået", "not_met": "Ikke nået"}[final_2019]
    assert "EKSEMPEL: Antallet af personer der modtager offentlig forsørgelse" in html

    # A bad plan: the load fails naming file, line and rule; the warehouse is untouched.
    before = settings.warehouse_db.read_bytes(), os.stat(settings.warehouse_db).st_ino
    bad = settings.plans_dir / "beskaeftigelsesplan_2020.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("ftp_public_benefits", "ftp_typo"))
    outcome = run_monthly_load(settings, months[-1], months[-1], triggered_by="test")
    assert not outcome.success
    message = " ".join(outcome.errors)
    assert "beskaeftigelsesplan_2020.yaml line 6: rule known_measure: goal '1'" in message
    assert (settings.warehouse_db.read_bytes(), os.stat(settings.warehouse_db).st_ino) == before

    # A bad housing scenario: the same (the plan is mended first).
    shutil.copy(shipped_plans_dir() / "beskaeftigelsesplan_2020.yaml", bad)
    settings.scenarios_dir.mkdir()
    (settings.scenarios_dir / "housing_more.yaml").write_text(
        "municipality: 173\ndescription: Flere\noutflow:\n  - {rate: 2}\n", encoding="utf-8"
    )
    outcome = run_monthly_load(settings, months[-1], months[-1], triggered_by="test")
    assert not outcome.success
    assert "housing_more.yaml line 4: rule outflow" in " ".join(outcome.errors)
    assert (settings.warehouse_db.read_bytes(), os.stat(settings.warehouse_db).st_ino) == before
