"""The great-expectations outcomes of a load as Dagster asset checks on the ingest asset.

One check per rule of the source's suite (``lmkpi.quality.check_catalogue``). Critical rules
are blocking: when one fails, nothing downstream of the ingest runs. Metadata is what a
person can act on: rule, column, count and share of failing rows, example line numbers, the
message and the validation summary; never values (no CPR numbers, no free text).
"""

import dagster as dg

from lmkpi.warehouse.load import LoadOutcome


def _catalogue(source: str) -> dict[str, tuple[str, str]]:
    from lmkpi.quality import check_catalogue

    rules: dict[str, tuple[str, str]] = {}
    for rule, severity, description in check_catalogue(source):
        rules.setdefault(rule, (severity, description))
    return rules


def check_specs(source: str, asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            name=rule,
            asset=asset_key,
            blocking=severity == "critical",
            description=f"[{severity}] {description}",
        )
        for rule, (severity, description) in _catalogue(source).items()
    ]


def check_results(source: str, outcomes: list[LoadOutcome]) -> list[dg.AssetCheckResult]:
    """One result per declared check, combined over the months of the run."""
    results = []
    for rule, (severity, _) in _catalogue(source).items():
        found = [
            (o.month, e)
            for o in outcomes
            if o.report is not None
            for e in o.report.outcomes
            if e.rule == rule
        ]
        failed = [(m, e) for m, e in found if not e.success]
        metadata: dict = {"severity": severity, "months_checked": len(found)}
        if failed:
            metadata |= {
                "failing_rows": sum(e.unexpected_count for _, e in failed),
                "failing_share": max(round(e.unexpected_share, 4) for _, e in failed),
                "column": failed[0][1].column or "",
                "example_lines": dg.MetadataValue.md(
                    "\n".join(
                        f"- {m}: lines {', '.join(map(str, e.example_lines[:20])) or '-'}"
                        for m, e in failed
                    )
                ),
                "message": failed[0][1].message,
            }
        elif not found:
            metadata["note"] = "did not apply to this load (no rows reached the rule)"
        results.append(
            dg.AssetCheckResult(
                check_name=rule,
                passed=not failed,
                severity=dg.AssetCheckSeverity.ERROR
                if severity == "critical"
                else dg.AssetCheckSeverity.WARN,
                metadata=metadata,
                description=failed[0][1].message if failed else None,
            )
        )
    return results
