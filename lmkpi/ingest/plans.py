"""Per-column plans: how one contract column is parsed, typed and checked.

A `Plan` is polars expressions in stages (each intermediate becomes a column computed once:
eager polars does not share sub-expressions), the output values, and ordered checks (the
first failing one is the row's problem in that column). Plans read the raw column
`raw_name(column)`; `lmkpi.ingest.rows` runs them over the file or over its distinct values.

Messages name the column and show a value only when it is a plain number or date (never a
CPR number, a code someone typed, or free text).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import polars as pl

from lmkpi.contracts import Column, Reference
from lmkpi.ingest.cpr import cpr_problem_checks, cpr_stages
from lmkpi.ingest.errors import CPR_IN_TEXT, CPR_LIKE, FileRejected
from lmkpi.ingest.reference import reference_values

_NBSP = "\u00a0"
# Danish: '.' or space groups thousands, ',' is the decimal mark ("1.234,5", "0,5").
_DA = rf"^[+-]?(?:\d{{1,3}}(?:[. {_NBSP}]\d{{3}})+|\d+)(?:,\d+)?$"
# English: ',' or space groups thousands, '.' is the decimal mark ("1,234.5", "0.5").
_EN = rf"^[+-]?(?:\d{{1,3}}(?:[, {_NBSP}]\d{{3}})+|\d+)(?:\.\d+)?$"
_SHOWABLE = r"^[0-9 .,:/+\-]{1,20}$"
_CODE_SHAPED = r"^[0-9A-Za-zÆØÅæøå_./+\-]{1,20}$"
_ISO_DATE = r"^\d{4}-\d{1,2}-\d{1,2}$"
_DK_DATE = r"^\d{1,2}-\d{1,2}-\d{4}$"
_MIDNIGHT = r"[ T]00:00(?::00(?:\.0+)?)?$"
_MAX_INTEGER = 2.0**53
_TRANSLIT = {"æ": "ae", "ø": "oe", "å": "aa", " ": "_", "-": "_"}


class Check(NamedTuple):
    fails: pl.Expr  # true where the rule fails (over materialised columns)
    rule: str
    message: pl.Expr  # only used where `fails` is true


@dataclass
class Plan:
    """How one contract column is typed and checked."""

    stages: list[dict[str, pl.Expr]] = field(default_factory=list)
    # numbers: the last stage depends on the file's decimal convention (True = Danish)
    late: Callable[[bool], dict[str, pl.Expr]] | None = None
    values: dict[str, pl.Expr] = field(default_factory=dict)  # output columns
    checks: list[Check] = field(default_factory=list)
    warning: str | None = None
    numbers: str | None = None  # prefix of __da/__en columns for the convention vote


def raw_name(name: str) -> str:
    return f"__raw_{name}"


def _t(name: str) -> str:
    return f"__t_{name}"


CPR_MASK = "[CPR fjernet]"


def masked_name(name: str) -> str:
    """The flag column of a masked text column (true where a CPR-like number was masked)."""
    return f"__masked_{name}"


def rule_name(key: str) -> str:
    return f"__rule_{key}"


def msg_name(key: str) -> str:
    return f"__msg_{key}"


def _stripped(expr: pl.Expr) -> pl.Expr:
    text = expr.str.strip_chars()
    return pl.when(text != "").then(text)


def _shown(text: pl.Expr) -> pl.Expr:
    """The value in quotes if it is a short plain number/date, else "(value not shown)"."""
    text = text.cast(pl.Utf8)
    plain = text.str.contains(_SHOWABLE) & ~text.str.contains(CPR_LIKE)
    return pl.when(plain).then(pl.format("'{}'", text)).otherwise(pl.lit("(value not shown)"))


def _msg(*parts: str | pl.Expr) -> pl.Expr:
    """Concatenate literal strings (without braces) and expressions into a message."""
    exprs = [p for p in parts if isinstance(p, pl.Expr)]
    if not exprs:
        return pl.lit("".join(p for p in parts if isinstance(p, str)))
    assert not any(isinstance(p, str) and ("{" in p or "}" in p) for p in parts)
    template = "".join("{}" if isinstance(p, pl.Expr) else p for p in parts)
    return pl.format(template, *exprs)


def is_text(dtype: pl.DataType) -> bool:
    return dtype in (pl.Utf8, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum)


def _bad_type(file_name: str, name: str, dtype: pl.DataType, column: Column) -> FileRejected:
    return FileRejected(
        file_name,
        "bad_column_type",
        f"column {name!r} has type {dtype} but the contract needs {column.kind}; "
        "deliver it as text or as the contract's type",
    )


def _missing(col: Column) -> list[Check]:
    if not col.required:
        return []
    return [Check(pl.col(_t(col.name)).is_null(), "missing_value", _msg(f"{col.name} is empty"))]


def _allowed_values(col: Column) -> list[str]:
    if isinstance(col.allowed, Reference):
        return sorted(reference_values(col.allowed))
    return list(col.allowed or ())


def _text_input(col: Column, dtype: pl.DataType, file_name: str) -> pl.Expr:
    source = pl.col(raw_name(col.name))
    if is_text(dtype):
        return _stripped(source.cast(pl.Utf8))
    if dtype.is_integer() or dtype == pl.Boolean:
        return source.cast(pl.Int64).cast(pl.Utf8)
    raise _bad_type(file_name, col.name, dtype, col)


# ---------------------------------------------------------------- numbers


def _range_checks(col: Column, value: pl.Expr, shown: pl.Expr) -> list[Check]:
    checks = []
    name = col.name
    if col.minimum is not None and col.minimum_exclusive:
        checks.append(
            Check(
                value <= col.minimum,
                "out_of_range",
                _msg(name, " ", shown, f" must be greater than {col.minimum:g}"),
            )
        )
    elif col.minimum is not None:
        checks.append(
            Check(
                value < col.minimum,
                "out_of_range",
                _msg(name, " ", shown, f" must be at least {col.minimum:g}"),
            )
        )
    if col.maximum is not None:
        checks.append(
            Check(
                value > col.maximum,
                "out_of_range",
                _msg(name, " ", shown, f" must be at most {col.maximum:g}"),
            )
        )
    return checks


def _numeric(col: Column, dtype: pl.DataType, file_name: str) -> Plan:
    name = col.name
    text, number = _t(name), f"__n_{name}"
    plan = Plan()
    if is_text(dtype):
        da, en = f"__da_{name}", f"__en_{name}"
        plan.stages = [
            {text: _stripped(pl.col(raw_name(name)).cast(pl.Utf8))},
            {da: pl.col(text).str.contains(_DA), en: pl.col(text).str.contains(_EN)},
        ]
        plan.numbers = name

        def late(danish: bool) -> dict[str, pl.Expr]:
            t = pl.col(text)
            da_value = t.str.replace_all(rf"[. {_NBSP}]", "").str.replace(",", ".", literal=True)
            en_value = t.str.replace_all(rf"[, {_NBSP}]", "")
            either = da_value if danish else en_value
            parsed = (
                pl.when(pl.col(da) & pl.col(en))
                .then(either)
                .when(pl.col(da))
                .then(da_value)
                .when(pl.col(en))
                .then(en_value)
            )
            return {number: parsed.cast(pl.Float64, strict=False)}

        plan.late = late
    elif dtype.is_numeric() or dtype == pl.Boolean:
        as_float = pl.col(raw_name(name)).cast(pl.Float64)
        plan.stages = [
            {text: pl.col(raw_name(name))},
            {number: pl.when(as_float.is_finite()).then(as_float)},
        ]
    else:
        raise _bad_type(file_name, name, dtype, col)

    value = pl.col(number)
    shown = _shown(pl.col(text))
    checks = _missing(col)
    checks.append(
        Check(
            pl.col(text).is_not_null() & value.is_null(),
            "invalid_number",
            _msg(name, " ", shown, " is not a number"),
        )
    )
    if col.kind == "integer":
        checks.append(
            Check(
                (value != value.floor()) | (value.abs() > _MAX_INTEGER),
                "invalid_number",
                _msg(name, " ", shown, " is not a whole number"),
            )
        )
    if col.allowed is not None:
        allowed = _allowed_values(col)
        as_code = value.cast(pl.Int64, strict=False).cast(pl.Utf8)
        is_kommune = name == "kommunekode"
        what = "one of the 98 municipality codes" if is_kommune else "one of " + ", ".join(allowed)
        checks.append(
            Check(
                value.is_not_null() & ~as_code.is_in(allowed),
                "unknown_kommunekode" if is_kommune else "unknown_code",
                _msg(name, " ", shown, f" is not {what}"),
            )
        )
    checks += _range_checks(col, value, shown)
    plan.checks = checks
    out = value.cast(col.dtype, strict=False) if col.kind == "integer" else value
    if col.default is not None:
        out = out.fill_null(pl.lit(col.default).cast(col.dtype))
    plan.values = {name: out}
    return plan


def number_convention(frames: list[tuple[pl.DataFrame, str]]) -> tuple[bool, int]:
    """How to read numbers that fit both conventions ("1.234", "1,234"): Danish unless the
    file's unambiguous numbers are all English-style. Returns (danish, number of
    ambiguous values); `frames` are (frame with __t/__da/__en columns, column name)."""
    da_only = en_only = ambiguous = 0
    for frame, name in frames:
        da, en = pl.col(f"__da_{name}").fill_null(False), pl.col(f"__en_{name}").fill_null(False)
        has_sep = pl.col(_t(name)).str.contains(r"[.,]").fill_null(False)
        counts = frame.select(
            (da & ~en).sum().alias("da"),
            (en & ~da).sum().alias("en"),
            (da & en & has_sep).sum().alias("amb"),
        ).row(0)
        da_only, en_only, ambiguous = (
            da_only + counts[0],
            en_only + counts[1],
            ambiguous + counts[2],
        )
    return not (en_only > 0 and da_only == 0), ambiguous


# ---------------------------------------------------------------- other kinds


def _date(col: Column, dtype: pl.DataType, file_name: str) -> Plan:
    name = col.name
    text, plain, value = _t(name), f"__p_{name}", f"__v_{name}"
    plan = Plan()
    if is_text(dtype):
        p = pl.col(plain)
        iso = pl.when(p.str.contains(_ISO_DATE)).then(p.str.to_date("%Y-%m-%d", strict=False))
        danish = pl.when(p.str.contains(_DK_DATE)).then(p.str.to_date("%d-%m-%Y", strict=False))
        plan.stages = [
            {text: _stripped(pl.col(raw_name(name)).cast(pl.Utf8))},
            {plain: pl.col(text).str.replace(_MIDNIGHT, "")},
            {value: pl.coalesce(iso, danish)},
        ]
    elif dtype == pl.Date or isinstance(dtype, pl.Datetime):
        plan.stages = [{text: pl.col(raw_name(name)), value: pl.col(raw_name(name)).cast(pl.Date)}]
    else:
        raise _bad_type(file_name, name, dtype, col)
    shown = _shown(pl.col(text))
    plan.checks = _missing(col) + [
        Check(
            pl.col(text).is_not_null() & pl.col(value).is_null(),
            "invalid_date",
            _msg(name, " ", shown, " is not a real date (use YYYY-MM-DD or DD-MM-YYYY)"),
        )
    ]
    plan.values = {name: pl.col(value)}
    return plan


def _code_key(value: str | pl.Expr):
    if isinstance(value, str):
        key = value.lower()
        for old, new in _TRANSLIT.items():
            key = key.replace(old, new)
        return key
    key = value.str.to_lowercase()
    for old, new in _TRANSLIT.items():
        key = key.str.replace_all(old, new, literal=True)
    return key


def _code(col: Column, dtype: pl.DataType, file_name: str) -> Plan:
    name = col.name
    text = _t(name)
    allowed = _allowed_values(col)
    suggestions = {_code_key(code): code for code in allowed}
    suggestion = _code_key(pl.col(text)).replace_strict(
        suggestions, default="", return_dtype=pl.Utf8
    )
    # The code itself is named (a code is not personal data); anything not shaped like one,
    # e.g. a number typed into the field, is not shown.
    text_col = pl.col(text).cast(pl.Utf8)
    code_like = text_col.str.contains(_CODE_SHAPED) & ~text_col.str.contains(CPR_LIKE)
    shown = pl.when(code_like).then(pl.format("'{}'", text_col)).otherwise(pl.lit("(not shown)"))
    message = (
        pl.when(suggestion != "")
        .then(
            pl.format(
                f"{name} {{}} is not an allowed code; did you mean '{{}}'?", shown, suggestion
            )
        )
        .otherwise(pl.format(f"{name} {{}} is not one of: {', '.join(allowed)}", shown))
    )
    return Plan(
        stages=[{text: _text_input(col, dtype, file_name)}],
        checks=_missing(col)
        + [
            Check(
                pl.col(text).is_not_null() & ~pl.col(text).is_in(allowed), "unknown_code", message
            )
        ],
        values={name: pl.col(text)},
    )


def _text(col: Column, dtype: pl.DataType, file_name: str) -> Plan:
    name = col.name
    text = pl.col(_t(name))
    checks = _missing(col)
    if col.max_length is not None:
        checks.append(
            Check(
                text.str.len_chars() > col.max_length,
                "too_long",
                _msg(f"{name} is longer than {col.max_length} characters"),
            )
        )
    if col.pattern is not None:
        checks.append(
            Check(
                text.is_not_null() & ~text.str.contains(f"^(?:{col.pattern})$"),
                "invalid_format",
                _msg(f"{name} does not have the required form ({col.description})"),
            )
        )
    # Every stored text value is screened for CPR-like numbers (typed into free text by
    # mistake): the row is rejected, or the number masked, as the column's contract says.
    has_cpr = text.str.contains(CPR_IN_TEXT).fill_null(False)
    values = {name: text}
    if col.cpr_in_text == "mask":
        values = {
            name: pl.when(has_cpr)
            .then(text.str.replace_all(CPR_IN_TEXT, f"${{1}}{CPR_MASK}${{3}}"))
            .otherwise(text),
            masked_name(name): has_cpr,
        }
    else:
        checks.append(
            Check(
                has_cpr,
                "cpr_in_text",
                _msg(f"{name} holds a CPR-like number (not shown): remove it in the source system"),
            )
        )
    return Plan(
        stages=[{_t(name): _text_input(col, dtype, file_name)}],
        checks=checks,
        values=values,
    )


def _flag(col: Column, dtype: pl.DataType, file_name: str) -> Plan:
    name = col.name
    text, value = _t(name), f"__v_{name}"
    if dtype == pl.Boolean:
        stages = [{text: pl.col(raw_name(name)), value: pl.col(raw_name(name))}]
    else:
        stages = [
            {text: _text_input(col, dtype, file_name).str.to_lowercase()},
            {
                value: pl.col(text).replace_strict(
                    {"1": True, "0": False, "true": True, "false": False},
                    default=None,
                    return_dtype=pl.Boolean,
                )
            },
        ]
    checks = _missing(col) + [
        Check(
            pl.col(text).is_not_null() & pl.col(value).is_null(),
            "invalid_flag",
            _msg(f"{name} must be 0 or 1"),
        )
    ]
    return Plan(stages=stages, checks=checks, values={name: pl.col(value)})


def _cpr(col: Column, dtype: pl.DataType, file_name: str) -> Plan:
    name = col.name
    plan = Plan()
    if is_text(dtype):
        source = pl.col(raw_name(name)).cast(pl.Utf8)
    elif dtype.is_integer():
        source = pl.col(raw_name(name)).cast(pl.Utf8).str.zfill(10)
        plan.warning = (
            f"{name} is stored as a number: leading zeros were restored to 10 digits; "
            "deliver it as text"
        )
    else:
        raise _bad_type(file_name, name, dtype, col)
    prefix = "__cpr_"
    plan.stages = cpr_stages(source, prefix)
    rules = ["missing_value", "invalid_cpr", "invalid_cpr", "invalid_cpr"]
    plan.checks = [
        Check(fails, rule, pl.lit(f"{name}: {problem}"))
        for (fails, problem), rule in zip(cpr_problem_checks(prefix), rules, strict=True)
    ]
    plan.values = {
        "__cpr_key_input": pl.col(f"{prefix}number"),
        "birth_date": pl.col(f"{prefix}birth_date"),
        "sex": pl.col(f"{prefix}sex"),
    }
    return plan


def absent_plan(col: Column) -> Plan:
    return Plan(values={col.name: pl.lit(col.default).cast(col.dtype)})


def plan_for(col: Column, dtype: pl.DataType, file_name: str) -> Plan:
    if col.kind == "cpr":
        return _cpr(col, dtype, file_name)
    if col.kind in ("integer", "decimal"):
        return _numeric(col, dtype, file_name)
    if col.kind == "date":
        return _date(col, dtype, file_name)
    if col.kind == "code":
        return _code(col, dtype, file_name)
    if col.kind == "flag":
        return _flag(col, dtype, file_name)
    return _text(col, dtype, file_name)
