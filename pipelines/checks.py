"""The great-expectations outcomes of a load as Dagster asset checks on the ingest asset.

One check per rule of the source's suite (``lmkpi.quality.check_catalogue``), plus two
grouped checks for the reader's own rules: ``file_accepted`` (the whole-file rules: a refused
file fails the step itself, naming the rule) and ``reader_row_rules`` (rows the reader
rejected: unparsable CPR numbers, dates, numbers, codes). Grouping them keeps the run's event
log small: every check costs Dagster two stored events per run (planned and evaluated),
about 30 ms each on SQLite, and the reader's 30-odd rules would double the count.

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


@dataclass
class _Check:
    severity: str
    description: str
    rules: set[str] = field(default_factory=set)


def check_name(rule: str) -> str:
    """The asset check a rule's outcome is reported under."""
    for name, (_, _, rules) in GROUPED_CHECKS.items():
        if rule in rules:
            return name
    return rule


def _catalogue(source: str) -> dict[str, _Check]:
    from lmkpi.quality import check_catalogue

    checks: dict[str, _Check] = {}
    for rule, severity, description in check_catalogue(source):
        name = check_name(rule)
        if name in GROUPED_CHECKS:
            severity, description, _ = GROUPED_CHECKS[name]
        checks.setdefault(name, _Check(severity, description)).rules.add(rule)
    return checks


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
        metadata: dict = {"severity": check.severity, "months_checked": len({m for m, _ in found})}
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
                "message": failed[0][1].message,
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
                description=failed[0][1].message if failed else None,
            )
        )
    return results
