"""Jobindsats and Statbank files through the real pipeline (issue 15): every vintage kept,
the latest the default, a revision visible only in the latest, the reconciliation of the
municipality's own figures, and Statbank's population as the denominator."""

import duckdb
import polars as pl
import pytest

from lmkpi.months import Month
from lmkpi.orchestration import run_monthly_load
from lmkpi.settings import get_settings

pytestmark = pytest.mark.e2e


def _rows(db, sql: str, params=()):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_vintages_reconciliation_and_population(lmkpi_home, dbt_manifest):
    from lmkpi.synth import generate

    settings = get_settings()
    generate(
        settings.landing_dir,
        start="2019-01",
        end="2019-03",
        person_level=[173],
        external_retrieved="2019-04-20",
        external_earlier="2019-03-20",
    )
    outcome = run_monthly_load(settings, Month(2019, 1), Month(2019, 3), triggered_by="test")
    assert outcome.success, outcome.errors
    warehouse = settings.warehouse_db

    audit = _rows(
        warehouse,
        "select source, file_name, outcome, rows_read, rows_loaded, rows_rejected "
        "from audit.load_audit where source in ('jobindsats', 'statbank') order by file_name",
    )
    assert [a[1] for a in audit] == [
        "folk1a_2019-04-20.csv",
        "jobloggen_2019-04-20.csv",
        "ptva02_2019-03-20.csv",
        "ptva02_2019-04-20.csv",
        "y01a02_2019-04-20.json",
    ]  # no Y30R21: a moving annual total needs a year of months
    assert all(a[2] == "loaded" and a[3] == a[4] + a[5] for a in audit)
    assert _rows(warehouse, "select count(*) from audit.check_results c join audit.load_audit "
                 "a using (load_id) where a.source = 'jobindsats'")[0][0] > 20  # fmt: skip

    # Two vintages of PTVA02: the earlier one holds January and February only.
    vintages = _rows(
        warehouse,
        "select retrieved_on, is_latest_vintage, count(distinct month), min(month), max(month) "
        "from marts.fct_external_benefits where source_table = 'ptva02' group by 1, 2 order by 1",
    )
    assert [(str(v[0]), v[1], v[2]) for v in vintages] == [
        ("2019-03-20", False, 2),
        ("2019-04-20", True, 3),
    ]
    # The revised February: a few municipalities changed, the rest did not.
    changed = _rows(
        warehouse,
        """
        select count(*) filter (where abs(l.full_time_persons - e.full_time_persons) > 1e-9),
               count(*)
        from marts.fct_external_benefits l
        join marts.fct_external_benefits e using (month, area_name, benefit_group)
        where l.source_table = 'ptva02' and e.source_table = 'ptva02'
          and l.is_latest_vintage and not e.is_latest_vintage
          and l.area_type = 'municipality' and l.month = '2019-02-01'
        """,
    )[0]
    assert 0 < changed[0] < changed[1] / 10
    country = _rows(
        warehouse,
        "select count(distinct area_name) from marts.fct_external_benefits "
        "where is_latest_vintage and area_type = 'municipality'",
    )
    assert country == [(98,)]

    # The reconciliation of 173's own benefit groups against Jobindsats' latest vintage.
    rec = _rows(
        warehouse,
        "select benefit_group, own_full_time_persons, external_full_time_persons, "
        "relative_difference, exceeds_tolerance, source_table from marts.fct_reconciliation "
        "where municipality_code = 173 and month = '2019-03-01' order by benefit_group",
    )
    groups = {r[0]: r for r in rec}
    assert {"total", "unemployment_insurance", "sickness_benefit"} <= set(groups)
    total = groups["total"]
    assert total[2] is not None and abs(total[3]) < 0.05 and total[5] == "ptva02"
    assert _rows(warehouse, "select count(distinct municipality_code) from "
                 "marts.fct_reconciliation")[0][0] == 1  # fmt: skip

    # Statbank's FOLK1A is the denominator where delivered.
    population = _rows(
        settings.work_db,
        "select population_source, count(*) from intermediate.int_population_months "
        "where municipality_code = 173 group by 1",
    )
    assert population == [("statbank", 3)]

    # Issue 16: the comparisons use the best source per area.
    joblog = _rows(
        warehouse,
        "select source, rank_share_red, ranked_municipalities, external_population is not null "
        "from marts.fct_joblog_benchmark where municipality_code = 173 and month = '2019-03-01'",
    )
    assert joblog[0][0] == "person" and joblog[0][1] is not None and joblog[0][2] >= 10
    assert joblog[0][3], "173's own row carries Jobindsats' row for it"
    sources = dict(
        _rows(
            warehouse,
            "select source, count(*) from marts.fct_joblog_benchmark "
            "where month = '2019-03-01' group by 1",
        )
    )
    assert sources["person"] == 1 and sources["jobindsats"] >= 97  # 97 others + the country
    rates = {
        r[0]: r[1:]
        for r in _rows(
            warehouse,
            "select area_type, per_1000_residents, source, municipalities_with_data, "
            "member_names, rank_among_municipalities, ranked_municipalities "
            "from marts.fct_benefit_benchmark where municipality_code = 173 "
            "and month = '2019-03-01' and benefit_group = 'total'",
        )
    }
    assert rates["municipality"][1] == "person" and rates["municipality"][5] == 98
    assert rates["cluster"][1] == "mixed" and rates["cluster"][2] == 7
    assert "Gentofte" in rates["cluster"][3] and "Lyngby-Taarbæk" in rates["cluster"][3]
    assert rates["country"][1] == "jobindsats" and rates["rar"][1] == "jobindsats"
    assert 0 < rates["municipality"][0] < 300 and 0 < rates["country"][0] < 300

    from fixtures.report import page

    from lmkpi.report import build_report

    files = build_report(warehouse, 173, "2019-03", settings.reports_dir)
    cells = page.cells(files.html.read_text(encoding="utf-8"))
    assert cells["joblog-mine-rank"].endswith(f"af {joblog[0][2]}")
    assert cells["rate-total-rank"] == f"{rates['municipality'][4]} af 98"
    text = page.visible_text(files.html.read_text(encoding="utf-8"))
    assert "Kilde: Lyngby-Taarbæks egne data" in text and "Jobindsats (ptva02, hentet" in text
    # the Jobloggen table, both its charts and the ranking each say where they come from
    assert text.count("Jobindsats (jobloggen, hentet") >= 4, text.count("jobloggen, hentet")

    # A bad new vintage (an area Jobindsats does not have) fails the load, naming file,
    # column and value, and leaves the published warehouse exactly as it was.
    before = warehouse.read_bytes()
    bad = settings.landing_dir / "jobindsats" / "ptva02_2019-05-20.csv"
    good = sorted(bad.parent.glob("ptva02_*.csv"))[-1].read_text(encoding="utf-8-sig")
    header, first, *_ = good.splitlines()
    bad.write_text(
        "\ufeff" + header + "\r\n" + first.replace(first.split(";")[0], "Atlantis", 1) + "\r\n",
        encoding="utf-8",
    )
    outcome = run_monthly_load(settings, Month(2019, 3), Month(2019, 3), triggered_by="test")
    assert not outcome.success
    assert "ptva02_2019-05-20.csv" in " ".join(outcome.errors) and "Atlantis" in " ".join(
        outcome.errors
    )
    assert warehouse.read_bytes() == before


def test_a_csv_export_and_the_v3_json_answer_load_to_identical_rows():
    """PTVA02 as exported from jobindsats.dk (BOM, CRLF, ';', Danish thousands separators and
    decimal commas, '..' for a hidden value) and as the API v3 answers it (columns, rows;
    numbers as JSON numbers or Danish strings, the same marks) give the same observations
    (line numbers aside: the export's count its header line)."""
    import json
    from datetime import date

    from lmkpi.external.read import read_external
    from lmkpi.external.specs import spec_for

    spec = spec_for("jobindsats", "ptva02")
    header = [
        "Område",
        "Periode",
        "Ydelsesgrupper",
        "Offentligt forsørgede: Antal personer",
        "Offentligt forsørgede: Antal fuldtidspersoner",
    ]
    csv_rows = [
        "Lyngby-Taarbæk;2019M03;A-dagpenge mv.;712;598,4",
        "Hele landet;2019M03;A-dagpenge mv.;101.402;82.211,7",
        "RAR Hovedstaden;2019M03;Kontanthjælp mv.;..;..",
        "Lyngby-Taarbæk;2019M04;Sygedagpenge mv.;1.655;1.471,25",
    ]
    exported = ("\ufeff" + "\r\n".join([";".join(header), *csv_rows]) + "\r\n").encode()
    answer = json.dumps(
        {
            "columns": header,
            "rows": [
                ["Lyngby-Taarbæk", "2019M03", "A-dagpenge mv.", 712, 598.4],
                ["Hele landet", "2019M03", "A-dagpenge mv.", 101402, 82211.7],
                ["RAR Hovedstaden", "2019M03", "Kontanthjælp mv.", "..", ".."],
                ["Lyngby-Taarbæk", "2019M04", "Sygedagpenge mv.", "1.655", "1.471,25"],
            ],
        },
        ensure_ascii=False,
    ).encode()
    vintage = date(2019, 5, 20)
    from_csv = read_external(spec, exported, "ptva02_2019-05-20.csv", "csv", vintage)
    from_json = read_external(spec, answer, "ptva02_2019-05-20.json", "json", vintage)
    assert (
        (from_csv.rows_read, from_csv.rows_loaded)
        == (4, 4)
        == (
            from_json.rows_read,
            from_json.rows_loaded,
        )
    )
    assert from_csv.rejects.is_empty() and from_json.rejects.is_empty()
    content = [c for c in from_csv.frame.columns if c != "line_number"]
    assert (
        from_csv.frame.select(content)
        .sort(content)
        .equals(from_json.frame.select(content).sort(content))
    )
    assert from_csv.frame["line_number"].min() == 2 and from_json.frame["line_number"].min() == 1
    values = from_csv.frame.filter(pl.col("value").is_not_null())["value"].to_list()
    assert 82211.7 in values and 1471.25 in values and 101402 in values
    hidden = from_csv.frame.filter(pl.col("value").is_null())
    assert hidden.height == 2 and set(hidden["value_flag"]) == {".."}  # null, the mark kept
