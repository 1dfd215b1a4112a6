"""Readers on the file variants real deliveries come in (docs/contracts.md, issue 4).

Canonical fixtures live in tests/fixtures/extracts/valid/; variants (encodings, BOM, CRLF,
trailing separators, whitespace, quoting, Parquet, xlsx) are generated from them here.
"""

import datetime as dt
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lmkpi.contracts import CONTRACTS, REJECT_SCHEMA, ROW_RULES, output_schema
from lmkpi.ingest import SOURCES, ReadResult

from extract_builders import read_file

VALID = Path(__file__).parent / "fixtures" / "extracts" / "valid"
KEY = b"test-key-not-secret-0123456789abcdef"
MONTH = "2019-10"
CPR_LIKE = re.compile(r"\d{6}-?\d{4}")


def read(source: str, path: Path, month: str = MONTH, **kwargs) -> ReadResult:
    return read_file(source, path, month=month, key=KEY, **kwargs)


def write(directory: Path, source: str, content: str | bytes, ext: str = "csv") -> Path:
    path = directory / f"{source}_{MONTH}.{ext}"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def canonical_text(source: str) -> str:
    data = (VALID / f"{source}_{MONTH}.csv").read_bytes()
    return data.decode("cp1252" if source == "indkvartering" else "utf-8")


def canonical(source: str) -> ReadResult:
    return read(source, VALID / f"{source}_{MONTH}.csv")


def assert_invariant(result: ReadResult) -> None:
    assert result.rows_read == result.frame.height + result.rejects["line_number"].n_unique()
    assert result.rejects.schema == pl.Schema(REJECT_SCHEMA)
    assert set(result.rejects.get_column("rule").to_list()) <= set(ROW_RULES)


def assert_no_personal_data(result: ReadResult, *originals: str) -> None:
    """No cpr column, no CPR-like value, and none of `originals` anywhere in the result."""
    assert "cpr" not in result.frame.columns
    for frame in (result.frame, result.rejects):
        for name in frame.columns:
            if frame.schema[name] != pl.Utf8:
                continue
            values = frame.get_column(name).drop_nulls()
            assert not values.str.contains(CPR_LIKE.pattern).any(), name
            for original in originals:
                assert not values.str.contains(original, literal=True).any(), (name, original)


def same_rows(a: ReadResult, b: ReadResult) -> None:
    assert_frame_equal(a.frame.drop("line_number"), b.frame.drop("line_number"))


# ---------------------------------------------------------------- canonical files


def test_ydelser_typed_with_defaults_and_person_columns() -> None:
    result = canonical("ydelser")
    assert_invariant(result)
    assert result.rows_read == 6 and result.rejects.height == 0
    assert result.encoding == "utf-8"
    assert result.frame.schema == pl.Schema(output_schema("ydelser"))
    first = result.frame.row(0, named=True)
    assert first["line_number"] == 2
    assert first["birth_date"] == dt.date(1990, 1, 1) and first["sex"] == "M"
    assert first["omfang"] == 1.0  # default
    assert first["ordinaere_timer"] == 7.5  # decimal comma
    assert first["tilbud_cvr"] == "12345678"
    sdp = result.frame.row(1, named=True)
    assert sdp["startdato"] == dt.date(2019, 9, 15)  # DD-MM-YYYY
    assert sdp["omfang"] == 0.5 and sdp["delvis_raskmeldt"] is True
    assert sdp["samtaler"] == 0 and sdp["ordinaere_timer"] == 0.0  # defaults
    flex = result.frame.filter(pl.col("ydelse") == "FLEX").row(0, named=True)
    assert flex["omfang"] == 0.5  # decimal point in the same file
    assert flex["slutdato"] is None
    refugee = result.frame.filter(pl.col("ydelse") == "INT").row(0, named=True)
    assert refugee["opholdsdato"] == dt.date(2016, 5, 3)
    assert_no_personal_data(result, "0101901235", "150275-4322")


def test_joblog_drops_cpr_and_free_text() -> None:
    result = canonical("joblog")
    assert_invariant(result)
    assert result.frame.schema == pl.Schema(output_schema("joblog"))
    assert {"stilling", "arbejdsgiver", "cpr"}.isdisjoint(result.frame.columns)
    assert result.frame.get_column("status").to_list() == ["Søgt", "Samtale", "Afslag", "Fik job"]
    assert result.frame.get_column("registreret_dato").to_list()[1] == dt.date(2019, 10, 15)
    keys = result.frame.get_column("person_key").to_list()
    assert keys[0] == keys[1] == keys[2] != keys[3]
    assert_no_personal_data(result, "Lagermedarbejder", "HYPERLINK", "Jens Hansen", "Ølstuen")


def test_indkvartering_windows_1252_is_detected_and_not_lossy() -> None:
    result = canonical("indkvartering")
    assert_invariant(result)
    assert result.encoding == "cp1252"
    assert result.frame.schema == pl.Schema(output_schema("indkvartering"))
    assert "Bøgevej 3 (ældrebolig)" in result.frame.get_column("adresse").to_list()
    lykkens = result.frame.row(0, named=True)
    assert lykkens["restance_kr"] == 1234.5  # "1.234,50"
    kongevejen = result.frame.row(1, named=True)
    assert kongevejen["flyttet_permanent"] == 0  # default
    assert kongevejen["husstande"] is None and kongevejen["restance_kr"] is None


def test_all_sources_have_contracts() -> None:
    assert set(SOURCES) == set(CONTRACTS)


# ---------------------------------------------------------------- text variants


def _lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def _bom(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def _trailing_separator(text: str) -> bytes:
    return "".join(f"{line};\n" for line in _lines(text)).encode("utf-8")


def _data_rows_trailing_separator(text: str) -> bytes:
    header, *rows = _lines(text)
    return "\n".join([header, *[f"{r};" for r in rows]]).encode("utf-8") + b"\n"


def _whitespace(text: str) -> bytes:
    padded = [";".join(f"  {f}\t" for f in line.split(";")) for line in _lines(text)]
    return ("\n".join(padded) + "\n").encode("utf-8")


def _quote_everything(text: str) -> bytes:
    quoted = [";".join(f'"{f}"' for f in line.split(";")) for line in _lines(text)]
    return ("\n".join(quoted) + "\n").encode("utf-8")


def _no_final_newline(text: str) -> bytes:
    return text.rstrip("\n").encode("utf-8")


def _old_mac_line_ends(text: str) -> bytes:
    return text.replace("\n", "\r").encode("utf-8")


def _everything(text: str) -> bytes:
    padded = [";".join(f" {f} " for f in line.split(";")) + ";" for line in _lines(text)]
    return b"\xef\xbb\xbf" + "\r\n".join(padded).encode("utf-8") + b"\r\n"


@pytest.mark.parametrize(
    "variant",
    [
        _bom,
        _crlf,
        _trailing_separator,
        _data_rows_trailing_separator,
        _whitespace,
        _quote_everything,
        _no_final_newline,
        _old_mac_line_ends,
        _everything,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_ydelser_variants_read_the_same(tmp_path: Path, variant) -> None:
    path = write(tmp_path, "ydelser", variant(canonical_text("ydelser")))
    result = read("ydelser", path)
    assert_invariant(result)
    assert result.rejects.height == 0, result.rejects.to_dicts()
    assert_frame_equal(result.frame, canonical("ydelser").frame)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_joblog_encodings_detected(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path, "joblog", canonical_text("joblog").encode(encoding))
    result = read("joblog", path)
    assert result.encoding == encoding
    assert_frame_equal(result.frame, canonical("joblog").frame)


def test_declared_encoding_is_used(tmp_path: Path) -> None:
    path = write(tmp_path, "joblog", canonical_text("joblog").encode("cp1252"))
    result = read("joblog", path, encoding="windows-1252")
    assert result.encoding == "cp1252"
    assert "Søgt" in result.frame.get_column("status").to_list()


def test_euro_sign_and_curly_quotes_in_cp1252(tmp_path: Path) -> None:
    text = canonical_text("indkvartering").replace("Kongevejen 5", "Kongevejen “5” €")
    path = write(tmp_path, "indkvartering", text.encode("cp1252"))
    result = read("indkvartering", path)
    assert result.encoding == "cp1252"
    assert "Kongevejen “5” € - Sorgenfri" in result.frame.get_column("adresse").to_list()


def test_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    header, *rows = _lines(canonical_text("ydelser"))
    text = "\n".join(["", header, rows[0], "", "  ", rows[1], ";;;", *rows[2:], "", ""])
    result = read("ydelser", write(tmp_path, "ydelser", text))
    assert_invariant(result)
    same_rows(result, canonical("ydelser"))
    assert result.rows_read == 6
    assert result.frame.get_column("line_number").to_list() == [3, 6, 8, 9, 10, 11]
    assert any("4 blank line" in w for w in result.warnings)


def test_header_only_is_a_valid_empty_month(tmp_path: Path) -> None:
    header = _lines(canonical_text("ydelser"))[0]
    result = read("ydelser", write(tmp_path, "ydelser", header + "\n"))
    assert result.rows_read == 0
    assert result.frame.height == 0 and result.rejects.height == 0
    assert result.frame.schema == pl.Schema(output_schema("ydelser"))


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    text = "cpr;kommunekode;ydelse;startdato\n0101901235;173;ADAG;2019-10-01\n"
    result = read("ydelser", write(tmp_path, "ydelser", text))
    row = result.frame.row(0, named=True)
    assert row["omfang"] == 1.0 and row["samtaler"] == 0 and row["slutdato"] is None
    assert result.frame.schema == pl.Schema(output_schema("ydelser"))


def test_column_order_and_case_do_not_matter(tmp_path: Path) -> None:
    text = "YDELSE ; StartDato;Cpr;kommunekode\nADAG;2019-10-01;0101901235;173\n"
    result = read("ydelser", write(tmp_path, "ydelser", text))
    assert result.frame.height == 1
    assert result.frame.item(0, "ydelse") == "ADAG"


def test_unknown_extra_column_is_ignored_with_a_warning(tmp_path: Path) -> None:
    header, *rows = _lines(canonical_text("ydelser"))
    text = "\n".join([header + ";sagsbehandler", *[r + ";Hanne Hansen" for r in rows]])
    result = read("ydelser", write(tmp_path, "ydelser", text))
    assert_frame_equal(result.frame, canonical("ydelser").frame)
    assert any("sagsbehandler" in w and "ignored" in w for w in result.warnings)
    assert_no_personal_data(result, "Hanne Hansen")


# ---------------------------------------------------------------- quoting


def test_quoted_fields_with_separator_quote_and_line_break(tmp_path: Path) -> None:
    text = (
        "cpr;kommunekode;soegning_id;registreret_dato;status;stilling;arbejdsgiver\n"
        '0101901235;173;S-1;2019-10-02;Søgt;"Kok; køkken";"A ""B"" C"\n'
        '0101901235;173;S-2;2019-10-03;Søgt;"to\nlinjer";X\n'
        "0101901235;173;S-3;2019-10-04;Samtale;;\n"
        "0101901235;173;S-4;2019-10-05\n"
    )
    result = read("joblog", write(tmp_path, "joblog", text))
    assert_invariant(result)
    assert result.frame.get_column("soegning_id").to_list() == ["S-1", "S-2", "S-3"]
    assert result.frame.get_column("line_number").to_list() == [2, 3, 5]
    assert result.rejects.to_dicts() == [
        {
            "line_number": 6,
            "column": None,
            "rule": "ragged_row",
            "message": "the row has 4 fields but the header has 7",
        }
    ]


def test_quote_inside_an_unquoted_field_is_a_character(tmp_path: Path) -> None:
    text = (
        "cpr;kommunekode;soegning_id;registreret_dato;status;stilling;arbejdsgiver\n"
        '0101901235;173;S-1;2019-10-02;Søgt;24" skærme;X\n'
    )
    result = read("joblog", write(tmp_path, "joblog", text))
    assert result.frame.height == 1 and result.rejects.height == 0


def test_text_after_closing_quote_is_a_row_reject(tmp_path: Path) -> None:
    text = (
        "cpr;kommunekode;soegning_id;registreret_dato;status;stilling;arbejdsgiver\n"
        '0101901235;173;S-1;2019-10-02;Søgt;"Kok" i køkken;X\n'
        "0101901235;173;S-2;2019-10-02;Søgt;Kok;X\n"
    )
    result = read("joblog", write(tmp_path, "joblog", text))
    assert_invariant(result)
    assert result.frame.get_column("line_number").to_list() == [3]
    assert result.rejects.select("line_number", "rule").rows() == [(2, "malformed_quotes")]


def _variant_texts() -> list[str]:
    ydelser = canonical_text("ydelser")
    header, *rows = _lines(ydelser)
    texts = [ydelser, canonical_text("joblog"), canonical_text("indkvartering")]
    texts += [variant(ydelser).decode("utf-8-sig") for variant in (_crlf, _trailing_separator)]
    texts += [_quote_everything(ydelser).decode(), _whitespace(ydelser).decode()]
    texts.append("\n".join(["", header, rows[0], "", " ;; ", rows[1], '"";""', *rows[2:], "", ""]))
    texts.append("\n".join([header, rows[0], rows[1] + ";x;y", "0101901235;173", *rows[2:]]))
    texts.append(header + "\n")
    return texts


@pytest.mark.parametrize("index", range(len(_variant_texts())))
def test_fast_and_record_paths_agree(index: int) -> None:
    from lmkpi.ingest.delimited import _fast_path, _record_path

    text = _variant_texts()[index]
    fast, slow = _fast_path(text, "f.csv"), _record_path(text, "f.csv")
    assert fast is not None, "the fast path should handle this file"
    assert fast.names == slow.names
    assert_frame_equal(fast.frame, slow.frame)
    assert fast.rejects == slow.rejects
    assert fast.blank_rows == slow.blank_rows


# ---------------------------------------------------------------- numbers and dates


def _housing(rows: list[str]) -> str:
    header = "kommunekode;adresse;vaerelser;ledige_vaerelser;indkvarterede;restance_kr"
    return "\n".join([header, *[f"173;A{i};4;1;3;{v}" for i, v in enumerate(rows)]]) + "\n"


def test_danish_numbers(tmp_path: Path) -> None:
    values = ["1.234,5", "0,5", "12 345,25", "1.234", "1.234.567", "7", " 42 "]
    result = read("indkvartering", write(tmp_path, "indkvartering", _housing(values)))
    assert result.rejects.height == 0
    assert result.frame.get_column("restance_kr").to_list() == [
        1234.5,
        0.5,
        12345.25,
        1234.0,
        1234567.0,
        7.0,
        42.0,
    ]
    assert any("1.234" in w for w in result.warnings)  # the ambiguous one is reported


def test_english_numbers(tmp_path: Path) -> None:
    values = ["0.5", "1,234.5", "1.234", "99.75"]
    result = read("indkvartering", write(tmp_path, "indkvartering", _housing(values)))
    assert result.frame.get_column("restance_kr").to_list() == [0.5, 1234.5, 1.234, 99.75]
    assert any("English" in w for w in result.warnings)


def test_mixed_decimal_marks_in_one_file(tmp_path: Path) -> None:
    values = ["0,5", "0.5", "1.234,5"]
    result = read("indkvartering", write(tmp_path, "indkvartering", _housing(values)))
    assert result.frame.get_column("restance_kr").to_list() == [0.5, 0.5, 1234.5]


@pytest.mark.parametrize("bad", ["1,2,3", "abc", "1.23.4", "12-", "1e5", "NaN", "--1"])
def test_non_numbers_are_rejected(tmp_path: Path, bad: str) -> None:
    result = read("indkvartering", write(tmp_path, "indkvartering", _housing([bad, "5"])))
    assert_invariant(result)
    assert result.rejects.select("line_number", "column", "rule").rows() == [
        (2, "restance_kr", "invalid_number")
    ]


def test_whole_numbers_required_for_counts(tmp_path: Path) -> None:
    text = (
        "kommunekode;adresse;vaerelser;ledige_vaerelser;indkvarterede\n"
        "173;A;4,0;1;3\n"
        "173;B;4,5;1;3\n"
    )
    result = read("indkvartering", write(tmp_path, "indkvartering", text))
    assert result.frame.get_column("vaerelser").to_list() == [4]
    assert result.rejects.select("line_number", "rule").rows() == [(3, "invalid_number")]
    assert "not a whole number" in result.rejects.item(0, "message")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-10-01", dt.date(2019, 10, 1)),
        ("01-10-2019", dt.date(2019, 10, 1)),
        ("1-10-2019", dt.date(2019, 10, 1)),
        ("2019-10-01 00:00:00", dt.date(2019, 10, 1)),
        ("29-02-2016", dt.date(2016, 2, 29)),
        ("31-02-2018", None),
        ("2019-02-29", None),
        ("2019/10/01", None),
        ("20191001", None),
        ("01.10.2019", None),
        ("10-01-19", None),
    ],
)
def test_dates(tmp_path: Path, text: str, expected: dt.date | None) -> None:
    content = (
        f"cpr;kommunekode;ydelse;startdato;opholdsdato\n0101901235;173;INT;2019-10-01;{text}\n"
    )
    result = read("ydelser", write(tmp_path, "ydelser", content))
    if expected is None:
        assert result.rejects.select("column", "rule").rows() == [("opholdsdato", "invalid_date")]
    else:
        assert result.frame.item(0, "opholdsdato") == expected


# ---------------------------------------------------------------- Parquet


def _ydelser_parquet_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "cpr": ["0101901235", "150275-4322"],
            "kommunekode": [173, 173],
            "ydelse": ["KONT", "SDP"],
            "startdato": [dt.date(2019, 10, 1), dt.date(2019, 9, 15)],
            "slutdato": [dt.date(2019, 10, 31), dt.date(2019, 10, 15)],
            "omfang": [None, 0.5],
            "visitation": ["jobparat", None],
            "delvis_raskmeldt": [None, True],
            "samtaler": [2, None],
        }
    )


def test_parquet_ydelser(tmp_path: Path) -> None:
    path = tmp_path / f"ydelser_{MONTH}.parquet"
    _ydelser_parquet_frame().write_parquet(path)
    result = read("ydelser", path)
    assert_invariant(result)
    assert result.encoding == "parquet"
    assert result.frame.schema == pl.Schema(output_schema("ydelser"))
    assert result.frame.get_column("line_number").to_list() == [2, 3]
    assert result.frame.get_column("omfang").to_list() == [1.0, 0.5]
    assert result.frame.get_column("delvis_raskmeldt").to_list() == [None, True]
    expected = canonical("ydelser").frame.head(2).get_column("person_key")
    assert result.frame.get_column("person_key").to_list() == expected.to_list()


def test_parquet_with_text_columns_reads_like_csv(tmp_path: Path) -> None:
    text = pl.read_csv(
        VALID / f"joblog_{MONTH}.csv", separator=";", infer_schema=False, encoding="utf8"
    )
    path = tmp_path / f"joblog_{MONTH}.parquet"
    text.write_parquet(path)
    assert_frame_equal(read("joblog", path).frame, canonical("joblog").frame)


def test_parquet_numeric_cpr_gets_its_leading_zero_back(tmp_path: Path) -> None:
    frame = _ydelser_parquet_frame().with_columns(
        pl.Series("cpr", [101901235, 1502754322], dtype=pl.Int64)
    )
    path = tmp_path / f"ydelser_{MONTH}.parquet"
    frame.write_parquet(path)
    result = read("ydelser", path)
    expected = canonical("ydelser").frame.head(2).get_column("person_key")
    assert result.frame.get_column("person_key").to_list() == expected.to_list()
    assert any("leading zeros" in w for w in result.warnings)


def test_parquet_row_rejects_use_row_numbers(tmp_path: Path) -> None:
    frame = _ydelser_parquet_frame().with_columns(pl.Series("omfang", [1.5, 0.5]))
    path = tmp_path / f"ydelser_{MONTH}.parquet"
    frame.write_parquet(path)
    result = read("ydelser", path)
    assert result.rejects.select("line_number", "column", "rule").rows() == [
        (2, "omfang", "out_of_range")
    ]


# ---------------------------------------------------------------- xlsx


def _write_housing_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Midlertidig indkvartering, oktober 2019"])
    sheet.append([])
    sheet.append(
        [
            "Kommunekode",
            "Adresse",
            "Vaerelser",
            "Ledige_vaerelser",
            "Indkvarterede",
            "Husstande",
            "Flyttet_permanent",
            "Restance_personer",
            "Restance_kr",
            None,
        ]
    )
    sheet.append([173, "Lykkens Gave, 2. afd.", 12, 2, 15, 6, 1, 3, 1234.5])
    sheet.append([173, "Bøgevej 3 (ældrebolig)", 4, 1, 3, 2, None, 0, "45.620,35"])
    sheet.append([])
    sheet.append([173, "Kongevejen 5", 8, 9, 11, None, None, None, None])
    workbook.create_sheet("Noter").append(["ignored"])
    workbook.save(path)


def test_xlsx_first_sheet_with_title_rows(tmp_path: Path) -> None:
    path = tmp_path / f"indkvartering_{MONTH}.xlsx"
    _write_housing_xlsx(path)
    result = read("indkvartering", path)
    assert_invariant(result)
    assert result.encoding == "xlsx"
    assert result.frame.schema == pl.Schema(output_schema("indkvartering"))
    assert result.frame.get_column("line_number").to_list() == [4, 5]
    assert result.frame.get_column("adresse").to_list() == [
        "Lykkens Gave, 2. afd.",
        "Bøgevej 3 (ældrebolig)",
    ]
    assert result.frame.get_column("restance_kr").to_list() == [1234.5, 45620.35]
    assert result.frame.get_column("flyttet_permanent").to_list() == [1, 0]
    assert result.rejects.select("line_number", "rule").rows() == [(7, "vacant_exceeds_rooms")]


# ---------------------------------------------------------------- invariants


def _messy_ydelser() -> str:
    header = _lines(canonical_text("ydelser"))[0]
    rows = [
        "0101901235;173;KONT;2019-10-01;;;jobparat;;;;;;;;",  # fine
        "3102181234;999;XXX;31-02-2018;;2;;;;;;;;;-1",  # five problems
        "01019A1235;173;ADAG;2019-10-01;;;;;;;;;;;",  # bad cpr
        ";173;ADAG;;;;;;;;;;;;",  # missing cpr and startdato
        "0101901235;173;ADAG;2019-08-01;2019-08-31;;;;;;;;;;",  # other month
        "0101901235;173;ADAG;2019-10-05;2019-10-01;;;;;;;;;;",  # end before start
        "0101901235;173;SDP;2019-10-01;;;;;;2;;;;;",  # bad flag
        "0101901235;173;KONT;2019-10-01;;;Jobparat;Praktik;123;;;;;;",  # codes, cvr
        "0101901235;173",  # ragged
        "0101901235;173;BESK;2019-10-01;;0;;;;;;;;-0,5;",  # omfang 0, negative hours
    ]
    return "\n".join([header, *rows]) + "\n"


def test_row_rejects_name_line_column_and_rule(tmp_path: Path) -> None:
    result = read("ydelser", write(tmp_path, "ydelser", _messy_ydelser()))
    assert_invariant(result)
    assert result.rows_read == 10
    assert result.frame.get_column("line_number").to_list() == [2]
    found = set(result.rejects.select("line_number", "column", "rule").rows())
    assert found == {
        (3, "cpr", "invalid_cpr"),
        (3, "kommunekode", "unknown_kommunekode"),
        (3, "ydelse", "unknown_code"),
        (3, "startdato", "invalid_date"),
        (3, "omfang", "out_of_range"),
        (3, "samtaler", "out_of_range"),
        (4, "cpr", "invalid_cpr"),
        (5, "cpr", "missing_value"),
        (5, "startdato", "missing_value"),
        (6, "startdato", "outside_month"),
        (7, "slutdato", "end_before_start"),
        (8, "delvis_raskmeldt", "invalid_flag"),
        (9, "visitation", "unknown_code"),
        (9, "tilbud", "unknown_code"),
        (9, "tilbud_cvr", "invalid_format"),
        (10, None, "ragged_row"),
        (11, "omfang", "out_of_range"),
        (11, "ordinaere_timer", "out_of_range"),
    }
    assert result.rejects.filter(pl.col("line_number") == 3).height == 6
    assert_no_personal_data(result, "3102181234", "01019A1235")
    messages = dict(
        zip(
            result.rejects.select(pl.format("{}/{}", "line_number", "column")).to_series(),
            result.rejects.get_column("message"),
            strict=True,
        )
    )
    assert messages["3/startdato"] == (
        "startdato '31-02-2018' is not a real date (use YYYY-MM-DD or DD-MM-YYYY)"
    )
    assert (
        messages["9/visitation"]
        == "visitation 'Jobparat' is not an allowed code; did you mean 'jobparat'?"
    )
    assert messages["3/ydelse"].startswith("ydelse 'XXX' is not one of: ADAG, ADAG_SYG")
    assert messages["11/omfang"] == "omfang '0' must be greater than 0"
    assert messages["6/startdato"] == "the period 2019-08-01 to 2019-08-31 does not overlap 2019-10"


def test_many_rows_give_the_same_rejects_as_few(tmp_path: Path) -> None:
    """Columns with few distinct values are parsed once per value: same outcome."""
    header, *rows = _lines(_messy_ydelser())
    small = read("ydelser", write(tmp_path, "ydelser", _messy_ydelser()))
    big_path = tmp_path / "big" / f"ydelser_{MONTH}.csv"
    big_path.parent.mkdir()
    big_path.write_text("\n".join([header, *(rows * 40)]) + "\n")
    big = read("ydelser", big_path)
    assert_invariant(big)
    assert big.rows_read == 40 * small.rows_read
    assert big.frame.height == 40 * small.frame.height
    n = len(rows)
    folded = big.rejects.with_columns((pl.col("line_number") - 2) % n + 2).unique(
        maintain_order=True
    )
    assert_frame_equal(folded, small.rejects, check_row_order=False)


def test_values_that_look_personal_are_not_echoed(tmp_path: Path) -> None:
    text = (
        "cpr;kommunekode;ydelse;startdato;slutdato;visitation\n"
        "0101901235;0101901235;ADAG;2019-10-01;Jens Hansen;Jens Hansen\n"
    )
    result = read("ydelser", write(tmp_path, "ydelser", text))
    assert result.rejects.height == 3
    assert_no_personal_data(result, "Jens", "0101901235")


@pytest.mark.parametrize("source", SOURCES)
def test_invariant_and_no_personal_data_on_canonical_files(source: str) -> None:
    result = canonical(source)
    assert_invariant(result)
    assert_no_personal_data(result)


@pytest.mark.parametrize(
    "body",
    [
        'a;b\n\n  \nc;d\r\n"x;y";z\n;;',
        "a;b\r\nc;d\r\n\r\n",
        "a;b\rc;d\nx;y",  # a bare CR inside a line (a line break typed in an Excel cell)
        "a\x1fb;c\nd;e",  # the parser's own separator in the text
        '"q\nr";s\n"t";u',  # a quoted field across two physical lines
        "",
    ],
)
def test_physical_lines_from_the_parser_equal_splitting_the_text(body):
    """The fast reader's lines (polars' parser on the bytes) are the text split at LF: same
    count, order and content (CR stripped either way afterwards)."""
    from lmkpi.ingest.delimited import _physical_line_frame

    lines = _physical_line_frame(body, (body + "\n").encode())
    got = [line.removesuffix("\r") for line in lines.get_column("raw").to_list()]
    assert got == [line.removesuffix("\r") for line in body.split("\n")]
