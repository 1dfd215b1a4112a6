"""Sparklines: the last months of a goal as a tiny line, as SVG (HTML) or points (PDF).

Hand-built rather than matplotlib: 17 figures of 90 x 22 pixels cost more to set up than to
draw. A hidden or missing month breaks the line.
"""

from lmkpi.report.model import Sparkline

WIDTH, HEIGHT, PAD = 90.0, 22.0, 2.5


def scaled(spark: Sparkline, width: float = WIDTH, height: float = HEIGHT):
    """(runs of (x, y) points, target y or None, last point) in a box with y growing down."""
    values = [v for v in spark.values if v is not None]
    lo = min([*values, spark.target] if spark.target is not None else values)
    hi = max([*values, spark.target] if spark.target is not None else values)
    span = hi - lo or abs(hi) or 1.0
    n = len(spark.values)

    def x(i: int) -> float:
        return PAD + (width - 2 * PAD) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return height - PAD - (height - 2 * PAD) * (v - lo) / span

    runs: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(spark.values):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((round(x(i), 1), round(y(v), 1)))
    runs = [r for r in runs if r]
    last = next(
        (
            (round(x(i), 1), round(y(v), 1))
            for i, v in reversed(list(enumerate(spark.values)))
            if v is not None
        ),
        None,
    )
    target = round(y(spark.target), 1) if spark.target is not None else None
    return runs, target, last


def svg(spark: Sparkline, label: str) -> str:
    runs, target, last = scaled(spark)
    parts = [
        f'<svg class="spark" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" width="{WIDTH:g}" '
        f'height="{HEIGHT:g}" role="img" aria-label="{label}">'
    ]
    if target is not None:
        parts.append(
            f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{target}" y2="{target}" '
            'stroke="#b3261e" stroke-width="0.8" stroke-dasharray="2 2"/>'
        )
    for run in runs:
        points = " ".join(f"{px:g},{py:g}" for px, py in run)
        if len(run) == 1:
            parts.append(f'<circle cx="{run[0][0]:g}" cy="{run[0][1]:g}" r="1.2" fill="#1f4e79"/>')
        else:
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="#1f4e79" stroke-width="1.3"/>'
            )
    if last is not None:
        parts.append(f'<circle cx="{last[0]:g}" cy="{last[1]:g}" r="2" fill="#1f4e79"/>')
    parts.append("</svg>")
    return "".join(parts)
