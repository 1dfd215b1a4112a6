"""Section 5's comparisons from the best source: benefits per 1,000 residents beside the
cluster, the RAR area, the region and the country; the ministry's benchmark; and the
reconciliation of the municipality's own figures with Jobindsats'.

Rates compare, counts do not: every area is shown per 1,000 residents aged 16-66. The
municipality's own rate comes from its extracts; its full-time persons are protected like
everywhere else (a rate of a group with fewer than 5 full-time persons is hidden). The other
areas come from Jobindsats (published already). Each table says its sources and vintages.
"""

import polars as pl

from lmkpi.report.data import ReportData
from lmkpi.report.disclosure import SECONDARY_LABEL, is_small
from lmkpi.report.formatting import fmt_date, fmt_number, fmt_pct, month_name
from lmkpi.report.model import Cell, Paragraph, Row, Table, text
from lmkpi.report.sources import source_note

AREA_ORDER = {"municipality": 0, "cluster": 1, "rar": 2, "region": 3, "br": 4, "country": 5}
AREA_LABELS = {"municipality": None, "cluster": None, "rar": None, "region": None, "br": None,
               "country": "Hele landet"}  # fmt: skip


def _group_label(data: ReportData, group: str) -> str:
    if group == "total":
        return "Offentlig forsørgelse i alt"
    found = data.benefit_groups.filter(pl.col("benefit_group") == group)
    return found["benefit_group_da"][0] if found.height else group


def benefit_rates_table(data: ReportData, min_count: int, min_ranked: int) -> list:
    """Full-time persons per 1,000 residents 16-66 per benefit group and area, this month."""
    frame = data.benefit_benchmark
    if frame.is_empty():
        return []
    month = frame.filter(pl.col("month") == data.month)
    if month.is_empty():
        return []
    name = data.municipality["municipality_name"]
    areas = sorted(
        {(r["area_type"], r["area_scheme"], r["area_name"]) for r in month.iter_rows(named=True)},
        key=lambda a: (AREA_ORDER.get(a[0], 9), a[1] or "", a[2] or ""),
    )
    cells = {
        (r["benefit_group"], r["area_type"], r["area_scheme"], r["area_name"]): r
        for r in month.iter_rows(named=True)
    }
    order = ["total"] + sorted(
        {g for g in month["benefit_group"] if g != "total"}, key=lambda g: _group_label(data, g)
    )
    rows = []
    for group in order:
        out = [text(_group_label(data, group), f"rate-{group}-name", bold=group == "total")]
        rank = "–"
        for area_type, scheme, area in areas:
            r = cells.get((group, area_type, scheme, area))
            key = f"rate-{group}-{area_type}" + (f"-{scheme}" if area_type == "cluster" else "")
            if r is None or r["per_1000_residents"] is None:
                out.append(Cell("–", key))
                continue
            own = area_type == "municipality" and r["source"] == "person"
            if own and is_small(r["full_time_persons"], min_count):
                out.append(Cell(SECONDARY_LABEL, key, hidden="primary"))
                continue
            out.append(Cell(fmt_number(r["per_1000_residents"], 1), key))
            if area_type == "municipality" and r["rank_among_municipalities"] is not None:
                n = r["ranked_municipalities"] or 0
                rank = (
                    f"{r['rank_among_municipalities']} af {n}"
                    if n >= min_ranked
                    else f"ingen placering (kun {n})"
                )
        out.append(Cell(rank, f"rate-{group}-rank"))
        rows.append(Row(out, kind="total" if group == "total" else "body"))
    header = ["Ydelsesgruppe"]
    for area_type, _scheme, area in areas:
        header.append(name if area_type == "municipality" else area)
    header.append("Placering")
    clusters = month.filter(
        (pl.col("area_type") == "cluster") & (pl.col("benefit_group") == "total")
    ).unique("area_name")
    notes = [source_note(month, name)]
    for r in clusters.iter_rows(named=True):
        notes.append(
            f"{r['area_name']}: {r['municipalities_with_data']} af {r['municipalities_in_area']} "
            f"kommuner med tal ({r['member_names']})."
        )
    notes.append(
        "Placering: kommunens plads blandt alle kommuner med tal (1 = færrest pr. 1.000 "
        f"16-66-årige); vises kun blandt mindst {min_ranked} kommuner."
    )
    return [
        Paragraph(
            f"Fuldtidspersoner pr. 1.000 indbyggere på 16-66 år, {month_name(data.month)}: "
            "kommunen ved siden af klyngen, RAR-området, regionen, det tidligere BR-område og hele "
            "landet. Områderne er forskellige i størrelse, så der sammenlignes rater, ikke antal."
        ),
        Table(
            key="benefit-rates",
            caption=f"Fuldtidspersoner pr. 1.000 16-66-årige, {month_name(data.month)}",
            header=header,
            rows=rows,
            widths=[2.6] + [1.1] * len(areas) + [1.2],
            font_size=7.5,
            notes=[n for n in notes if n],
        ),
    ]


def ministry_table(data: ReportData) -> list:
    """The ministry's benchmark (Y30R21) for the latest period by the report month."""
    frame = data.ministry_benchmark
    if frame.is_empty():
        return []
    r = frame.row(0, named=True)
    period = f"{fmt_date(r['period_start'])}-{fmt_date(r['period_end'])}"
    better = r["difference"] is not None and r["difference"] < 0
    rows = [
        Row(
            [
                text(data.municipality["municipality_name"], "ministry-name"),
                Cell(fmt_number(r["expected_full_time_persons"], 0), "ministry-expected"),
                Cell(fmt_number(r["actual_full_time_persons"], 0), "ministry-actual"),
                Cell(fmt_number(r["difference"], 0, sign=True), "ministry-difference"),
                Cell(fmt_pct(r["relative_difference"], sign=True), "ministry-relative"),
                Cell(f"{r['benchmark_rank']} af {r['ranked_municipalities']}", "ministry-rank"),
            ],
            kind="highlight",
        )
    ]
    return [
        Paragraph(
            "Beskæftigelsesministeriets benchmark: det forventede antal fuldtidspersoner på "
            "offentlig forsørgelse ud fra kommunens rammevilkår mod det faktiske, som "
            f"løbende årsgennemsnit ({r['period_code']}: {period}). "
            + (
                "Kommunen har færre end forventet."
                if better
                else "Kommunen har flere end forventet."
            )
        ),
        Table(
            key="ministry-benchmark",
            caption=f"Benchmark, offentlig forsørgelse, {r['period_code']}",
            header=["Kommune", "Forventet", "Faktisk", "Forskel", "Forskel, pct.", "Placering"],
            rows=rows,
            widths=[2.2, 1, 1, 1, 1, 1],
            notes=[
                f"Kilde: Jobindsats ({r['source_table']}, hentet {fmt_date(r['retrieved_on'])}). "
                "Placering på ministeriets liste (1 = bedst i forhold til det forventede)."
            ],
        ),
    ]


def reconciliation_table(data: ReportData, min_count: int) -> list:
    """The municipality's own full-time persons against Jobindsats', per benefit group."""
    frame = data.reconciliation
    if frame.is_empty() or frame["external_full_time_persons"].is_null().all():
        return []
    name = data.municipality["municipality_name"]
    rows = []
    ordered = sorted(
        frame.iter_rows(named=True),
        key=lambda r: (r["benefit_group"] == "total", _group_label(data, r["benefit_group"])),
    )
    for r in ordered:
        group = r["benefit_group"]
        small = is_small(r["own_full_time_persons"], min_count)
        rows.append(
            Row(
                [
                    text(_group_label(data, group), f"recon-{group}-name", bold=group == "total"),
                    Cell(SECONDARY_LABEL if small else fmt_number(r["own_full_time_persons"], 1),
                         f"recon-{group}-own", hidden="primary" if small else None),
                    Cell(fmt_number(r["external_full_time_persons"], 1), f"recon-{group}-external"),
                    Cell(SECONDARY_LABEL if small else fmt_pct(r["relative_difference"], sign=True),
                         f"recon-{group}-relative", hidden="primary" if small else None),
                    text("ja" if r["exceeds_tolerance"] else "", f"recon-{group}-flag"),
                ],
                kind="total" if group == "total" else "body",
            )
        )  # fmt: skip
    vintage = frame.filter(pl.col("retrieved_on").is_not_null())
    source = (
        f"Jobindsats ({vintage['source_table'][0]}, hentet {fmt_date(vintage['retrieved_on'][0])})"
        if vintage.height
        else "Jobindsats"
    )
    return [
        Paragraph(
            f"Afstemning af {name}s egne tal med Jobindsats, {month_name(data.month)}: "
            "fuldtidspersoner pr. ydelsesgruppe (16-66 år). Jobindsats dateres efter den "
            "periode, ydelsen vedrører, kommunens egne udtræk efter sagssystemet, så små "
            "forskelle er ventede."
        ),
        Table(
            key="reconciliation",
            caption=f"Egne tal og Jobindsats, {month_name(data.month)}",
            header=["Ydelsesgruppe", "Egne data", "Jobindsats", "Forskel, pct.", "Over tolerancen"],
            rows=rows,
            widths=[2.6, 1, 1, 1, 0.9],
            font_size=7.5,
            notes=[f"Kilde: {name}s egne data; {source}."],
        ),
    ]
