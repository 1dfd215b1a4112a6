"""The great-expectations outcomes of a load as Dagster asset checks on the ingest asset.

Four grouped checks per source: ``suite_critical`` and ``suite_warnings`` (the rules of the
source's great-expectations suite, ``lmkpi.quality.check_catalogue``, by severity; info
rules go with the warnings), and two for the reader's own rules: ``file_accepted`` (the
whole-file rules: a refused file fails the step itself, naming the rule) and
``reader_row_rules`` (rows the reader rejected: unparsable CPR numbers, dates, numbers,
codes). Each check's metadata holds every rule of its group with its outcome
(``rule_results``), and every rule's result is a row of ``audit.check_results``.

Why grouped: Dagster stores three events per check per run (planned, evaluated, the step
output), about 30 ms each on SQLite. One check per rule was 86 checks for the three sources,
~260 of the ~550 events of a run; grouped they are 12 (docs/benchmarks.md).

Critical rules are blocking: when one fails, nothing downstream of the ingest runs. Metadata
is what a person can act on: rule, column, count and share of failing rows, example line
numbers, the message and the validation summary; never values (no CPR numbers, no free text).
"""

from dataclasses import dataclass, field

import dagster as dg

from lmkpi.contracts import FILE_RULES, ROW_RULES
from lmkpi.load import LoadOutcome

GROUPED_CHECKS = {
    "file_accepted": (
        "critical",
        "the file passed every whole-file rule of the reader (name, encoding, format, header, "
        "columns); a refused file fails the step and names the rule",
        frozenset(FILE_RULES),
    ),
    "reader_row_rules": (
        "warning",
        "rows the reader rejected (CPR number, date, number, code, length, range, month); "
        "each is kept in audit.rejects with its line and rule",
        frozenset(ROW_RULES) | {"cpr_in_text_masked"},
    ),
}


SUITE_CHECKS = {
    "critical": (
        "suite_critical",
        "the critical rules of the source's great-expectations suite (expectations/); a "
        "failure blocks the month: nothing of it is loaded or published",
    ),
    "warning": (
        "suite_warnings",
        "the warning and info rules of the source's great-expectations suite; the month "
        "loads, and a failure stays visible in the report and in audit.check_results",
    ),
}
SUITE_CHECKS["info"] = SUITE_CHECKS["warning"]


@dataclass
class _Check:
    severity: str
    description: str
    rules: set[str] = field(default_factory=set)


def check_name(rule: str, severity: str) -> str:
    """The asset check a rule's outcome is reported under."""
    for name, (_, _, rules) in GROUPED_CHECKS.items():
        if rule in rules:
            return name
    return SUITE_CHECKS[severity][0]


def _catalogue(source: str) -> dict[str, _Check]:
    from lmkpi.quality import check_catalogue

    checks: dict[str, _Check] = {}
    for rule, severity, _ in check_catalogue(source):
        name = check_name(rule, severity)
        if name in GROUPED_CHECKS:
            group_severity, description, _ = GROUPED_CHECKS[name]
        else:
            group_severity = "critical" if severity == "critical" else "warning"
            description = SUITE_CHECKS[severity][1]
        checks.setdefault(name, _Check(group_severity, description)).rules.add(rule)
    return checks


def _rule_table(found: list) -> dg.MetadataValue:  # (month, outcome) pairs
    """Every rule of the group, per month: outcome and failing rows (never values)."""
    lines = ["| month | rule | outcome | failing rows | share |", "|---|---|---|---:|---:|"]
    for month, e in sorted(found, key=lambda f: (str(f[0]), f[1].success, f[1].rule)):
        lines.append(
            f"| {month} | {e.rule} | {'passed' if e.success else 'FAILED'} "
            f"| {e.unexpected_count} | {e.unexpected_share:.2%} |"
        )
    return dg.MetadataValue.md("\n".join(lines))


def check_specs(source: str, asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            name=name,
            asset=asset_key,
            blocking=check.severity == "critical",
            description=f"[{check.severity}] {check.description}",
        )
        for name, check in _catalogue(source).items()
    ]


def check_results(source: str, outcomes: list[LoadOutcome]) -> list[dg.AssetCheckResult]:
    """One result per declared check, combined over the months of the run."""
    results = []
    for name, check in _catalogue(source).items():
        found = [
            (o.month, e)
            for o in outcomes
            if o.report is not None
            for e in o.report.outcomes
            if e.rule in check.rules
        ]
        failed = [(m, e) for m, e in found if not e.success]
        metadata: dict = {
            "severity": check.severity,
            "months_checked": len({m for m, _ in found}),
            "rules_checked": len({e.rule for _, e in found}),
        }
        if found:
            metadata["rule_results"] = _rule_table(found)
        if failed:
            metadata |= {
                "rules": ", ".join(sorted({e.rule for _, e in failed})),
                "failing_rows": sum(e.unexpected_count for _, e in failed),
                "failing_share": max(round(e.unexpected_share, 4) for _, e in failed),
                "column": ", ".join(sorted({e.column for _, e in failed if e.column})),
                "example_lines": dg.MetadataValue.md(
                    "\n".join(
                        f"- {m} {e.rule}: lines {', '.join(map(str, e.example_lines[:20])) or '-'}"
                        for m, e in failed
                    )
                ),
                "message": _messages(failed),
            }
        elif not found:
            metadata["note"] = "did not apply to this load (no rows reached the rule)"
        results.append(
            dg.AssetCheckResult(
                check_name=name,
                passed=not failed,
                severity=dg.AssetCheckSeverity.ERROR
                if check.severity == "critical"
                else dg.AssetCheckSeverity.WARN,
                metadata=metadata,
                description=_messages(failed) if failed else None,
            )
        )
    return results


def _messages(failed: list) -> str:
    """``rule: message`` of each failed rule (first month it failed in), in rule order."""
    first: dict[str, str] = {}
    for _, e in failed:
        first.setdefault(e.rule, e.message)
    return "; ".join(f"{rule}: {message}" for rule, message in sorted(first.items()))
