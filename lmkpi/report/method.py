"""Section 8: data quality and method - warnings, definitions, configurable choices, sources."""

import logging
from datetime import date
from pathlib import Path

import polars as pl
import yaml

from lmkpi.report.data import ReportData
from lmkpi.report.formatting import (
    fmt_date,
    fmt_number,
    fmt_pct,
    fmt_pct_points,
    month_name,
    month_range,
    month_short,
    parse_report_month,
)
from lmkpi.report.goals import TREND_MONTHS, goal_sort_key
from lmkpi.report.model import Bullets, Cell, Paragraph, Row, Section, Table, text
from lmkpi.settings import DBT_PROJECT_DIR

log = logging.getLogger(__name__)

SOURCE_LABELS = {"ydelser": "Ydelser", "joblog": "Jobloggen", "indkvartering": "Indkvartering"}
SEVERITY_LABELS = {"critical": "Kritisk", "warning": "Advarsel", "info": "Info"}
OFFER_LABELS = {
    "virksomhedspraktik": "virksomhedspraktik",
    "loentilskud": "løntilskud",
    "nytteindsats": "nytteindsats",
}


def pipeline_choices(project_dir: Path = DBT_PROJECT_DIR) -> dict:
    """The definition choices (dbt vars) the marts were built with, as configured."""
    try:
        config = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
        return dict(config.get("vars") or {})
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        log.warning("cannot read the pipeline's dbt vars (%s); the method section says less", exc)
        return {}


def data_as_of(load_audit: pl.DataFrame):
    if load_audit.is_empty():
        return None
    return load_audit["finished_at"].max()


def _month_text(value) -> str:
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
        return month_name(parse_report_month(day))
    except (ValueError, TypeError):
        return "basismåneden"


def _yes(value) -> str:
    return "ja" if value in (True, "true", "True", 1) else "nej"


def definitions(choices: dict, data: ReportData, min_count: int) -> list[str]:
    c = choices
    ages = f"{c.get('min_age', 16)}-{c.get('max_age', 66)} år"
    offers = ", ".join(OFFER_LABELS.get(o, o) for o in c.get("company_directed_offers", []))
    items = [
        "Fuldtidspersoner: dage på ydelsen i måneden divideret med månedens kalenderdage, lagt "
        f"sammen over personerne (jobindsats' opgørelse; delvise ydelser tæller som hele dage). "
        f"Alder {ages}.",
        "Offentlig forsørgelse (mål 1): summen over planens ydelsesgrupper, uden at fjerne "
        "overlap mellem grupperne. A-dagpenge i de første 14 dages sygdom tæller ikke med.",
        f"Virksomhedsrettede tilbud (mål 4, 10 og e): {offers or 'som konfigureret'} "
        f"(nytteindsats med: {_yes('nytteindsats' in c.get('company_directed_offers', []))}).",
        "Ledige i tilbud (mål 4): modtagere af "
        f"{', '.join(c.get('unemployed_benefit_codes', [])) or 'de konfigurerede ydelser'}.",
        "Mål 6: flygtninge og familiesammenførte til flygtninge, "
        f"{c.get('refugee_min_age', 18)}-{c.get('max_age', 66)} år, med opholdstilladelse fra "
        f"{c.get('refugee_permit_from', '2004-01-01')}, i ustøttet beskæftigelse (ordinær "
        "uddannelse tæller ikke).",
        "Status: Nået / Ikke nået afgøres i målmåneden (den sidste måned i perioden). Før da er "
        "et mål om en ændring På vej, når ændringen siden udgangspunktet er mindst lige så god "
        "som den lige vej til målet; et mål om et gennemsnit er På vej, når det forventede "
        "gennemsnit for perioden når målet.",
        "Fremskrivning: mål om et gennemsnit bruger gennemsnittet hidtil og de resterende "
        f"måneder med gennemsnittet af de seneste {c.get('goal_projection_recent_months', 3)} "
        "måneder. Mål om en ændring vises med en lige linje gennem tallene for de seneste "
        f"{TREND_MONTHS} måneder (rapportens valg).",
        f"Indeks for ydelsesgrupper: {_month_text(c.get('index_base_month'))} = 100.",
        f"Jobloggen: grøn ved mindst {c.get('joblog_green_threshold', 6)} registrerede "
        "jobsøgninger i måneden; forholdsmæssig grænse for personer, der ikke skal stå fuldt til "
        f"rådighed: {_yes(c.get('joblog_prorate_threshold', True))}. Rangeres fra "
        f"{c.get('joblog_min_population', 40)} jobparate.",
        f"Diskretion: tal, der bygger på færre end {min_count} personer, vises som <{min_count}; "
        "nul vises. Fuldtidspersoner under "
        f"{min_count} behandles som færre end {min_count} personer. Andre tal skjules (..), så "
        "et skjult tal ikke kan regnes ud fra totaler, gennemsnit eller naboer i samme tabel "
        "eller graf. Antal virksomheder skjules ikke. I sammenligningen vises kun andele og "
        "rater, ikke antal.",
    ]
    for scheme, members in data.clusters.group_by("scheme", "cluster", maintain_order=True):
        names = ", ".join(sorted(members["municipality_name"]))
        items.append(f"Klyngen {scheme[1]} (ordning {scheme[0]}): {names}.")
    items.append(
        "Valg markeret som kommunens egne (ikke officielle) kan ændres i pipelinens "
        "konfiguration; se README for hvert valg og dets kilde."
    )
    return items


def quality_blocks(data: ReportData) -> list:
    checks = data.check_results
    if checks is None:
        return [
            Paragraph(
                "Lageret indeholder ingen resultater af kvalitetstjek for månederne "
                "(tabellen audit.check_results findes ikke).",
                kind="note",
            )
        ]
    if checks.is_empty():
        return [
            Paragraph(
                f"Ingen kvalitetstjek gav advarsler for {month_range(data.first, data.month)}."
            )
        ]
    grouped = checks.group_by("source", "rule", "severity", maintain_order=True).agg(
        pl.col("month").min().alias("first"),
        pl.col("month").max().alias("last"),
        pl.col("month").n_unique().alias("months"),
        pl.col("failing_rows").sum().alias("count"),
        pl.col("message").first().alias("message"),
    )
    rows = [
        Row(
            [
                text(SOURCE_LABELS.get(r["source"], r["source"])),
                text(r["rule"]),
                text(SEVERITY_LABELS.get(r["severity"], r["severity"])),
                text(f"{month_range(r['first'], r['last'])} ({r['months']} mdr.)"),
                Cell(fmt_number(r["count"])),
                text(r["message"] or ""),
            ]
        )
        for r in grouped.iter_rows(named=True)
    ]
    return [
        Table(
            "quality",
            f"Kvalitetstjek med fund, {month_range(data.first, data.month)}",
            ["Kilde", "Regel", "Alvor", "Måneder", "Afvigelser", "Besked"],
            rows,
            widths=[1, 1.8, 0.8, 1.6, 0.9, 3.2],
            font_size=7,
        )
    ]


def source_blocks(data: ReportData) -> list:
    audit = data.load_audit
    if audit.is_empty():
        return [Paragraph("Ingen indlæsninger er registreret.", kind="note")]
    latest = audit.filter(pl.col("month") == data.month)
    rows = [
        Row(
            [
                text(SOURCE_LABELS.get(r["source"], r["source"])),
                text(r["file_name"] or "–"),
                text(fmt_date(r["finished_at"])),
                Cell(fmt_number(r["rows_loaded"])),
                Cell(fmt_number(r["rows_rejected"])),
            ]
        )
        for r in latest.iter_rows(named=True)
    ]
    shown = audit.filter(pl.col("month") >= data.first)
    blocks: list = []
    if rows:
        blocks.append(
            Table(
                "sources",
                f"Kildefiler for {month_short(data.month)}",
                ["Kilde", "Fil", "Indlæst", "Rækker", "Afviste rækker"],
                rows,
                widths=[1.2, 2.4, 2.2, 1, 1],
            )
        )
    blocks.append(
        Paragraph(
            f"I alt {fmt_number(shown.height)} filer for {month_range(data.first, data.month)} med "
            f"{fmt_number(shown['rows_loaded'].sum())} indlæste og "
            f"{fmt_number(shown['rows_rejected'].sum())} afviste rækker. Senest indlæst: "
            f"{fmt_date(data_as_of(audit))}."
        )
    )
    return blocks


PUBLIC_BENEFITS_LABEL = "Fuldtidspersoner på offentlig forsørgelse"


def _goal_key(change) -> tuple:
    goal = change.key.get("goal_id")
    return goal_sort_key(goal) if goal else (0, 0, "")


def _revised(value: float, share: bool, min_count: int) -> str:
    if share:
        return fmt_pct(value)
    return f"<{min_count}" if value < min_count else fmt_number(value, 1)


def revision_blocks(data: ReportData, min_count: int) -> list:
    """The headline values that changed since the previous publication (a restatement):
    what was published then, what is published now, by how much."""
    if data.previous_publication is None:
        return [Paragraph("Første offentliggørelse: intet at sammenligne med.", kind="note")]
    if not data.revisions:
        return [
            Paragraph(
                f"Ingen af rapportens hovedtal er ændret siden publikation nr. "
                f"{data.previous_publication}.",
                kind="note",
            )
        ]
    shares = {  # the measure catalogue names every share share_*
        g["goal_id"]
        for g in data.goals.iter_rows(named=True)
        if (g["measure"] or "").startswith("share_")
    }
    titles = {g["goal_id"]: g["title_da"] for g in data.goals.iter_rows(named=True)}
    rows = []
    ordered = sorted(
        data.revisions,
        key=lambda c: (c.key["month"], c.table != "fct_public_benefits", _goal_key(c)),
    )
    for change in ordered:
        goal = change.key.get("goal_id")
        share = goal in shares
        what = f"Mål {goal}: {titles.get(goal, '')}" if goal else PUBLIC_BENEFITS_LABEL
        before, after = change.before, change.after
        small = not share and min(before, after) < min_count
        if share:
            difference = fmt_pct_points(change.difference)
        else:
            difference = ".." if small else fmt_number(change.difference, 1, sign=True)
        rows.append(
            Row(
                [
                    text(month_short(change.key["month"])),
                    text(what),
                    Cell(_revised(before, share, min_count)),
                    Cell(_revised(after, share, min_count)),
                    Cell(difference),
                ]
            )
        )
    return [
        Table(
            "revisions",
            f"Revideret siden publikation nr. {data.previous_publication}",
            ["Måned", "Tal", "Før", "Nu", "Ændring"],
            rows,
            widths=[1, 4.2, 1, 1, 1],
            notes=[
                "Tal der er ændret, fordi en måned er genindlæst med rettede data (revision). "
                "Tidligere offentliggjorte tal findes i lagerets history-skema "
                "(lmkpi diff, lmkpi report --as-of)."
            ],
        )
    ]


def method_section(data: ReportData, min_count: int, choices: dict) -> Section:
    return Section(
        8,
        "Datakvalitet og metode",
        "metode",
        [
            Paragraph("Kvalitetstjek", kind="h3"),
            *quality_blocks(data),
            Paragraph("Definitioner og valg", kind="h3"),
            Bullets(definitions(choices, data, min_count)),
            Paragraph("Kildefiler og indlæsning", kind="h3"),
            *source_blocks(data),
            Paragraph("Revisioner", kind="h3"),
            *revision_blocks(data, min_count),
        ],
    )
