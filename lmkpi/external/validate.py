"""The great-expectations suite of an external table, made from its spec.

Every external table gets the same kinds of rules, parameterised by its spec: the answer has
rows; every observation has an area and a period; measures are the spec's; an area, period,
benefit group and measure appear once (a table exported twice into one file would double
every number); and at most half the values are missing (`..`, `-`, empty; a warning).
Whole-file problems (unknown areas, labels, periods) were refused by the reader already;
rejected rows may be at most `max_reject_share` of the rows, as for the extracts.
"""

import time

import polars as pl

from lmkpi.external.read import ExternalRead
from lmkpi.months import Month
from lmkpi.quality.report import ExpectationOutcome, ValidationReport
from lmkpi.quality.runner import INDEX_COLUMN, run_suite
from lmkpi.quality.validate import _reader_outcomes, _share_outcome
from lmkpi.settings import QualityConfig

KEY_COLUMNS = ["period_code", "area_name", "benefit_group", "measure"]


def _rule(rule: str, severity: str, kind: str, message: str, **kwargs) -> dict:
    return {
        "type": kind,
        "kwargs": kwargs,
        "severity": severity,
        "meta": {"rule": rule, "severity": severity, "message": message},
    }


def suite(read: ExternalRead) -> dict:
    spec = read.spec
    measures = [m.name for m in spec.measures]
    return {
        "name": f"external.{spec.source}.{spec.table}",
        "expectations": [
            _rule("has_rows", "critical", "expect_table_row_count_to_be_between",
                  "the answer holds no observations", min_value=1),
            _rule("area_present", "critical", "expect_column_values_to_not_be_null",
                  "an observation without an area", column="area_name"),
            _rule("period_present", "critical", "expect_column_values_to_not_be_null",
                  "an observation without a period", column="period_start"),
            _rule("known_measure", "critical", "expect_column_values_to_be_in_set",
                  f"measures must be {', '.join(measures)}", column="measure",
                  value_set=measures),
            _rule("one_value_per_key", "critical",
                  "expect_compound_columns_to_be_unique",
                  "an area, period, benefit group and measure appear more than once (the same "
                  "table twice in one file?)", column_list=KEY_COLUMNS),
            _rule("values_mostly_present", "warning", "expect_column_values_to_not_be_null",
                  "more than half of the values are missing (.., - or empty)", column="value",
                  mostly=0.5),
        ],
    }  # fmt: skip


def validate_external(read: ExternalRead, config: QualityConfig | None = None) -> ValidationReport:
    config = config or QualityConfig()
    started = time.perf_counter()
    frame = read.frame.with_columns(pl.col("benefit_group").fill_null("-"))
    kwargs = suite(read)
    raws = run_suite(kwargs, frame, ["measure", "area_name"], {}, INDEX_COLUMN)
    by_rule = {e["meta"]["rule"]: e for e in kwargs["expectations"]}
    outcomes = []
    for raw in raws:
        e = by_rule[raw.rule]
        failing = f"{raw.unexpected_count:,} of {raw.checked:,} observations" if raw.checked else ""
        message = f"{read.file_name}: rule {raw.rule}: " + (
            "passed" if raw.success else f"{e['meta']['message']} {failing}".strip()
        )
        outcomes.append(
            ExpectationOutcome(
                rule=raw.rule,
                expectation_type=e["type"],
                column=e["kwargs"].get("column") or ",".join(e["kwargs"].get("column_list", [])),
                severity=e["severity"],
                success=raw.success,
                unexpected_count=raw.unexpected_count,
                unexpected_share=raw.unexpected_share,
                example_lines=raw.lines[:20],
                message=message,
            )
        )
    lines = read.rejects.get_column("line_number").unique().sort().to_list()
    if lines:
        outcomes += _reader_outcomes(read.file_name, read.rejects, read.rows_read)
    outcomes.append(_share_outcome(read.file_name, len(lines), read.rows_read, config, lines))
    return ValidationReport(
        source=read.spec.source,
        month=Month.of(read.vintage),
        file_name=read.file_name,
        suite=kwargs["name"],
        rows_checked=read.rows_loaded,
        outcomes=outcomes,
        rejected_lines={},
        seconds=time.perf_counter() - started,
        rows_rejected_by_reader=len(lines),
    )
