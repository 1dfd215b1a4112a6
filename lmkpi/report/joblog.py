"""Section 6: Jobloggen - the smiley split against the country, and the ranking list.

Each month is one table: for every area the three smileys add up to the population, and the
municipalities add up to the country when all come from the extracts. Only what the extracts
give is protected: a row from Jobindsats is published already (by STAR), so it is shown as
it is and is no complement. Shares are shown with the population, so a share is as revealing
as its count: suppression works on the counts and a share is hidden with its count (shown
"..", never "<5", which a reader would take for "under 5 pct."). The ranking (1 = most red)
is protected as an ordered list as well (see disclosure), and shown only among at least
`min_ranked` municipalities. The PDF lists the top and the bottom of the ranking and the
municipality's own place; the HTML the whole list.
"""

from dataclasses import dataclass
from datetime import date

import polars as pl

from lmkpi.report import charts
from lmkpi.report.data import ReportData
from lmkpi.report.disclosure import (
    SECONDARY_LABEL,
    Constraint,
    Ranked,
    hide_derived,
    is_small,
    primary_label,
    protect,
    ranking_leaks,
)
from lmkpi.report.formatting import fmt_number, fmt_pct, month_name, months_between
from lmkpi.report.model import Cell, Figure, Paragraph, Row, Section, Table, text
from lmkpi.report.sources import danish_key, source_note

SMILEYS = ("green", "light_green", "red")
COUNTS = (*SMILEYS, "population", "red_3_months")
LABELS = {"green": "Grøn", "light_green": "Lysegrøn", "red": "Rød", "red_3_months": "Rød 3 mdr."}


@dataclass(frozen=True)
class JoblogMonth:
    month: date
    rows: list[dict]  # municipalities, ranked first (by rank), then unranked by name
    national: dict | None
    hidden: dict
    values: dict

    def share(self, code: int, part: str) -> float | None:
        if hide_derived(self.hidden, [(code, part), (code, "population")]):
            return None
        pop = self.values.get((code, "population"))
        return self.values[(code, part)] / pop if pop else None

    def row(self, code: int) -> dict | None:
        return next((r for r in self.rows if r["municipality_code"] == code), None)


def _own(row: dict) -> bool:
    """Counted from the extracts (to be protected), not taken from Jobindsats (published)."""
    return row.get("source", "person") != "jobindsats"


def protect_month(frame: pl.DataFrame, month: date, min_count: int) -> JoblogMonth:
    rows = frame.filter(pl.col("month") == month).to_dicts()
    national = next((r for r in rows if r["is_national"]), None)
    areas = [r for r in rows if not r["is_national"]]
    ranked = sorted(
        (r for r in areas if r["is_ranked"] and r["rank_share_red"] is not None),
        key=lambda r: (r["rank_share_red"], danish_key(r["area_name"] or "")),
    )
    unranked = sorted(
        (r for r in areas if r not in ranked), key=lambda r: danish_key(r["area_name"] or "")
    )
    values: dict = {}
    constraints = []
    for r in rows:
        c = r["municipality_code"]
        for part in COUNTS:
            values[(c, part)] = r[part] or 0
        if _own(r):
            constraints.append(Constraint(tuple((c, p) for p in SMILEYS), (c, "population")))
    if national is not None and _own(national):  # the country is the sum of the extracts
        n = national["municipality_code"]
        for part in COUNTS:
            members = tuple((r["municipality_code"], part) for r in areas)
            constraints.append(Constraint(members, (n, part)))
    own = {r["municipality_code"] for r in rows if _own(r)}
    primary = [k for k, v in values.items() if k[0] in own and is_small(v, min_count)]
    ranking = [
        Ranked((r["municipality_code"], "red"), r["rank_share_red"], r["population"] or 0)
        for r in ranked
    ]
    forced: set = set()
    while True:
        hidden = protect(values, primary, constraints, min_count=min_count, forced=forced)
        extra = ranking_leaks(ranking, values, hidden, min_count=min_count) - forced
        if not extra:
            break
        forced |= extra
    return JoblogMonth(month, ranked + unranked, national, hidden, values)


def _share_cell(jm: JoblogMonth, code: int, part: str, key: str, min_count: int) -> Cell:
    tag = hide_derived(jm.hidden, [(code, part), (code, "population")])
    if tag:  # a share of a hidden count: "..", never "<5" (it reads as "under 5 pct.")
        return Cell(SECONDARY_LABEL, key, hidden=tag)
    return Cell(fmt_pct(jm.share(code, part)), key)


def _count_cell(jm: JoblogMonth, code: int, part: str, key: str, min_count: int) -> Cell:
    tag = jm.hidden.get((code, part))
    if tag:
        return Cell(
            primary_label(min_count) if tag == "primary" else SECONDARY_LABEL, key, hidden=tag
        )
    return Cell(fmt_number(jm.values[(code, part)]), key)


def _area_cells(jm: JoblogMonth, code: int, prefix: str, min_count: int) -> list[Cell]:
    cells = [_count_cell(jm, code, "population", f"{prefix}-population", min_count)]
    cells += [
        _share_cell(jm, code, p, f"{prefix}-{p}", min_count) for p in (*SMILEYS, "red_3_months")
    ]
    return cells


MIN_RANKED = 10


def rank_text(row: dict | None, min_ranked: int) -> str:
    """``12 af 94`` among a meaningful number of ranked municipalities; otherwise why not."""
    if row is None:
        return "–"
    ranked = row.get("ranked_municipalities") or 0
    if not row.get("is_ranked") or row.get("rank_share_red") is None:
        return "ikke rangeret"
    if ranked < min_ranked:
        return f"ingen placering (kun {ranked} rangeret; mindst {min_ranked})"
    return f"{row['rank_share_red']} af {ranked}"


def joblog_section(
    data: ReportData, min_count: int, choices: dict, min_ranked: int = MIN_RANKED
) -> Section:
    frame = data.joblog
    months = sorted(set(frame["month"])) if frame.height else []
    if not months:
        return Section(
            6,
            "Jobloggen",
            "jobloggen",
            [Paragraph("Der er ingen tal fra Jobloggen for månederne i rapporten.")],
        )
    latest = max(months)
    jm = protect_month(frame, latest, min_count)
    code = data.code
    name = data.municipality["municipality_name"]
    mine = jm.row(code)
    nat_code = jm.national["municipality_code"] if jm.national else None
    min_pop = choices.get("joblog_min_population")
    lag = data.joblog_lag or choices.get("joblog_publication_lag_months")
    blocks: list = []
    intro = (
        "Jobparate kontanthjælpsmodtagere efter registrerede jobsøgninger i Jobloggen pr. "
        f"måned: grøn = mindst {choices.get('joblog_green_threshold', 6)} registreringer "
        "(forholdsmæssigt for personer, der ikke skal stå fuldt til rådighed), lysegrøn = 1 "
        "eller flere under grænsen, rød = ingen. «Rød 3 mdr.» er personer uden registreret "
        "jobsøgning tre måneder i træk."
    )
    blocks.append(Paragraph(intro))
    if latest != data.month:
        blocks.append(
            Paragraph(
                f"Jobloggen har endnu ikke tal for {month_name(data.month)}; tallene er fra "
                f"{month_name(latest)}.",
                kind="note",
            )
        )
    if lag and mine and _own(mine):
        blocks.append(
            Paragraph(
                f"STAR offentliggør benchmarket med ca. {lag} måneders forsinkelse. {name}s tal "
                "er beregnet af kommunen efter samme regel og kan derfor vises tidligere.",
                kind="note",
            )
        )

    compare_rows = []
    for label, c, kind in ((name, code, "highlight"), ("Hele landet", nat_code, "total")):
        if c is None or (c != nat_code and mine is None):
            continue
        prefix = "joblog-mine" if c == code else "joblog-country"
        rank = rank_text(mine, min_ranked) if c == code else "–"
        compare_rows.append(
            Row(
                [text(label), *_area_cells(jm, c, prefix, min_count), Cell(rank, f"{prefix}-rank")],
                kind=kind,
            )
        )
    header = ["Område", "Jobparate", "Grøn", "Lysegrøn", "Rød", "Rød 3 mdr.", "Placering"]
    notes = [source_note(frame.filter(pl.col("month") == latest), name)]
    if mine and _own(mine) and mine.get("external_population"):
        notes.append(
            f"Afstemning: Jobindsats har for {name} {fmt_number(mine['external_population'])} "
            f"jobparate og {fmt_pct(mine['external_share_red'])} røde "
            f"(kommunens egne data: {fmt_number(mine['population'])} og "
            f"{fmt_pct(jm.share(code, 'red'))})."
            if not jm.hidden.get((code, "red"))
            else f"Afstemning: Jobindsats har for {name} "
            f"{fmt_number(mine['external_population'])} jobparate."
        )
    blocks.append(
        Table(
            "joblog-compare",
            f"Jobloggen, {month_name(latest)}",
            header,
            compare_rows,
            widths=[2.4, 1, 1, 1, 1, 1, 1.6],
            notes=[n for n in notes if n],
        )
    )

    bar_rows = [r.cells[0].text for r in compare_rows]
    bar_codes = [code if r.kind == "highlight" else nat_code for r in compare_rows]
    parts = [(LABELS[p], charts.SMILEY[p], [jm.share(c, p) for c in bar_codes]) for p in SMILEYS]
    blocks.append(
        Figure(
            "joblog-split-chart",
            f"Fordeling på smileys, {month_name(latest)}",
            lambda: charts.stacked_shares(bar_rows, parts),
            alt="Fordelingen på grøn, lysegrøn og rød for kommunen og hele landet.",
            note=source_note(frame.filter(pl.col("month") == latest), name) or None,
        )
    )

    history = [protect_month(frame, m, min_count) for m in months]
    span = months_between(min(months), latest)
    by_month = {h.month: h for h in history}
    mine_red = [by_month[m].share(code, "red") if m in by_month else None for m in span]
    nat_red = [
        by_month[m].share(by_month[m].national["municipality_code"], "red")
        if m in by_month and by_month[m].national
        else None
        for m in span
    ]
    blocks.append(
        Figure(
            "joblog-history-chart",
            "Andel røde (ingen registreret jobsøgning), seneste 12 måneder",
            lambda: charts.line_chart(
                span,
                [
                    (name, mine_red, charts.MUNICIPALITY, "-"),
                    ("Hele landet", nat_red, charts.COUNTRY, "--"),
                ],
                percent=True,
            ),
            alt="Andelen røde pr. måned for kommunen og hele landet.",
            note=source_note(frame.filter(pl.col("month").is_in(months)), name) or None,
        )
    )

    ranking_rows: list[Row] = []
    unranked_started = False
    for r in jm.rows:
        c = r["municipality_code"]
        if not r["is_ranked"] and not unranked_started:
            rule = f"færre end {min_pop} jobparate" if min_pop else "under minimumsgrænsen"
            ranking_rows.append(Row([text(f"Ikke rangeret ({rule})")], kind="group"))
            unranked_started = True
        rank = str(r["rank_share_red"]) if r["rank_share_red"] is not None else "–"
        ranking_rows.append(
            Row(
                [
                    Cell(rank, f"rank-{c}-rank"),
                    text(r["area_name"], f"rank-{c}-name"),
                    *_area_cells(jm, c, f"rank-{c}", min_count),
                ],
                kind="highlight" if c == code else "body",
            )
        )
    total = None
    if jm.national:
        total = Row(
            [Cell(""), text("Hele landet"), *_area_cells(jm, nat_code, "rank-country", min_count)],
            kind="total",
        )
        ranking_rows.append(total)
    rule_text = (
        f"Kommuner med færre end {min_pop} jobparate kontanthjælpsmodtagere rangeres ikke "
        "(minimumsreglen), men vises nederst."
        if min_pop
        else "Kommuner under minimumsgrænsen rangeres ikke, men vises nederst."
    )
    ranked_n = (mine or {}).get("ranked_municipalities") or sum(
        1 for r in jm.rows if r["is_ranked"]
    )
    if ranked_n < min_ranked:
        blocks.append(
            Paragraph(
                f"Ingen rangliste for {month_name(latest)}: kun {ranked_n} kommune(r) kan rangeres "
                f"(mindst {min_ranked} kræves, for at en placering siger noget). Tal for de "
                "øvrige kommuner kommer fra Jobindsats' tabel, når den er hentet (lmkpi fetch)."
            )
        )
        return Section(6, "Jobloggen", "jobloggen", blocks)
    blocks.append(
        Paragraph(
            f"Ranglisten, {month_name(latest)}: placering efter andelen røde (1 = flest røde) "
            f"blandt {ranked_n} kommuner. " + rule_text
        )
    )
    blocks.append(
        Table(
            "joblog-ranking",
            f"Rangliste, Jobloggen, {month_name(latest)}",
            ["Placering", "Kommune", "Jobparate", "Grøn", "Lysegrøn", "Rød", "Rød 3 mdr."],
            ranking_rows,
            widths=[0.9, 2.4, 1, 1, 1, 1, 1],
            font_size=7.5,
            notes=[n for n in [source_note(frame.filter(pl.col("month") == latest), name)] if n],
            pdf_rows=_pdf_ranking(ranking_rows, code, total),
        )
    )
    return Section(6, "Jobloggen", "jobloggen", blocks)


def _pdf_ranking(rows: list[Row], code: int, total: Row | None, ends: int = 10) -> list[Row]:
    """The PDF's list: the top and the bottom of the ranking and the municipality's own
    place (the HTML has every municipality)."""
    ranked = [r for r in rows if r.kind != "group" and r is not total and r.cells[0].text != "–"]
    if len(ranked) <= 2 * ends + 1:
        return rows
    keep = set(range(ends)) | set(range(len(ranked) - ends, len(ranked)))
    keep |= {i for i, r in enumerate(ranked) if r.kind == "highlight"}
    out: list[Row] = []
    for i, row in enumerate(ranked):
        if i in keep:
            out.append(row)
        elif not out or out[-1].kind != "group":
            out.append(Row([text("… (hele listen i HTML-udgaven)")], kind="group"))
    mine = [r for r in rows if r.kind == "highlight" and r not in ranked]
    return out + mine + ([total] if total else [])
