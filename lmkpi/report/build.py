"""``build_report``: read the published warehouse, build the sections, write HTML and PDF."""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from lmkpi.permissions import share, shared_dir
from lmkpi.report import charts, queries
from lmkpi.report.benchmark import benchmark_section
from lmkpi.report.benefits import benefit_section
from lmkpi.report.data import HISTORY_MONTHS, ReportData, gather
from lmkpi.report.formatting import fmt_date, month_name, parse_report_month
from lmkpi.report.goals import build_views, front_section, goal_sections, status_counts, verdict
from lmkpi.report.housing import housing_section
from lmkpi.report.html import render_html
from lmkpi.report.joblog import MIN_RANKED, joblog_section
from lmkpi.report.method import data_as_of, method_section, pipeline_choices
from lmkpi.report.model import Figure, Report
from lmkpi.report.notes import annotate
from lmkpi.report.pdf import render_pdf
from lmkpi.warehouse.publish import open_published

log = logging.getLogger(__name__)

TITLE = "Status for Beskæftigelsesplan {year}"


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pdf: Path
    seconds: float
    html_bytes: int
    pdf_bytes: int

    @property
    def size_bytes(self) -> int:
        return self.html_bytes + self.pdf_bytes


def latest_month(warehouse_db: Path) -> str | None:
    """The latest month with goal indicators (``YYYY-MM``), e.g. for the demo's report."""
    con = open_published(Path(warehouse_db))
    try:
        months = queries.months_with_goals(con)
    finally:
        con.close()
    return f"{months[-1]:%Y-%m}" if months else None


def municipalities(warehouse_db: Path, month: str | date) -> list[int]:
    """Every municipality in the month's extract (the default list for the Dagster asset)."""
    con = open_published(Path(warehouse_db))
    try:
        return queries.municipalities_in_month(con, parse_report_month(month))
    finally:
        con.close()


def report_name(municipality: int, month: date) -> str:
    return f"beskaeftigelsesplan_{municipality}_{month:%Y-%m}"


def assemble(
    data: ReportData,
    *,
    min_count: int = 5,
    min_ranked: int = MIN_RANKED,
    choices: dict | None = None,
    generated_at: datetime | None = None,
) -> Report:
    """The report's content from gathered data (pure: no I/O)."""
    choices = pipeline_choices() if choices is None else choices
    views = build_views(data, min_count)
    as_of = data_as_of(data.load_audit)
    sections = [
        front_section(views, data, min_count),
        *goal_sections(views, data.month, min_count, f"Beskæftigelsesplan {data.plan_year}"),
        benefit_section(data, min_count),
        benchmark_section(data, min_count, views, min_ranked),
        joblog_section(data, min_count, choices, min_ranked),
        housing_section(data, min_count),
        method_section(data, min_count, choices),
    ]
    return Report(
        title=TITLE.format(year=data.plan_year),
        plan_year=data.plan_year,
        municipality_code=data.code,
        municipality_name=data.municipality["municipality_name"],
        month=data.month,
        month_label=month_name(data.month),
        data_as_of=as_of,
        published_at=data.published_at,
        verdict=verdict(views, data.month),
        status_counts=status_counts(views),
        sections=annotate(sections, data.check_results, data.month),
        min_count=min_count,
        generated_at=generated_at,
        provenance=provenance(data, as_of),
        publication_id=data.publication_id,
    )


def provenance(data: ReportData, loaded: datetime | None) -> str:
    """What the numbers cover and when they were loaded: "Data indlæst til og med 1.
    december 2026" on a December 2019 report read as a data period (issue 19)."""
    parts = [
        f"Tallene dækker {month_name(data.first)} til {month_name(data.month)}"
        if data.first < data.month
        else f"Tallene dækker {month_name(data.month)}"
    ]
    if loaded:
        parts.append(f"senest indlæst {fmt_date(loaded)}")
    if data.published_at:
        number = f" (publikation nr. {data.publication_id})" if data.publication_id else ""
        parts.append(f"lageret offentliggjort {fmt_date(data.published_at)}{number}")
    if data.revisions:
        parts.append(
            f"{len(data.revisions)} tal revideret siden publikation nr. "
            f"{data.previous_publication} (se afsnit 8)"
        )
    return " · ".join(parts)


def render_charts(report: Report) -> dict[str, tuple[str, bytes]]:
    out = {}
    for section in report.sections:
        for block in section.blocks:
            if isinstance(block, Figure):
                out[block.key] = charts.render(block.draw, block.key, block.title)
    return out


def build_report(
    warehouse_db: Path,
    municipality: int,
    month: str | date,
    out_dir: Path,
    *,
    min_count: int = 5,
    min_ranked: int = MIN_RANKED,
    history_months: int = HISTORY_MONTHS,
    group: str | None = None,
) -> ReportFiles:
    """Write ``<out_dir>/beskaeftigelsesplan_<code>_<YYYY-MM>.html`` and ``.pdf``."""
    started = time.perf_counter()
    report_month = parse_report_month(month)
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    if not Path(warehouse_db).exists():
        raise FileNotFoundError(
            f"no published warehouse at {warehouse_db}; run lmkpi load (or lmkpi demo) first"
        )
    con = open_published(Path(warehouse_db))
    try:
        data = gather(con, municipality, report_month, history_months=history_months)
    finally:
        con.close()
    report = assemble(
        data,
        min_count=min_count,
        min_ranked=min_ranked,
        generated_at=datetime.now(UTC).replace(tzinfo=None),
    )
    rendered = render_charts(report)
    out_dir = shared_dir(Path(out_dir), group)  # readable by the publish group
    name = report_name(municipality, report_month)
    html_path, pdf_path = out_dir / f"{name}.html", out_dir / f"{name}.pdf"
    html_tmp, pdf_tmp = html_path.with_suffix(".html.tmp"), pdf_path.with_suffix(".pdf.tmp")
    html_tmp.write_text(render_html(report, rendered), encoding="utf-8")
    render_pdf(report, rendered, pdf_tmp)
    share(html_tmp, group), share(pdf_tmp, group)
    html_tmp.replace(html_path)
    pdf_tmp.replace(pdf_path)
    files = ReportFiles(
        html=html_path,
        pdf=pdf_path,
        seconds=time.perf_counter() - started,
        html_bytes=html_path.stat().st_size,
        pdf_bytes=pdf_path.stat().st_size,
    )
    log.debug(
        "report for %s %s: %s (%.0f kB), %s (%.0f kB) in %.1f s",
        municipality,
        report_month.strftime("%Y-%m"),
        html_path.name,
        files.html_bytes / 1024,
        pdf_path.name,
        files.pdf_bytes / 1024,
        files.seconds,
    )
    return files
