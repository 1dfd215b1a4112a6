"""Each step of a load on its own (lmkpi.load composes them): archive, history, accept, write
the month, record the audit and the check results."""

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from lmkpi.errors import AccountingError, MissingDelivery
from lmkpi.ingest import Delivery, FileRejected, deliver, find_delivery, scan_landing
from lmkpi.load import load_delivery
from lmkpi.months import Month
from lmkpi.quality import accept_rows, validate_read, write_summary
from lmkpi.settings import get_settings
from lmkpi.warehouse.archive import archive_delivery
from lmkpi.warehouse.audit import (
    LoadRecord,
    ensure_audit_tables,
    month_history,
    now,
    record_load,
)
from lmkpi.warehouse.raw import PERSON_ID_FROM_KEY, ensure_raw_tables, replace_month

from extract_builders import MARCH_2019, write_ydelser

KEY = b"test-key-not-secret-0123456789abcdef"
MARCH = Month(2019, 3)


@pytest.fixture
def march(tmp_path: Path) -> Delivery:
    return Delivery.at(write_ydelser(tmp_path / "landing", "2019-03", MARCH_2019))


def _record(delivery: Delivery, **values) -> LoadRecord:
    return LoadRecord(
        load_id="a" * 32,
        source=delivery.source,
        month=delivery.month.first_day,
        file_name=delivery.file_name,
        archived_path="archive/x",
        checksum_sha256=delivery.sha256,
        size_bytes=delivery.size,
        triggered_by="test",
        run_id=None,
        started_at=now(),
        **values,
    )


def test_delivery_is_found_by_its_name_alone(tmp_path: Path, march: Delivery) -> None:
    landing = tmp_path / "landing"
    (landing / "ydelser" / "notes.txt").write_text("not a delivery")
    (landing / "ydelser" / "ydelser_2019-03.CSV").write_text("misnamed")
    scan = scan_landing(landing)
    assert [d.file_name for d in scan.deliveries] == ["ydelser_2019-03.csv"]
    assert sorted(p.name for p in scan.misnamed) == ["notes.txt", "ydelser_2019-03.CSV"]
    found = find_delivery(landing, "ydelser", MARCH)
    assert (found.month, found.format, found.size) == (MARCH, "csv", march.size)
    with pytest.raises(MissingDelivery, match="expected ydelser_2019-04.csv or ydelser_2019-04"):
        find_delivery(landing, "ydelser", Month(2019, 4))
    (landing / "ydelser" / "ydelser_2019-03.parquet").write_bytes(b"PAR1")
    with pytest.raises(FileRejected, match="keep exactly one file"):
        find_delivery(landing, "ydelser", MARCH)


def test_deliver_copies_whole_files_only(tmp_path: Path, march: Delivery) -> None:
    [copy] = deliver([march], tmp_path / "home" / "landing")
    assert copy.sha256 == march.sha256 and copy.path.parent.name == "ydelser"
    assert not list(copy.path.parent.glob(".*partial"))


def test_archive_keeps_every_version_once(tmp_path: Path, march: Delivery) -> None:
    first = archive_delivery(march, tmp_path / "archive")
    assert first == archive_delivery(march, tmp_path / "archive")  # same bytes: one copy
    assert first.read_bytes() == march.path.read_bytes()
    assert first.parent == tmp_path / "archive" / "ydelser" / "2019-03"
    write_ydelser(march.path.parents[1], "2019-03", MARCH_2019[:2])
    second = archive_delivery(Delivery.at(march.path), tmp_path / "archive")
    assert second != first and len(list(first.parent.iterdir())) == 2


def test_accept_rows_accounts_for_every_row(march: Delivery) -> None:
    from extract_builders import read_file

    result = read_file("ydelser", march.path, key=KEY)
    report = validate_read(result)
    accepted = accept_rows(result, report)
    assert accepted.rows_read == accepted.frame.height + accepted.rows_rejected == 6
    broken = result.__class__(**{**result.__dict__, "rows_read": 7})
    with pytest.raises(AccountingError, match="rows read 7 != rows loaded 6"):
        accept_rows(broken, report)


def test_write_summary_names_source_month_and_load(tmp_path: Path, march: Delivery) -> None:
    from extract_builders import read_file

    report = validate_read(read_file("ydelser", march.path, key=KEY))
    html = write_summary(report, tmp_path / "quality", "abcdefghijklmnop" * 2)
    assert html.parent == tmp_path / "quality" / "ydelser" / "2019-03"
    assert html.name == "ydelser_2019-03_abcdefghijkl.html" and html.with_suffix(".md").exists()


def test_replace_month_and_record_in_one_transaction(tmp_path: Path, march: Delivery) -> None:
    from extract_builders import read_file

    result = read_file("ydelser", march.path, key=KEY)
    report = validate_read(result)
    accepted = accept_rows(result, report)
    with duckdb.connect(str(tmp_path / "work.duckdb")) as con:
        ensure_audit_tables(con)
        ensure_raw_tables(con)
        assert month_history(con, "ydelser", MARCH).loaded_id is None
        con.execute("begin transaction")
        replace_month(con, "ydelser", MARCH, accepted.frame, "a" * 32)
        record = _record(march, outcome="loaded", rows_read=6, rows_loaded=6)
        record_load(con, record, report, accepted.rejects)
        con.execute("commit")
        assert con.execute("select count(*) from raw.ydelser").fetchone() == (6,)
        # person_id: the pseudonym's bits as one number, the same as from its letters
        assert con.execute(
            f"select count(distinct person_id), count(*) filter (where person_id is null "
            f"or person_id <> {PERSON_ID_FROM_KEY}) from raw.ydelser"
        ).fetchone() == (accepted.frame["person_key"].n_unique(), 0)
        assert con.execute("select month from audit.pending_months").fetchall() == [
            (date(2019, 3, 1),)
        ]
        checks = pl.DataFrame(
            con.execute(
                "select rule, severity, outcome, failing_rows from audit.check_results "
                "where load_id = ? order by rule",
                ["a" * 32],
            ).fetchall(),
            schema=["rule", "severity", "outcome", "failing_rows"],
            orient="row",
        )
        history = month_history(con, "ydelser", MARCH)
    assert checks.height == len(report.outcomes) and set(checks["outcome"]) == {"passed"}
    assert "rows_rejected_share" in checks["rule"].to_list()
    assert (history.loaded_id, history.loaded_sha256) == ("a" * 32, march.sha256)


def test_load_delivery_composes_the_steps(lmkpi_home: Path, march: Delivery) -> None:
    settings = get_settings()
    outcome = load_delivery(march, settings, key=KEY, triggered_by="test")
    assert outcome.record.outcome == "loaded" and outcome.record.rows_loaded == 6
    again = load_delivery(march, settings, key=KEY, triggered_by="test")
    assert again.record.outcome == "unchanged" and outcome.record.load_id in again.record.message
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        audit = con.execute(
            "select outcome, superseded_load_id from audit.load_audit order by finished_at"
        ).fetchall()
        checks = con.execute("select count(distinct load_id) from audit.check_results").fetchone()
    assert audit == [("loaded", None), ("unchanged", None)] and checks == (1,)


@pytest.mark.parametrize(
    "name",
    ["ydelser_2019-04.CSV", "ydelser_2019-04-4.csv", "ydelser 2019-04.csv", "ydelser_2019‐04.csv"],
)
def test_a_misnamed_delivery_is_reported_with_the_name_expected(tmp_path: Path, name: str) -> None:
    """Issue 17 item 11: it used to be copied and silently ignored."""
    folder = tmp_path / "landing" / "ydelser"
    folder.mkdir(parents=True)
    (folder / name).write_text("cpr;kommunekode\n")
    with pytest.raises(MissingDelivery) as info:
        find_delivery(tmp_path / "landing", "ydelser", Month(2019, 4))
    message = str(info.value)
    assert "expected ydelser_2019-04.csv" in message
    if "2019-04" in name:
        assert "does not follow the naming rule (bad_file_name): rename it" in message
    [refused] = scan_landing(tmp_path / "landing").refused
    assert refused.error.rule == "bad_file_name" and "ydelser_2019-10.csv" in refused.error.message


def test_full_width_digits_in_a_name_are_not_a_month(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "ydelser"
    folder.mkdir(parents=True)
    (folder / "ydelser_２０１９-04.csv").write_text("x")
    assert not scan_landing(tmp_path / "landing").deliveries


def test_raw_tables_of_an_earlier_version_get_person_id_from_their_pseudonyms(
    tmp_path: Path, march: Delivery
) -> None:
    from extract_builders import read_file

    frame = read_file("ydelser", march.path, key=KEY).frame
    with duckdb.connect(str(tmp_path / "work.duckdb")) as con:
        ensure_audit_tables(con)
        ensure_raw_tables(con)
        con.execute("begin transaction")
        replace_month(con, "ydelser", MARCH, frame, "a" * 32)
        con.execute("commit")
        loaded = con.execute("select line_number, person_id from raw.ydelser order by 1").fetchall()
        con.execute("alter table raw.ydelser drop column person_id")  # as an earlier version
        ensure_raw_tables(con)
        upgraded = con.execute("select line_number, person_id from raw.ydelser order by 1")
        assert upgraded.fetchall() == loaded and all(p is not None for _, p in loaded)
