"""The housing staff's annual wide sheet -> monthly indkvartering files -> read_extract."""

from pathlib import Path

import openpyxl
import polars as pl
import pytest

from lmkpi.contracts import INDKVARTERING
from lmkpi.ingest import FileRejected, split_wide_housing, write_monthly_housing
from lmkpi.ingest.housing import format_decimal
from lmkpi.months import Month

from extract_builders import read_file

ANNUAL = Path(__file__).parent / "fixtures" / "extracts" / "housing_annual_2019.csv"
KEY = b"test-key-not-secret-0123456789abcdef"


def test_split_csv_sheet_into_filled_months() -> None:
    frames = split_wide_housing(ANNUAL, 2019)
    assert list(frames) == [Month(2019, m) for m in range(1, 11)]  # nov, dec empty
    for frame in frames.values():
        assert frame.columns == list(INDKVARTERING.column_names)
        assert all(dtype == pl.Utf8 for dtype in frame.dtypes)
    # Bøgevej opened in May
    assert frames[Month(2019, 4)].get_column("adresse").to_list() == [
        "Lykkens Gave, 2. afd.",
        "Kongevejen 5 - Sorgenfri",
    ]
    assert frames[Month(2019, 5)].height == 3
    october = frames[Month(2019, 10)]
    assert october.get_column("indkvarterede").to_list() == ["15", "11", "3"]
    assert october.get_column("restance_kr").to_list() == ["1.234,50", None, "0"]


def test_flow_column_is_booked_once_in_the_latest_month() -> None:
    frames = split_wide_housing(ANNUAL, 2019)
    assert frames[Month(2019, 10)].get_column("flyttet_permanent").to_list() == ["3", None, "0"]
    for month in [Month(2019, m) for m in range(1, 10)]:
        assert frames[month].get_column("flyttet_permanent").null_count() == frames[month].height
    # stocks are the sheet's status, repeated
    assert frames[Month(2019, 1)].get_column("ledige_vaerelser").to_list() == ["2", "0"]


def test_written_months_read_back_through_the_contract(tmp_path: Path) -> None:
    paths = write_monthly_housing(split_wide_housing(ANNUAL, 2019), tmp_path)
    assert [p.name for p in paths] == [f"indkvartering_2019-{m:02d}.csv" for m in range(1, 11)]
    assert all(p.parent == tmp_path / "indkvartering" for p in paths)
    result = read_file("indkvartering", paths[-1], month="2019-10", key=KEY)
    assert result.rejects.height == 0
    assert result.frame.get_column("indkvarterede").to_list() == [15, 11, 3]
    assert result.frame.get_column("restance_kr").to_list() == [1234.5, None, 0.0]
    assert result.frame.get_column("flyttet_permanent").to_list() == [3, 0, 0]
    total_moved = 0
    for path in paths:
        month = path.stem.split("_")[1]
        frame = read_file("indkvartering", path, month=month, key=KEY).frame
        total_moved += frame.get_column("flyttet_permanent").sum()
    assert total_moved == 3  # the sheet's figure, not 10 x 3
    assert not list((tmp_path / "indkvartering").glob(".*partial"))


def _write_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Status midlertidig indkvartering 2019"])
    sheet.append(
        [
            "Kommunekode",
            "Adresse",
            "Værelser",  # unknown (vaerelser is there too): ignored with a log line
            "vaerelser",
            "ledige_vaerelser",
            "restance_kr",
            "Januar",
            "Februar",
            "Indkvarterede marts",
            "flyttet_permanent_feb",
        ]
    )
    sheet.append([173, "Lykkens Gave", 12, 12, 2, 1.234, 14, 15, None, 2])
    sheet.append([173, "Kongevejen 5", 8, 8, 0, 45620.35, 10, 0, None, None])
    workbook.save(path)


def test_split_xlsx_sheet_with_title_row_and_month_names(tmp_path: Path) -> None:
    path = tmp_path / "Status 2019.xlsx"
    _write_xlsx(path)
    frames = split_wide_housing(path, 2019)
    assert list(frames) == [Month(2019, 1), Month(2019, 2)]  # March column is empty
    february = frames[Month(2019, 2)]
    assert february.get_column("indkvarterede").to_list() == ["15", "0"]
    assert february.get_column("flyttet_permanent").to_list() == ["2", None]
    assert frames[Month(2019, 1)].get_column("flyttet_permanent").to_list() == [None, None]
    assert february.get_column("restance_kr").to_list() == ["1,2340", "45620,35"]
    written = write_monthly_housing(frames, tmp_path / "landing")
    result = read_file("indkvartering", written[1], month="2019-02", key=KEY)
    assert result.frame.get_column("restance_kr").to_list() == [1.234, 45620.35]


def test_sheet_without_month_columns_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "annual.csv"
    path.write_text("kommunekode;adresse;vaerelser;ledige_vaerelser\n173;A;1;0\n")
    with pytest.raises(FileRejected) as caught:
        split_wide_housing(path, 2019)
    assert caught.value.rule == "missing_column"
    assert "jan" in caught.value.message


def test_sheet_with_misspelt_column_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "annual.csv"
    path.write_text(
        "kommunekode;adresse;vaerelser;ledige_vaerelser;restanse_kr;jan\n173;A;1;0;5;1\n"
    )
    with pytest.raises(FileRejected) as caught:
        split_wide_housing(path, 2019)
    assert caught.value.rule == "renamed_column"
    assert "restance_kr" in caught.value.message


def test_sheet_with_ragged_row_is_rejected_not_silently_shortened(tmp_path: Path) -> None:
    lines = ANNUAL.read_text().splitlines()
    path = tmp_path / "annual.csv"
    path.write_text("\n".join([*lines, "173;Kort række;4"]) + "\n")
    with pytest.raises(FileRejected) as caught:
        split_wide_housing(path, 2019)
    assert caught.value.rule == "column_count_mismatch"
    assert "5" in caught.value.message


def test_sheet_missing_required_column_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "annual.csv"
    path.write_text("kommunekode;adresse;vaerelser;jan\n173;A;1;0\n")
    with pytest.raises(FileRejected, match="ledige_vaerelser"):
        split_wide_housing(path, 2019)


def test_bad_month_key_is_not_written(tmp_path: Path) -> None:
    frame = pl.DataFrame({"kommunekode": ["173"]})
    with pytest.raises(ValueError):
        write_monthly_housing({"../../etc/2019-10": frame}, tmp_path)


@pytest.mark.parametrize(
    ("value", "text"),
    [(1234.5, "1234,5"), (1.234, "1,2340"), (45620.35, "45620,35"), (3.0, "3"), (1e-05, "0,00001")],
)
def test_decimals_are_written_unambiguously(value: float, text: str) -> None:
    assert format_decimal(value) == text
