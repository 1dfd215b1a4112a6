"""Quality suites and validation (issue 5): the pure path, without Dagster."""

import datetime as dt
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from lmkpi.contracts import CONTRACTS, REJECT_SCHEMA, output_schema
from lmkpi.months import Month
from lmkpi.quality import (
    MonthProfile,
    QualityConfig,
    QualityConfigError,
    file_rejected_report,
    profile,
    rejects_frame,
    validate,
    validate_read,
)
from lmkpi.quality.derived import FLAG_INPUTS, _overlaps, derive
from lmkpi.quality.suites import SCOPES, load_rules, parameters, suite_path

from extract_builders import MARCH_2019, read_file, write_ydelser

KEY = b"test-key-not-secret-0123456789abcdef"
VALID = Path(__file__).parent / "fixtures" / "extracts" / "valid"
CONFIG = QualityConfig()
OCTOBER = Month(2019, 10)
CPR_LIKE = re.compile(r"\d{6}-?\d{4}|\d{9,}")


def read(source: str, path: Path, month: str = "2019-10"):
    return read_file(source, path, month=month, key=KEY)


def valid(source: str):
    return read(source, VALID / f"{source}_2019-10.csv")


# ---------------------------------------------------------------- the suites as files


@pytest.mark.parametrize("source", list(CONTRACTS))
def test_suite_json_loads_in_great_expectations(source: str) -> None:
    import great_expectations as gx

    with suite_path(source).open(encoding="utf-8") as f:
        suite = gx.ExpectationSuite(**json.load(f))
    assert suite.name == source
    rules = load_rules(source)  # checks meta, severities, scopes, unique rule ids
    assert len(suite.expectations) == len(rules)
    for expectation, rule in zip(suite.expectations, rules, strict=True):
        assert expectation.meta["rule"] == rule.rule
        assert expectation.severity.value == rule.severity == expectation.meta["severity"]


@pytest.mark.parametrize("source", list(CONTRACTS))
def test_suite_parameters_and_columns_are_all_supplied(source: str) -> None:
    text = suite_path(source).read_text(encoding="utf-8")
    used = set(re.findall(r'"\$PARAMETER": "(\w+)"', text))
    assert used <= set(parameters(source, CONFIG))
    derived = derive(source, valid(source).frame, OCTOBER).columns
    for rule in load_rules(source):
        kwargs = rule.config["kwargs"]
        for key in ("column", "column_A", "column_B"):
            if key in kwargs and rule.scope == "rows":
                assert kwargs[key] in derived, (rule.rule, kwargs[key])
        if rule.scope == "rows" and (rule.column or "").startswith("_"):
            assert rule.column in FLAG_INPUTS, rule.column
        if rule.reject_rows:
            assert rule.severity == "critical" and kwargs["mostly"] == {
                "$PARAMETER": "reject_mostly"
            }


def test_suites_cover_the_contract_rules() -> None:
    rules = {s: {r.rule for r in load_rules(s)} for s in CONTRACTS}
    assert {
        "required_columns_present",
        "kommunekode_known",
        "ydelse_known",
        "segment_start_not_after_end",
        "segment_overlaps_month",
        "no_overlapping_segments",
        "omfang_in_range",
        "visitation_required",
        "visitation_matches_benefit",
        "youth_category_under_30",
        "opholdsdato_required",
        "opholdsdato_only_with_status",
        "rows_change_by_municipality",
        "full_time_persons_change_by_municipality",
        "municipality_missing",
        "status_code_vanished",
    } <= rules["ydelser"]
    assert {"status_known", "registreret_dato_in_month", "municipality_missing"} <= rules["joblog"]
    assert {
        "vaerelser_not_negative",
        "ledige_vaerelser_not_negative",
        "vacant_not_above_rooms",
        "address_listed_once",
    } <= rules["indkvartering"]
    for source in CONTRACTS:
        required = {c for c in output_schema(source) if c != "line_number"}
        contract = CONTRACTS[source]
        for col in contract.required:
            name = "person_key" if col == "cpr" else col
            assert f"{name}_present" in rules[source], (source, name)
        assert required
        assert {r.scope for r in load_rules(source)} <= set(SCOPES)


def test_readme_lists_every_rule() -> None:
    readme = (suite_path("ydelser").parent / "README.md").read_text(encoding="utf-8")
    for source in CONTRACTS:
        for rule in load_rules(source):
            assert f"| `{rule.rule}` | {rule.severity} |" in readme, rule.rule


def test_importing_quality_does_not_import_great_expectations() -> None:
    code = "import sys, lmkpi.quality; assert 'great_expectations' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- configuration


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMKPI_QUALITY_MAX_CHANGE", "0.4")
    monkeypatch.setenv("LMKPI_QUALITY_MIN_ROWS", "10")
    monkeypatch.delenv("LMKPI_QUALITY_MAX_REJECT_SHARE", raising=False)
    config = QualityConfig.from_env()
    assert config.max_change_share == 0.4 and config.min_rows_for_change == 10
    assert config.max_reject_share == 0.01 and config.reject_mostly == pytest.approx(0.99)
    monkeypatch.setenv("LMKPI_QUALITY_MAX_CHANGE", "a lot")
    with pytest.raises(QualityConfigError, match="LMKPI_QUALITY_MAX_CHANGE"):
        QualityConfig.from_env()


# ---------------------------------------------------------------- derived flags


def _brute_overlaps(rows: list[tuple]) -> list[bool]:
    far = dt.date(9999, 12, 31)
    out = []
    for i, (p, y, s, e) in enumerate(rows):
        hit = False
        if p is not None and s is not None:
            for j, (p2, y2, s2, e2) in enumerate(rows):
                if i != j and (p2, y2) == (p, y) and s2 is not None:
                    hit = hit or (s <= (e2 or far) and s2 <= (e or far))
        out.append(hit)
    return out


def test_overlaps_agree_with_brute_force() -> None:
    rng = random.Random(5)
    base = dt.date(2019, 10, 1)
    for _ in range(200):
        rows = []
        for _ in range(rng.randint(0, 10)):
            start = base + dt.timedelta(days=rng.randint(-30, 30))
            end = None if rng.random() < 0.3 else start + dt.timedelta(days=rng.randint(0, 15))
            person = None if rng.random() < 0.05 else rng.choice("abc")
            rows.append((person, rng.choice(["KONT", "SDP"]), start, end))
        frame = pl.DataFrame(
            rows, schema={"p": pl.Utf8, "y": pl.Utf8, "s": pl.Date, "e": pl.Date}, orient="row"
        )
        assert _overlaps(frame, ["p", "y"], "s", "e").to_list() == _brute_overlaps(rows)


def test_touching_segments_overlap_but_adjacent_do_not() -> None:
    frame = pl.DataFrame(
        {
            "p": ["a", "a", "b", "b"],
            "y": ["ADAG"] * 4,
            "s": [dt.date(2019, 10, 1), dt.date(2019, 10, 15), dt.date(2019, 10, 1)] * 1
            + [dt.date(2019, 10, 16)],
            "e": [dt.date(2019, 10, 15), None, dt.date(2019, 10, 15), None],
        }
    )
    assert _overlaps(frame, ["p", "y"], "s", "e").to_list() == [True, True, False, False]


def test_visitation_and_refugee_flags() -> None:
    frame = pl.DataFrame(
        {
            "line_number": [2, 3, 4, 5, 6, 7],
            "person_key": list("abcdef"),
            "birth_date": [dt.date(1980, 1, 1)] * 4 + [dt.date(1989, 10, 15)] * 2,
            "ydelse": ["KONT", "KONT", "SDP", "UDD", "UDD", "INT"],
            "visitation": [None, "uddannelsesparat", "jobparat", "uddannelsesparat"]
            + ["aabenlyst_uddannelsesparat", "aktivitetsparat"],
            "startdato": [dt.date(2019, 10, 1)] * 5 + [dt.date(2019, 10, 20)],
            "slutdato": [None] * 6,
            "flygtningestatus": [None, None, None, None, "flygtning", "flygtning"],
            "opholdsdato": [None, dt.date(2015, 1, 1), None, None, None, dt.date(2015, 1, 1)],
        }
    )
    flags = derive("ydelser", frame, OCTOBER)
    assert flags["_visitation_missing"].to_list() == [True, False, False, False, False, False]
    assert flags["_visitation_wrong_for_benefit"].to_list() == [False, True] + [False] * 4
    assert flags["_visitation_not_expected"].to_list() == [False, False, True] + [False] * 3
    # born 1980: 39 at start; born 1989-10-15: 29 on 2019-10-01 (not flagged)
    assert flags["_youth_category_age_30_plus"].to_list() == [
        False,
        True,
        False,
        True,
        False,
        False,
    ]
    assert flags["_opholdsdato_missing"].to_list() == [False] * 4 + [True, False]
    assert flags["_opholdsdato_without_status"].to_list() == [False, True] + [False] * 4


# ---------------------------------------------------------------- validate


@pytest.mark.parametrize("source", list(CONTRACTS))
def test_valid_fixtures_pass(source: str) -> None:
    result = valid(source)
    report = validate_read(result, previous=profile(source, result.frame, OCTOBER), config=CONFIG)
    assert report.verdict == "PASSED", report.to_markdown()
    assert report.rows_checked == result.frame.height and not report.rejected_lines
    assert all(o.success and o.unexpected_count == 0 for o in report.outcomes)


def _march(tmp_path: Path, extra: list[dict]):
    path = write_ydelser(tmp_path, "2019-03", MARCH_2019 + extra)
    return read("ydelser", path, "2019-03")


def test_overlapping_segments_are_rejected_and_block_a_small_month(tmp_path: Path) -> None:
    duplicate = dict(MARCH_2019[2], startdato="2019-03-05", slutdato="2019-03-20")
    result = _march(tmp_path, [duplicate])  # same person (B) and status (KONT): lines 4, 8
    report = validate_read(result, config=CONFIG)
    assert report.rejected_lines == {4: ["no_overlapping_segments"], 8: ["no_overlapping_segments"]}
    outcome = report.outcome("no_overlapping_segments")
    assert outcome.example_lines == [4, 8] and outcome.unexpected_count == 2
    assert not outcome.success and outcome in report.blocking  # 2 of 7 rows > 1 %
    assert "ydelser_2019-03.csv: rule no_overlapping_segments" in outcome.message
    assert "lines 4, 8" in outcome.message
    records = rejects_frame(report)
    assert records.schema == pl.Schema(REJECT_SCHEMA)
    assert records.select("line_number", "rule").rows() == [
        (4, "no_overlapping_segments"),
        (8, "no_overlapping_segments"),
    ]
    assert records["column"][0] == "person_key,ydelse,startdato,slutdato"
    loaded = result.frame.filter(~pl.col("line_number").is_in(list(report.rejected_lines)))
    rejected = pl.concat([result.rejects, records])["line_number"].n_unique()
    assert result.rows_read == loaded.height + rejected  # rows read = loaded + rejected
    lenient = validate_read(result, config=QualityConfig(max_reject_share=0.5))
    assert lenient.outcome("no_overlapping_segments").success
    assert lenient.rejected_lines == report.rejected_lines and not lenient.blocking
    assert "within the allowed 50%" in lenient.outcome("no_overlapping_segments").message


def test_rejected_share_counts_reader_and_quality_rejects(tmp_path: Path) -> None:
    bad_date = dict(MARCH_2019[5], cpr="0101901235", startdato="2019-02-30")
    result = _march(tmp_path, [bad_date])
    report = validate_read(result, config=QualityConfig(max_reject_share=0.1))
    reader = report.outcome("invalid_date")
    assert reader.severity == "warning" and not reader.success and reader.example_lines == [8]
    share = report.outcome("rows_rejected_share")
    assert not share.success and share.unexpected_count == 1 and "line 8" in share.message
    assert report.rows_rejected_by_reader == 1 and report.verdict == "BLOCKED"


def test_distribution_checks(tmp_path: Path) -> None:
    result = _march(tmp_path, [])
    current = profile("ydelser", result.frame, Month.parse("2019-03"))
    assert current.rows_by_municipality == {173: 6}
    # hand-computed: A ADAG 16 + A SDP 22 + B KONT 31 + C FTP 31 days (no age filter), / 31
    assert current.full_time_persons_by_municipality[173] == pytest.approx(100 / 31)
    assert current.codes == {"ADAG", "SDP", "KONT", "FTP", "ADAG_SYG", "EFTL"}
    previous = MonthProfile(
        rows_by_municipality={173: 3, 101: 80, 147: 2},
        full_time_persons_by_municipality={173: 1.0},
        codes={"ADAG", "INT"},
        code_rows={"ADAG": 2, "INT": 9},
    )
    config = QualityConfig(min_rows_for_change=3, min_full_time_for_change=1)
    report = validate_read(result, previous=previous, config=config)
    # 101 is missing, and the month as a whole fell from 85 rows to 6
    assert [o.rule for o in report.blocking] == ["municipality_missing", "month_volume_drop"]
    assert "kommunekode 101 (80 rows last month)" in report.outcome("municipality_missing").message
    warnings = {o.rule: o for o in report.warnings}
    assert set(warnings) == {
        "rows_change_by_municipality",
        "full_time_persons_change_by_municipality",
        "small_municipality_missing",
        "status_code_vanished",
    }
    assert "173 (3 -> 6 rows, +100%)" in warnings["rows_change_by_municipality"].message
    assert "147 (2 rows last month)" in warnings["small_municipality_missing"].message
    assert "INT (9 rows last month)" in warnings["status_code_vanished"].message
    assert warnings["status_code_vanished"].example_lines == []
    assert MonthProfile.from_dict(json.loads(json.dumps(current.to_dict()))) == current


def test_a_half_file_blocks_the_month_unless_the_drop_is_accepted(tmp_path: Path) -> None:
    """Issue 17 item 9: full-time persons 3,262 -> 1,617 loaded with two warnings only."""
    result = _march(tmp_path, [])
    month = Month.parse("2019-03")
    whole = profile("ydelser", result.frame, month)
    previous = MonthProfile(
        rows_by_municipality={173: 12},
        full_time_persons_by_municipality={173: 2 * whole.full_time_persons_by_municipality[173]},
        codes=whole.codes,
    )
    config = QualityConfig(min_rows_for_change=10, min_full_time_for_change=1)
    drop = validate_read(result, previous=previous, config=config).outcome("month_volume_drop")
    assert not drop.success and drop.severity == "critical"
    assert "rows 12 -> 6 (-50%)" in drop.message and "lmkpi load --accept-drop" in drop.message
    assert drop.unexpected_share == pytest.approx(0.5)
    accepted = QualityConfig(min_rows_for_change=10, min_full_time_for_change=1, accept_drop=True)
    report = validate_read(result, previous=previous, config=accepted)
    assert report.outcome("month_volume_drop").success and not report.blocking
    assert "accepted by the operator" in report.outcome("month_volume_drop").message
    tiny = MonthProfile(rows_by_municipality={173: 9}, full_time_persons_by_municipality={})
    assert validate_read(result, previous=tiny, config=config).outcome("month_volume_drop").success


def test_no_previous_month_skips_distribution_checks() -> None:
    report = validate_read(valid("joblog"), config=CONFIG)
    assert "municipality_missing" not in {o.rule for o in report.outcomes}
    assert any("distribution checks skipped" in n for n in report.notes)


def test_frames_with_personal_data_are_refused() -> None:
    frame = valid("joblog").frame
    with pytest.raises(ValueError, match="stilling"):
        validate("joblog", frame.with_columns(stilling=pl.lit("x")), month=OCTOBER, file_name="f")
    with pytest.raises(ValueError, match="cpr"):
        validate("joblog", frame.with_columns(cpr=pl.lit("x")), month=OCTOBER, file_name="f")
    with pytest.raises(ValueError, match="unique line_number"):
        validate("joblog", pl.concat([frame, frame]), month=OCTOBER, file_name="f")


def test_missing_column_fails_required_columns_present() -> None:
    frame = valid("indkvartering").frame.drop("ledige_vaerelser")
    report = validate("indkvartering", frame, month=OCTOBER, file_name="f.csv", config=CONFIG)
    blocking = {o.rule for o in report.blocking}
    assert {"required_columns_present", "ledige_vaerelser_present"} <= blocking


# ---------------------------------------------------------------- summaries


def test_summaries_are_readable_offline_and_hold_no_personal_data(tmp_path: Path) -> None:
    duplicate = dict(MARCH_2019[2], startdato="2019-03-05", slutdato="2019-03-20")
    report = validate_read(_march(tmp_path, [duplicate]), config=CONFIG)
    markdown, page = report.to_markdown(), report.to_html()
    assert "**BLOCKED**" in markdown and "`no_overlapping_segments`" in markdown
    assert "| BLOCKING | critical | `no_overlapping_segments` |" in markdown
    assert page.startswith("<!DOCTYPE html>") and "BLOCKED" in page
    assert not re.search(r"(?i)(https?:|src=|<script|<link|@import)", page)
    as_json = json.dumps(report.to_dict())
    for text in (markdown, page, repr(report), as_json):
        assert not CPR_LIKE.search(text)
    assert json.loads(as_json)["rejected_lines"] == {"4": ["no_overlapping_segments"]} | {
        "8": ["no_overlapping_segments"]
    }


def test_file_rejected_report() -> None:
    from lmkpi.ingest import FileRejected

    error = FileRejected("ydelser_2019-10.csv", "wrong_separator", "the separator must be ';'")
    report = file_rejected_report("ydelser", OCTOBER, error)
    assert report.verdict == "BLOCKED" and report.blocking[0].rule == "wrong_separator"
    assert "ydelser_2019-10.csv: the separator must be ';'" in report.to_markdown()
