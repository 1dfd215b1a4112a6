"""Sections 1-3: the front page verdict, the goal table and one chart per quantitative goal.

Each goal's monthly series (from the municipality's benchmark rows) is protected once: small
months are hidden, the period averages that the table and chart publish are constraints (an
average goal's "average so far" and baseline average are means of months shown beside them),
and what is derived from a hidden value (progress, target level, projection) is hidden too.
"""

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from lmkpi.report import charts
from lmkpi.report.data import ReportData, period_bounds
from lmkpi.report.disclosure import (
    SECONDARY,
    SECONDARY_LABEL,
    Constraint,
    hide_derived,
    is_small,
    primary_label,
    protect,
)
from lmkpi.report.formatting import (
    add_months,
    fmt_number,
    fmt_pct,
    month_name,
    month_range,
    month_short,
    months_between,
)
from lmkpi.report.model import (
    STATUS_LABELS,
    Cell,
    Figure,
    KeyFigures,
    Paragraph,
    Row,
    Section,
    Sparkline,
    Table,
    text,
)

RELATIVE = ("relative_change_max", "relative_change_min")
AVERAGE = ("monthly_average_min", "monthly_average_max")
QUANTITATIVE = RELATIVE + AVERAGE
UNIT_LABELS = {
    "full_time_persons": "Fuldtidspersoner",
    "persons": "Personer",
    "share": "Andel",
    "companies": "Virksomheder",
    "conversations": "Samtaler",
}
TREND_MONTHS = 6  # relative goals: projection = straight-line trend of the last 6 months [ours]
SPARK_MONTHS = 13


def goal_sort_key(goal_id: str) -> tuple[int, int, str]:
    return (0, int(goal_id), "") if goal_id.isdigit() else (1, 0, goal_id)


def point_is_small(
    unit: str | None, kind: str | None, value, numerator, denominator, min_count: int
) -> bool:
    """Is one month's value built from fewer than ``min_count`` persons?"""
    if kind == "share":
        return is_small(numerator, min_count) or is_small(denominator, min_count)
    if unit == "companies":
        return False  # companies, not persons
    if unit == "conversations":
        return is_small(denominator, min_count)  # persons behind the conversations
    return is_small(value, min_count)  # full-time persons or persons (ftp < 5: < 5 persons)


@dataclass
class GoalView:
    goal_id: str
    kind: str  # goal or followup
    title: str
    target_type: str
    unit: str | None
    measure_kind: str | None
    target_value: float | None
    row: dict  # fct_goal_indicators in the month measured (the report month, or the target
    months: list[date]  # month when that has passed: the goal's final status)
    values: list[float | None]  # raw, aligned with months
    hidden: dict = field(default_factory=dict)  # cell key -> primary/secondary
    baseline_span: tuple[date, date] | None = None
    period_span: tuple[date, date] | None = None
    projection: list[tuple[date, float]] | None = None
    measured: date | None = None  # the month of `row`

    @property
    def is_final(self) -> bool:
        """The target month has passed: the row is the goal's final status."""
        return (
            self.measured is not None
            and self.row.get("target_month") is not None
            and (self.measured == self.row["target_month"])
        )

    @property
    def is_share(self) -> bool:
        return self.measure_kind == "share"

    def shown(self, month: date) -> float | None:
        if month not in self.months or ("m", month) in self.hidden:
            return None
        return self.values[self.months.index(month)]


def _linear_projection(
    months: list[date], values: list[float | None], report: date, target: date
) -> list[tuple[date, float]] | None:
    points = [
        (i, v)
        for i, (m, v) in enumerate(zip(months, values, strict=True))
        if v is not None and add_months(report, -TREND_MONTHS) < m <= report
    ]
    if len(points) < 3 or target <= report:
        return None
    n = len(points)
    mx = sum(i for i, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((i - mx) ** 2 for i, _ in points)
    slope = sum((i - mx) * (v - my) for i, v in points) / sxx if sxx else 0.0
    r = months.index(report)
    t = r + (target.year - report.year) * 12 + target.month - report.month
    start = my + slope * (r - mx)
    return [(report, start), (add_months(report, t - r), start + slope * (t - r))]


def build_views(data: ReportData, min_count: int) -> list[GoalView]:
    # Every goal is in every report: one whose target month has passed shows its final
    # status, measured in the target month (issue 19).
    upto = data.indicators.filter(pl.col("month") <= data.month).sort("month")
    by_goal = {r["goal_id"]: r for r in upto.iter_rows(named=True)}
    views = []
    for g in sorted(data.goals.iter_rows(named=True), key=lambda r: goal_sort_key(r["goal_id"])):
        row = by_goal.get(g["goal_id"])
        if row is None:
            continue
        measured = row["month"]
        view = GoalView(
            goal_id=g["goal_id"],
            kind=g["goal_kind"],
            title=g["title_da"] or g["goal_id"],
            target_type=g["target_type"],
            unit=g["unit"],
            measure_kind=g["kind"],
            target_value=g["target_value"],
            row=row,
            months=[],
            values=[],
            measured=measured,
        )
        first = add_months(data.month, -(SPARK_MONTHS - 1))
        last = data.month
        if view.target_type in RELATIVE and row["baseline_month"]:
            first = min(first, add_months(row["baseline_month"], -12))
            last = max(last, row["target_month"] or last)
        elif view.target_type in AVERAGE:
            view.baseline_span = period_bounds(g["reported_status_period"])
            view.period_span = period_bounds(g["target_period"])
            if view.baseline_span:
                first = min(first, view.baseline_span[0])
            if view.period_span:
                first = min(first, view.period_span[0])
                last = max(last, view.period_span[1])
        first = max(first, data.series["month"].min() or first) if data.series.height else first
        view.months = months_between(first, last)
        series = data.series.filter(pl.col("measure") == (g["measure"] or ""))
        points = {r["month"]: r for r in series.iter_rows(named=True)}
        view.values = [
            points[m]["value"] if m in points and m <= data.month else None for m in view.months
        ]
        _protect(view, points, measured, min_count)
        if view.target_type in RELATIVE and row["target_month"] and measured == data.month:
            shown = [view.shown(m) for m in view.months]
            trend_inputs = [
                m for m in view.months if add_months(data.month, -TREND_MONTHS) < m <= data.month
            ]
            if not any(("m", m) in view.hidden for m in trend_inputs):
                view.projection = _linear_projection(
                    view.months, shown, data.month, row["target_month"]
                )
        views.append(view)
    return views


def _protect(view: GoalView, points: dict, month: date, min_count: int) -> None:
    """Hide small months and whatever would reveal them (see the module docstring)."""
    values: dict = {}
    primary = []
    for m, v in zip(view.months, view.values, strict=True):
        if v is None:
            continue
        values[("m", m)] = v
        p = points[m]
        if point_is_small(
            view.unit, view.measure_kind, v, p["numerator"], p["denominator"], min_count
        ):
            primary.append(("m", m))
    constraints = []
    row = view.row
    if view.target_type in AVERAGE:
        for key, span, mean in (
            ("progress", view.period_span, row["progress"]),
            ("baseline", view.baseline_span, row["baseline_value"]),
        ):
            if span is None or mean is None:
                continue
            upto = min(span[1], month)
            members = tuple(("m", m) for m in months_between(span[0], upto) if ("m", m) in values)
            if members:
                values[key] = mean
                constraints.append(Constraint(members, key, total_weight=len(members)))
    hidden = protect(values, primary, constraints, min_count=min_count, integer=False)
    if view.target_type in RELATIVE:
        base = ("m", row["baseline_month"])
        if base in hidden:
            hidden["baseline"] = hidden[base]
            hidden["target_level"] = hidden[base]
        derived = hide_derived(hidden, [("m", month), base])
        if derived:
            hidden["progress"] = derived
    if view.target_type in AVERAGE and view.period_span:
        inputs = [("m", m) for m in months_between(view.period_span[0], month)]
        derived = hide_derived(hidden, inputs)
        if derived:
            hidden["projected"] = SECONDARY
    if ("m", month) in hidden:
        hidden["value"] = hidden[("m", month)]
    view.hidden = hidden


# --- formatting ----------------------------------------------------------------------------


def _level(view: GoalView, value: float | None) -> str:
    decimals = 1 if view.unit == "full_time_persons" else 0
    return fmt_number(value, decimals)


def _value(view: GoalView, value: float | None) -> str:
    return fmt_pct(value) if view.is_share else _level(view, value)


def _label(hidden: str | None, min_count: int) -> str:
    return primary_label(min_count) if hidden == "primary" else SECONDARY_LABEL


def _pct_target(value: float) -> str:
    decimals = 0 if abs(value * 100 - round(value * 100)) < 1e-9 else 1
    return fmt_pct(value, decimals, sign=value > 0)


def target_text(view: GoalView, month: date, min_count: int) -> str:
    row = view.row
    t = view.target_value
    if view.target_type == "qualitative":
        return "Kvalitativt mål"
    if view.target_type == "follow" or t is None:
        return "Intet mål (følges)"
    if view.target_type in RELATIVE:
        level = row["target_level"]
        shown = (
            _label(view.hidden["target_level"], min_count)
            if "target_level" in view.hidden
            else _level(view, level)
        )
        when = month_short(row["target_month"]) if row["target_month"] else ""
        return f"{_pct_target(t)} til {shown} ({when})"
    word = "mindst" if view.target_type == "monthly_average_min" else "højst"
    span = view.period_span
    period = f"gns. {month_range(*span)}" if span else "gns."
    return f"{word} {fmt_pct(t, 0 if round(t * 100, 6).is_integer() else 1)} ({period})"


def baseline_text(view: GoalView, min_count: int) -> str:
    row = view.row
    if view.target_type in RELATIVE and row["baseline_month"]:
        value = (
            _label(view.hidden["baseline"], min_count)
            if "baseline" in view.hidden
            else _level(view, row["baseline_value"])
        )
        return f"{value} ({month_short(row['baseline_month'])})"
    if view.target_type in AVERAGE and row["baseline_value"] is not None:
        value = (
            _label(view.hidden["baseline"], min_count)
            if "baseline" in view.hidden
            else fmt_pct(row["baseline_value"])
        )
        span = f" ({month_range(*view.baseline_span)})" if view.baseline_span else ""
        return value + span
    return "–"


def latest_text(view: GoalView, min_count: int, report_month: date | None = None) -> str:
    """The value in the month measured; a goal measured before the report month (its target
    month passed) says when."""
    if view.target_type == "qualitative":
        return "–"
    when = (
        f" ({month_short(view.measured)})"
        if report_month and view.measured and view.measured != report_month
        else ""
    )
    if "value" in view.hidden:
        return _label(view.hidden["value"], min_count) + when
    return _value(view, view.row["value"]) + when


def progress_text(view: GoalView, month: date, min_count: int) -> str:
    row = view.row
    if view.target_type in RELATIVE and row["progress"] is not None:
        if "progress" in view.hidden:
            return _label(view.hidden["progress"], min_count)
        return f"{fmt_pct(row['progress'], sign=True)} siden {month_short(row['baseline_month'])}"
    if view.target_type in AVERAGE and row["progress"] is not None:
        avg = (
            _label(view.hidden["progress"], min_count)
            if "progress" in view.hidden
            else fmt_pct(row["progress"])
        )
        out = f"gns. {avg} hidtil"
        if row["projected_value"] is not None and view.period_span and month < view.period_span[1]:
            proj = (
                _label(view.hidden["projected"], min_count)
                if "projected" in view.hidden
                else fmt_pct(row["projected_value"])
            )
            out += f"; forventet {proj}"
        return out
    if view.target_type == "qualitative":
        return "Indgår ikke i de registerbaserede tal"
    return "–"


def sparkline(view: GoalView, month: date) -> Sparkline | None:
    months = [m for m in view.months if add_months(month, -(SPARK_MONTHS - 1)) <= m <= month]
    values = tuple(view.shown(m) for m in months)
    if not any(v is not None for v in values):
        return None
    target = view.row["target_level"] if view.target_type in QUANTITATIVE else None
    if "target_level" in view.hidden:
        target = None
    return Sparkline(values, target)


# --- sections ------------------------------------------------------------------------------


def status_counts(views: list[GoalView]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in views:
        if v.kind == "goal":
            counts[v.row["status"]] = counts.get(v.row["status"], 0) + 1
    return counts


def verdict(views: list[GoalView], month: date) -> str:
    """One line: how many measurable goals are met, on track, off track or not met."""
    counts = status_counts(views)
    measured = sum(n for s, n in counts.items() if s in ("met", "on_track", "off_track", "not_met"))
    when = month_name(month).capitalize()
    if not measured:
        return f"{when}: ingen af målene har målbare tal endnu."
    parts = [
        f"{counts[s]} {label}"
        for s, label in (
            ("met", "nået"),
            ("on_track", "på vej"),
            ("off_track", "ikke på vej"),
            ("not_met", "ikke nået"),
        )
        if counts.get(s)
    ]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " og " + parts[-1]
    line = f"{when}: Af {measured} målbare mål er {listed}."
    extra = []
    if counts.get("no_data"):
        extra.append(f"{counts['no_data']} mangler data")
    if counts.get("qualitative"):
        extra.append(f"{counts['qualitative']} er kvalitative")
    if extra:
        line += " " + " og ".join(extra).capitalize() + "."
    return line


def goal_table(
    views: list[GoalView], month: date, min_count: int, plan_label: str = "Beskæftigelsesplan 2019"
) -> Table:
    rows: list[Row] = []
    followups_started = False
    for v in views:
        if v.kind != "goal" and not followups_started:
            rows.append(Row([text("Opfølgningsmål uden måltal")], kind="group"))
            followups_started = True
        label = f"{v.goal_id}. {v.title}"
        rows.append(
            Row(
                [
                    text(label, f"goal-{v.goal_id}-title"),
                    text(UNIT_LABELS.get(v.unit or "", "–")),
                    Cell(baseline_text(v, min_count), f"goal-{v.goal_id}-baseline"),
                    Cell(target_text(v, month, min_count), f"goal-{v.goal_id}-target"),
                    Cell(
                        latest_text(v, min_count, month),
                        f"goal-{v.goal_id}-value",
                        hidden=v.hidden.get("value"),
                    ),
                    Cell(progress_text(v, month, min_count), f"goal-{v.goal_id}-progress"),
                    Cell(
                        STATUS_LABELS.get(v.row["status"], v.row["status"]),
                        f"goal-{v.goal_id}-status",
                        align="left",
                        status=v.row["status"],
                    ),
                    Cell("", f"goal-{v.goal_id}-trend", spark=sparkline(v, month)),
                ]
            )
        )
    return Table(
        key="goals",
        caption=f"Målene i {plan_label}, status {month_name(month)}",
        header=[
            "Mål",
            "Enhed",
            "Udgangspunkt",
            "Mål",
            f"Seneste ({month_short(month)})",
            "Udvikling",
            "Status",
            "Seneste 13 mdr.",
        ],
        rows=rows,
        widths=[3.3, 1.5, 1.4, 1.5, 1.0, 1.6, 1.2, 1.3],
        notes=[
            "Status: Nået / Ikke nået i målmåneden; før da På vej / Ikke på vej. Mål for ændringer "
            "sammenlignes med den lige vej fra udgangspunktet til målet; mål for gennemsnit med "
            "det forventede gennemsnit for hele perioden.",
        ],
        font_size=7.2,
    )


def goal_figures(views: list[GoalView], month: date, min_count: int) -> list:
    blocks: list = []
    for v in views:
        if v.target_type not in QUANTITATIVE or v.kind != "goal":
            continue
        blocks.append(_goal_figure(v, month, min_count))
    return blocks


def _span_indices(months: list[date], span: tuple[date, date] | None) -> tuple[int, int] | None:
    """Positions of a period within the chart's months (clipped), or None if outside."""
    if not span or span[1] < months[0] or span[0] > months[-1]:
        return None
    return months.index(max(span[0], months[0])), months.index(min(span[1], months[-1]))


def _goal_figure(v: GoalView, month: date, min_count: int) -> Figure:
    months = v.months
    shown = [v.shown(m) for m in months]
    row = v.row
    status = STATUS_LABELS.get(row["status"], row["status"])
    summary = (
        f"Udgangspunkt: {baseline_text(v, min_count)} · Mål: {target_text(v, month, min_count)}"
        f" · Seneste: {latest_text(v, min_count)} · Status: {status}"
    )
    hidden_months = sum(1 for m in months if ("m", m) in v.hidden)
    note = (
        f"{hidden_months} måned(er) er ikke vist, fordi tallet bygger på færre end {min_count} "
        "personer eller ville afsløre et sådant tal."
        if hidden_months
        else None
    )
    if v.target_type in RELATIVE:
        base_i = months.index(row["baseline_month"]) if row["baseline_month"] in months else None
        target_i = months.index(row["target_month"]) if row["target_month"] in months else None
        base_v = None if "baseline" in v.hidden else row["baseline_value"]
        target_level = None if "target_level" in v.hidden else row["target_level"]
        projection = (
            [(months.index(m), y) for m, y in v.projection if m in months] if v.projection else None
        )
        unit = UNIT_LABELS.get(v.unit or "", "")

        def draw():
            return charts.relative_goal_chart(
                months,
                shown,
                baseline_index=base_i,
                baseline_value=base_v,
                target_index=target_i,
                target_level=target_level,
                projection=projection,
                y_label=unit,
            )

    else:
        in_period = [
            bool(v.period_span and v.period_span[0] <= m <= v.period_span[1]) for m in months
        ]
        bspan = _span_indices(months, v.baseline_span)
        pspan = _span_indices(months, v.period_span) or (0, len(months) - 1)
        base_v = None if "baseline" in v.hidden else row["baseline_value"]
        avg = None if "progress" in v.hidden else row["progress"]
        projected = None if "projected" in v.hidden else row["projected_value"]
        report_i = months.index(month) if month in months else None

        def draw():
            return charts.average_goal_chart(
                months,
                shown,
                in_period=in_period,
                baseline_span=bspan,
                baseline_value=base_v,
                period_span=pspan,
                target=v.target_value,
                report_index=report_i,
                average_so_far=avg,
                projected=projected,
            )

    return Figure(
        key=f"goal-{v.goal_id}-chart",
        title=f"Mål {v.goal_id}: {v.title}",
        draw=draw,
        alt=summary,
        note=". ".join(x for x in (summary, note) if x),
    )


def overview_table(
    views: list[GoalView], month: date, min_count: int, *, key: str = "front"
) -> Table:
    """The front page's glance: each goal, its latest value and its status."""
    rows = [
        Row(
            [
                text(f"{v.goal_id}. {v.title}"),
                Cell(
                    latest_text(v, min_count, month),
                    f"{key}-{v.goal_id}-value",
                    hidden=v.hidden.get("value"),
                ),
                Cell(
                    STATUS_LABELS.get(v.row["status"], v.row["status"]),
                    f"{key}-{v.goal_id}-status",
                    align="left",
                    status=v.row["status"],
                ),
            ]
        )
        for v in views
        if v.kind == "goal"
    ]
    return Table(
        key="overview" if key == "front" else f"overview-{key}",
        caption=f"Overblik, {month_name(month)}",
        header=["Mål", f"Seneste ({month_short(month)})", "Status"],
        rows=rows,
        widths=[6.0, 1.3, 1.3],
        font_size=8,
    )


def front_section(views: list[GoalView], data: ReportData, min_count: int) -> Section:
    name = data.municipality["municipality_name"]
    goal1 = next((v for v in views if v.goal_id == "1"), None)
    figures: list = []
    if goal1 is not None:
        figures.append(
            (
                f"Fuldtidspersoner på offentlig forsørgelse, {month_short(data.month)}",
                latest_text(goal1, min_count),
                "front-goal-1-value",
            )
        )
        if goal1.row["baseline_month"] and goal1.row["progress"] is not None:
            target = target_text(goal1, data.month, min_count).split(" til ")[0]
            figures.append(
                (
                    f"Ændring siden {month_short(goal1.row['baseline_month'])} (mål {target})",
                    progress_text(goal1, data.month, min_count).split(" siden ")[0],
                    "front-goal-1-progress",
                )
            )
    counts = status_counts(views)
    for status in ("met", "on_track", "off_track", "not_met"):
        figures.append(
            (f"Mål: {STATUS_LABELS[status]}", str(counts.get(status, 0)), f"count-{status}")
        )
    return Section(
        number=1,
        title="Sammenfatning",
        anchor="sammenfatning",
        blocks=[
            Paragraph(verdict(views, data.month), kind="verdict"),
            KeyFigures(figures),
            overview_table(views, data.month, min_count),
            *final_results_blocks(data, min_count),
            Paragraph(
                f"Rapporten viser status for målene i {name} Kommunes {plan_label(data)} "
                f"for {month_name(data.month)}: målene med status, en graf pr. mål, "
                "ydelsesgrupperne, sammenligning med klynge, region og hele landet, Jobloggen, "
                "midlertidig indkvartering samt datakvalitet og metode."
            ),
            Paragraph(
                f"Tal, der bygger på færre end {min_count} personer, vises som "
                f"«{primary_label(min_count)}». Tal, der er skjult for at et sådant tal ikke kan "
                f"regnes ud fra totaler eller naboceller, vises som «{SECONDARY_LABEL}».",
                kind="note",
            ),
        ],
        page_break=False,
    )


def plan_label(data: ReportData) -> str:
    return f"Beskæftigelsesplan {data.plan_year}"


def final_results_blocks(data: ReportData, min_count: int) -> list:
    """A January report: last year's plan with its final results (resultatrevision)."""
    previous = data.previous_plan
    if previous is None:
        return []
    views = build_views(previous, min_count)
    return [
        Paragraph(f"Resultatrevision: {plan_label(previous)}", kind="h3"),
        Paragraph(
            f"Det endelige resultat af {plan_label(previous)}: hvert mål med sin status i "
            "målmåneden (eller periodens sidste måned).",
            kind="note",
        ),
        Paragraph(verdict(views, previous.month)),
        overview_table(views, previous.month, min_count, key=f"final-{previous.plan_year}"),
    ]


def goal_sections(
    views: list[GoalView], month: date, min_count: int, label: str = "Beskæftigelsesplan 2019"
) -> list[Section]:
    table = goal_table(views, month, min_count, label)
    figures = goal_figures(views, month, min_count)
    return [
        Section(2, "Målene", "maal", [table], wide=True),
        Section(
            3,
            "Udviklingen pr. mål",
            "grafer",
            [
                Paragraph(
                    "Hver graf viser den månedlige udvikling med udgangspunkt og mål. For mål om "
                    "en ændring vises den lige vej fra udgangspunktet til målet og en "
                    f"fremskrivning ud fra tendensen i de seneste {TREND_MONTHS} måneder. For mål "
                    "om et gennemsnit vises månederne, gennemsnittet hidtil og det forventede "
                    "gennemsnit for perioden."
                ),
                *figures,
            ],
        ),
    ]
