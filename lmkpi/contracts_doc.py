"""docs/contracts.md, generated from the contracts as data (``lmkpi.contracts``).

    python -m lmkpi.contracts_doc > docs/contracts.md

A test keeps the committed document equal to what this prints, so the producers of the files
always read the rules the pipeline enforces.
"""

import sys

from lmkpi.contracts import CONTRACTS, FILE_RULES, ROW_RULES, Column, Reference

HEADER = """# Extract contracts

The promise lmkpi makes to the people who produce the monthly files. Generated from
`lmkpi/contracts.py` (`python -m lmkpi.contracts_doc`); the readers, the quality suites and
this page all use that one definition.

Common rules: one file per source and reporting month, named `<source>_<YYYY-MM>.<ext>`, in
`$LMKPI_HOME/landing/<source>/`. CSV with a header row, separator `;`, UTF-8 (with or without
BOM) or Windows-1252, decimal comma or point, dates `YYYY-MM-DD` or `DD-MM-YYYY`, an empty
field is missing. Re-delivering a month replaces it (the earlier file is archived). Contracts
are extended only compatibly: new optional columns. `cpr` never reaches the warehouse: it is
replaced by a keyed pseudonym at ingest, after birth date and sex are derived from it.
"""


def _allowed(col: Column) -> str:
    parts = []
    if isinstance(col.allowed, Reference):
        parts.append(f"one of seed `{col.allowed.seed}.{col.allowed.column}`")
    elif col.allowed:
        parts.append(", ".join(f"`{v}`" for v in col.allowed))
    if col.minimum is not None:
        parts.append(f"{'>' if col.minimum_exclusive else '>='} {col.minimum:g}")
    if col.maximum is not None:
        parts.append(f"<= {col.maximum:g}")
    if col.default is not None:
        parts.append(f"default {col.default:g}")
    if col.pattern:
        parts.append(f"pattern `{col.pattern}`")
    if col.max_length:
        parts.append(f"at most {col.max_length} characters")
    if col.free_text:
        parts.append("free text: dropped at ingest, never stored")
    return "; ".join(parts)


def render() -> str:
    lines = [HEADER]
    for contract in CONTRACTS.values():
        lines += [
            f"## {contract.name}: {contract.description}",
            "",
            f"Formats: {', '.join(contract.extensions)}.",
            "",
            "| column | kind | required | meaning | allowed |",
            "|---|---|---|---|---|",
        ]
        for col in contract.columns:
            required = "yes" if col.required else "no"
            if col.required_when:
                other, values = col.required_when
                required = f"when `{other}` is {', '.join(values)}"
            lines.append(
                f"| `{col.name}` | {col.kind} | {required} | {col.description} | {_allowed(col)} |"
            )
        if contract.month_rule:
            rule = contract.month_rule
            where = (
                f"[`{rule.start}`, `{rule.end}`] overlaps the month"
                if rule.kind == "overlap"
                else f"`{rule.start}` lies in the month"
            )
            lines += ["", f"A row belongs to the file's month when {where}."]
        for comparison in contract.comparisons:
            lines.append(f"Row rule `{comparison.rule}`: {comparison.message}.")
        lines.append("")
    lines += ["## Whole-file rejections", "", "| rule | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in FILE_RULES.items()]
    lines += ["", "## Row rejections", "", "| rule | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in ROW_RULES.items()]
    lines += [
        "",
        "Further rules (overlapping segments, visitation by benefit and age, refugee fields, "
        "month-to-month changes) are the quality suites in `expectations/` "
        "(see `expectations/README.md`).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render())
