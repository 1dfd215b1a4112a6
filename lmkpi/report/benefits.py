"""Section 4: full-time persons per benefit group, as levels and as an index.

The plan's groups add up to the "offentlig forsørgelse" total (goal 1), so every month is a
constraint: a group with fewer than 5 full-time persons cannot be worked out as the total minus
the others. The index and the change are hidden with the level they come from.
"""

from datetime import date

import polars as pl

from lmkpi.report import charts
from lmkpi.report.data import ReportData
from lmkpi.report.disclosure import (
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
    month_short,
    months_between,
)
from lmkpi.report.model import Cell, Figure, Paragraph, Row, Section, Table, text

TOTAL = "__total__"


def _levels(frame: pl.DataFrame, code: int) -> dict[tuple[str, date], float]:
    rows = frame.filter(pl.col("municipality_code") == code)
    return {
        (r["benefit_group"], r["month"]): r["full_time_persons"] or 0.0
        for r in rows.iter_rows(named=True)
    }


def _protected(
    levels: dict, plan: list[str], months: list[date], min_count: int, *, with_total: bool = True
) -> tuple[dict, dict]:
    """Hide small levels; each month's plan groups add up to the total (a constraint when the
    levels are published, ``with_total``)."""
    values = dict(levels)
    constraints = []
    for m in months:
        members = tuple((g, m) for g in plan if (g, m) in levels)
        if members:
            values[(TOTAL, m)] = sum(levels[k] for k in members)
            if with_total:
                constraints.append(Constraint(members, (TOTAL, m)))
    primary = [k for k, v in values.items() if is_small(v, min_count)]
    return protect(values, primary, constraints, min_count=min_count, integer=False), values


def benefit_section(data: ReportData, min_count: int) -> Section:
    frame = data.benefit_index
    month = data.month
    if frame.filter(pl.col("municipality_code") == data.code).is_empty():
        return Section(
            4,
            "Ydelsesgrupper",
            "ydelser",
            [Paragraph("Der er ingen tal for ydelsesgrupperne i denne måned.")],
        )
    base = frame["base_month"].drop_nulls().min()
    first = max(base, data.first) if base else data.first
    months = months_between(first, month)
    groups = {r["benefit_group"]: r for r in data.benefit_groups.iter_rows(named=True)}
    present = sorted(set(frame["benefit_group"]))
    mine = _levels(frame, data.code)
    country = _levels(frame, 0)
    table_months = sorted({m for m in (base, add_months(month, -12), month) if m is not None})
    all_months = sorted(set(months) | set(table_months))
    plan = [g for g in present if groups.get(g, {}).get("is_public_benefit_plan")]
    other = [g for g in present if g not in plan]
    plan.sort(key=lambda g: -mine.get((g, month), 0.0))
    other.sort(key=lambda g: -mine.get((g, month), 0.0))
    hidden, values = _protected(mine, plan, all_months, min_count)
    # The country's levels are not shown (only its index), so no total constrains them.
    hidden_c, values_c = _protected(country, plan, all_months, min_count, with_total=False)

    def label(g: str) -> str:
        if g == TOTAL:
            return "I alt, offentlig forsørgelse"
        return groups.get(g, {}).get("benefit_group_da") or g

    def level_cell(g: str, m: date, key: str) -> Cell:
        if (g, m) in hidden:
            tag = hidden[(g, m)]
            return Cell(
                primary_label(min_count) if tag == "primary" else SECONDARY_LABEL, key, hidden=tag
            )
        return Cell(fmt_number(values.get((g, m), 0.0), 1), key)

    def index(g: str, m: date, hid: dict, vals: dict) -> float | None:
        if hide_derived(hid, [(g, m), (g, base)]) or not vals.get((g, base)):
            return None
        return 100 * vals.get((g, m), 0.0) / vals[(g, base)]

    def derived_cell(value: float | None, tag: str | None, fmt, key: str) -> Cell:
        if tag:
            return Cell(
                SECONDARY_LABEL if tag != "primary" else primary_label(min_count), key, hidden=tag
            )
        return Cell(fmt(value), key)

    header = ["Ydelsesgruppe"] + [month_short(m) for m in table_months]
    header += ["Ændring seneste år", f"Indeks {month_short(month)}", "Indeks, hele landet"]
    rows: list[Row] = []
    year_ago = add_months(month, -12)
    for g in [*plan, TOTAL, *other]:
        if other and g == other[0]:
            rows.append(
                Row([text("Uden for planens opgørelse af offentlig forsørgelse")], kind="group")
            )
        cells = [text(label(g), f"benefit-{g}-name", bold=g == TOTAL)]
        cells += [level_cell(g, m, f"benefit-{g}-{m:%Y-%m}") for m in table_months]
        change_tag = hide_derived(hidden, [(g, month), (g, year_ago)])
        prev = values.get((g, year_ago))
        change = values.get((g, month), 0.0) / prev - 1 if prev else None
        cells.append(
            derived_cell(change, change_tag, lambda v: fmt_pct(v, sign=True), f"benefit-{g}-change")
        )
        idx_tag = hide_derived(hidden, [(g, month), (g, base)])
        cells.append(
            derived_cell(
                index(g, month, hidden, values),
                idx_tag,
                lambda v: fmt_number(v, 1),
                f"benefit-{g}-index",
            )
        )
        c_tag = hide_derived(hidden_c, [(g, month), (g, base)])
        cells.append(
            derived_cell(
                index(g, month, hidden_c, values_c),
                c_tag,
                lambda v: fmt_number(v, 1),
                f"benefit-{g}-index-country",
            )
        )
        rows.append(Row(cells, kind="total" if g == TOTAL else "body"))

    panels = []
    for g in [TOTAL, *plan, *other]:
        panels.append(
            (
                label(g),
                [index(g, m, hidden, values) for m in months],
                [index(g, m, hidden_c, values_c) for m in months],
            )
        )

    def draw():
        return charts.small_multiples(panels, months)

    base_text = month_name(base) if base else "basismåneden"
    plan_names = ", ".join(label(g).lower() for g in plan)
    return Section(
        4,
        "Ydelsesgrupper",
        "ydelser",
        [
            Paragraph(
                "Fuldtidspersoner pr. ydelsesgruppe (16-66 år). Offentlig forsørgelse (mål 1) er "
                f"summen af grupperne over totalen ({plan_names}), uden at fjerne overlap. "
                f"Indekset viser udviklingen med {base_text} = 100."
            ),
            Table(
                key="benefits",
                caption=f"Fuldtidspersoner pr. ydelsesgruppe, {month_name(month)}",
                header=header,
                rows=rows,
                widths=[2.8] + [1.0] * len(table_months) + [1.2, 1.0, 1.1],
            ),
            Figure(
                key="benefit-index-chart",
                title=f"Indeks pr. ydelsesgruppe ({month_short(base) if base else ''} = 100)",
                draw=draw,
                alt="Små grafer med indeks for hver ydelsesgruppe, kommunen og hele landet.",
            ),
        ],
    )
