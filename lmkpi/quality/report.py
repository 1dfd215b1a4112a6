"""Validation results and their readable, offline summaries (Markdown and HTML).

Everything here is built from rule ids, counts, shares, line numbers, municipality codes and
status codes: never from a row's values, so no CPR number or free text can appear.
"""

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lmkpi.months import Month

Severity = Literal["critical", "warning", "info"]
MAX_EXAMPLES = 20


@dataclass(frozen=True)
class ExpectationOutcome:
    rule: str  # stable id from the suite, e.g. "segment_start_not_after_end"
    expectation_type: str  # GE expectation class name (or the polars check, see validate)
    column: str | None
    severity: Severity
    success: bool
    unexpected_count: int
    unexpected_share: float  # of the rows (or municipalities, codes) checked
    example_lines: list[int]  # up to 20 file line numbers, never values
    message: str  # what is wrong and what to do; no CPR, no free text
    reject_rows: bool = False  # failing rows are listed in ValidationReport.rejected_lines

    def __post_init__(self) -> None:
        # rounded, so no long digit run (which a CPR scan would flag) reaches logs or metadata
        object.__setattr__(self, "unexpected_share", round(float(self.unexpected_share), 6))

    def to_dict(self) -> dict:
        """JSON-ready (e.g. Dagster asset-check metadata or the audit record)."""
        return {
            "rule": self.rule,
            "expectation_type": self.expectation_type,
            "column": self.column,
            "severity": self.severity,
            "success": self.success,
            "unexpected_count": self.unexpected_count,
            "unexpected_share": self.unexpected_share,
            "example_lines": list(self.example_lines),
            "message": self.message,
            "reject_rows": self.reject_rows,
        }

    @property
    def status(self) -> str:
        if self.success and self.unexpected_count == 0:
            return "passed"
        if self.success:
            return "passed, rows rejected"
        return {"critical": "BLOCKING", "warning": "warning", "info": "info"}[self.severity]


@dataclass(frozen=True)
class ValidationReport:
    source: str
    month: Month
    file_name: str
    suite: str
    rows_checked: int
    outcomes: list[ExpectationOutcome]
    rejected_lines: dict[int, list[str]]  # line_number -> rules; move these rows to rejects
    seconds: float
    rows_rejected_by_reader: int = 0
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "seconds", round(float(self.seconds), 3))

    @property
    def blocking(self) -> list[ExpectationOutcome]:
        """Failed critical outcomes: the month must not go downstream."""
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """Failed warnings: the month loads, the problem stays visible."""
        return [o for o in self.outcomes if not o.success and o.severity == "warning"]

    @property
    def passed(self) -> bool:
        return not self.blocking

    @property
    def verdict(self) -> str:
        if self.blocking:
            return "BLOCKED"
        if self.warnings or self.rejected_lines or self.rows_rejected_by_reader:
            return "LOADED WITH FINDINGS"
        return "PASSED"

    def to_dict(self) -> dict:
        """JSON-ready summary; `rejected_lines` keys become strings."""
        return {
            "source": self.source,
            "month": str(self.month),
            "file_name": self.file_name,
            "suite": self.suite,
            "verdict": self.verdict,
            "rows_checked": self.rows_checked,
            "rows_rejected_by_reader": self.rows_rejected_by_reader,
            "rejected_lines": {str(k): v for k, v in self.rejected_lines.items()},
            "seconds": self.seconds,
            "notes": list(self.notes),
            "outcomes": [o.to_dict() for o in self.outcomes],
        }

    def outcome(self, rule: str) -> ExpectationOutcome:
        for o in self.outcomes:
            if o.rule == rule:
                return o
        raise KeyError(rule)

    def _summary_lines(self) -> list[str]:
        lines = [
            f"Rows checked: {self.rows_checked:,}",
            f"rows rejected by the reader: {self.rows_rejected_by_reader:,}",
            f"rows rejected by the quality rules: {len(self.rejected_lines):,}",
            f"suite: {self.suite}",
            f"{self.seconds:.2f} s",
        ]
        return lines

    def _verdict_text(self) -> str:
        if self.blocking:
            n = len(self.blocking)
            return (
                f"{n} critical rule(s) failed: nothing downstream (models, reports, "
                f"publishing) runs for {self.month} until a corrected file is delivered."
            )
        if self.verdict == "LOADED WITH FINDINGS":
            return "The month loads; the findings below stay visible until fixed."
        return "Every rule passed."

    def _failed(self) -> list[ExpectationOutcome]:
        order = {"critical": 0, "warning": 1, "info": 2}
        shown = [o for o in self.outcomes if not o.success or o.unexpected_count]
        return sorted(shown, key=lambda o: (o.success, order[o.severity], o.rule))

    def to_markdown(self) -> str:
        """A readable summary of the load (English, Markdown)."""

        def cell(text: object) -> str:
            return str(text).replace("|", "\\|").replace("\n", " ")

        out = [
            f"# Validation of {self.file_name} ({self.source}, {self.month})",
            "",
            f"**{self.verdict}**. {self._verdict_text()}",
            "",
            " · ".join(self._summary_lines()),
            "",
        ]
        findings = self._failed()
        if findings:
            out += [
                "## Findings",
                "",
                "| status | severity | rule | column | failing | share | example lines | message |",
                "|---|---|---|---|---:|---:|---|---|",
            ]
            for o in findings:
                lines = ", ".join(str(n) for n in o.example_lines) or "-"
                out.append(
                    f"| {o.status} | {o.severity} | `{o.rule}` | {cell(o.column or '-')} | "
                    f"{o.unexpected_count:,} | {o.unexpected_share:.2%} | {lines} | "
                    f"{cell(o.message)} |"
                )
            out.append("")
        passed = [o.rule for o in self.outcomes if o.success and not o.unexpected_count]
        if passed:
            out += ["## Passed", "", ", ".join(f"`{r}`" for r in passed), ""]
        if self.notes:
            out += ["## Notes", "", *[f"- {n}" for n in self.notes], ""]
        return "\n".join(out)

    def to_html(self) -> str:
        """The same summary as one self-contained HTML page (no scripts, no external files)."""
        e = html.escape
        colour = {"BLOCKED": "#b00020", "LOADED WITH FINDINGS": "#8a6d00", "PASSED": "#1b5e20"}
        rows = []
        for o in self._failed():
            lines = ", ".join(str(n) for n in o.example_lines) or "-"
            rows.append(
                "<tr>"
                f"<td class='{e(o.severity)}'>{e(o.status)}</td><td>{e(o.severity)}</td>"
                f"<td><code>{e(o.rule)}</code></td><td>{e(o.column or '-')}</td>"
                f"<td class='n'>{o.unexpected_count:,}</td>"
                f"<td class='n'>{o.unexpected_share:.2%}</td><td>{e(lines)}</td>"
                f"<td>{e(o.message)}</td></tr>"
            )
        passed = [o.rule for o in self.outcomes if o.success and not o.unexpected_count]
        title = f"Validation of {self.file_name} ({self.source}, {self.month})"
        parts = [
            "<!DOCTYPE html>",
            "<html lang='en'><head><meta charset='utf-8'>",
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">",
            f"<title>{e(title)}</title>",
            "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}"
            "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;"
            "padding:4px 6px;vertical-align:top;text-align:left}th{background:#f3f3f3}"
            ".n{text-align:right}.critical{color:#b00020;font-weight:bold}"
            ".warning{color:#8a6d00}.info{color:#555}code{font-size:90%}</style>",
            "</head><body>",
            f"<h1>{e(title)}</h1>",
            f"<p><strong style='color:{colour[self.verdict]}'>{e(self.verdict)}</strong>. "
            f"{e(self._verdict_text())}</p>",
            f"<p>{e(' · '.join(self._summary_lines()))}</p>",
        ]
        if rows:
            parts += [
                "<h2>Findings</h2><table><tr><th>status</th><th>severity</th><th>rule</th>"
                "<th>column</th><th>failing</th><th>share</th><th>example lines</th>"
                "<th>message</th></tr>",
                *rows,
                "</table>",
            ]
        if passed:
            parts.append(
                "<h2>Passed</h2><p>" + ", ".join(f"<code>{e(r)}</code>" for r in passed) + "</p>"
            )
        if self.notes:
            parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in self.notes))
            parts.append("</ul>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


def write_summary(report: ValidationReport, quality_dir: Path, load_id: str) -> Path:
    """The readable summary of one load (own HTML, offline) and its Markdown twin, under
    ``<quality_dir>/<source>/<YYYY-MM>/``; returns the HTML file."""
    folder = quality_dir / report.source / report.month.key
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{report.source}_{report.month}_{load_id[:12]}"
    (folder / f"{stem}.md").write_text(report.to_markdown(), encoding="utf-8")
    html_file = folder / f"{stem}.html"
    html_file.write_text(report.to_html(), encoding="utf-8")
    return html_file
