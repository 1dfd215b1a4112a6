"""Whole-file rejections: the file is refused before any row is returned (issue 5).

Each case builds a small malformed delivery and checks the rule code and that the message
names the file and says what is wrong, without echoing personal data.
"""

import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from lmkpi.contracts import FILE_RULES
from lmkpi.errors import ConfigurationError, MonthError
from lmkpi.ingest import FileRejected, parse_file_name
from lmkpi.months import Month

from extract_builders import read_file

VALID = Path(__file__).parent / "fixtures" / "extracts" / "valid"
KEY = b"test-key-not-secret-0123456789abcdef"
MONTH = "2019-10"
YDELSER_HEADER = (
    "cpr;kommunekode;ydelse;startdato;slutdato;omfang;visitation;tilbud;tilbud_cvr;"
    "delvis_raskmeldt;herkomst;flygtningestatus;opholdsdato;ordinaere_timer;samtaler"
)
ROW = "0101901235;173;KONT;2019-10-01;;;jobparat;;;;;;;;"


def _rows(*rows: str, header: str = YDELSER_HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def _xlsx_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "book.xlsx"
    openpyxl.Workbook().save(path)
    return path.read_bytes()


CASES: list[tuple[str, str, object, str]] = [
    # (id, source, content, expected rule); content may be bytes or a callable(tmp_path)
    ("empty file", "ydelser", b"", "empty_file"),
    ("whitespace only", "ydelser", b" \r\n\t\n", "empty_file"),
    ("separators only", "ydelser", b";;;\n;;\n", "empty_file"),
    ("utf-16 with BOM", "ydelser", _rows(ROW).decode().encode("utf-16"), "unsupported_encoding"),
    (
        "utf-16 without BOM",
        "ydelser",
        _rows(ROW).decode().encode("utf-16-le"),
        "unsupported_encoding",
    ),
    ("NUL byte", "ydelser", _rows(ROW).replace(b"KONT", b"KO\x00NT"), "unsupported_encoding"),
    ("xlsx saved as csv", "ydelser", _xlsx_bytes, "wrong_format"),
    ("parquet saved as csv", "ydelser", b"PAR1\x00\x00", "wrong_format"),
    ("undefined cp1252 byte", "ydelser", _rows(ROW).replace(b"KONT", b"KO\x81NT"), "undecodable"),
    ("unclosed quote", "ydelser", _rows(ROW, '0101901235;"173;KONT', ROW), "unclosed_quote"),
    (
        "comma separator",
        "ydelser",
        _rows(ROW.replace(";", ","), header=YDELSER_HEADER.replace(";", ",")),
        "wrong_separator",
    ),
    (
        "tab separator",
        "ydelser",
        _rows(ROW.replace(";", "\t"), header=YDELSER_HEADER.replace(";", "\t")),
        "wrong_separator",
    ),
    ("no header line", "ydelser", _rows(ROW, header=ROW), "missing_header"),
    (
        "duplicate column",
        "ydelser",
        _rows(ROW + ";1", header=YDELSER_HEADER + ";Omfang"),
        "duplicate_column",
    ),
    (
        "missing required column",
        "ydelser",
        _rows("0101901235;173;KONT", header="cpr;kommunekode;ydelse"),
        "missing_column",
    ),
    (
        "renamed required column",
        "ydelser",
        _rows(ROW, header=YDELSER_HEADER.replace("startdato", "start_dato")),
        "renamed_column",
    ),
    (
        "misspelt optional column",
        "ydelser",
        _rows(ROW, header=YDELSER_HEADER.replace("omfang", "omfnag")),
        "renamed_column",
    ),
    (
        "danish letters in name",
        "ydelser",
        _rows(ROW, header=YDELSER_HEADER.replace("ordinaere", "ordinære")),
        "renamed_column",
    ),
    (
        "unnamed column with values",
        "ydelser",
        _rows(ROW + ";x;", header=YDELSER_HEADER + ";;"),
        "empty_column_name",
    ),
    (
        "most rows ragged",
        "ydelser",
        _rows(ROW + ";extra", ROW + ";extra", ROW),
        "column_count_mismatch",
    ),
    (
        "ydelser of another month",
        "ydelser",
        _rows(ROW.replace("2019-10-01;", "2019-09-01;2019-09-30")),
        "wrong_month",
    ),
    (
        "joblog of another month",
        "joblog",
        "cpr;kommunekode;soegning_id;registreret_dato;status\n"
        "0101901235;173;S;2019-11-02;Søgt\n".encode(),
        "wrong_month",
    ),
    ("broken parquet", "ydelser", b"PAR1 not really parquet PAR1", "unreadable"),
    ("broken xlsx", "indkvartering", b"PK\x03\x04 not a workbook", "unreadable"),
]
EXTENSIONS = {"broken parquet": "parquet", "broken xlsx": "xlsx"}


@pytest.mark.parametrize(("case", "source", "content", "rule"), CASES, ids=[c[0] for c in CASES])
def test_file_is_rejected(tmp_path: Path, case: str, source: str, content, rule: str) -> None:
    data = content(tmp_path) if callable(content) else content
    path = tmp_path / f"{source}_{MONTH}.{EXTENSIONS.get(case, 'csv')}"
    path.write_bytes(data)
    with pytest.raises(FileRejected) as caught:
        read_file(source, path, month=MONTH, key=KEY)
    error = caught.value
    assert error.rule == rule, str(error)
    assert rule in FILE_RULES
    assert error.file_name == path.name
    assert str(error).startswith(f"{path.name}: ")
    assert len(error.message) > 20
    assert not re.search(r"\d{6}-?\d{4}", str(error)), "no CPR-like number in a message"


def test_messages_say_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / f"ydelser_{MONTH}.csv"
    path.write_bytes(_rows(ROW, header=YDELSER_HEADER.replace("startdato", "start_dato")))
    with pytest.raises(FileRejected, match="'start_dato' looks like 'startdato'"):
        read_file("ydelser", path, month=MONTH, key=KEY)
    path.write_bytes(_rows(ROW, header=ROW))
    with pytest.raises(FileRejected, match="add the header line"):
        read_file("ydelser", path, month=MONTH, key=KEY)
    path.write_bytes(_rows(ROW).decode().encode("cp1252").replace(b"KONT", b"K\xe6NT"))
    with pytest.raises(FileRejected, match="Windows-1252"):
        read_file("ydelser", path, month=MONTH, key=KEY, encoding="utf-8")
    path.write_bytes(_rows(ROW.replace("2019-10-01;", "2019-09-01;2019-09-30")))
    with pytest.raises(FileRejected, match=r"2019-09-01 to 2019-09-01.*right month"):
        read_file("ydelser", path, month=MONTH, key=KEY)


def test_latin1_mislabelled_as_utf8_is_rejected_not_garbled(tmp_path: Path) -> None:
    path = tmp_path / f"joblog_{MONTH}.csv"
    path.write_bytes((VALID / f"joblog_{MONTH}.csv").read_text("utf-8").encode("cp1252"))
    with pytest.raises(FileRejected) as caught:
        read_file("joblog", path, month=MONTH, key=KEY, encoding="utf-8")
    assert caught.value.rule == "undecodable"
    assert "line 2" in caught.value.message


def test_parquet_with_unusable_column_type(tmp_path: Path) -> None:
    path = tmp_path / f"ydelser_{MONTH}.parquet"
    pl.DataFrame(
        {
            "cpr": ["0101901235"],
            "kommunekode": [173],
            "ydelse": ["KONT"],
            "startdato": [[1, 2]],
        }
    ).write_parquet(path)
    with pytest.raises(FileRejected) as caught:
        read_file("ydelser", path, month=MONTH, key=KEY)
    assert caught.value.rule == "bad_column_type"


def test_file_named_for_another_month_than_loaded(tmp_path: Path) -> None:
    path = tmp_path / "ydelser_2019-11.csv"
    path.write_bytes(_rows(ROW))
    with pytest.raises(FileRejected) as caught:
        read_file("ydelser", path, month=MONTH, key=KEY)
    assert caught.value.rule == "month_mismatch"


def test_missing_file_is_an_io_error_not_a_rejection(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_file("ydelser", tmp_path / f"ydelser_{MONTH}.csv", month=MONTH, key=KEY)


def test_rejection_survives_pickling() -> None:
    import pickle

    error = FileRejected("ydelser_2019-10.csv", "empty_file", "the file is empty")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.file_name, copy.rule, copy.message) == (
        error.file_name,
        "empty_file",
        error.message,
    )
    assert str(copy) == str(error)


def test_weak_key_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / f"ydelser_{MONTH}.csv"
    path.write_bytes(_rows(ROW))
    with pytest.raises(ConfigurationError, match="key"):
        read_file("ydelser", path, month=MONTH, key=b"")


# ---------------------------------------------------------------- file names and months


@pytest.mark.parametrize(
    ("source", "name", "month"),
    [
        ("ydelser", "ydelser_2019-10.csv", "2019-10"),
        ("ydelser", "ydelser_2019-01.parquet", "2019-01"),
        ("joblog", "joblog_2020-12.parquet", "2020-12"),
        ("indkvartering", "indkvartering_2018-07.xlsx", "2018-07"),
        ("indkvartering", "indkvartering_2018-07.csv", "2018-07"),
    ],
)
def test_month_from_good_file_names(source: str, name: str, month: str) -> None:
    assert parse_file_name(source, name) == (Month.parse(month), name.rsplit(".", 1)[1])


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("ydelser", "ydelser_2019-13.csv"),
        ("ydelser", "ydelser_2019-00.csv"),
        ("ydelser", "ydelser_19-10.csv"),
        ("ydelser", "ydelser_2019-1.csv"),
        ("ydelser", "ydelser_2019-10.xlsx"),  # xlsx only for indkvartering
        ("indkvartering", "indkvartering_2019-10.parquet"),
        ("ydelser", "joblog_2019-10.csv"),
        ("ydelser", "YDELSER_2019-10.csv"),
        ("ydelser", "ydelser_2019-10.CSV"),
        ("ydelser", "ydelser_2019-10.csv.exe"),
        ("ydelser", "ydelser_2019-10.csv\n"),
        ("ydelser", " ydelser_2019-10.csv"),
        ("ydelser", "../ydelser_2019-10.csv"),
        ("ydelser", "landing/ydelser_2019-10.csv"),
        ("ydelser", "ydelser_2019-10;drop table x.csv"),
        ("ydelser", "ydelser_２０１９-10.csv"),  # non-ASCII digits
        ("ydelser", "ydelser_2019-10 (1).csv"),
        ("ydelser", ""),
    ],
)
def test_bad_file_names_are_rejected(source: str, name: str) -> None:
    with pytest.raises(FileRejected) as caught:
        parse_file_name(source, name)
    assert caught.value.rule == "bad_file_name"
    assert f"{source}_2019-10.csv" in caught.value.message or "xlsx" in caught.value.message


def test_bad_file_name_with_cpr_is_masked() -> None:
    with pytest.raises(FileRejected) as caught:
        parse_file_name("ydelser", "ydelser_0101901235.csv")
    assert "0101901235" not in str(caught.value)


def test_unknown_source_is_refused() -> None:
    with pytest.raises(FileRejected, match="unknown source"):
        parse_file_name("ydelse", "ydelse_2019-10.csv")


@pytest.mark.parametrize("month", ["2019-10", "1999-01", "2099-12"])
def test_good_months(month: str) -> None:
    assert str(Month.parse(month)) == month


@pytest.mark.parametrize(
    "month", ["2019-13", "2019-1", "19-10", "2019-10-01", "2019-10\n", "'; drop", None, 201910]
)
def test_bad_months(month) -> None:
    with pytest.raises(MonthError):
        Month.parse(month)


def test_line_numbers_stay_right_after_a_bare_cr_in_a_quoted_field(tmp_path: Path) -> None:
    """A line break typed in an Excel cell (a bare CR inside quotes) is not a line."""
    header = "cpr;kommunekode;soegning_id;registreret_dato;status;stilling"
    rows = [
        '0101901235;173;A1;2019-10-02;Søgt;"Lager\rmedarbejder"',
        '0101901235;173;A2;2019-10-03;Søgt;"Kok\nog tjener"',
        "0101901235;173;A3;2019-10-04;Søgt;x;extra",
        "0101901235;173;A4;2019-10-05;Søgt;x",
    ]
    path = tmp_path / f"joblog_{MONTH}.csv"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode())
    result = read_file("joblog", path, month=MONTH, key=KEY)
    assert result.rejects.get_column("line_number").to_list() == [5]  # header 1, rows 2, 3-4, 5
    assert result.frame.get_column("line_number").to_list() == [2, 3, 6]
