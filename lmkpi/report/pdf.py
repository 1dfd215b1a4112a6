"""The same report as a PDF (reportlab, A4), with the charts as PNG and DejaVu Sans for æøå."""

import io
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    Image,
    KeepInFrame,
    KeepTogether,
    ListFlowable,
    ListItem,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from lmkpi.report import model, sparkline

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
ACCENT = colors.HexColor("#1f4e79")
MUTED = colors.HexColor("#5a5a5a")
BAND = colors.HexColor("#f4f6f8")
LINE = colors.HexColor("#d0d0d0")
MARGIN = 16 * mm


def register_fonts() -> None:
    """DejaVu Sans from matplotlib's own fonts (no system font needed)."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "base",
        fontName=FONT,
        fontSize=9,
        leading=12,
        textColor=colors.black,
        embeddedHyphenation=1,  # long names break after a hyphen, not inside a word
    )
    return {
        "p": base,
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
        "verdict": ParagraphStyle(
            "verdict",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=12.5,
            leading=16,
            backColor=BAND,
            borderPadding=(8, 8, 8, 8),
            leftIndent=8,
            rightIndent=8,
            spaceBefore=10,
            spaceAfter=14,
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=24,
            leading=29,
            textColor=ACCENT,
            spaceAfter=4,
        ),
        "month": ParagraphStyle("month", parent=base, fontSize=15, leading=19, spaceAfter=4),
        "kicker": ParagraphStyle("kicker", parent=base, fontSize=9, textColor=MUTED),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=15,
            leading=19,
            textColor=ACCENT,
            spaceBefore=10,
            spaceAfter=6,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
        ),
        "caption": ParagraphStyle(
            "caption",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=9.5,
            leading=12,
            spaceBefore=6,
            spaceAfter=3,
        ),
        "kf_label": ParagraphStyle(
            "kf_label", parent=base, fontSize=7.5, leading=9, textColor=MUTED
        ),
        "kf_value": ParagraphStyle(
            "kf_value", parent=base, fontName=FONT_BOLD, fontSize=13, leading=16
        ),
    }


def _p(value: str, style: ParagraphStyle, note: str | None = None) -> Paragraph:
    mark = f"<super>{escape(note)}</super>" if note else ""
    return Paragraph(escape(value) + mark, style)


def _spark(spark: model.Sparkline, width: float = 58, height: float = 14) -> Drawing:
    runs, target, last = sparkline.scaled(spark, width, height)
    d = Drawing(width, height)
    flip = lambda y: height - y  # noqa: E731 - reportlab's y grows upwards
    if target is not None:
        d.add(
            Line(
                2,
                flip(target),
                width - 2,
                flip(target),
                strokeColor=colors.HexColor("#b3261e"),
                strokeWidth=0.6,
                strokeDashArray=[1.5, 1.5],
            )
        )
    for run in runs:
        if len(run) > 1:
            points = [c for x, y in run for c in (x, flip(y))]
            d.add(PolyLine(points, strokeColor=ACCENT, strokeWidth=1))
        else:
            d.add(Circle(run[0][0], flip(run[0][1]), 0.9, fillColor=ACCENT, strokeColor=ACCENT))
    if last is not None:
        d.add(Circle(last[0], flip(last[1]), 1.5, fillColor=ACCENT, strokeColor=ACCENT))
    return d


def _table(t: model.Table, styles, width: float) -> list:
    size = t.font_size
    cell_style = ParagraphStyle("cell", parent=styles["p"], fontSize=size, leading=size * 1.25)
    right = ParagraphStyle("cellr", parent=cell_style, alignment=TA_RIGHT)
    head = ParagraphStyle("head", parent=cell_style, fontName=FONT_BOLD, alignment=TA_LEFT)
    bold = ParagraphStyle("cellb", parent=cell_style, fontName=FONT_BOLD)
    bold_r = ParagraphStyle("cellbr", parent=right, fontName=FONT_BOLD)
    data = [[_p(h, head) for h in t.header]]
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9edf2")),
        ("LINEBELOW", (0, 0), (-1, 0), 1, colors.HexColor("#9aa7b4")),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, LINE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for r, row in enumerate(t.rows if t.pdf_rows is None else t.pdf_rows, start=1):
        if row.kind == "group":
            data.append([_p(row.cells[0].text, styles["note"])] + [""] * (len(t.header) - 1))
            commands += [("SPAN", (0, r), (-1, r)), ("BACKGROUND", (0, r), (-1, r), BAND)]
            continue
        strong = row.kind in ("total", "highlight")
        out = []
        for c, cell in enumerate(row.cells):
            if cell.spark is not None:
                out.append(_spark(cell.spark))
            elif cell.status:
                bg, fg = model.STATUS_COLOURS.get(cell.status, ("#eeeeee", "#1f1f1f"))
                style = ParagraphStyle(
                    "status", parent=bold, textColor=colors.HexColor(fg), fontSize=size - 0.5
                )
                out.append(_p(cell.text, style))
                commands.append(("BACKGROUND", (c, r), (c, r), colors.HexColor(bg)))
            elif cell.align == "right":
                out.append(_p(cell.text, bold_r if strong or cell.bold else right, cell.note))
            else:
                out.append(_p(cell.text, bold if strong or cell.bold else cell_style, cell.note))
        data.append(out + [""] * (len(t.header) - len(out)))
        if row.kind == "total":
            commands += [
                ("LINEABOVE", (0, r), (-1, r), 1, colors.HexColor("#9aa7b4")),
                ("BACKGROUND", (0, r), (-1, r), colors.HexColor("#f7f7f7")),
            ]
        elif row.kind == "highlight":
            commands.append(("BACKGROUND", (0, r), (-1, r), colors.HexColor("#fff4d6")))
    weights = t.widths or [1.0] * len(t.header)
    col_widths = [width * w / sum(weights) for w in weights]
    table = Table(data, colWidths=col_widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    out = [_p(t.caption, styles["caption"]), table]
    out += [_p(n, styles["note"]) for n in t.notes]
    out.append(Spacer(1, 6))
    return out


def _figure(f: model.Figure, png: bytes, styles, width: float, height: float) -> list:
    reader = ImageReader(io.BytesIO(png))
    w_px, h_px = reader.getSize()
    w = min(width * f.width, 155 * mm)  # three goal charts to a portrait page
    h = w * h_px / w_px
    max_h = height - 60
    if h > max_h:
        w, h = w * max_h / h, max_h
    parts = [_p(f.title, styles["caption"]), Image(io.BytesIO(png), width=w, height=h)]
    if f.note:
        parts.append(_p(f.note, styles["note"]))
    return [KeepTogether(parts), Spacer(1, 8)]


def _keyfigures(k: model.KeyFigures, styles, width: float) -> list:
    columns = 3
    cells = [
        [_p(label, styles["kf_label"]), _p(value, styles["kf_value"])]
        for label, value, _key in k.items
    ]
    rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
    rows[-1] += [""] * (columns - len(rows[-1]))
    table = Table(rows, colWidths=[width / columns] * columns, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), BAND),
                ("GRID", (0, 0), (-1, -1), 3, colors.white),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return [table, Spacer(1, 8)]


def _blocks(section: model.Section, charts, styles, width: float, height: float) -> list:
    out: list = []
    for b in section.blocks:
        if isinstance(b, model.Table):
            out += _table(b, styles, width)
        elif isinstance(b, model.Figure):
            out += _figure(b, charts[b.key][1], styles, width, height)
        elif isinstance(b, model.KeyFigures):
            out += _keyfigures(b, styles, width)
        elif isinstance(b, model.Bullets):
            out.append(
                ListFlowable(
                    [ListItem(_p(i, styles["p"]), leftIndent=10, value="•") for i in b.items],
                    bulletType="bullet",
                    start="•",
                    leftIndent=10,
                    bulletFontName=FONT,
                )
            )
        elif isinstance(b, model.Paragraph):
            if b.kind == "h3":
                out.append(CondPageBreak(60))
            out.append(_p(b.text, styles.get(b.kind, styles["p"])))
    return out


# A section that starts on a new page and overflows it by at most this share of a page is
# shrunk onto the one page: no page that holds only a table's last rows or its notes.
SHRINK_TO_FIT = 0.3


def _height(flow: list, width: float, height: float) -> float:
    scratch = Canvas(io.BytesIO())  # wrapOn measures on a canvas; nothing is drawn
    needed = 0.0
    for flowable in flow:
        if isinstance(flowable, CondPageBreak):
            continue  # takes no room on a page it does not break
        if isinstance(flowable, KeepTogether):  # its wrap says "too tall" instead of a size
            needed += _height(flowable._content, width, height)
            continue
        needed += flowable.wrapOn(scratch, width, height)[1]
        needed += flowable.getSpaceBefore() + flowable.getSpaceAfter()
    return needed


def _flat(flow: list) -> list:
    """Page-break helpers out (on one page they have nothing to do; KeepInFrame cannot draw
    a KeepTogether)."""
    out: list = []
    for flowable in flow:
        if isinstance(flowable, KeepTogether):
            out += _flat(flowable._content)
        elif not isinstance(flowable, CondPageBreak):
            out.append(flowable)
    return out


def _fit_page(flow: list, width: float, height: float) -> list:
    """``flow`` as is, or shrunk onto one page if it overflows it only a little."""
    needed = _height(flow, width, height)
    if height < needed <= height * (1 + SHRINK_TO_FIT):
        return [KeepInFrame(width, height, _flat(flow), mode="shrink")]
    return flow


def render_pdf(report: model.Report, charts: dict[str, tuple[str, bytes]], path: Path) -> None:
    register_fonts()
    styles = _styles()
    portrait, wide = A4, landscape(A4)
    plan = f"Beskæftigelsesplan {report.plan_year}"
    header = f"{report.municipality_name} Kommune · {plan} · {report.month_label}"

    def on_page(canvas, doc) -> None:
        width, height = canvas._pagesize
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, height - MARGIN + 6 * mm, header)
        canvas.drawRightString(width - MARGIN, MARGIN - 8 * mm, f"Side {doc.page}")
        canvas.drawString(
            MARGIN,
            MARGIN - 8 * mm,
            f"Tal under {report.min_count} personer: <{report.min_count}; "
            "skjult for at beskytte dem: ..",
        )
        canvas.restoreState()

    def frame(size) -> Frame:
        return Frame(
            MARGIN,
            MARGIN,
            size[0] - 2 * MARGIN,
            size[1] - 2 * MARGIN,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )

    story: list = [
        _p(f"{plan} · Status", styles["kicker"]),
        _p(f"{report.municipality_name} Kommune", styles["h1"]),
        _p(report.month_label, styles["month"]),
        _p(report.provenance, styles["note"]),
    ]
    front = list(story)
    for section in report.sections:
        size = wide if section.wide else portrait
        if section.page_break:
            story += [NextPageTemplate("wide" if section.wide else "portrait"), PageBreak()]
        width, height = size[0] - 2 * MARGIN, size[1] - 2 * MARGIN
        flow = [
            _p(f"{section.number}. {section.title}", styles["h2"]),
            *_blocks(section, charts, styles, width, height),
        ]
        if section.page_break:
            story += _fit_page(flow, width, height)
        elif len(story) == len(front):  # the first section, on the title page
            story = _fit_page(story + flow, width, height)
        else:
            story += flow
    doc = BaseDocTemplate(
        str(path),
        pagesize=portrait,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{report.title} – {report.municipality_name} – {report.month_label}",
        author="lmkpi",
        subject=f"{plan}, status",
        keywords=f"lmkpi publication {report.publication_id}" if report.publication_id else "",
        creator="lmkpi",
        lang="da",
        invariant=True,
    )
    doc.addPageTemplates(
        [
            PageTemplate("portrait", [frame(portrait)], onPage=on_page, pagesize=portrait),
            PageTemplate("wide", [frame(wide)], onPage=on_page, pagesize=wide),
        ]
    )
    doc.build(story)
