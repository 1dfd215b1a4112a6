"""End to end: extracts in a landing folder -> Dagster -> DuckDB -> dbt -> published warehouse."""

import re
import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from lmkpi.months import Month
from lmkpi.orchestration import prepare_dagster_home, run_monthly_load
from lmkpi.settings import get_settings

from extract_builders import (
    ALL_CPRS,
    APRIL_2019,
    APRIL_PLAN_FTP,
    MARCH_2019,
    MARCH_NATIONAL_FTP,
    MARCH_PLAN_FTP,
    write_ydelser,
)

pytestmark = pytest.mark.e2e

ANALYST_SESSION = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
q = "select full_time_persons_plan from marts.fct_public_benefits where month = '2019-04-01'"
print(con.execute(q).fetchall()[0][0], flush=True)
sys.stdin.readline()
print(con.execute(q).fetchall()[0][0], flush=True)
"""


def _public_benefits(db) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select strftime(month, '%Y-%m'), full_time_persons_plan, full_time_persons_national,"
            " persons_plan_overlap_removed from marts.fct_public_benefits"
            " where municipality_code = 173 order by 1"
        ).fetchall()
    return {m: (plan, national, persons) for m, plan, national, persons in rows}


# Machine identifiers: hex/uuid strings that may contain digit runs by chance. The scan checks
# that they have exactly their identifier shape (so nothing else can hide in them).
ID_COLUMNS = {
    "load_id": r"[a-p]{32}",
    "superseded_load_id": r"[a-p]{32}",
    "run_id": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "checksum_sha256": r"[0-9a-f]{64}",
}


def _all_text_values(db) -> list[str]:
    """Every string value in every table of a DuckDB file (identifier columns checked apart)."""
    values: list[str] = []
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database()"
        ).fetchall()
        for schema, table in tables:
            cols = [
                r[0]
                for r in con.execute(f'describe "{schema}"."{table}"').fetchall()
                if r[1] == "VARCHAR"
            ]
            for col in cols:
                distinct = [
                    str(v[0])
                    for v in con.execute(
                        f'select distinct "{col}" from "{schema}"."{table}"'
                    ).fetchall()
                    if v[0] is not None
                ]
                if col in ID_COLUMNS:
                    assert all(re.fullmatch(ID_COLUMNS[col], v) for v in distinct), col
                elif col.endswith(("_path", "_summary")):
                    # file paths carry sha256/load-id prefixes (hex): drop those, scan the rest
                    values += [re.sub(r"[0-9a-f]{12,}", "", v) for v in distinct]
                else:
                    values += distinct
    return values


def _materialized_ydelser(settings) -> set[str]:
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        return set(instance.get_materialized_partitions(dg.AssetKey(["raw", "ydelser"])))


def test_one_partition_through_materialize(lmkpi_home, dbt_manifest):
    from pipelines.definitions import defs

    settings = get_settings()
    write_ydelser(settings.landing_dir, "2019-03", MARCH_2019)
    prepare_dagster_home(settings)
    assets = list(defs.assets)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            assets, partition_key="2019-03-01", resources=defs.resources, instance=instance
        )
    assert result.success
    plan, national, persons = _public_benefits(settings.warehouse_db)["2019-03"]
    assert plan == pytest.approx(MARCH_PLAN_FTP)
    assert national == pytest.approx(MARCH_NATIONAL_FTP)
    assert persons == 2

    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        by_code = dict(
            con.execute(
                "select benefit_code, sum(full_time_persons) from marts.fct_full_time_persons "
                "where month = date '2019-03-01' group by 1"
            ).fetchall()
        )
    # All ages and codes are in the fact table; the measures filter them.
    assert by_code["ADAG"] == pytest.approx(16 / 31)
    assert by_code["SDP"] == pytest.approx(22 / 31)
    assert by_code["FTP"] == pytest.approx(1.0)
    assert by_code["ADAG_SYG"] == pytest.approx(14 / 31)


def test_backfill_restatement_and_no_cpr_anywhere(lmkpi_home, dbt_manifest):
    settings = get_settings()
    write_ydelser(settings.landing_dir, "2019-03", MARCH_2019)
    write_ydelser(settings.landing_dir, "2019-04", APRIL_2019)

    # A two-month backfill in one run: every month reaches every downstream table.
    outcome = run_monthly_load(
        settings, Month.parse("2019-03"), Month.parse("2019-04"), triggered_by="test"
    )
    assert outcome.success, outcome.errors
    first = _public_benefits(settings.warehouse_db)
    assert set(first) == {"2019-03", "2019-04"}
    assert first["2019-04"][0] == pytest.approx(APRIL_PLAN_FTP)

    # The same files again: a no-op for ingest, same numbers.
    assert run_monthly_load(
        settings, Month.parse("2019-03"), Month.parse("2019-04"), triggered_by="test"
    ).success
    assert _public_benefits(settings.warehouse_db) == first

    # A corrected April: B leaves KONT on 2019-04-15 -> 30/30 + 15/30 = 1.5. The load runs
    # while an analyst holds a read-only session on the published warehouse in another
    # process; that session keeps its snapshot (2.0) and the load is not disturbed.
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST_SESSION, str(settings.warehouse_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert float(analyst.stdout.readline()) == pytest.approx(APRIL_PLAN_FTP)
    corrected = [dict(r) for r in APRIL_2019]
    corrected[1]["slutdato"] = "2019-04-15"
    write_ydelser(settings.landing_dir, "2019-04", corrected)
    assert run_monthly_load(settings, Month.parse("2019-04"), triggered_by="test").success
    out, _ = analyst.communicate("\n", timeout=60)
    assert float(out) == pytest.approx(APRIL_PLAN_FTP)
    after = _public_benefits(settings.warehouse_db)
    assert after["2019-04"][0] == pytest.approx(1.5)
    assert after["2019-03"] == first["2019-03"]

    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        audit = con.execute(
            "select strftime(month, '%Y-%m'), outcome, superseded_load_id is not null "
            "from audit.load_audit order by started_at"
        ).fetchall()
    assert [a[1] for a in audit] == ["loaded", "loaded", "unchanged", "unchanged", "loaded"]
    assert audit[-1] == ("2019-04", "loaded", True)
    # The earlier April delivery stays retrievable in the archive.
    assert len(list((settings.archive_dir / "ydelser" / "2019-04").iterdir())) == 2

    cpr_like = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")
    digits = {c.replace("-", "") for c in ALL_CPRS}

    # Nor in the Dagster event log of the runs (messages, metadata, check results).
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert runs
        for run in runs:
            for record in instance.all_logs(run.run_id):
                text = record.message + repr(record.dagster_event)
                assert not any(d in text.replace("-", "") for d in digits), run.run_id
                assert not any(c in text for c in ALL_CPRS), run.run_id

    # No CPR number (or anything shaped like one) in any table of either database.
    for db in (settings.work_db, settings.warehouse_db):
        for value in _all_text_values(db):
            assert not cpr_like.search(value), f"CPR-like value in {db}: {value[:20]}"
            assert not any(d in value.replace("-", "") for d in digits)


def test_failed_load_leaves_published_warehouse_unchanged(lmkpi_home, dbt_manifest):
    settings = get_settings()
    write_ydelser(settings.landing_dir, "2019-03", MARCH_2019)
    assert run_monthly_load(settings, Month.parse("2019-03"), triggered_by="test").success
    before = settings.warehouse_db.read_bytes()

    # April's file has the wrong columns: the file is refused whole, nothing is published.
    bad = settings.landing_dir / "ydelser" / "ydelser_2019-04.csv"
    bad.write_text("personnummer;kommune;ydelse\n0101801234;173;ADAG\n", encoding="utf-8")
    outcome = run_monthly_load(settings, Month.parse("2019-04"), triggered_by="test")
    assert not outcome.success
    assert any("ydelser_2019-04.csv" in e for e in outcome.errors), outcome.errors
    assert settings.warehouse_db.read_bytes() == before


def test_missing_delivery_names_the_expected_file(lmkpi_home, dbt_manifest):
    outcome = run_monthly_load(get_settings(), Month.parse("2019-05"), triggered_by="test")
    assert not outcome.success
    assert any("ydelser_2019-05.csv" in e for e in outcome.errors), outcome.errors


def test_failing_critical_check_blocks_only_that_month(lmkpi_home, dbt_manifest):
    settings = get_settings()
    write_ydelser(settings.landing_dir, "2019-03", MARCH_2019)
    assert run_monthly_load(settings, Month.parse("2019-03"), triggered_by="test").success
    published = settings.warehouse_db.read_bytes()

    # April: B's KONT segment delivered twice, overlapping itself: a critical rule, and far
    # more than the 1 % of rows that may be rejected -> the month is blocked.
    write_ydelser(settings.landing_dir, "2019-04", [*APRIL_2019, APRIL_2019[1]])
    outcome = run_monthly_load(settings, Month.parse("2019-04"), triggered_by="test")
    assert not outcome.success
    assert any("overlap" in e for e in outcome.errors), outcome.errors
    assert settings.warehouse_db.read_bytes() == published  # nothing downstream ran
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        assert con.execute(
            "select count(*) from raw.ydelser where month = date '2019-04-01'"
        ).fetchone() == (0,)
        outcome_row = con.execute(
            "select outcome, validation_summary from audit.load_audit "
            "where month = date '2019-04-01'"
        ).fetchone()
    assert outcome_row[0] == "blocked"
    summary = open(outcome_row[1], encoding="utf-8").read()
    assert "overlap" in summary and "<script src" not in summary

    # In Dagster the blocked month is a failed partition with the reason, never a green one.
    assert _materialized_ydelser(settings) == {"2019-03-01"}
    assert any("blocked by the failed check" in e for e in outcome.errors), outcome.errors
    # A range with the blocked month in it: the month that loads is materialized on its own.
    ranged = run_monthly_load(settings, Month.parse("2019-03"), Month.parse("2019-04"))
    assert not ranged.success
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        events = instance.get_records_for_run(ranged.run_id).records
        materialized = {
            e.event_log_entry.dagster_event.partition
            for e in events
            if e.event_log_entry.dagster_event
            and e.event_log_entry.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
            and e.event_log_entry.dagster_event.asset_key == dg.AssetKey(["raw", "ydelser"])
        }
    assert materialized == {"2019-03-01"}
    # One blocking check for the suite's critical rules; every rule's outcome in its metadata.
    evaluations = {
        e.event_log_entry.dagster_event.event_specific_data.check_name: (
            e.event_log_entry.dagster_event.event_specific_data
        )
        for e in events
        if e.event_log_entry.dagster_event
        and e.event_log_entry.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_log_entry.dagster_event.event_specific_data.asset_key
        == dg.AssetKey(["raw", "ydelser"])
    }
    assert set(evaluations) == {
        "suite_critical",
        "suite_warnings",
        "file_accepted",
        "reader_row_rules",
    }
    critical = evaluations["suite_critical"]
    assert not critical.passed and "overlap" in critical.description
    table = critical.metadata["rule_results"].value
    assert "| 2019-04 | no_overlapping_segments | FAILED |" in table  # March: unchanged

    # The next month loads and publishes; April stays out until it is re-delivered.
    write_ydelser(settings.landing_dir, "2019-05", APRIL_2019)
    assert run_monthly_load(settings, Month.parse("2019-05"), triggered_by="test").success
    assert set(_public_benefits(settings.warehouse_db)) == {"2019-03", "2019-05"}


def test_a_warning_is_published_and_footnoted_in_the_report(lmkpi_home, dbt_manifest, tmp_path):
    """A loaded month with a failed warning: the published warehouse has its check row, and
    the report prints the footnote beside the numbers built from that month."""
    from fixtures.report import page

    from lmkpi.report import build_report

    settings = get_settings()
    rows = [dict(r) for r in MARCH_2019]
    rows[0]["visitation"] = "jobparat"  # ADAG does not take a visitation: a warning only
    write_ydelser(settings.landing_dir, "2019-03", rows)
    assert run_monthly_load(settings, Month.parse("2019-03"), triggered_by="test").success
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as con:
        failed = con.execute(
            "select c.rule, c.severity, c.failing_rows, c.example_lines, a.outcome "
            "from audit.check_results c join audit.load_audit a using (load_id) "
            "where c.outcome = 'failed'"
        ).fetchall()
        checked = con.execute("select count(*) from audit.check_results").fetchone()[0]
    assert failed == [("visitation_only_where_required", "warning", 1, "2", "loaded")]
    assert checked >= 28  # every rule of the suite that applied, passed or not
    files = build_report(settings.warehouse_db, 173, "2019-03", tmp_path)
    html = files.html.read_text(encoding="utf-8")
    assert page.notes(html).get("front-1-value") == "1"
    text = page.visible_text(html)
    assert "1) Advarsel fra kvalitetstjekket af ydelser for marts 2019" in text
    assert "visitation_only_where_required" in text  # section 8 lists it


def test_a_no_op_publishes_nothing_and_a_rollback_stays(lmkpi_home, dbt_manifest):
    """Issue 17 item 8: the same bytes again publish no new version (none of the kept slots is
    used up), a rollback stays until a load with new data, and the audit's lineage names the
    load whose rows were replaced."""
    from lmkpi.warehouse.publish import rollback

    settings = get_settings()
    versions = settings.warehouse_dir / "versions"
    write_ydelser(settings.landing_dir, "2019-03", MARCH_2019)
    assert run_monthly_load(settings, Month.parse("2019-03"), triggered_by="test").success
    first = settings.warehouse_db.stat().st_ino
    assert run_monthly_load(settings, Month.parse("2019-03"), triggered_by="test").success
    assert settings.warehouse_db.stat().st_ino == first and len(list(versions.iterdir())) == 1

    write_ydelser(settings.landing_dir, "2019-03", MARCH_2019[1:])  # a restated March
    assert run_monthly_load(settings, Month.parse("2019-03"), triggered_by="test").success
    assert len(list(versions.iterdir())) == 2
    rollback(settings.warehouse_db)
    assert settings.warehouse_db.stat().st_ino == first
    assert run_monthly_load(settings, Month.parse("2019-03"), triggered_by="test").success
    assert settings.warehouse_db.stat().st_ino == first, "a no-op undid the rollback"

    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        audit = con.execute(
            "select load_id, outcome, superseded_load_id from audit.load_audit order by started_at"
        ).fetchall()
    assert [a[1] for a in audit] == ["loaded", "unchanged", "loaded", "unchanged"]
    assert audit[2][2] == audit[0][0]  # the restatement replaced the first load's rows
    assert audit[1][2] is None and audit[3][2] is None
