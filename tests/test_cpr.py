"""CPR validation, birth date/sex derivation and keyed pseudonyms (docs/domain.md §7)."""

import datetime as dt
import hashlib
import hmac
import re

import polars as pl
import pytest

from lmkpi.ingest import parse_cpr, pseudonymise
from lmkpi.ingest.cpr import PROBLEM_DATE, PROBLEM_MISSING, PROBLEM_SHAPE

KEY = b"test-key-not-secret-0123456789abcdef"
OTHER_KEY = b"another-key-not-secret-0123456789abcdef"


def _one(cpr: str | None) -> dict:
    return parse_cpr(pl.Series([cpr], dtype=pl.Utf8)).row(0, named=True)


def _modulus11_ok(digits: str) -> bool:
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


@pytest.mark.parametrize(
    ("cpr", "birth_date", "why"),
    [
        ("010203-0123", dt.date(1903, 2, 1), "digit 7 = 0 -> 1900s"),
        ("311299-3999", dt.date(1999, 12, 31), "digit 7 = 3 -> 1900s"),
        ("010120-4001", dt.date(2020, 1, 1), "digit 7 = 4, YY <= 36 -> 2000s"),
        ("010137-4001", dt.date(1937, 1, 1), "digit 7 = 4, YY > 36 -> 1900s"),
        ("010100-9001", dt.date(2000, 1, 1), "digit 7 = 9, YY <= 36 -> 2000s"),
        ("010199-9001", dt.date(1999, 1, 1), "digit 7 = 9, YY > 36 -> 1900s"),
        ("150305-5008", dt.date(2005, 3, 15), "digit 7 = 5, YY <= 57 -> 2000s"),
        ("150325-8008", dt.date(2025, 3, 15), "digit 7 = 8, YY <= 57 -> 2000s"),
        ("150358-8008", dt.date(1858, 3, 15), "digit 7 = 8, YY > 57 -> 1800s"),
        ("150399-6008", dt.date(1899, 3, 15), "digit 7 = 6, YY > 57 -> 1800s"),
        ("290200-4001", dt.date(2000, 2, 29), "2000 is a leap year"),
    ],
)
def test_century_rule(cpr: str, birth_date: dt.date, why: str) -> None:
    row = _one(cpr)
    assert row["problem"] is None, why
    assert row["birth_date"] == birth_date, why


@pytest.mark.parametrize(
    ("cpr", "why"),
    [
        ("0101375242", "digit 7 = 5, YY = 37 -> 2037: born in the future"),
        ("010136-4001", "digit 7 = 4, YY = 36 -> 2036"),
        ("150357-8008", "digit 7 = 8, YY = 57 -> 2057"),
    ],
)
def test_a_birth_date_in_the_future_is_impossible(cpr: str, why: str) -> None:
    assert _one(cpr)["problem"] == "CPR number's birth date lies in the future", why


@pytest.mark.parametrize("cpr", ["０１０１９０１２３５", "٠١٠١٩٠١٢٣٥", "010190-１２３５"])
def test_only_ascii_digits_count(cpr: str) -> None:
    assert _one(cpr)["problem"] == "CPR number is not 10 digits (DDMMYY-SSSS or DDMMYYSSSS)"


def test_sex_from_last_digit() -> None:
    assert _one("0101901235")["sex"] == "M"
    assert _one("0101901234")["sex"] == "K"
    assert _one("0101901230")["sex"] == "K"


def test_number_failing_modulus_11_is_valid() -> None:
    cpr = "0101901235"
    assert not _modulus11_ok(cpr)
    row = _one(cpr)
    assert row["problem"] is None
    assert row["birth_date"] == dt.date(1990, 1, 1)


@pytest.mark.parametrize(
    ("cpr", "problem"),
    [
        ("310218-1234", PROBLEM_DATE),  # 31 February
        ("290200-1001", PROBLEM_DATE),  # 1900 was not a leap year
        ("001290-1234", PROBLEM_DATE),  # day 0
        ("011390-1234", PROBLEM_DATE),  # month 13
        ("01019A1235", PROBLEM_SHAPE),  # letter
        ("010190-123", PROBLEM_SHAPE),  # 9 digits
        ("01019012345", PROBLEM_SHAPE),  # 11 digits
        ("0101-901235", PROBLEM_SHAPE),  # hyphen in the wrong place
        ("010190 1235", PROBLEM_SHAPE),  # space is not a hyphen
        ("", PROBLEM_MISSING),
        ("   ", PROBLEM_MISSING),
        (None, PROBLEM_MISSING),
    ],
)
def test_invalid_numbers_are_rejected(cpr: str | None, problem: str) -> None:
    row = _one(cpr)
    assert row["problem"] == problem
    assert row["cpr_normalised"] is None
    assert row["birth_date"] is None
    assert row["sex"] is None


def test_problem_messages_never_contain_the_number() -> None:
    values = ["310218-1234", "01019A1235", "0101901235"]
    problems = parse_cpr(pl.Series(values)).get_column("problem").drop_nulls().to_list()
    assert problems
    for problem in problems:
        assert not re.search(r"\d{4}", problem)


def test_normalisation_keeps_leading_zero_and_accepts_hyphen_and_whitespace() -> None:
    parsed = parse_cpr(pl.Series(["0101901235", "010190-1235", "  010190-1235\t"]))
    assert parsed.get_column("cpr_normalised").to_list() == ["0101901235"] * 3
    assert parsed.get_column("cpr_normalised").dtype == pl.Utf8


def test_pseudonym_is_hmac_sha256_of_normalised_number() -> None:
    expected_hex = hmac.new(KEY, b"0101901235", hashlib.sha256).hexdigest()[:32]
    expected = expected_hex.translate(str.maketrans("0123456789abcdef", "abcdefghijklmnop"))
    assert pseudonymise(pl.Series(["010190-1235"]), KEY).to_list() == [expected]


def test_pseudonym_with_long_key_matches_stdlib_hmac() -> None:
    key = bytes(range(100))  # longer than the SHA-256 block: hashed first (RFC 2104)
    expected_hex = hmac.new(key, b"2302851118", hashlib.sha256).hexdigest()[:32]
    expected = expected_hex.translate(str.maketrans("0123456789abcdef", "abcdefghijklmnop"))
    assert pseudonymise(pl.Series(["2302851118"]), key).item() == expected


def test_same_key_same_pseudonym_across_formats_and_calls() -> None:
    a = pseudonymise(pl.Series(["0101901235", " 010190-1235 "]), KEY)
    b = pseudonymise(pl.Series(["0101901235"]), KEY)
    assert a[0] == a[1] == b[0]


def test_different_key_gives_different_pseudonym() -> None:
    series = pl.Series(["0101901235"])
    assert pseudonymise(series, KEY).item() != pseudonymise(series, OTHER_KEY).item()


def test_different_numbers_give_different_pseudonyms() -> None:
    # digit 7 below 4: born in the 1900s, so none lies in the future
    numbers = [
        f"0101{yy:02d}{seq:04d}" for yy in range(100) for seq in range(0, 4000, 31)
    ]  # 1900s: none in the future
    keys = pseudonymise(pl.Series(numbers), KEY)
    assert keys.null_count() == 0
    assert keys.n_unique() == len(numbers)


def test_pseudonym_holds_no_digits_that_could_look_like_a_cpr_number() -> None:
    numbers = [f"{d:02d}0190{s:04d}" for d in range(1, 29) for s in range(0, 10000, 37)]
    keys = pseudonymise(pl.Series(numbers), KEY)
    assert keys.str.len_chars().unique().to_list() == [32]
    assert not keys.str.contains(r"\d").any()
    for number, key in zip(numbers[:50], keys.to_list()[:50], strict=True):
        assert number not in key and number[:6] not in key


def test_invalid_or_missing_numbers_get_no_pseudonym() -> None:
    keys = pseudonymise(pl.Series(["310218-1234", None, "abc", "0101901235"]), KEY)
    assert keys.to_list()[:3] == [None, None, None]
    assert keys[3] is not None


@pytest.mark.parametrize("key", [b"", b"short", "a-string-key-that-is-long", None])
def test_weak_or_missing_key_is_refused(key) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        pseudonymise(pl.Series(["0101901235"]), key)


def test_empty_series() -> None:
    assert pseudonymise(pl.Series([], dtype=pl.Utf8), KEY).len() == 0
    assert parse_cpr(pl.Series([], dtype=pl.Utf8)).columns == [
        "cpr_normalised",
        "birth_date",
        "sex",
        "problem",
    ]


def _stdlib(number: str, key: bytes) -> str:
    hexed = hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:32]
    return hexed.translate(str.maketrans("0123456789abcdef", "abcdefghijklmnop"))


def test_numbers_seen_by_the_previous_call_are_looked_up_not_rehashed(monkeypatch) -> None:
    """A backfill reads the same people month after month: the previous call's pseudonyms
    are reused (only new numbers are hashed), and the result is the same as hashing all."""
    from lmkpi.ingest import cpr

    cpr._RECENT.__init__()
    hashed: list[int] = []
    real = cpr._pseudonyms_for_numbers

    def counting(numbers, key):  # noqa: ANN001, ANN202
        hashed.append(len(numbers))
        return real(numbers, key)

    monkeypatch.setattr(cpr, "_pseudonyms_for_numbers", counting)
    march = ["0101901235", "2302851118", "0101901235", "1512804321"]
    april = ["1512804321", None, "3112991234", "0101901235", "1512804321"]
    first = pseudonymise(pl.Series(march), KEY)
    second = pseudonymise(pl.Series(april), KEY)
    assert hashed == [3, 1]  # March's 3 distinct numbers; in April only 3112991234 is new
    assert first.to_list() == [_stdlib(n, KEY) for n in march]
    assert second.to_list() == [None if n is None else _stdlib(n, KEY) for n in april]
    # Another key never reuses the first key's pseudonyms: everything is hashed again.
    other = pseudonymise(pl.Series(april), OTHER_KEY)
    assert hashed == [3, 1, 3]
    assert other.to_list() == [None if n is None else _stdlib(n, OTHER_KEY) for n in april]
    # Numbers absent from the previous call but seen before it are hashed again, correctly.
    again = pseudonymise(pl.Series(march), OTHER_KEY)
    assert again.to_list() == [_stdlib(n, OTHER_KEY) for n in march]
    assert hashed[-1] == 1  # 2302851118: only in March; 0101901235, 1512804321 were in April


def test_person_numbers_are_the_pseudonyms_128_bits() -> None:
    """person_id (hi << 64 | lo) is the same 128 HMAC bits the 32 letters spell: one person,
    one number, for the same key; null stays null."""
    from lmkpi.ingest.cpr import person_numbers

    keys = pseudonymise(pl.Series(["0101901235", None, "2302851118", "010190-1235"]), KEY)
    numbers = person_numbers(keys)
    digest = hmac.new(KEY, b"0101901235", hashlib.sha256).digest()[:16]
    assert numbers.row(0) == (
        int.from_bytes(digest[:8], "big"),
        int.from_bytes(digest[8:], "big"),
    )
    assert numbers.row(1) == (None, None)
    assert numbers.row(3) == numbers.row(0) != numbers.row(2)
    assert person_numbers(keys.slice(2, 2)).row(1) == numbers.row(0)  # a sliced series
    with pytest.raises(ValueError, match="not a pseudonym"):
        person_numbers(pl.Series(["0101901235" * 3 + "00"]))
