"""The bad-input corpus (issue 5): every case in tests/bad_inputs/cases.toml, read and validated
through the pure path (read_extract + validate_read), must have its declared outcome, name
the problem (file name, rule, line numbers) and never show a CPR number or free text.

The pipeline-level check (the published warehouse is unchanged) lives with the pipeline tests.
"""

import gzip
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lmkpi.external.read import read_external
from lmkpi.external.specs import EXTERNAL_SOURCES, spec_for
from lmkpi.external.validate import validate_external
from lmkpi.ingest import Delivery, FileRejected, ReadResult
from lmkpi.months import Month
from lmkpi.quality import (
    MonthProfile,
    QualityConfig,
    ValidationReport,
    check_catalogue,
    file_rejected_report,
    rejects_frame,
    validate_read,
)

from extract_builders import read_file

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))["case"]
KEY = b"test-key-not-secret-0123456789abcdef"
CONFIG = QualityConfig()  # the defaults, whatever the environment says
CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")
DIGIT_RUN = re.compile(r"\d{9,}")
EXPECTED = {"rejected_file", "rejected_rows", "blocked", "warning", "loaded"}


# ---------------------------------------------------------------- building the delivered file


def _cpr(i: int) -> str:
    """A valid CPR number for pad person i (born 1960-1989; digit 7 in 2-3: 1900s)."""
    day, month, year = i % 28 + 1, i // 28 % 12 + 1, 60 + i // 336 % 30
    return f"{day:02d}{month:02d}{year:02d}{2000 + i % 2000:04d}"


def _pad_row(source: str, i: int) -> dict[str, str]:
    if source == "ydelser":
        return {"cpr": _cpr(i), "kommunekode": "173", "ydelse": "ADAG", "startdato": "2019-10-01"}
    if source == "joblog":
        return {
            "cpr": _cpr(i),
            "kommunekode": "173",
            "soegning_id": f"P-{i}",
            "registreret_dato": "2019-10-05",
            "status": "Søgt",
        }
    return {
        "kommunekode": "173",
        "adresse": f"Padvej {i}",
        "vaerelser": "4",
        "ledige_vaerelser": "1",
        "indkvarterede": "3",
    }


def _append_pad(path: Path, source: str, n: int) -> None:
    data = path.read_bytes()
    header = data.split(b"\n", 1)[0].decode("latin-1").lstrip("\ufeff\xef\xbb\xbf").strip()
    names = [name.strip() for name in header.split(";")]
    rows = [";".join(_pad_row(source, i).get(name, "") for name in names) for i in range(n)]
    encoding = (
        "cp1252" if b"\xef\xbb\xbf" not in data[:3] and source == "indkvartering" else "utf-8"
    )
    glue = b"" if data.endswith(b"\n") else b"\n"
    path.write_bytes(data + glue + ("\n".join(rows) + "\n").encode(encoding))


JOBLOG_HEADER = "cpr;kommunekode;soegning_id;registreret_dato;status;stilling;arbejdsgiver"
JOBLOG_ROW = "0101901235;173;S-1001;2019-10-02;Søgt;Lagermedarbejder;Firma A/S"


def build_huge_free_text(path: Path) -> None:
    huge = "Y" * 300_000
    rows = [JOBLOG_HEADER, JOBLOG_ROW, f"2302851118;173;S-2001;2019-10-31;Søgt;{huge};Café"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def build_huge_soegning_id(path: Path) -> None:
    huge = "Z" * 5_000
    rows = [JOBLOG_HEADER, JOBLOG_ROW, f"2302851118;173;{huge};2019-10-31;Søgt;Kok;Café"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def build_large_ydelser(path: Path, n: int = 100_000) -> None:
    """A large, valid month: n persons, each with one segment (vectorised, ~0.2 s)."""
    i = np.arange(n)
    day, month, year = i % 28 + 1, i // 28 % 12 + 1, 60 + i // 336 % 30
    serial = 2000 + i // 10_080 % 2000
    codes = np.array(["ADAG", "SDP", "FTP", "FLEX", "SU", "BESK"])
    frame = pl.DataFrame(
        {
            "cpr": [
                f"{d:02d}{m:02d}{y:02d}{s:04d}"
                for d, m, y, s in zip(day, month, year, serial, strict=True)
            ],
            "kommunekode": np.where(i % 3 == 0, 101, 173),
            "ydelse": codes[i % len(codes)],
            "startdato": "2019-09-15",
            "slutdato": np.where(i % 2 == 0, "2019-10-20", ""),
            "omfang": "1",
        }
    )
    frame.write_csv(path, separator=";")


def build_kont_renamed_kh(path: Path) -> None:
    """A month whose every KONT segment arrives as 'KH' (40 of 100 rows)."""
    rows = ["cpr;kommunekode;ydelse;startdato"] + [
        f"{_cpr(i)};173;{'KH' if i % 5 < 2 else 'ADAG'};2019-10-01" for i in range(100)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


BUILDERS = {
    "kont_renamed_kh": build_kont_renamed_kh,
    "gzip_csv": lambda path: path.write_bytes(
        gzip.compress((CORPUS / "ydelser" / "cpr_with_letters.csv").read_bytes())
    ),
    "huge_free_text": build_huge_free_text,
    "huge_soegning_id": build_huge_soegning_id,
    "large_ydelser": build_large_ydelser,
}


def deliver(case: dict, directory: Path) -> Path:
    month = case.get("month", "2019-10")
    ext = Path(case["file"]).suffix if "file" in case else ".csv"
    path = directory / case.get("deliver_as", f"{case['source']}_{month}{ext}")
    if "file" in case:
        shutil.copyfile(CORPUS / case["file"], path)
    else:
        BUILDERS[case["builder"]](path)
    if case.get("pad"):
        _append_pad(path, case["source"], case["pad"])
    return path


def previous_profile(case: dict) -> MonthProfile | None:
    spec = case.get("previous")
    if spec is None:
        return None
    return MonthProfile(
        rows_by_municipality={int(k): v for k, v in spec["rows"].items()},
        full_time_persons_by_municipality={
            int(k): float(v) for k, v in spec.get("full_time", {}).items()
        },
        codes=set(spec.get("codes", {})),
        code_rows=dict(spec.get("codes", {})),
    )


# ---------------------------------------------------------------- what must hold for every case


def _input_cprs(path: Path) -> set[str]:
    """CPR-like tokens in the delivered file, in both spellings."""
    text = path.read_bytes().decode("latin-1")
    found = set()
    for token in CPR_LIKE.findall(text):
        digits = token.replace("-", "")
        found |= {digits, f"{digits[:6]}-{digits[6:]}"}
    return found


def _texts(result: ReadResult | None, report: ValidationReport) -> list[str]:
    texts = [report.to_markdown(), report.to_html(), repr(report)]
    texts += [o.message for o in report.outcomes]
    if result is not None:
        texts += result.rejects.get_column("message").to_list()
        texts += list(result.warnings)
        for name, dtype in result.frame.schema.items():
            if dtype == pl.Utf8:
                texts += result.frame.get_column(name).drop_nulls().unique().to_list()
    return texts


def _assert_nothing_personal(case: dict, path: Path, texts: list[str]) -> None:
    """No CPR-like token and no run of 9+ digits anywhere; no input CPR, no `never` string."""
    everything = "\n".join(texts)
    found = CPR_LIKE.search(everything) or DIGIT_RUN.search(everything)
    assert found is None, (case["id"], everything[max(found.start() - 80, 0) : found.end() + 80])
    cprs = _input_cprs(path)
    if len(cprs) < 1_000:  # the large case is covered by the digit-run check above
        for secret in cprs:
            assert secret not in everything, (case["id"], "CPR in output")
    for secret in case.get("never", []):
        assert secret not in everything, (case["id"], secret)


def _rejected(result: ReadResult, report: ValidationReport, rule: str) -> list[int]:
    """Lines rejected for `rule`, by the reader or by the quality rules."""
    by_reader = result.rejects.filter(pl.col("rule") == rule).get_column("line_number")
    by_suite = [line for line, rules in report.rejected_lines.items() if rule in rules]
    return sorted(set(by_reader.to_list()) | set(by_suite))


def _names_lines(message: str, lines: list[int]) -> None:
    assert "line" in message, message
    for line in lines[:20]:
        assert re.search(rf"\b{line}\b", message), (line, message)


EXTERNAL = [c for c in CASES if c["source"] in EXTERNAL_SOURCES]
PERSON_LEVEL = [c for c in CASES if c["source"] not in EXTERNAL_SOURCES]


@pytest.mark.parametrize("case", EXTERNAL, ids=[c["id"] for c in EXTERNAL])
def test_bad_external_input(case: dict, tmp_path: Path) -> None:
    """A Jobindsats or Statbank file: refused naming file, column and value, or read and
    validated with the suite made from its spec."""
    path = deliver(case, tmp_path)
    try:
        delivery = Delivery.at(path, case["source"])
        spec = spec_for(delivery.source, delivery.table)
        read = read_external(spec, path.read_bytes(), path.name, delivery.format, delivery.vintage)
    except FileRejected as error:
        assert case["expected"] == "rejected_file", f"{case['id']}: refused: {error}"
        assert error.rule == case["rule"], str(error)
        assert str(error).startswith(f"{path.name}: "), str(error)
        assert case["contains"] in error.message, error.message
        return
    assert case["expected"] != "rejected_file", f"{case['id']}: the file was read"
    report = validate_external(read)
    assert read.rows_read == read.rows_loaded + read.rows_rejected
    blocking = [o.rule for o in report.blocking]
    if case["expected"] == "loaded":
        assert not blocking and not report.warnings and read.rejects.height == 0, blocking
        assert read.frame.height > 0
        return
    outcome = report.outcome(case["rule"])
    assert (case["rule"] in blocking) == (case["expected"] == "blocked"), blocking
    assert case["contains"] in outcome.message, outcome.message
    if case.get("lines"):
        assert read.rejects.get_column("line_number").unique().to_list() == case["lines"]


@pytest.mark.parametrize("case", PERSON_LEVEL, ids=[c["id"] for c in PERSON_LEVEL])
def test_bad_input(case: dict, tmp_path: Path) -> None:
    assert case["expected"] in EXPECTED, case["id"]
    path = deliver(case, tmp_path)
    month = case.get("load_month", case.get("month", "2019-10"))
    try:
        result = read_file(
            case["source"], path, month=month, key=KEY, encoding=case.get("encoding")
        )
    except FileRejected as error:
        assert case["expected"] == "rejected_file", f"{case['id']}: refused: {error}"
        assert error.rule == case["rule"], str(error)
        assert str(error).startswith(f"{error.file_name}: "), str(error)
        assert path.name in str(error) or case.get("deliver_as"), str(error)
        assert case["contains"] in error.message, error.message
        report = file_rejected_report(case["source"], Month.parse(month), error)
        assert error.rule in {rule for rule, _, _ in check_catalogue(case["source"])}
        assert [o.rule for o in report.blocking] == [case["rule"]]
        _assert_nothing_personal(case, path, _texts(None, report))
        return
    assert case["expected"] != "rejected_file", f"{case['id']}: the file was read"

    config = QualityConfig(accept_drop=True) if case.get("accept_drop") else CONFIG
    report = validate_read(result, previous=previous_profile(case), config=config)
    _assert_nothing_personal(case, path, _texts(result, report))
    catalogue = {rule for rule, _, _ in check_catalogue(case["source"])}
    assert {o.rule for o in report.outcomes} <= catalogue  # asset checks can be declared
    blocking = [o.rule for o in report.blocking]
    warnings = [o.rule for o in report.warnings]
    expected, rule, lines = case["expected"], case.get("rule"), case.get("lines", [])

    if expected == "loaded":
        assert not blocking and not warnings, (blocking, warnings)
        assert result.rejects.height == 0 and not report.rejected_lines
        assert result.frame.height == result.rows_read > 0
        return

    # A reader reject is reported by the suite rule that checks the same ("check"), which
    # names the offending value when it is a code: ydelse_known says "ydelse 'XYZ': 1 row".
    check = case.get("check", rule)
    outcome = report.outcome(check)
    assert outcome.message.startswith(f"{path.name}: rule {check}"), outcome.message
    if lines:
        _names_lines(outcome.message, lines)
        assert outcome.example_lines[: len(lines)] == lines[:20] or not outcome.reject_rows
    related = [outcome.message]
    if expected == "rejected_rows":
        assert not blocking, (case["id"], blocking)
        assert _rejected(result, report, rule) == lines
        rejected = pl.concat([result.rejects, rejects_frame(report)])["line_number"].n_unique()
        loaded = result.frame.height - len(report.rejected_lines)
        assert result.rows_read == loaded + rejected  # rows read = loaded + rejected
        related += result.rejects.filter(pl.col("line_number").is_in(lines))["message"].to_list()
    elif expected == "blocked":
        assert check in blocking, (case["id"], blocking)
        assert report.verdict == "BLOCKED"
        if lines:
            failing = _rejected(result, report, rule) or sorted(
                set(result.rejects["line_number"].to_list()) | set(report.rejected_lines)
            )
            assert failing == lines or outcome.example_lines == lines, (failing, lines)
        related += result.rejects["message"].to_list()
    else:  # warning
        assert not blocking, (case["id"], blocking)
        assert rule in warnings, (case["id"], warnings)
        if lines:
            assert outcome.example_lines == lines
    assert any(case["contains"] in text for text in related), (case["contains"], related)


def test_corpus_is_large_and_covers_every_source_and_outcome() -> None:
    assert len(CASES) >= 40
    assert {c["source"] for c in CASES} == {"ydelser", "joblog", "indkvartering", *EXTERNAL_SOURCES}
    assert {c["expected"] for c in CASES} == EXPECTED
    assert len({c["id"] for c in CASES}) == len(CASES)
    for case in CASES:
        assert ("file" in case) != ("builder" in case), case["id"]
        if "file" in case:
            assert (CORPUS / case["file"]).is_file(), case["file"]
        if case["expected"] != "loaded":
            assert case.get("rule") and case.get("contains"), case["id"]
