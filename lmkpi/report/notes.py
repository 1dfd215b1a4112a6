"""Quality footnotes: a number built from a load with a failed warning carries a mark.

``audit.check_results`` holds every rule's outcome for every load; the report reads the failed
ones of the loads its months are built from (``queries.check_results``). A warning does not
stop a month, but the reader of a number it touches should know: the cell gets a footnote mark
and its table a note naming the source, month, rule and rows, pointing to section 8.

Which cells a source's warnings touch is data here (``TOUCHED``): per section, the source its
numbers come from and a pattern on the cell keys that show a month's value. A key ending in
``-YYYY-MM`` is that month's; any other matching key is the report month's.
"""

import re
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from lmkpi.months import MONTH_PATTERN, Month
from lmkpi.report.formatting import fmt_number, month_name
from lmkpi.report.model import Row, Section, Table

SOURCE_NAMES = {"ydelser": "ydelser", "joblog": "Jobloggen", "indkvartering": "indkvartering"}

TOUCHED: dict[int, tuple[str, re.Pattern[str]]] = {
    1: ("ydelser", re.compile(r"front-.+-value")),
    2: ("ydelser", re.compile(r"goal-.+-value")),
    4: ("ydelser", re.compile(r"benefit-.+-" + MONTH_PATTERN, re.ASCII)),
    6: ("joblog", re.compile(r"joblog-mine-.+")),
    7: ("indkvartering", re.compile(r"housing-.+-housed")),
}
_MONTH_SUFFIX = re.compile(r"-(" + MONTH_PATTERN + r")$", re.ASCII)


@dataclass(frozen=True)
class Finding:
    source: str
    month: date
    rule: str
    failing_rows: int

    def text(self, mark: str) -> str:
        rows = f"{fmt_number(self.failing_rows)} rækker" if self.failing_rows else "hele filen"
        return (
            f"{mark}) Advarsel fra kvalitetstjekket af {SOURCE_NAMES[self.source]} for "
            f"{month_name(self.month)}: regel {self.rule} ({rows}). Se afsnit 8."
        )


def warnings(checks: pl.DataFrame | None) -> list[Finding]:
    """Failed warnings (not blocking: a blocked month is not in the report at all)."""
    if checks is None or checks.is_empty():
        return []
    found = checks.filter(pl.col("severity") == "warning").sort("month", "source", "rule")
    return [
        Finding(r["source"], r["month"], r["rule"], int(r["failing_rows"] or 0))
        for r in found.iter_rows(named=True)
        if r["source"] in SOURCE_NAMES
    ]


def _cell_month(key: str, report_month: date) -> date:
    found = _MONTH_SUFFIX.search(key)
    return Month.parse(found[1]).first_day if found else report_month


def annotate(sections: list[Section], checks: pl.DataFrame | None, month: date) -> list[Section]:
    """The sections with footnote marks on touched cells and the notes under their tables."""
    by_month: dict[tuple[str, date], list[Finding]] = {}
    for f in warnings(checks):
        by_month.setdefault((f.source, f.month), []).append(f)
    if not by_month:
        return sections
    marks: dict[Finding, str] = {}

    def mark_of(found: list[Finding]) -> str:
        for f in found:
            marks.setdefault(f, str(len(marks) + 1))
        return ",".join(marks[f] for f in found)

    out = []
    for section in sections:
        source, pattern = TOUCHED.get(section.number, (None, None))
        if source is None:
            out.append(section)
            continue
        blocks = []
        for block in section.blocks:
            if not isinstance(block, Table):
                blocks.append(block)
                continue
            used: list[Finding] = []
            rows = []
            for row in block.rows:
                cells = []
                for cell in row.cells:
                    found = by_month.get((source, _cell_month(cell.key or "", month)))
                    if found and cell.key and pattern.fullmatch(cell.key):
                        cell = replace(cell, note=mark_of(found))
                        used += [f for f in found if f not in used]
                    cells.append(cell)
                rows.append(Row(cells, row.kind))
            notes = [f.text(marks[f]) for f in used]
            blocks.append(
                replace(block, rows=rows, notes=[*block.notes, *notes]) if used else block
            )
        out.append(replace(section, blocks=blocks))
    return out
