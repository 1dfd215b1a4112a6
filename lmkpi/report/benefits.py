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
from lmkpi.report.sources import source_note

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
    bench_country = (
        data.benefit_benchmark.filter(
            (pl.col("area_type") == "country") & (pl.col("benefit_group") != "total")
        )
        if data.benefit_benchmark.height
        else data.benefit_benchmark
    )
    if bench_country.height:  # the whole country from the best source (Jobindsats when the
        country = {  # extracts are the municipality's own only), not the sum of the extracts
            (r["benefit_group"], r["month"]): r["full_time_persons"] or 0.0
            for r in bench_country.iter_rows(named=True)
        }
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
        if tag:  # a change or index of a hidden level: "..", never "<5" (a reader takes
            return Cell(SECONDARY_LABEL, key, hidden=tag)  # "<5" for "under 5 pct.")
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

    figure = _index_figure(data, [TOTAL, *plan], months, base, hidden, values, label)
    if figure is None:
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

        figure = Figure(
            key="benefit-index-chart",
            title=f"Indeks pr. ydelsesgruppe ({month_short(base) if base else ''} = 100)",
            draw=draw,
            alt="Små grafer med indeks for hver ydelsesgruppe, kommunen og hele landet.",
        )

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
            figure,
        ],
    )


def _index_figure(data, groups, months, base, hidden, values, label):  # noqa: ANN001, ANN202
    """The committee's index charts (issue 19): per group the municipality, its cluster, its
    RAR area (or BR) and the whole country, from fct_benefit_benchmark; None without it."""
    frame = data.benefit_benchmark
    if frame.is_empty() or base is None:
        return None
    name = data.municipality["municipality_name"]
    picked: list[tuple[str, str]] = [("municipality", name)]
    for area_type in ("cluster", "rar", "country"):
        found = frame.filter(pl.col("area_type") == area_type)
        if found.height:
            picked.append((area_type, found["area_name"].sort()[0]))
    if len(picked) < 2:
        return None
    by_key = {
        (r["benefit_group"], r["area_type"], r["area_name"], r["month"]): r["full_time_persons"]
        for r in frame.iter_rows(named=True)
    }

    def area_index(group: str, area_type: str, area: str, m: date) -> float | None:
        if area_type == "municipality":  # the own series, protected as in the table
            if hide_derived(hidden, [(group, m), (group, base)]) or not values.get((group, base)):
                return None
            return 100 * values.get((group, m), 0.0) / values[(group, base)]
        key = "total" if group == TOTAL else group
        now, then = by_key.get((key, area_type, area, m)), by_key.get((key, area_type, area, base))
        return 100 * now / then if now is not None and then else None

    panels = [
        (label(g), [[area_index(g, t, a, m) for m in months] for t, a in picked]) for g in groups
    ]
    labels = [name if t == "municipality" else ("Klyngen" if t == "cluster" else a)
              for t, a in picked]  # fmt: skip
    y_label = f"Indeks ({month_short(base).replace(' 20', ' ')}=100)"
    note = source_note(frame, name)

    def draw():
        return charts.index_panels(panels, months, labels, y_label=y_label)

    return Figure(
        key="benefit-index-chart",
        title=f"Indeks pr. ydelsesgruppe: {', '.join(labels)} ({month_short(base)} = 100)",
        draw=draw,
        alt="Små grafer med indeks for hver ydelsesgruppe for kommunen, klyngen, RAR-området "
        "og hele landet.",
        note=note or None,
    )
