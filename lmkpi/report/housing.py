"""Section 7: temporary housing for refugees - capacity, occupancy and flow to permanent housing.

Persons housed per address add up to the municipality's total, so the address table is
protected like any table with a total. Occupied rooms bound the persons housed from below
(every occupied room has someone in it), so vacant rooms are hidden beside a hidden count, and
that column's total is protected in turn. Occupancy and the over-capacity flag are hidden with
the count they come from. Persons moved on are shown per year only (monthly counts are small).
"""

import math
from datetime import date

import polars as pl

from lmkpi.report import charts
from lmkpi.report.data import ReportData
from lmkpi.report.disclosure import (
    PRIMARY,
    SECONDARY_LABEL,
    Constraint,
    is_small,
    primary_label,
    protect,
)
from lmkpi.report.formatting import (
    add_months,
    fmt_dkk,
    fmt_number,
    fmt_pct,
    month_name,
    month_range,
    months_between,
)
from lmkpi.report.model import (
    Bullets,
    Cell,
    Figure,
    KeyFigures,
    Paragraph,
    Row,
    Section,
    Table,
    text,
)

TOTAL = "__total__"


def _hidden_text(tag: str, min_count: int) -> str:
    return primary_label(min_count) if tag == PRIMARY else SECONDARY_LABEL


def protect_addresses(addresses: list[dict], min_count: int) -> dict:
    """Hidden cells of the address table: keys (address or TOTAL, 'housed' or 'vacant')."""
    housed = {(a["address"], "housed"): a["housed"] or 0 for a in addresses}
    housed[(TOTAL, "housed")] = sum(housed.values())
    h_rule = [Constraint(tuple(k for k in housed if k[0] != TOTAL), (TOTAL, "housed"))]
    primary = [k for k, v in housed.items() if is_small(v, min_count)]
    hidden = protect(housed, primary, h_rule, min_count=min_count)
    vacant = {(a["address"], "vacant"): a["vacant_rooms"] or 0 for a in addresses}
    vacant[(TOTAL, "vacant")] = sum(vacant.values())
    v_rule = [Constraint(tuple(k for k in vacant if k[0] != TOTAL), (TOTAL, "vacant"))]
    forced = [(a, "vacant") for (a, _part) in hidden]
    hidden.update(protect(vacant, [], v_rule, min_count=min_count, integer=False, forced=forced))
    return hidden


def _annual(months: pl.DataFrame, report: date, min_count: int) -> list[Row]:
    rows = []
    for year in sorted(set(months["month"].dt.year())):
        ym = months.filter(pl.col("month").dt.year() == year).sort("month")
        last = ym.row(-1, named=True)
        moved = int(ym["moved_to_permanent"].fill_null(0).sum())
        label = str(year)
        if ym.height < 12:
            label += f" ({month_range(ym['month'].min(), ym['month'].max())})"
        arrears_small = is_small(last["rent_arrears_persons"], min_count)
        cells = [
            text(label, f"housing-year-{year}"),
            Cell(
                primary_label(min_count) if is_small(moved, min_count) else fmt_number(moved),
                f"housing-year-{year}-moved",
                hidden=PRIMARY if is_small(moved, min_count) else None,
            ),
            Cell(fmt_number(ym["housed"].mean(), 1), f"housing-year-{year}-average"),
            Cell(fmt_number(ym["housed"].max()), f"housing-year-{year}-peak"),
            Cell(fmt_number(ym["addresses_over_capacity"].max()), f"housing-year-{year}-over"),
            Cell(
                primary_label(min_count)
                if arrears_small
                else fmt_number(last["rent_arrears_persons"]),
                f"housing-year-{year}-arrears-persons",
                hidden=PRIMARY if arrears_small else None,
            ),
            Cell(
                primary_label(min_count) if arrears_small else fmt_dkk(last["rent_arrears_dkk"]),
                f"housing-year-{year}-arrears-dkk",
                hidden=PRIMARY if arrears_small else None,
            ),
        ]
        rows.append(Row(cells))
    return rows


def housing_section(data: ReportData, min_count: int) -> Section:
    months = data.housing_months
    addresses = data.housing_addresses.to_dicts()
    if months.is_empty() and not addresses:
        return Section(
            7,
            "Midlertidig indkvartering",
            "indkvartering",
            [Paragraph("Kommunen har ikke indberettet midlertidig indkvartering.")],
        )
    month = data.month
    current = months.filter(pl.col("month") == month)
    blocks: list = [
        Paragraph(
            "Midlertidige boliger til flygtninge: værelser, beboere og belægning (beboere pr. "
            "værelse; familier med børn deler værelse, så belægningen kan overstige 100 pct.) og "
            "flytninger til permanent bolig."
        )
    ]
    hidden = protect_addresses(addresses, min_count) if addresses else {}
    # A hidden address over capacity would show through the over-capacity totals.
    over_hidden = any(
        (a["address"], "housed") in hidden and (a["housed"] or 0) > (a["rooms"] or 0)
        for a in addresses
    )
    if current.height:
        c = current.row(0, named=True)
        year_moved = int(
            months.filter(pl.col("month").dt.year() == month.year)["moved_to_permanent"]
            .fill_null(0)
            .sum()
        )
        total_tag = hidden.get((TOTAL, "housed")) or (
            PRIMARY if is_small(c["housed"], min_count) else None
        )

        def count(value, key: str, tag: str | None = None) -> tuple[str, str, str]:
            tag = tag or (PRIMARY if is_small(value, min_count) else None)
            return (_hidden_text(tag, min_count) if tag else fmt_number(value), key, tag)

        figures = [
            ("Adresser", fmt_number(c["addresses"]), "housing-addresses"),
            ("Værelser", fmt_number(c["rooms"]), "housing-rooms"),
            ("Beboere", *count(c["housed"], "housing-housed", total_tag)[:2]),
            (
                "Belægning",
                SECONDARY_LABEL if total_tag else fmt_pct(c["occupancy"]),
                "housing-occupancy",
            ),
            (
                "Adresser over kapacitet",
                SECONDARY_LABEL if over_hidden else fmt_number(c["addresses_over_capacity"]),
                "housing-over-addresses",
            ),
            (
                "Beboere ud over kapacitet",
                *count(
                    c["persons_over_capacity"],
                    "housing-over-persons",
                    "secondary" if over_hidden else None,
                )[:2],
            ),
            (
                f"Flyttet til permanent bolig i {month.year}",
                *count(year_moved, "housing-moved-year")[:2],
            ),
        ]
        blocks.append(KeyFigures(figures))
    else:
        blocks.append(Paragraph(f"Ingen indberetning for {month_name(month)}.", kind="note"))

    if addresses:
        rows = []
        total_h = sum(a["housed"] or 0 for a in addresses)
        total_rooms = sum(a["rooms"] or 0 for a in addresses)
        total_v = sum(a["vacant_rooms"] or 0 for a in addresses)
        for a in [*addresses, None]:
            name = TOTAL if a is None else a["address"]
            key = "housing-total" if a is None else f"housing-{name}"
            h = total_h if a is None else a["housed"] or 0
            rooms = total_rooms if a is None else a["rooms"] or 0
            v = total_v if a is None else a["vacant_rooms"] or 0
            h_tag = hidden.get((name, "housed"))
            v_tag = hidden.get((name, "vacant"))
            over = h > rooms
            rows.append(
                Row(
                    [
                        text("I alt" if a is None else name, f"{key}-name", bold=a is None),
                        Cell(fmt_number(rooms), f"{key}-rooms"),
                        Cell(
                            _hidden_text(v_tag, min_count) if v_tag else fmt_number(v),
                            f"{key}-vacant",
                            hidden=v_tag,
                        ),
                        Cell(
                            _hidden_text(h_tag, min_count) if h_tag else fmt_number(h),
                            f"{key}-housed",
                            hidden=h_tag,
                        ),
                        Cell(
                            SECONDARY_LABEL if h_tag else fmt_pct(h / rooms if rooms else None),
                            f"{key}-occupancy",
                            hidden=h_tag,
                        ),
                        Cell(
                            SECONDARY_LABEL if h_tag else ("Ja" if over else "Nej"),
                            f"{key}-over",
                            align="left",
                            hidden=h_tag,
                        ),
                    ],
                    kind="total" if a is None else "body",
                )
            )
        blocks.append(
            Table(
                "housing-addresses",
                f"Adresser, {month_name(month)}",
                [
                    "Adresse",
                    "Værelser",
                    "Ledige værelser",
                    "Beboere",
                    "Belægning",
                    "Over kapacitet",
                ],
                rows,
                widths=[2.6, 1, 1.1, 1, 1, 1.1],
            )
        )

    if months.height:
        span = months_between(months["month"].min(), month)
        by_month = {r["month"]: r for r in months.iter_rows(named=True)}
        housed = [
            None
            if m not in by_month or is_small(by_month[m]["housed"], min_count)
            else by_month[m]["housed"]
            for m in span
        ]
        rooms = [by_month[m]["rooms"] if m in by_month else None for m in span]
        blocks.append(
            Figure(
                "housing-chart",
                "Beboere og værelser pr. måned",
                lambda: charts.line_chart(
                    span,
                    [
                        ("Beboere", housed, charts.MUNICIPALITY, "-"),
                        ("Værelser", rooms, charts.COUNTRY, "--"),
                    ],
                    y_label="Antal",
                ),
                alt="Beboere og værelser i den midlertidige indkvartering pr. måned.",
            )
        )
        blocks.append(
            Table(
                "housing-annual",
                "Pr. år: flytninger til permanent bolig og belægning",
                [
                    "År",
                    "Flyttet til permanent bolig",
                    "Beboere, gns.",
                    "Beboere, højst",
                    "Adresser over kapacitet, højst",
                    "Restance, personer",
                    "Restance, kr.",
                ],
                _annual(months, month, min_count),
                widths=[1.6, 1.3, 1, 1, 1.3, 1, 1.2],
                notes=["Restance: ved årets (eller periodens) sidste måned."],
            )
        )
    blocks += outlook_blocks(data)
    return Section(7, "Midlertidig indkvartering", "indkvartering", blocks)


SCENARIO_COLOURS = ("#1f4e79", "#2e7d32", "#b26a00", "#6a1b9a", "#c62828", "#00838f")


def verdict_line(title: str, rows: list[dict]) -> str:
    """One line per scenario: does the capacity last the horizon, or when does it run out."""
    out = rows[0]["capacity_runs_out_month"]
    if out is None:
        last = rows[-1]
        peak = max(r["housed"] for r in rows)
        return (
            f"{title}: Kapaciteten rækker til og med {month_name(last['month'])} "
            f"(højst {fmt_number(peak)} beboere, {fmt_number(last['capacity'])} pladser)."
        )
    first = next(r for r in rows if r["month"] == out)
    worst = max(r["places_short"] for r in rows)
    short, until = math.ceil(first["places_short"] - 1e-9), month_name(rows[-1]["month"])
    return (
        f"{title}: Mangler {short} pladser fra {month_name(out)} "
        f"(op til {math.ceil(worst - 1e-9)} inden {until})."
    )


def outlook_blocks(data: ReportData) -> list:
    """The committee's question: the outlook per scenario beside the history."""
    outlook = data.housing_outlook
    if outlook is None or outlook.is_empty():
        return []
    start = outlook["month"].min()
    if start != add_months(data.month, 1):
        return [
            Paragraph("Fremskrivning", kind="h3"),
            Paragraph(
                "Fremskrivningen af kapaciteten vises i rapporten for den seneste indlæste "
                f"måned ({month_name(add_months(start, -1))}).",
                kind="note",
            ),
        ]
    months = data.housing_months
    history = months.filter(pl.col("month") >= add_months(data.month, -12))
    span = [*history["month"].to_list(), *sorted(set(outlook["month"].to_list()))]
    past = len(history)
    last_housed = history["housed"].to_list()[-1] if past else None
    series = [("Beboere", [*history["housed"].to_list(), *([None] * (len(span) - past))],
               "#111111", "-")]  # fmt: skip
    verdicts, assumptions = [], []
    scenarios = outlook.partition_by("scenario", maintain_order=True)
    for i, frame in enumerate(scenarios):
        rows = frame.sort("month").to_dicts()
        title = rows[0]["title"] or rows[0]["scenario"]
        colour = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
        lead = [None] * (past - 1) + ([last_housed] if past else [])
        series.append((title, [*lead, *(r["housed"] for r in rows)], colour, "--"))
        series.append(("_nolegend_", [None] * past + [r["capacity"] for r in rows], colour, ":"))
        verdicts.append(verdict_line(title, rows))
        assumptions.append(f"{title}: {rows[0]['description']}")
    horizon = len(span) - past
    return [
        Paragraph("Fremskrivning: rækker kapaciteten?", kind="h3"),
        Figure(
            "housing-outlook",
            f"Beboere: historik og fremskrivning {horizon} måneder frem pr. scenarie "
            "(stiplet: beboere, prikket: pladser)",
            lambda: charts.line_chart(span, series, y_label="Antal", height=3.0, from_zero=False),
            alt="Beboere i den midlertidige indkvartering, historik og fremskrivning pr. "
            "scenarie, med pladserne i hvert scenarie.",
        ),
        Bullets(verdicts),
        Paragraph("Forudsætninger", kind="h3"),
        Bullets(assumptions),
        Paragraph(
            "Pladser = værelser × beboere pr. værelse (normen); fremskrivningen er et forventet "
            "antal (ikke afrundet) på kommuneniveau, ikke pr. adresse. Basis bygger på de "
            "seneste 12 måneders tilflytning og fraflytning til permanent bolig.",
            kind="note",
        ),
    ]
