"""CPR numbers: validation, birth date and sex, and keyed pseudonyms (DOMAIN.md §7).

Rules (cpr.dk): `DDMMYY-SSSS` or 10 digits; the century follows from digit 7 and the year
(0-3 -> 1900; 4 or 9 -> 2000 if YY <= 36 else 1900; 5-8 -> 2000 if YY <= 57 else 1800); an
odd last digit is male. Numbers without the modulus-11 check have been issued since 2007 and
are valid: modulus 11 is never checked. A number whose date does not exist is rejected.
"""

import binascii
import hashlib

import polars as pl

_SHAPE = r"^\d{6}-?\d{4}$"
_DIGITS = "0123456789abcdef"
# Pseudonyms are base 16 written with the letters a-p, so that no pseudonym can contain a
# run of digits that a CPR scan (or a person) would take for a CPR number.
_LETTERS = "abcdefghijklmnop"
_TO_LETTERS = bytes.maketrans(_DIGITS.encode(), _LETTERS.encode())
PSEUDONYM_LENGTH = 32  # 128 bits
MIN_KEY_BYTES = 16

PROBLEM_MISSING = "CPR number is empty"
PROBLEM_SHAPE = "CPR number is not 10 digits (DDMMYY-SSSS or DDMMYYSSSS)"
PROBLEM_DATE = "CPR number does not hold a real birth date"


def cpr_columns(value: pl.Expr) -> dict[str, pl.Expr]:
    """Expressions for cpr_normalised, birth_date, sex, problem from a string expression."""
    text = value.cast(pl.Utf8).str.strip_chars()
    text = pl.when(text != "").then(text)
    well_formed = text.str.contains(_SHAPE)
    normalised = pl.when(well_formed).then(text.str.replace("-", "", literal=True))
    yy = normalised.str.slice(4, 2).cast(pl.Int32)
    digit7 = normalised.str.slice(6, 1).cast(pl.Int32)
    century = (
        pl.when(digit7 <= 3)
        .then(1900)
        .when(digit7.is_in([4, 9]))
        .then(pl.when(yy <= 36).then(2000).otherwise(1900))
        .otherwise(pl.when(yy <= 57).then(2000).otherwise(1800))
    )
    birth_date = pl.format(
        "{}-{}-{}",
        (century + yy).cast(pl.Utf8),
        normalised.str.slice(2, 2),
        normalised.str.slice(0, 2),
    ).str.to_date("%Y-%m-%d", strict=False)
    birth_date = pl.when(normalised.is_not_null()).then(birth_date)
    last_digit = normalised.str.slice(9, 1).cast(pl.Int32)
    sex = pl.when(last_digit % 2 == 1).then(pl.lit("M")).when(last_digit.is_not_null()).then(
        pl.lit("K")
    )
    problem = (
        pl.when(text.is_null())
        .then(pl.lit(PROBLEM_MISSING))
        .when(~well_formed)
        .then(pl.lit(PROBLEM_SHAPE))
        .when(birth_date.is_null())
        .then(pl.lit(PROBLEM_DATE))
    )
    valid = problem.is_null()
    return {
        "cpr_normalised": pl.when(valid).then(normalised),
        "birth_date": pl.when(valid).then(birth_date),
        "sex": pl.when(valid).then(sex),
        "problem": problem,
    }


def parse_cpr(cpr: pl.Series) -> pl.DataFrame:
    """Validate CPR numbers: cpr_normalised (10 digits), birth_date, sex ("M"/"K"), problem.

    `problem` is null for a valid number, else a message that does not contain the number;
    the other columns are null for invalid numbers.
    """
    frame = pl.DataFrame({"cpr": cpr.cast(pl.Utf8)})
    return frame.select(**cpr_columns(pl.col("cpr")))


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"the pseudonymisation key must be at least {MIN_KEY_BYTES} random bytes "
            "(kept outside the repository and the warehouse)"
        )


def _hmac_sha256_many(key: bytes, messages: list[bytes]) -> list[bytes]:
    """HMAC-SHA256 (RFC 2104) of many short messages, reusing the keyed pad states.

    About 3x faster than calling `hmac.digest` per value; equal to it (tested).
    """
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    digests = []
    for message in messages:
        h_in = inner.copy()
        h_in.update(message)
        h_out = outer.copy()
        h_out.update(h_in.digest())
        digests.append(h_out.digest())
    return digests


def pseudonyms_for(normalised: list[str], key: bytes) -> list[str]:
    """Pseudonym per normalised 10-digit CPR string (no validation here)."""
    _check_key(key)
    size = PSEUDONYM_LENGTH // 2
    digests = _hmac_sha256_many(bytes(key), [v.encode("ascii") for v in normalised])
    letters = binascii.hexlify(b"".join(d[:size] for d in digests)).translate(_TO_LETTERS)
    text = letters.decode("ascii")
    n = PSEUDONYM_LENGTH
    return [text[i : i + n] for i in range(0, len(text), n)]


def pseudonymise_normalised(normalised: pl.Series, key: bytes) -> pl.Series:
    """Pseudonyms for a series of already normalised CPR numbers (nulls stay null)."""
    _check_key(key)
    unique = normalised.drop_nulls().unique()
    if unique.len() == 0:
        return pl.Series("person_key", [None] * normalised.len(), dtype=pl.Utf8)
    mapping = pl.DataFrame(
        {"_cpr": unique, "person_key": pseudonyms_for(unique.to_list(), key)},
        schema={"_cpr": pl.Utf8, "person_key": pl.Utf8},
    )
    joined = (
        pl.DataFrame({"_cpr": normalised.cast(pl.Utf8)})
        .join(mapping, on="_cpr", how="left", maintain_order="left")
        .get_column("person_key")
    )
    return joined.alias("person_key")


def pseudonymise(cpr: pl.Series, key: bytes) -> pl.Series:
    """Keyed pseudonym of each CPR number: HMAC-SHA256(key, normalised 10-digit number).

    The digest is truncated to 128 bits and written as 32 letters a-p (base 16). The same
    number and key always give the same pseudonym, with or without hyphen or whitespace.
    Invalid or empty numbers give null. `key` must be at least 16 bytes.
    """
    normalised = parse_cpr(cpr).get_column("cpr_normalised")
    return pseudonymise_normalised(normalised, key)
