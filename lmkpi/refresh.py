"""What a publication makes stale, rendered again: the month's reports and the dbt docs.

Dagster does this with the ``reports`` group (the ``reports_after_load`` sensor starts it
when a load has published); ``lmkpi load`` calls the same functions after its run, unless
``--no-refresh`` (then it says what is stale and how to refresh it).
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from lmkpi.months import Month
from lmkpi.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    html: Path
    pdf: Path
    municipality: int
    seconds: float


def render_reports(settings: Settings, month: Month) -> list[Rendered]:
    """The month's reports for LMKPI_REPORT_MUNICIPALITIES (those in the month's data)."""
    from lmkpi.report import build_report, municipalities

    available = municipalities(settings.warehouse_db, month.key)
    wanted = settings.report_municipalities
    codes = available if wanted is None else [m for m in wanted if m in available]
    rendered = []
    for code in codes:
        files = build_report(
            settings.warehouse_db,
            code,
            month.key,
            settings.reports_dir / month.key,
            group=settings.publish_group,
        )
        log.info("report %s %s: %s (%.1f s)", code, month, files.pdf, files.seconds)
        rendered.append(Rendered(files.html, files.pdf, code, files.seconds))
    if not codes:
        whom = "no municipality" if wanted is None else f"none of {wanted}"
        log.info("no report for %s: %s has goal indicators in that month", month, whom)
    return rendered


def render_docs(settings: Settings) -> Path:
    """dbt's docs of the published warehouse, one offline HTML file."""
    from lmkpi.dbt_docs import build_docs

    started = time.perf_counter()
    page = build_docs(
        settings.warehouse_db, settings.warehouse_dir / "docs", settings.publish_group
    )
    log.info("dbt docs: %s (%.0f s)", page, time.perf_counter() - started)
    return page


def stale_hint(month: Month) -> str:
    return (
        f"reports and dbt docs were not refreshed (--no-refresh): render them with "
        f"lmkpi report --month {month} and lmkpi docs"
    )
