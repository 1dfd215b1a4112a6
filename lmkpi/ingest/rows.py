"""Apply a source contract to a raw frame: typed columns, defaults and row-level rejects.

Text columns of codes, numbers, dates and flags usually hold few distinct values: their
plans (`lmkpi.ingest.plans`) run once per distinct value and are joined back, so the cost
follows distinct values, not rows; CPR and free-form text columns run row by row.

Each column yields its typed value and at most one failed rule per row; row rules across
columns (start <= end, the file's month) add more. A row with any failed rule is left out
of the frame and gets one reject record per failed rule.
"""

from dataclasses import dataclass

import polars as pl

from lmkpi.contracts import REJECT_SCHEMA, SourceContract, output_schema
from lmkpi.ingest.cpr import pseudonymise_numbers
from lmkpi.ingest.errors import FileRejected
from lmkpi.ingest.plans import (
    Check,
    Plan,
    absent_plan,
    masked_name,
    msg_name,
    number_convention,
    plan_for,
    raw_name,
    rule_name,
)
from lmkpi.months import Month

MASKED_SCHEMA = {"line_number": pl.Int64, "column": pl.Utf8}


@dataclass
class Typed:
    frame: pl.DataFrame
    rejects: pl.DataFrame
    warnings: list[str]
    masked: pl.DataFrame  # line_number, column: where a CPR-like number was masked


# ---------------------------------------------------------------- row rules


def _row_checks(
    contract: SourceContract, month: Month, checked: set[str]
) -> tuple[list[tuple[str, Check]], pl.Expr | None]:
    """(column reported, check) for rules across columns; and the 'month checkable' flag.
    `checked` names the columns that have a rule column (a value there may be invalid)."""

    def valid(name: str) -> pl.Expr:
        return pl.col(rule_name(name)).is_null() if name in checked else pl.lit(True)

    checks: list[tuple[str, Check]] = []
    for comp in contract.comparisons:
        left, right = pl.col(comp.left), pl.col(comp.right)
        broken = left > right if comp.op == "<=" else left >= right
        fails = broken & valid(comp.left) & valid(comp.right)
        checks.append((comp.column, Check(fails, comp.rule, pl.lit(comp.message))))
    rule = contract.month_rule
    if rule is None:
        return checks, None
    first, last = month.bounds
    start = pl.col(rule.start)
    checkable = valid(rule.start) & start.is_not_null()
    if rule.kind == "overlap":
        assert rule.end is not None
        end = pl.col(rule.end)
        checkable = checkable & valid(rule.end)
        outside = (start > last) | (end.is_not_null() & (end < first))
        message = pl.format(
            "the period {} to {} does not overlap {}",
            start.cast(pl.Utf8),
            end.cast(pl.Utf8).fill_null("(open)"),
            pl.lit(month.key),
        )
    else:
        outside = (start < first) | (start > last)
        message = pl.format(
            "{} {} is not in {}", pl.lit(rule.start), start.cast(pl.Utf8), pl.lit(month.key)
        )
    checks.append((rule.start, Check(checkable & outside, "outside_month", message)))
    return checks, checkable


def _check_month(
    contract: SourceContract, wide: pl.DataFrame, month: Month, file_name: str
) -> None:
    """Whole-file rule: some row (with usable dates) must belong to the file's month."""
    if "__month_checkable" not in wide.columns:
        return
    checkable = wide.filter(pl.col("__month_checkable"))
    if checkable.height == 0:
        return
    outside = checkable.get_column(rule_name("outside_month"))
    if outside.null_count() > 0:
        return
    assert contract.month_rule is not None
    start = contract.month_rule.start
    first, last = checkable.get_column(start).min(), checkable.get_column(start).max()
    raise FileRejected(
        file_name,
        "wrong_month",
        f"no row belongs to {month}, the month in the file name ({start} runs from "
        f"{first} to {last}): check that the file is named for the right month",
    )


# ---------------------------------------------------------------- entry point

_DEDUPE_KINDS = ("integer", "decimal", "date", "code", "flag")


def _run_stages(frame: pl.DataFrame, plans: list[Plan]) -> pl.DataFrame:
    for i in range(max((len(p.stages) for p in plans), default=0)):
        stage: dict[str, pl.Expr] = {}
        for p in plans:
            if i < len(p.stages):
                stage.update(p.stages[i])
        frame = frame.with_columns(**stage)
    return frame


def _finish(frame: pl.DataFrame, plans: dict[str, Plan], danish: bool) -> pl.DataFrame:
    """Late (number) stage, then per column: first failed rule, its message, the values."""
    late: dict[str, pl.Expr] = {}
    for p in plans.values():
        if p.late is not None:
            late.update(p.late(danish))
    if late:
        frame = frame.with_columns(**late)
    outputs: dict[str, pl.Expr] = {}
    for name, p in plans.items():
        outputs.update(p.values)
        if not p.checks:
            continue
        rule = pl.when(p.checks[0].fails).then(pl.lit(p.checks[0].rule))
        message = pl.when(p.checks[0].fails).then(p.checks[0].message)
        for c in p.checks[1:]:
            rule = rule.when(c.fails).then(pl.lit(c.rule))
            message = message.when(c.fails).then(c.message)
        outputs[rule_name(name)] = rule
        outputs[msg_name(name)] = message.cast(pl.Utf8)
    return frame.with_columns(**outputs)


def apply_contract(
    frame: pl.DataFrame,
    contract: SourceContract,
    month: Month,
    key: bytes,
    file_name: str,
) -> Typed:
    """Type `frame` (contract column names + line_number) and collect row rejects.

    Code, number, date and flag columns usually hold few distinct values: they are parsed
    once per distinct value and joined back, so the cost follows the distinct values, not
    the rows. CPR and text columns are evaluated row by row.
    """
    warnings: list[str] = []
    schema = frame.schema
    columns = [c for c in contract.columns if not c.free_text]
    present = [c.name for c in columns if c.name in schema]
    plans = {
        c.name: plan_for(c, schema[c.name], file_name) if c.name in present else absent_plan(c)
        for c in columns
    }
    for p in plans.values():
        if p.warning:
            warnings.append(p.warning)

    wide = frame.select("line_number", *[pl.col(n).alias(raw_name(n)) for n in present])
    by_value: dict[str, pl.DataFrame] = {}
    for col in columns:
        if col.name in present and col.kind in _DEDUPE_KINDS and schema[col.name] == pl.Utf8:
            distinct = wide.select(pl.col(raw_name(col.name)).unique())
            if distinct.height * 2 <= max(wide.height, 1):
                by_value[col.name] = _run_stages(distinct, [plans[col.name]])
    row_plans = {n: p for n, p in plans.items() if n not in by_value}
    wide = _run_stages(wide, list(row_plans.values()))

    number_frames = [
        (f, n) for n, f in [*by_value.items(), *((n, wide) for n in row_plans)] if plans[n].numbers
    ]
    danish, ambiguous = number_convention(number_frames)
    if ambiguous:
        how = (
            "Danish style ('.' groups thousands, ',' is the decimal mark)"
            if danish
            else "English style ('.' is the decimal mark)"
        )
        warnings.append(f"numbers like '1.234' fit both styles; {ambiguous} read as {how}")

    wide = _finish(wide, row_plans, danish)
    for name, distinct in by_value.items():
        done = _finish(distinct, {name: plans[name]}, danish)
        keep = [*plans[name].values, rule_name(name), msg_name(name)]
        wide = wide.join(
            done.select(raw_name(name), *keep),
            on=raw_name(name),
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )

    checked = {n for n, p in plans.items() if p.checks}
    row_checks, checkable = _row_checks(contract, month, checked)
    extra: dict[str, pl.Expr] = {}
    for _, check in row_checks:
        extra[rule_name(check.rule)] = pl.when(check.fails).then(pl.lit(check.rule))
    if checkable is not None:
        extra["__month_checkable"] = checkable
    if extra:
        wide = wide.with_columns(**extra)
    _check_month(contract, wide, month, file_name)

    reject_parts = []
    for name in checked:
        failing = wide.filter(pl.col(rule_name(name)).is_not_null())
        reject_parts.append(
            failing.select(
                "line_number",
                pl.lit(name, dtype=pl.Utf8).alias("column"),
                pl.col(rule_name(name)).alias("rule"),
                pl.col(msg_name(name)).alias("message"),
            )
        )
    for column, check in row_checks:
        failing = wide.filter(pl.col(rule_name(check.rule)).is_not_null())
        reject_parts.append(
            failing.select(
                "line_number",
                pl.lit(column, dtype=pl.Utf8).alias("column"),
                pl.lit(check.rule).alias("rule"),
                check.message.cast(pl.Utf8).alias("message"),
            )
        )
    rejects = pl.concat([p.cast(REJECT_SCHEMA) for p in reject_parts]) if reject_parts else None
    if rejects is None:
        rejects = pl.DataFrame(schema=REJECT_SCHEMA)
    rejects = rejects.sort("line_number", maintain_order=True)

    rule_columns = [rule_name(n) for n in checked] + [rule_name(c.rule) for _, c in row_checks]
    if rule_columns:
        wide = wide.filter(pl.all_horizontal(pl.col(c).is_null() for c in rule_columns))
    if "__cpr_key_input" in wide.columns:
        wide = wide.with_columns(
            person_key=pseudonymise_numbers(wide.get_column("__cpr_key_input"), key)
        )
    masked = pl.concat(
        [
            wide.filter(pl.col(masked_name(n))).select(
                "line_number", pl.lit(n, dtype=pl.Utf8).alias("column")
            )
            for n in plans
            if masked_name(n) in wide.columns
        ]
        or [pl.DataFrame(schema=MASKED_SCHEMA)]
    )
    typed = wide.select([pl.col(n).cast(t) for n, t in output_schema(contract.name).items()])
    return Typed(frame=typed, rejects=rejects, warnings=warnings, masked=masked)
