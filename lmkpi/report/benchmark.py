"""Section 5: the municipality beside its cluster(s), RAR, BR area and the whole country.

Shares are shown as they are; levels as a rate per 1,000 residents aged 16-66 (the areas
differ in size). Numerators and denominators are not shown. A value built from fewer than 5
persons is hidden (with the municipality's rank, which would place it between neighbours).
"""

import polars as pl

from lmkpi.report import charts
from lmkpi.report.comparison import benefit_rates_table, ministry_table, reconciliation_table
from lmkpi.report.data import ReportData
from lmkpi.report.disclosure import PRIMARY, SECONDARY_LABEL, primary_label
from lmkpi.report.formatting import fmt_number, fmt_pct, month_name
from lmkpi.report.goals import GoalView, goal_sort_key, point_is_small
from lmkpi.report.model import Cell, Figure, Paragraph, Row, Section, Table, text

AREA_ORDER = {"municipality": 0, "cluster": 1, "rar": 2, "br": 3, "country": 4}


def _areas(frame: pl.DataFrame) -> list[tuple[str, str, str]]:
    """(area_type, area_scheme, area_name) in display order."""
    found = {
        (r["area_type"], r["area_scheme"], r["area_name"])
        for r in frame.select("area_type", "area_scheme", "area_name").iter_rows(named=True)
    }
    return sorted(found, key=lambda a: (AREA_ORDER.get(a[0], 9), a[1] or "", a[2] or ""))


def benchmark_section(
    data: ReportData, min_count: int, views: list[GoalView], min_ranked: int = 10
) -> Section:
    """``views``: the goals as protected for sections 2-3; a month hidden there (to protect
    another month through a published average) stays hidden here."""
    best_source = [
        *benefit_rates_table(data, min_count, min_ranked),
        *ministry_table(data),
        *reconciliation_table(data, min_count),
    ]
    # an area is a comparison only with more than the municipality itself in it (on a
    # municipality's own extracts, the goals' measures exist for it alone)
    frame = data.benchmark.filter(
        pl.col("goal_id").is_not_null()
        & ((pl.col("area_type") == "municipality") | (pl.col("municipalities_with_data") > 1))
    )
    if frame.filter(pl.col("area_type") != "municipality").is_empty():
        note = Paragraph(
            "Målenes andele (fx mål 4-6) findes kun i kommunens egne data: Jobindsats' tabeller "
            "her har dem ikke for andre kommuner, så målene sammenlignes ikke.",
            kind="note",
        )
        blocks = (
            [*best_source, note]
            if best_source
            else [Paragraph("Der er ingen sammenligningstal for denne måned.")]
        )
        return Section(
            5, "Sammenligning med klynge, region og hele landet", "sammenligning", blocks,
            wide=True,
        )  # fmt: skip
    titles = {r["goal_id"]: r["title_da"] for r in data.goals.iter_rows(named=True)}
    areas = _areas(frame)
    measures = sorted(
        {(r["goal_id"], r["measure"], r["kind"], r["unit"]) for r in frame.iter_rows(named=True)},
        key=lambda m: goal_sort_key(m[0]),
    )
    cells = {
        (r["measure"], r["area_type"], r["area_scheme"]): r for r in frame.iter_rows(named=True)
    }

    hidden_in_goals = {
        v.goal_id: v.hidden[("m", data.month)] for v in views if ("m", data.month) in v.hidden
    }
    rows: list[Row] = []
    chart_groups, chart_values = [], []
    for goal_id, measure, kind, unit in measures:
        is_share = kind == "share"
        out = [
            text(f"{goal_id}. {titles.get(goal_id, measure)}", f"bench-{goal_id}-title"),
            text("Andel" if is_share else "Pr. 1.000 16-66-årige"),
        ]
        bar_row = []
        mine_hidden = False
        for area_type, scheme, _name in areas:
            r = cells.get((measure, area_type, scheme))
            key = f"bench-{goal_id}-{area_type}" + (f"-{scheme}" if area_type == "cluster" else "")
            if r is None:
                out.append(Cell("–", key))
                bar_row.append(None)
                continue
            small = point_is_small(
                unit, kind, r["value"], r["numerator"], r["denominator"], min_count
            )
            value = r["value"] if is_share else r["share_of_population"]
            tag = PRIMARY if small else None
            if area_type == "municipality" and goal_id in hidden_in_goals:
                tag = hidden_in_goals[goal_id]
            if tag:
                label = primary_label(min_count) if tag == PRIMARY else SECONDARY_LABEL
                out.append(Cell(label, key, hidden=tag))
                bar_row.append(None)
                mine_hidden = mine_hidden or area_type == "municipality"
            elif is_share:
                out.append(Cell(fmt_pct(value), key))
                bar_row.append(value)
            else:
                out.append(Cell(fmt_number(None if value is None else value * 1000, 1), key))
                bar_row.append(None)
        mine = cells.get((measure, "municipality", "municipality"))
        if mine and mine["rank_among_municipalities"] is not None and not mine_hidden:
            n = mine["ranked_municipalities"] or 0
            rank = (
                f"{mine['rank_among_municipalities']} af {n}"
                if n >= min_ranked
                else f"ingen placering (kun {n})"
            )
        else:
            rank = "–"
        out.append(Cell(rank, f"bench-{goal_id}-rank"))
        rows.append(Row(out))
        if is_share and goal_id.isdigit():
            chart_groups.append(f"Mål {goal_id}")
            chart_values.append(bar_row)

    header = (
        ["Mål", "Opgjort som"]
        + [
            name if t != "municipality" else data.municipality["municipality_name"]
            for t, _s, name in areas
        ]
        + ["Placering"]
    )
    area_names = [name for _t, _s, name in areas]
    blocks = [
        *best_source,
        Paragraph(
            f"{data.municipality['municipality_name']} sammenlignet med klyngen af "
            "sammenlignelige kommuner, det regionale arbejdsmarkedsråd (RAR), det tidligere "
            f"beskæftigelsesregion-område (BR) og hele landet, {month_name(data.month)}. "
            "Placering: kommunens plads blandt kommunerne med tal (1 = bedst)."
        ),
        Table(
            key="benchmark",
            caption=f"Sammenligning, {month_name(data.month)}",
            header=header,
            rows=rows,
            widths=[2.8, 1.0] + [1.25] * len(areas) + [0.8],
            font_size=7.5,
        ),
    ]
    if chart_groups:

        def draw():
            return charts.grouped_bars(chart_groups, area_names, chart_values)

        blocks.append(
            Figure(
                key="benchmark-chart",
                title="Målenes andele: kommunen, klyngen, RAR, BR og hele landet",
                draw=draw,
                alt="Søjler med andelene for målene pr. område.",
            )
        )
    return Section(
        5, "Sammenligning med klynge, region og hele landet", "sammenligning", blocks, wide=True
    )
