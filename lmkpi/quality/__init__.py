"""Quality: every load is validated against its source's suite before anything uses it.

Pure functions over the reader's output (`lmkpi.ingest.ReadResult`); the Dagster wiring only
calls them and turns outcomes into asset checks.

- `validate(source, frame, month=, file_name=, previous=, config=, reader_rejects=)` runs
  `expectations/<source>.json` (great-expectations 1.x, imported lazily, on pandas) and
  returns a ValidationReport: one ExpectationOutcome per rule, the lines to reject, and
  Markdown / HTML summaries. `validate_read(result, ...)` does the same from a ReadResult.
- Severities: a failed `critical` outcome blocks the month (`report.blocking`); a failed
  `warning` loads and stays visible (`report.warnings`); `info` is shown only.
- Row rules marked `reject_rows` run with `mostly = 1 - max_reject_share` (default 0.99): up
  to 1 % of the rows may fail; those rows are listed in `report.rejected_lines` and the check
  passes; beyond 1 % the check fails and, being critical, blocks the month.
- `profile(source, frame, month)` -> MonthProfile: give last month's as `previous` to enable
  the distribution checks (rows / full-time persons per municipality, municipalities and
  status codes that vanished).
- `rejects_frame(report)`: the rows to reject as records in the reader's reject schema.
- `file_rejected_report(...)`: the same kind of report for a file the reader refused whole.
- `check_catalogue(source)`: every rule id a report for `source` can hold, with its severity
  and description (to declare one Dagster asset check per rule up front).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from lmkpi.contracts import FILE_RULES, ROW_RULES
from lmkpi.errors import AccountingError
from lmkpi.months import Month
from lmkpi.quality.profile import MonthProfile, profile
from lmkpi.quality.report import ExpectationOutcome, Severity, ValidationReport, write_summary
from lmkpi.quality.suites import SuiteError, load_rules
from lmkpi.quality.validate import rejects_frame, validate
from lmkpi.settings import QualityConfig, QualityConfigError

if TYPE_CHECKING:
    from lmkpi.ingest import FileRejected, ReadResult

REJECT_COLUMNS = ["line_number", "column", "rule", "message"]

__all__ = [
    "AcceptedRows",
    "ExpectationOutcome",
    "MonthProfile",
    "QualityConfig",
    "QualityConfigError",
    "Severity",
    "SuiteError",
    "ValidationReport",
    "accept_rows",
    "check_catalogue",
    "file_rejected_report",
    "load_rules",
    "profile",
    "rejects_frame",
    "validate",
    "validate_read",
    "write_summary",
]


def check_catalogue(source: str) -> list[tuple[str, Severity, str]]:
    """(rule, severity, description) of every outcome a report for `source` can hold: the
    suite's rules, the reader's row rules (warnings), `rows_rejected_share` and the reader's
    whole-file rules (critical, from `file_rejected_report`)."""
    rules: list[tuple[str, Severity, str]] = [
        (r.rule, r.severity, r.message) for r in load_rules(source)
    ]
    rules += [
        (rule, "warning", f"rows rejected by the reader: {text}")
        for rule, text in ROW_RULES.items()
    ]
    rules.append(("cpr_in_text_masked", "warning", "a CPR-like number in a text value was masked"))
    rules.append(
        ("rows_rejected_share", "critical", "all rejected rows may be at most max_reject_share")
    )
    rules.append(
        (
            "month_volume_drop",
            "critical",
            "rows and full-time persons may fall by at most max_drop_share from the previous "
            "month (lmkpi load --accept-drop when the fall is real)",
        )
    )
    rules += [(rule, "critical", f"file refused: {text}") for rule, text in FILE_RULES.items()]
    return rules


def validate_read(
    result: "ReadResult",
    *,
    previous: MonthProfile | None = None,
    config: QualityConfig | None = None,
) -> ValidationReport:
    """`validate` on a ReadResult, with the reader's row rejects included."""
    return validate(
        result.source,
        result.frame,
        month=result.month,
        file_name=result.file_name,
        previous=previous,
        config=config,
        reader_rejects=result.rejects,
        reader_masked=result.masked,
    )


def file_rejected_report(source: str, month: Month, error: "FileRejected") -> ValidationReport:
    """A blocking report for a file the reader refused whole (`lmkpi.ingest.FileRejected`),
    so every load, refused or not, has a summary to link and list."""
    outcome = ExpectationOutcome(
        rule=error.rule,
        expectation_type="read_extract",
        column=None,
        severity="critical",
        success=False,
        unexpected_count=0,
        unexpected_share=0.0,
        example_lines=[],
        message=str(error),
    )
    return ValidationReport(
        source=source,
        month=month,
        file_name=error.file_name,
        suite=source,
        rows_checked=0,
        outcomes=[outcome],
        rejected_lines={},
        seconds=0.0,
        notes=["the whole file was refused before any row was read; nothing was loaded"],
    )


@dataclass(frozen=True)
class AcceptedRows:
    """What a load keeps of a read file after validation."""

    frame: pl.DataFrame  # the rows to load
    rejects: pl.DataFrame  # reader and quality rejects: line_number, column, rule, message
    rows_read: int

    @property
    def rows_rejected(self) -> int:
        return self.rejects.get_column("line_number").n_unique() if self.rejects.height else 0


def accept_rows(result: "ReadResult", report: ValidationReport) -> AcceptedRows:
    """Drop the lines the report rejects; rows read = rows kept + rows rejected, or
    AccountingError (nothing is then loaded)."""
    rejects = pl.concat([result.rejects, rejects_frame(report)], how="diagonal_relaxed")
    frame = result.frame.filter(~pl.col("line_number").is_in(list(report.rejected_lines)))
    accepted = AcceptedRows(frame, rejects.select(REJECT_COLUMNS), result.rows_read)
    if result.rows_read != frame.height + accepted.rows_rejected:
        raise AccountingError(
            f"{result.file_name}: rows read {result.rows_read} != rows loaded {frame.height} "
            f"+ rows rejected {accepted.rows_rejected}; nothing was loaded"
        )
    return accepted
