"""The report as one self-contained HTML file (Jinja2 template, charts as inline SVG).

Nothing is fetched: styles are inline, charts are inline SVG, there are no scripts, fonts or
links outside the page, and a Content-Security-Policy forbids any request should someone edit
the file later.
"""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from lmkpi.report import sparkline
from lmkpi.report.formatting import fmt_date
from lmkpi.report.model import (
    STATUS_COLOURS,
    Bullets,
    Figure,
    KeyFigures,
    Paragraph,
    Report,
    Table,
)

TEMPLATES = Path(__file__).parent / "templates"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def nobreak(value: str) -> str:
    """Keep a number and its unit together: ``12,3 pct.`` never wraps between them."""
    return value.replace(" pct.", "\u00a0pct.").replace(" kr.", "\u00a0kr.")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["da_date"] = fmt_date
    env.filters["nobreak"] = nobreak
    return env


def _block(block, charts: dict[str, tuple[str, bytes]]) -> dict:
    if isinstance(block, Table):
        return {"type": "table", "b": block}
    if isinstance(block, Figure):
        return {"type": "figure", "b": block, "svg": Markup(charts[block.key][0])}
    if isinstance(block, KeyFigures):
        return {"type": "keyfigures", "b": block}
    if isinstance(block, Bullets):
        return {"type": "bullets", "b": block}
    if isinstance(block, Paragraph):
        return {"type": "paragraph", "b": block}
    raise TypeError(f"unknown report block {type(block).__name__}")


def render_html(report: Report, charts: dict[str, tuple[str, bytes]]) -> str:
    env = _environment()

    def spark(cell) -> Markup:
        if cell.spark is None:
            return Markup("")
        return Markup(sparkline.svg(cell.spark, "Udvikling de seneste måneder"))

    env.globals["spark"] = spark
    sections = [{"s": s, "blocks": [_block(b, charts) for b in s.blocks]} for s in report.sections]
    template = env.get_template("report.html.j2")
    return template.render(
        report=report,
        sections=sections,
        csp=CSP,
        status_colours=STATUS_COLOURS,
    )
