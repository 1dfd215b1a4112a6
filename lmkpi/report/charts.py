"""Charts as matplotlib figures, rendered to inline SVG (HTML) and PNG (PDF).

Deterministic and self-contained: glyphs are drawn as paths from the DejaVu Sans font that
ships with matplotlib (no font or URL is referenced), ids are salted with the chart's key, the
date and namespace/DTD references are stripped. Builders take plain lists (months, values with
``None`` for hidden or missing points) and never see a frame or a suppressed value.
"""

import io
import re
from collections.abc import Sequence
from datetime import date

import matplotlib
import matplotlib.lines
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, MaxNLocator

from lmkpi.report.formatting import fmt_number, month_short

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "svg.fonttype": "path",
    "svg.hashsalt": "lmkpi-report",
    "svg.image_inline": True,
    "path.simplify": True,
    "figure.dpi": 100,
}

MUNICIPALITY = "#1f4e79"
COUNTRY = "#6f6f6f"
TARGET = "#b3261e"
BASELINE = "#8c8c8c"
PROJECTION = "#2e75b6"
AREA_COLOURS = ("#1f4e79", "#2e8b57", "#c55a11", "#7030a0", "#6f6f6f", "#b8860b")
SMILEY = {"green": "#1b7a3d", "light_green": "#9ccc65", "red": "#c62828"}

PNG_DPI = 150
HIDDEN_BAR = "Fordelingen er skjult (tal under 5 personer eller for at beskytte dem)"
HIDDEN_PANEL = "Tal skjult\n(under 5 fuldtidspersoner\neller for at beskytte sådanne)"


def _strip_svg(svg: str, key: str) -> str:
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'(<svg[^>]*?)\s+width="[^"]*"\s+height="[^"]*"', r"\1", svg, count=1)
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", key)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m[1]}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m[1]})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m[1]}"', svg)
    svg = svg.replace("<svg ", f'<svg role="img" aria-labelledby="{prefix}-title" ', 1)
    return svg.strip()


def render(draw, key: str, title: str) -> tuple[str, bytes]:
    """Draw the figure once; return (inline SVG, PNG bytes)."""
    with matplotlib.rc_context(RC):
        fig = draw()
        engine = fig.get_layout_engine()
        if engine is not None:  # lay out once, not again for each format
            engine.execute(fig)
            fig.set_layout_engine("none")
        svg_buf, png_buf = io.StringIO(), io.BytesIO()
        fig.savefig(svg_buf, format="svg", metadata={"Date": None})
        fig.savefig(
            png_buf,
            format="png",
            dpi=PNG_DPI,
            metadata={"Software": None},
        )
    svg = _strip_svg(svg_buf.getvalue(), key)
    title_el = f'<title id="{re.sub(r"[^A-Za-z0-9_-]", "-", key)}-title">{_xml(title)}</title>'
    svg = re.sub(r"(<svg[^>]*>)", lambda m: m[1] + title_el, svg, count=1)
    return svg, png_buf.getvalue()


def _xml(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class DanishTicks(Formatter):
    """Tick labels in Danish format with as many decimals as the tick step needs."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def __call__(self, value, pos=None) -> str:
        locs = sorted(self.locs) if len(self.locs) > 1 else [0, 1]
        step = min(b - a for a, b in zip(locs, locs[1:], strict=False)) * self.scale
        decimals = next((d for d in range(4) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 3)
        return fmt_number(value * self.scale, decimals)


def _ticks(ax, axis: str = "y", scale: float = 1.0, nbins: int = 5) -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10]))
    target.set_major_formatter(DanishTicks(scale))


def _pct_axis(ax) -> None:
    _ticks(ax, "y", scale=100)
    ax.set_ylabel("pct.")


def _month_axis(ax, months: Sequence[date]) -> None:
    """Integer x positions labelled with Danish short months (about six labels)."""
    step = max(1, round(len(months) / 6))
    ticks = list(range(len(months) - 1, -1, -step))[::-1]
    ax.set_xticks(ticks)
    ax.set_xticklabels([month_short(months[i]).replace(" 20", " ") for i in ticks])
    ax.set_xlim(-0.6, len(months) - 0.4)
    ax.tick_params(axis="x", labelsize=8)


def _segments(xs: Sequence[float], ys: Sequence[float | None]):
    """Runs of consecutive points without a gap (a hidden or missing value breaks the line)."""
    run: list[tuple[float, float]] = []
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            if run:
                yield run
            run = []
        else:
            run.append((x, y))
    if run:
        yield run


def _plot_gapped(ax, xs, ys, **kw) -> None:
    label = kw.pop("label", None)
    for i, run in enumerate(_segments(xs, ys)):
        rx, ry = zip(*run, strict=True)
        ax.plot(
            rx,
            ry,
            label=label if i == 0 else None,
            marker="o" if len(run) == 1 else None,
            markersize=3,
            **kw,
        )


def _figure(width: float = 7.0, height: float = 3.0) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def relative_goal_chart(
    months: Sequence[date],
    values: Sequence[float | None],
    *,
    baseline_index: int | None,
    baseline_value: float | None,
    target_index: int | None,
    target_level: float | None,
    projection: Sequence[tuple[int, float]] | None,
    y_label: str,
) -> Figure:
    """A level over time with the baseline, the target level and the path to the target."""
    fig = _figure()
    ax = fig.add_subplot()
    xs = list(range(len(months)))
    _plot_gapped(ax, xs, values, color=MUNICIPALITY, linewidth=2, label="Kommunen")
    if baseline_index is not None and baseline_value is not None:
        ax.axhline(baseline_value, color=BASELINE, linestyle=":", linewidth=1)
        ax.plot(
            [baseline_index],
            [baseline_value],
            "o",
            color=BASELINE,
            markersize=6,
            label=f"Udgangspunkt ({month_short(months[baseline_index])})",
        )
    if target_index is not None and target_level is not None:
        if baseline_index is not None and baseline_value is not None:
            ax.plot(
                [baseline_index, target_index],
                [baseline_value, target_level],
                color=TARGET,
                linestyle=":",
                linewidth=1,
                label="Planlagt forløb",
            )
        ax.plot(
            [target_index],
            [target_level],
            marker="D",
            color=TARGET,
            linestyle="none",
            markersize=6,
            label=f"Mål ({month_short(months[target_index])})",
        )
        ax.axhline(target_level, color=TARGET, linestyle="--", linewidth=0.8)
    if projection:
        px, py = zip(*projection, strict=True)
        ax.plot(px, py, color=PROJECTION, linestyle="--", linewidth=1.5, label="Fremskrivning")
    _month_axis(ax, months)
    _ticks(ax, "y")
    ax.set_ylabel(y_label)
    if ax.get_legend_handles_labels()[0]:  # a goal without data has nothing to name
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def average_goal_chart(
    months: Sequence[date],
    values: Sequence[float | None],
    *,
    in_period: Sequence[bool],
    baseline_span: tuple[int, int] | None,
    baseline_value: float | None,
    period_span: tuple[int, int],
    target: float | None,
    report_index: int | None,
    average_so_far: float | None,
    projected: float | None,
) -> Figure:
    """Monthly shares as bars, the baseline average, the target and the projected average."""
    fig = _figure()
    ax = fig.add_subplot()
    xs = list(range(len(months)))
    for x, y, inside in zip(xs, values, in_period, strict=True):
        if y is not None:
            ax.bar(x, y, width=0.7, color=MUNICIPALITY if inside else "#9dc3e6")
    if baseline_span and baseline_value is not None:
        a, b = baseline_span
        ax.hlines(
            baseline_value,
            a - 0.4,
            b + 0.4,
            color=BASELINE,
            linewidth=2,
            linestyle=":",
            label="Udgangspunkt (gns.)",
        )
    a, b = period_span
    if target is not None:
        # Over the average so far (they often lie close): dashed, so the average shows through.
        ax.hlines(
            target,
            a - 0.4,
            b + 0.4,
            color=TARGET,
            linewidth=1.8,
            linestyle=(0, (4, 2)),
            label="Mål",
            zorder=4,
        )
    if report_index is not None and average_so_far is not None:
        ax.hlines(
            average_so_far,
            a - 0.4,
            report_index + 0.4,
            color="#111111",
            linewidth=2.6,
            label="Gns. hidtil",
            zorder=3,
        )
        if projected is not None and report_index < b:
            ax.plot(
                [report_index + 0.4, b + 0.4],
                [average_so_far, projected],
                color=PROJECTION,
                linestyle="--",
                linewidth=1.5,
            )
            ax.plot(
                [b + 0.4],
                [projected],
                marker="o",
                color=PROJECTION,
                linestyle="none",
                label="Forventet gns.",
            )
    _month_axis(ax, months)
    _pct_axis(ax)
    ax.set_ylim(bottom=0)
    handles, labels = ax.get_legend_handles_labels()
    handles = [Patch(color="#9dc3e6"), Patch(color=MUNICIPALITY), *handles]
    labels = ["Måned i udgangsperioden", "Måned i målperioden", *labels]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def small_multiples(
    panels: Sequence[tuple[str, Sequence[float | None], Sequence[float | None]]],
    months: Sequence[date],
    *,
    columns: int = 3,
    series_labels: tuple[str, str] = ("Kommunen", "Hele landet"),
) -> Figure:
    """One small index chart per panel: the municipality (solid) and the country (dashed)."""
    rows = max(1, -(-len(panels) // columns))
    fig = Figure(figsize=(7.0, 1.75 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, columns, sharex=True, squeeze=False)
    xs = list(range(len(months)))
    for i, ax in enumerate(axes.flat):
        if i >= len(panels):
            ax.set_visible(False)
            continue
        title, mine, country = panels[i]
        ax.set_title(title, fontsize=8.5, loc="left")
        ax.tick_params(labelsize=7)
        if any(v is not None for v in mine):
            _plot_gapped(ax, xs, mine, color=MUNICIPALITY, linewidth=1.6)
            _plot_gapped(ax, xs, country, color=COUNTRY, linewidth=1, linestyle="--")
            ax.axhline(100, color="#999999", linewidth=0.6)
            _ticks(ax, "y", nbins=3)
        else:
            ax.set_yticks([])
            ax.text(
                0.5,
                0.5,
                HIDDEN_PANEL,
                ha="center",
                va="center",
                fontsize=7,
                color=COUNTRY,
                transform=ax.transAxes,
            )
        step = max(1, round(len(months) / 3))
        ticks = list(range(len(months) - 1, -1, -step))[::-1]
        ax.set_xticks(ticks)
        ax.set_xticklabels([month_short(months[t]).replace(" 20", " ") for t in ticks])
    handles = [
        matplotlib.lines.Line2D([], [], color=MUNICIPALITY, linewidth=1.6),
        matplotlib.lines.Line2D([], [], color=COUNTRY, linewidth=1, linestyle="--"),
    ]
    fig.legend(handles, series_labels, loc="outside lower center", ncol=2)
    return fig


def grouped_bars(
    groups: Sequence[str],
    areas: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    percent: bool = True,
) -> Figure:
    """Horizontal bars: one group per measure, one bar per area (hidden values left out)."""
    n_areas = len(areas)
    height = 0.8 / max(n_areas, 1)
    fig = Figure(
        figsize=(7.0, 0.9 + 0.16 * n_areas * len(groups) + 0.25 * len(groups)), layout="constrained"
    )
    ax = fig.add_subplot()
    for j, area in enumerate(areas):
        ys, ws = [], []
        for i, row in enumerate(values):
            if row[j] is not None:
                ys.append(i + j * height)
                ws.append(row[j])
        ax.barh(ys, ws, height=height * 0.9, color=AREA_COLOURS[j % len(AREA_COLOURS)], label=area)
        for y, w in zip(ys, ws, strict=True):
            label = fmt_number(w * 100, 1) if percent else fmt_number(w, 1)
            ax.text(w, y, " " + label, va="center", fontsize=6.5)
    ax.set_yticks([i + height * (n_areas - 1) / 2 for i in range(len(groups))])
    ax.set_yticklabels(groups, fontsize=8)
    ax.invert_yaxis()
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    if percent:
        _ticks(ax, "x", scale=100)
        ax.set_xlabel("pct.")
    ax.margins(x=0.12)
    fig.legend(loc="outside lower center", ncol=min(n_areas, 3))
    return fig


def stacked_shares(
    rows: Sequence[str],
    parts: Sequence[tuple[str, str, Sequence[float | None]]],
) -> Figure:
    """100 % bars (e.g. the smiley split); a row with any hidden part is drawn without parts."""
    fig = Figure(figsize=(7.0, 0.9 + 0.45 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    for i, _row in enumerate(rows):
        shares = [p[2][i] for p in parts]
        if any(s is None for s in shares):
            ax.text(0.01, i, HIDDEN_BAR, va="center", fontsize=7.5, color=COUNTRY)
            continue
        left = 0.0
        for (_label, colour, _values), share in zip(parts, shares, strict=True):
            ax.barh(i, share, left=left, color=colour, height=0.6)
            if share >= 0.06:
                dark = colour != SMILEY["light_green"]
                ax.text(
                    left + share / 2,
                    i,
                    fmt_number(share * 100, 1),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if dark else "black",
                )
            left += share
    handles = [Patch(color=colour) for _label, colour, _values in parts]
    fig.legend(
        handles, [label for label, _c, _v in parts], loc="outside lower center", ncol=len(parts)
    )
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    _ticks(ax, "x", scale=100)
    ax.set_xlabel("pct.")
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x")
    return fig


def line_chart(
    months: Sequence[date],
    series: Sequence[tuple[str, Sequence[float | None], str, str]],
    *,
    percent: bool = False,
    y_label: str = "",
    height: float = 2.6,
    from_zero: bool = True,
) -> Figure:
    """Lines over months: (label, values, colour, linestyle) per series (a label starting
    with "_" is left out of the legend); the y-axis starts at 0 unless ``from_zero`` is off."""
    fig = _figure(height=height)
    ax = fig.add_subplot()
    xs = list(range(len(months)))
    for label, values, colour, style in series:
        _plot_gapped(ax, xs, values, color=colour, linestyle=style, linewidth=1.8, label=label)
    _month_axis(ax, months)
    if percent:
        _pct_axis(ax)
    else:
        _ticks(ax, "y")
        ax.set_ylabel(y_label)
    if from_zero:
        ax.set_ylim(bottom=0)
    if ax.get_legend_handles_labels()[0]:  # a goal without data has nothing to name
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


AREA_STYLES = (
    (MUNICIPALITY, "-", 1.8),
    ("#2e7d32", "-.", 1.2),
    ("#b26a00", ":", 1.4),
    (COUNTRY, "--", 1.1),
)


def index_panels(
    panels: Sequence[tuple[str, Sequence[Sequence[float | None]]]],
    months: Sequence[date],
    series_labels: Sequence[str],
    *,
    y_label: str,
    columns: int = 3,
) -> Figure:
    """One index chart per benefit group, in the committee's style: the municipality, its
    cluster, its RAR (or BR) area and the whole country, one y-scale for every panel (so the
    panels can be compared), a named legend."""
    rows = max(1, -(-len(panels) // columns))
    fig = Figure(figsize=(7.0, 1.85 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
    xs = list(range(len(months)))
    shown = [v for _t, series in panels for s in series for v in s if v is not None]
    low, high = (min(shown), max(shown)) if shown else (90.0, 110.0)
    pad = max((high - low) * 0.08, 2.0)
    for i, ax in enumerate(axes.flat):
        if i >= len(panels):
            ax.set_visible(False)
            continue
        title, series = panels[i]
        ax.set_title(title, fontsize=8.5, loc="left")
        ax.tick_params(labelsize=7)
        ax.set_ylim(low - pad, high + pad)
        ax.axhline(100, color="#999999", linewidth=0.6)
        if not any(v is not None for v in series[0]):
            ax.text(0.5, 0.82, HIDDEN_PANEL.split("\n")[0], ha="center", va="center",
                    fontsize=6.5, color=COUNTRY, transform=ax.transAxes)  # fmt: skip
        for values, (color, style, width) in zip(series, AREA_STYLES, strict=False):
            _plot_gapped(ax, xs, values, color=color, linestyle=style, linewidth=width)
        if i % columns == 0:
            ax.set_ylabel(y_label, fontsize=7)
        step = max(1, round(len(months) / 3))
        ticks = list(range(len(months) - 1, -1, -step))[::-1]
        ax.set_xticks(ticks)
        ax.set_xticklabels([month_short(months[t]).replace(" 20", " ") for t in ticks])
    handles = [
        matplotlib.lines.Line2D([], [], color=c, linestyle=s, linewidth=w)
        for c, s, w in AREA_STYLES[: len(series_labels)]
    ]
    fig.legend(handles, list(series_labels), loc="outside lower center", ncol=len(series_labels))
    return fig
