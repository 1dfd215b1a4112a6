"""The report's content, independent of HTML or PDF: sections of text, tables and figures.

Sections are built once (numbers formatted, small counts suppressed) and rendered twice, so the
HTML and the PDF show the same text. Cells carry a stable ``key`` (rendered as ``data-key`` in
HTML) so tests can find a number on the page.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from matplotlib.figure import Figure as MplFigure

STATUS_LABELS = {
    "met": "Nået",
    "on_track": "På vej",
    "off_track": "Ikke på vej",
    "not_met": "Ikke nået",
    "qualitative": "Kvalitativt",
    "no_target": "Følges",
    "no_data": "Ingen data",
}
# Background and text colour per status; the label is always shown as text as well.
STATUS_COLOURS = {
    "met": ("#1b6e3a", "#ffffff"),
    "on_track": ("#a8d8b0", "#0b2e16"),
    "off_track": ("#f5b461", "#3d2400"),
    "not_met": ("#b3261e", "#ffffff"),
    "qualitative": ("#d9d9d9", "#1f1f1f"),
    "no_target": ("#d6e4f0", "#10283d"),
    "no_data": ("#eeeeee", "#1f1f1f"),
}


@dataclass(frozen=True)
class Sparkline:
    values: tuple[float | None, ...]
    target: float | None = None


@dataclass(frozen=True)
class Cell:
    text: str
    key: str | None = None
    align: str = "right"  # "left" for text columns
    status: str | None = None  # a goal status: drawn as a coloured badge with its label
    hidden: str | None = None  # "primary" (<5) or "secondary" (..)
    spark: Sparkline | None = None
    bold: bool = False
    note: str | None = None  # footnote mark (a quality warning touched this number)


def text(value: str, key: str | None = None, *, bold: bool = False) -> Cell:
    return Cell(value, key=key, align="left", bold=bold)


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    kind: str = "body"  # body, total, highlight, group (a sub-heading across the table)


@dataclass(frozen=True)
class Table:
    key: str
    caption: str
    header: list[str]
    rows: list[Row]
    widths: list[float] | None = None  # relative column widths (PDF)
    notes: list[str] = field(default_factory=list)
    font_size: float = 8.5  # PDF points; long tables use less
    pdf_rows: list[Row] | None = None  # the PDF shows these instead (a long list shortened)


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    draw: Callable[[], MplFigure]
    alt: str
    width: float = 1.0  # share of the text width
    note: str | None = None


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: str = "p"  # p, note, verdict, h3


@dataclass(frozen=True)
class KeyFigures:
    items: list[tuple[str, str, str | None]]  # label, value, key


@dataclass(frozen=True)
class Bullets:
    items: list[str]


Block = Table | Figure | Paragraph | KeyFigures | Bullets


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    anchor: str
    blocks: list[Block]
    page_break: bool = True
    wide: bool = False  # PDF: landscape pages (wide tables)


@dataclass(frozen=True)
class Report:
    title: str
    municipality_code: int
    municipality_name: str
    month: date
    month_label: str
    data_as_of: datetime | None
    published_at: datetime | None
    verdict: str
    status_counts: dict[str, int]
    sections: list[Section]
    min_count: int
    generated_at: datetime | None = None
    provenance: str = ""  # what the numbers cover, when loaded and published (front page)
    publication_id: int | None = None  # the warehouse publication it was built from
    plan_year: int = 2019  # the employment plan shown (Beskæftigelsesplan <plan_year>)
