"""`validate`: the reader's frame for one month -> ValidationReport (pure: no I/O but the suites).

Order of work: the derived violation flags are computed in polars; the month's rows (contract
columns + flags, nothing else: no free text, no CPR) go to great-expectations as pandas; the
rows failing a `reject_rows` rule become `rejected_lines`; the profile of the rows that stay
is compared with the previous month's (`municipalities` and `codes` scopes, small frames, also
through GE). Two checks are plain polars, reported like the others:

- `reader_rejects` (optional): one warning outcome per reader row rule that rejected rows
  (rule = the reader's rule, e.g. `invalid_cpr`, expectation_type `read_extract`);
- `rows_rejected_share` (critical): all rejected rows (reader + quality rules) as a share of
  the rows read must not exceed `max_reject_share`, so a file whose rows are largely
  unusable blocks the month even when each rule on its own stays under the limit.
"""

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import replace

import polars as pl

from lmkpi.contracts import CONTRACTS, REJECT_SCHEMA, ROW_RULES, output_schema
from lmkpi.ingest.errors import CPR_LIKE
from lmkpi.months import Month
from lmkpi.quality.derived import FLAG_INPUTS, derive
from lmkpi.quality.profile import (
    CODE_COLUMN,
    MonthProfile,
    code_frame,
    municipality_frame,
    profile,
)
from lmkpi.quality.report import MAX_EXAMPLES, ExpectationOutcome, ValidationReport
from lmkpi.quality.runner import INDEX_COLUMN, RawOutcome, run_suite
from lmkpi.quality.suites import Rule, load_rules, parameters, referenced_columns, suite_json
from lmkpi.settings import QualityConfig

log = logging.getLogger(__name__)

_CPR_LIKE = re.compile(CPR_LIKE)  # the one pattern of lmkpi.ingest.errors


def _safe(text: str) -> str:
    """Last guard: no CPR-like digit run leaves this module (messages are built from counts
    and line numbers, so this should never change anything)."""
    return _CPR_LIKE.sub("<digits hidden>", text)


def _forbidden_columns(source: str, frame: pl.DataFrame) -> list[str]:
    contract = CONTRACTS[source]
    forbidden = {"cpr"} | {c.name for c in contract.columns if c.free_text}
    return sorted(forbidden & set(frame.columns))


def _lines(lines: Iterable[int]) -> str:
    lines = list(lines)
    shown = ", ".join(str(n) for n in lines[:MAX_EXAMPLES])
    more = f" and {len(lines) - MAX_EXAMPLES:,} more" if len(lines) > MAX_EXAMPLES else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _row_message(file_name: str, rule: Rule, raw: RawOutcome, max_share: float) -> str:
    head = f"{file_name}: rule {rule.rule}"
    if raw.error is not None:
        return f"{head} could not be evaluated ({raw.error}): {rule.message}"
    if rule.expectation_type == "expect_table_row_count_to_be_between":
        return f"{head}: {raw.observed} rows. " + ("" if raw.success else rule.message)
    if rule.expectation_type == "expect_table_columns_to_match_set":
        return f"{head}: " + ("all contract columns present" if raw.success else rule.message)
    if raw.unexpected_count == 0:
        return f"{head}: passed ({raw.checked:,} rows checked)"
    count = f"{raw.unexpected_count:,} of {raw.checked:,} rows ({raw.unexpected_share:.2%})"
    where = f" at {_lines(raw.lines)}" if raw.lines else ""
    text = f"{head}: {count}{where}: {rule.message}"
    if rule.reject_rows and raw.success:
        text += f" (within the allowed {max_share:.0%}: the month loads without these rows)"
    elif rule.reject_rows:
        text += f" (more than the allowed {max_share:.0%}: the month is blocked)"
    return text


def _outcome(rule: Rule, raw: RawOutcome, message: str, column: str | None) -> ExpectationOutcome:
    return ExpectationOutcome(
        rule=rule.rule,
        expectation_type=rule.expectation_type,
        column=column,
        severity=rule.severity,
        success=raw.success,
        unexpected_count=raw.unexpected_count,
        unexpected_share=raw.unexpected_share,
        example_lines=raw.lines[:MAX_EXAMPLES],
        message=_safe(message),
        reject_rows=rule.reject_rows,
    )


def _by_rule(rules: list[Rule], raws: list[RawOutcome]) -> list[tuple[Rule, RawOutcome]]:
    found = {r.rule: r for r in raws}
    return [(rule, found[rule.rule]) for rule in rules]


def _municipality_detail(frame: pl.DataFrame, rule: str, keys: list) -> str:
    rows = frame.filter(pl.col("kommunekode").is_in(keys)).sort("kommunekode")
    parts = []
    for r in rows.iter_rows(named=True):
        if rule == "full_time_persons_change_by_municipality":
            before, now = r["full_time_previous"], r["full_time_now"]
            change = now / before - 1
            parts.append(f"{r['kommunekode']} ({before:,.1f} -> {now:,.1f}, {change:+.0%})")
        elif rule == "rows_change_by_municipality":
            before, now = r["rows_previous"], r["rows_now"]
            parts.append(
                f"{r['kommunekode']} ({before:,} -> {now:,} rows, {now / before - 1:+.0%})"
            )
        else:
            parts.append(f"{r['kommunekode']} ({r['rows_previous']:,} rows last month)")
    shown = "; ".join(parts[:MAX_EXAMPLES])
    more = f"; and {len(parts) - MAX_EXAMPLES} more" if len(parts) > MAX_EXAMPLES else ""
    return f"kommunekode {shown}{more}"


def _code_detail(frame: pl.DataFrame, keys: list) -> str:
    rows = frame.filter(pl.col("code").is_in(keys)).sort("code")
    return "codes " + ", ".join(
        f"{r['code']} ({r['rows_previous']:,} rows last month)" for r in rows.iter_rows(named=True)
    )


def _compare(
    source: str,
    rules: list[Rule],
    current: MonthProfile,
    file_name: str,
    previous: MonthProfile,
    config: QualityConfig,
    params: dict,
) -> list[ExpectationOutcome]:
    outcomes: list[ExpectationOutcome] = []
    for scope, build, key in (
        ("municipalities", municipality_frame, "kommunekode"),
        ("codes", code_frame, "code"),
    ):
        scoped = [r for r in rules if r.scope == scope]
        if not scoped:
            continue
        frame = build(current, previous, config)
        raws = run_suite(suite_json(source, scope), frame, [], params, key, frame)
        for rule, raw in _by_rule(scoped, raws):
            head = f"{file_name}: rule {rule.rule}"
            if raw.error is not None:
                message = f"{head} could not be evaluated ({raw.error}): {rule.message}"
            elif raw.unexpected_count == 0:
                message = f"{head}: passed ({raw.checked} {scope} compared)"
            else:
                detail = (
                    _municipality_detail(frame, rule.rule, raw.keys)
                    if scope == "municipalities"
                    else _code_detail(frame, raw.keys)
                )
                message = f"{head}: {rule.message}. {detail}"
            column = "kommunekode" if scope == "municipalities" else CODE_COLUMN.get(source)
            outcomes.append(_outcome(rule, raw, message, column))
    return outcomes


# The suite rule that says the same as a reader rule, by expectation type on the same column:
# rows the reader rejected for a bad code are counted in `ydelse_known`, so the suite rule
# cannot pass only because the reader had dropped its rows first.
READER_TO_SUITE = {
    "unknown_code": "expect_column_values_to_be_in_set",
    "unknown_kommunekode": "expect_column_values_to_be_in_set",
    "missing_value": "expect_column_values_to_not_be_null",
    "out_of_range": "expect_column_values_to_be_between",
    "invalid_format": "expect_column_values_to_match_regex",
    "too_long": "expect_column_value_lengths_to_be_between",
}
# The value a reader message quotes ("ydelse 'KH' is not ..."): codes, short numbers and
# dates only (the reader shows nothing else, see lmkpi.ingest.plans._shown).
_QUOTED = re.compile(r"^\S+ '([^']{1,20})'")


def _causes(messages: pl.DataFrame, limit: int = 5) -> str:
    """'ydelse 'KH': 3,318 rows; ...' from reader reject messages (column, message)."""
    quoted = messages.with_columns(
        value=pl.col("message").str.extract(_QUOTED.pattern, 1),
    )
    counts = (
        quoted.group_by("column", "value")
        .agg(pl.len().alias("n"), pl.col("message").first())
        .sort(["n", "value"], descending=[True, False], nulls_last=True)
    )
    parts = [
        f"{column} '{value}': {n:,} row{'s' if n != 1 else ''}"
        if value is not None
        else f"{message}: {n:,} row{'s' if n != 1 else ''}"
        for column, value, n, message in counts.head(limit).iter_rows()
    ]
    more = f"; and {counts.height - limit} more" if counts.height > limit else ""
    return "; ".join(parts) + more


def _fold_reader_rejects(
    file_name: str,
    rules: list[Rule],
    outcomes: list[ExpectationOutcome],
    reader_rejects: pl.DataFrame,
    rows_read: int,
    max_share: float,
) -> pl.DataFrame:
    """Count the reader's rejects in the suite rule that checks the same thing (see
    READER_TO_SUITE); returns the rejects no suite rule took over."""
    by_rule = {r.rule: r for r in rules}
    taken = pl.lit(False)
    for i, outcome in enumerate(outcomes):
        rule = by_rule.get(outcome.rule)  # row rules only (not the month comparisons)
        if rule is None or rule.column is None:
            continue
        kinds = [k for k, t in READER_TO_SUITE.items() if t == rule.expectation_type]
        if not kinds:
            continue
        mine = (pl.col("rule").is_in(kinds)) & (pl.col("column") == rule.column)
        found = reader_rejects.filter(mine)
        if not found.height:
            continue
        taken = taken | mine
        lines = sorted(set(outcome.example_lines) | set(found.get_column("line_number")))
        count = outcome.unexpected_count + found.get_column("line_number").n_unique()
        share = count / rows_read
        success = rule.reject_rows and outcome.success and share <= max_share
        verdict = (
            f" (within the allowed {max_share:.0%}: the month loads without these rows)"
            if success
            else f" (more than the allowed {max_share:.0%}: the month is blocked)"
            if rule.reject_rows
            else ""
        )
        outcomes[i] = replace(
            outcome,
            success=success,
            unexpected_count=count,
            unexpected_share=share,
            example_lines=lines[:MAX_EXAMPLES],
            message=_safe(
                f"{file_name}: rule {rule.rule}: {count:,} of {rows_read:,} rows ({share:.2%}) "
                f"at {_lines(lines[:MAX_EXAMPLES])}"
                f"{f' and {count - MAX_EXAMPLES:,} more' if count > MAX_EXAMPLES else ''}: "
                f"{_causes(found.select('column', 'message'))}; "
                f"{rule.message}{verdict}"
            ),
        )
    return reader_rejects.filter(~taken)


def _reader_outcomes(
    file_name: str, reader_rejects: pl.DataFrame, rows_read: int
) -> list[ExpectationOutcome]:
    outcomes = []
    by_rule = (
        reader_rejects.group_by("rule", maintain_order=True)
        .agg(
            pl.col("line_number").unique().sort().alias("lines"),
            pl.col("column").drop_nulls().unique().sort().alias("columns"),
        )
        .sort("rule")
    )
    for rule, lines, columns in by_rule.iter_rows():
        example = _causes(reader_rejects.filter(pl.col("rule") == rule), limit=3)
        what = ROW_RULES.get(rule, rule)
        outcomes.append(
            ExpectationOutcome(
                rule=rule,
                expectation_type="read_extract",
                column=",".join(columns) or None,
                severity="warning",
                success=False,
                unexpected_count=len(lines),
                unexpected_share=len(lines) / rows_read if rows_read else 0.0,
                example_lines=lines[:MAX_EXAMPLES],
                message=_safe(
                    f"{file_name}: rule {rule}: {len(lines):,} row(s) rejected by the reader "
                    f"at {_lines(lines)} ({what}): {example}. These rows are not loaded: "
                    "correct them in the source system"
                ),
                reject_rows=False,
            )
        )
    return outcomes


def _masked_outcome(file_name: str, masked: pl.DataFrame, rows_read: int) -> ExpectationOutcome:
    """CPR-like numbers the reader masked in text columns: the rows load, the finding stays."""
    lines = masked.get_column("line_number").unique().sort().to_list()
    columns = ",".join(masked.get_column("column").unique().sort().to_list())
    return ExpectationOutcome(
        rule="cpr_in_text_masked",
        expectation_type="read_extract",
        column=columns,
        severity="warning",
        success=False,
        unexpected_count=len(lines),
        unexpected_share=len(lines) / rows_read if rows_read else 0.0,
        example_lines=lines[:MAX_EXAMPLES],
        message=(
            f"{file_name}: rule cpr_in_text_masked: {columns} held a CPR-like number at "
            f"{_lines(lines)}; it was replaced by [CPR fjernet] and the rows loaded. Remove it "
            "in the source system"
        ),
        reject_rows=False,
    )


def _drop_outcome(
    file_name: str, current: MonthProfile, previous: MonthProfile, config: QualityConfig
) -> ExpectationOutcome:
    """The month against the one before, in all: rows and full-time persons may not fall by
    more than `max_drop_share` (a file cut in half loads without a per-row error) unless the
    operator accepted the drop for this run."""
    totals = [
        (
            "rows",
            sum(previous.rows_by_municipality.values()),
            sum(current.rows_by_municipality.values()),
        ),
        (
            "full-time persons",
            sum(previous.full_time_persons_by_municipality.values()),
            sum(current.full_time_persons_by_municipality.values()),
        ),
    ]
    # judged only from a size at which a fall means something (as the per-municipality checks)
    least = {
        "rows": config.min_rows_for_change,
        "full-time persons": config.min_full_time_for_change,
    }
    drops = [(w, before, now) for w, before, now in totals if before > 0 and before >= least[w]]
    worst = max(drops, key=lambda d: 1 - d[2] / d[1], default=None)
    share = 1 - worst[2] / worst[1] if worst else 0.0
    dropped = share > config.max_drop_share
    shown = ", ".join(f"{w} {b:,.0f} -> {n:,.0f} ({n / b - 1:+.0%})" for w, b, n in drops)
    message = f"{file_name}: rule month_volume_drop: against the previous month: {shown or 'n/a'}"
    if dropped and config.accept_drop:
        message += f"; a fall of more than {config.max_drop_share:.0%}, accepted by the operator"
    elif dropped:
        message += (
            f"; a fall of more than {config.max_drop_share:.0%}: the month is blocked. Check that "
            "the whole extract was delivered; if the fall is real, load it with "
            "lmkpi load --accept-drop"
        )
    return ExpectationOutcome(
        rule="month_volume_drop",
        expectation_type="volume_against_previous_month",
        column=None,
        severity="critical",
        success=not dropped or config.accept_drop,
        unexpected_count=0,
        unexpected_share=max(share, 0.0),
        example_lines=[],
        message=message,
        reject_rows=False,
    )


def _share_outcome(
    file_name: str, rejected: int, rows_read: int, config: QualityConfig, lines: list[int]
) -> ExpectationOutcome:
    share = rejected / rows_read if rows_read else 0.0
    ok = share <= config.max_reject_share
    where = f" at {_lines(lines)}" if lines else ""
    message = (
        f"{file_name}: rule rows_rejected_share: {rejected:,} of {rows_read:,} rows rejected"
        f"{where} ({share:.2%}; allowed {config.max_reject_share:.0%})"
    )
    if not ok:
        message += (
            ": too much of the file is unusable, so the month is blocked. Fix the rejected "
            "rows (see the other findings) and deliver the month again"
        )
    return ExpectationOutcome(
        rule="rows_rejected_share",
        expectation_type="rejected_share",
        column=None,
        severity="critical",
        success=ok,
        unexpected_count=rejected,
        unexpected_share=share,
        example_lines=lines[:MAX_EXAMPLES],
        message=message,
        reject_rows=False,
    )


def validate(
    source: str,
    frame: pl.DataFrame,
    *,
    month: Month,
    file_name: str,
    previous: MonthProfile | None = None,
    config: QualityConfig | None = None,
    reader_rejects: pl.DataFrame | None = None,
    reader_masked: pl.DataFrame | None = None,
) -> ValidationReport:
    """Validate the reader's frame of `source` for `month` against `expectations/<source>.json`.

    `previous` enables the distribution checks; `config` defaults to QualityConfig();
    `reader_rejects` (ReadResult.rejects) adds the reader's row rejects to the report and to
    the rejected share. Raises ValueError for a frame that holds `cpr` or free text, or lacks
    unique line numbers.
    """
    t0 = time.perf_counter()
    if source not in CONTRACTS:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(CONTRACTS)}")
    if not isinstance(month, Month):
        raise TypeError("month must be a lmkpi.months.Month")
    forbidden = _forbidden_columns(source, frame)
    if forbidden:
        raise ValueError(
            f"the frame holds {', '.join(forbidden)}: validate the reader's output, which has "
            "person numbers pseudonymised and free text dropped"
        )
    if INDEX_COLUMN not in frame.columns or frame.get_column(INDEX_COLUMN).is_duplicated().any():
        raise ValueError(
            f"the frame needs unique {INDEX_COLUMN} values (the reader's output has them)"
        )
    config = config or QualityConfig()
    rules = list(load_rules(source))
    row_rules = [r for r in rules if r.scope == "rows"]
    params = parameters(source, config)

    derived = derive(source, frame, month)
    wanted = [INDEX_COLUMN, *output_schema(source), *referenced_columns(row_rules)]
    columns = [c for c in dict.fromkeys(wanted) if c in derived.columns]
    codes = [c.name for c in CONTRACTS[source].columns if c.kind == "code"]
    rows = derived.select(columns)
    flags = derived.select(INDEX_COLUMN, *[c for c in derived.columns if c in FLAG_INPUTS])
    del derived
    raws = run_suite(suite_json(source, "rows"), rows, codes, params, INDEX_COLUMN, flags)
    del rows, flags

    outcomes: list[ExpectationOutcome] = []
    rejected: dict[int, list[str]] = {}
    for rule, raw in _by_rule(row_rules, raws):
        message = _row_message(file_name, rule, raw, config.max_reject_share)
        outcomes.append(_outcome(rule, raw, message, FLAG_INPUTS.get(rule.column, rule.column)))
        if rule.reject_rows:
            for line in raw.lines:
                rejected.setdefault(line, []).append(rule.rule)
    rejected = dict(sorted(rejected.items()))

    notes: list[str] = []
    if previous is not None:
        loaded = frame.filter(~pl.col(INDEX_COLUMN).is_in(list(rejected))) if rejected else frame
        current = profile(source, loaded, month)
        outcomes += _compare(source, rules, current, file_name, previous, config, params)
        outcomes.append(_drop_outcome(file_name, current, previous, config))
    else:
        notes.append("distribution checks skipped: no profile of the previous month was given")

    reader_lines: list[int] = []
    if reader_rejects is not None and reader_rejects.height:
        reader_lines = reader_rejects.get_column("line_number").unique().sort().to_list()
    rows_read = frame.height + len(reader_lines)
    if reader_lines:
        rest = _fold_reader_rejects(
            file_name, row_rules, outcomes, reader_rejects, rows_read, config.max_reject_share
        )
        if rest.height:
            outcomes += _reader_outcomes(file_name, rest, rows_read)
    if reader_masked is not None and reader_masked.height:
        outcomes.append(_masked_outcome(file_name, reader_masked, rows_read))
    all_rejected = sorted(set(reader_lines) | set(rejected))
    outcomes.append(_share_outcome(file_name, len(all_rejected), rows_read, config, all_rejected))

    report = ValidationReport(
        source=source,
        month=month,
        file_name=file_name,
        suite=source,
        rows_checked=frame.height,
        outcomes=outcomes,
        rejected_lines=rejected,
        seconds=time.perf_counter() - t0,
        rows_rejected_by_reader=len(reader_lines),
        notes=notes,
    )
    log.debug(
        "validated %s: %s, %d rows, %d blocking, %d warnings, %d rows to reject (%.2f s)",
        file_name,
        report.verdict,
        frame.height,
        len(report.blocking),
        len(report.warnings),
        len(rejected),
        report.seconds,
    )
    return report


def rejects_frame(report: ValidationReport) -> pl.DataFrame:
    """`report.rejected_lines` as reject records (REJECT_SCHEMA: line_number, column, rule,
    message; one per line and rule), to append to `ReadResult.rejects`."""
    rules = {r.rule: r for r in load_rules(report.source)}
    records = [
        {
            "line_number": line,
            "column": FLAG_INPUTS.get(rules[rule].column or "", rules[rule].column),
            "rule": rule,
            "message": rules[rule].message,
        }
        for line, names in report.rejected_lines.items()
        for rule in names
    ]
    return pl.DataFrame(records, schema=REJECT_SCHEMA)
