from datetime import date, datetime

import pytest

from lmkpi.report.formatting import (
    fmt_date,
    fmt_dkk,
    fmt_number,
    fmt_pct,
    fmt_pct_points,
    month_name,
    month_range,
    month_short,
    parse_report_month,
)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234.5, 1, "1.234,5"),
        (1234567.891, 2, "1.234.567,89"),
        (0.05, 1, "0,1"),  # half up, not half even
        (0.25, 1, "0,3"),
        (2.5, 0, "3"),
        (-1234.5, 1, "-1.234,5"),
        (-0.04, 1, "0,0"),  # no "-0,0"
        (999.95, 1, "1.000,0"),
        (12, 0, "12"),
        (None, 1, "–"),
    ],
)
def test_fmt_number(value, decimals, expected):
    assert fmt_number(value, decimals) == expected


def test_fmt_number_sign():
    assert fmt_number(3.25, 1, sign=True) == "+3,3"
    assert fmt_number(-3.25, 1, sign=True) == "-3,3"
    assert fmt_number(0.0, 1, sign=True) == "0,0"


def test_percentages():
    assert fmt_pct(0.123) == "12,3 pct."
    assert fmt_pct(0.6) == "60,0 pct."
    assert fmt_pct(-0.043) == "-4,3 pct."
    assert fmt_pct(0.128635, sign=True) == "+12,9 pct."
    assert fmt_pct(None) == "–"
    assert fmt_pct_points(0.012) == "+1,2 pct.-point"
    assert fmt_pct_points(-0.0049) == "-0,5 pct.-point"
    assert fmt_dkk(45620.35) == "45.620 kr."


def test_danish_months():
    assert month_name(date(2019, 10, 1)) == "oktober 2019"
    assert [month_name(date(2019, m, 1)).split()[0] for m in (1, 2, 3, 5, 12)] == [
        "januar",
        "februar",
        "marts",
        "maj",
        "december",
    ]
    assert month_short(date(2019, 5, 1)) == "maj 2019"
    assert month_short(date(2019, 10, 1), year=False) == "okt."
    assert month_range(date(2019, 1, 1), date(2019, 10, 1)) == "jan.-okt. 2019"
    assert month_range(date(2017, 12, 1), date(2018, 11, 1)) == "dec. 2017-nov. 2018"
    assert fmt_date(date(2019, 11, 3)) == "3. november 2019"
    assert fmt_date(datetime(2019, 11, 3, 7, 5)) == "3. november 2019 kl. 07.05"


def test_parse_report_month():
    assert parse_report_month("2019-10") == date(2019, 10, 1)
    assert parse_report_month(date(2019, 10, 17)) == date(2019, 10, 1)
    with pytest.raises(ValueError, match="2019-10"):
        parse_report_month("oktober")
