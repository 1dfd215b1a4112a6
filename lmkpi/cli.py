"""The ``lmkpi`` command: synth, load, demo, status, sql, dev, prepare."""

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from lmkpi.errors import LmkpiError
from lmkpi.logs import configure as configure_logging
from lmkpi.months import Month
from lmkpi.permissions import private_umask
from lmkpi.settings import HISTORY_START, REPO_ROOT, Settings, get_settings

log = logging.getLogger("lmkpi")

# The demo runs into January 2020: two plan years (the 2019 plan and the example 2020 plan),
# and a January report with 2019's final results.
DEMO_START, DEMO_END = HISTORY_START.key, "2020-01"
DEMO_PLANS = ("beskaeftigelsesplan_2019.csv", "beskaeftigelsesplan_2020.yaml")
DEMO_FOCUS = 173  # Lyngby-Taarbæk: full size, so its numbers can be read against the plan
DEMO_OTHERS_SCALE = 0.03


def _month(value: str) -> Month:
    try:
        return Month.parse(value)
    except LmkpiError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _municipalities(value: str) -> list[int] | None:
    if value.strip().lower() == "all":
        return None
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected codes like 173,101 or 'all', got {value!r}"
        ) from None


def cmd_synth(args: argparse.Namespace) -> int:
    from lmkpi.synth import generate

    summary = generate(
        Path(args.out),
        start=args.start.key,
        end=args.end.key,
        municipalities=args.municipalities,
        seed=args.seed,
        scale=args.scale,
        mess=args.mess,
    )
    log.info("wrote %d files to %s in %.1f s", len(summary.files), args.out, summary.seconds)
    return 0


def _deliver(source_dir: Path, landing_dir: Path) -> int:
    """Copy deliveries from a folder laid out like the landing folder.

    A symlink, folder or device among them refuses the whole copy before anything is copied;
    a misnamed file is reported (bad_file_name, with the form expected) and not copied.
    """
    from lmkpi.ingest import deliver, scan_landing

    scan = scan_landing(source_dir)
    for refused in scan.refused:
        if refused.error.rule != "bad_file_name":
            raise refused.error
    for refused in scan.refused:
        log.warning("not copied (bad_file_name): %s", refused.error)
    return len(deliver(scan.deliveries, landing_dir))


def _load(
    settings: Settings,
    start: Month,
    end: Month,
    triggered_by: str,
    force: bool = False,
    wait_s: float = 600.0,
    accept_drop: bool = False,
    refresh: bool | None = True,
) -> int:
    """Load the months; after a publication, render the last month's reports and the dbt
    docs again (``refresh``), as Dagster's reports_after_load sensor does; False says they
    are stale, None leaves them to the caller."""
    from lmkpi.orchestration import run_monthly_load

    started = time.perf_counter()
    outcome = run_monthly_load(
        settings,
        start,
        end,
        triggered_by=triggered_by,
        force=force,
        accept_drop=accept_drop,
        wait_s=wait_s,
    )
    seconds = time.perf_counter() - started
    first, last = outcome.months[0], outcome.months[-1]
    span = str(first) if first == last else f"{first}..{last} ({len(outcome.months)} months)"
    if not outcome.success:
        log.error("load of %s FAILED (run %s) after %.1f s:", span, outcome.run_id, seconds)
        for err in outcome.errors or ["see the run in Dagster (lmkpi dev) for details"]:
            log.error("  %s", err)
        for summary in outcome.summaries:
            log.error("  quality summary: %s", summary)
        log.error("  (lmkpi -v load ... shows the detail; the run is in Dagster: lmkpi dev)")
        return 1
    for summary in outcome.summaries:
        log.info("quality summary: %s", summary)
    if not outcome.published:
        log.info("nothing changed since the last publication: warehouse, reports and docs stay")
    elif refresh:
        from lmkpi.refresh import render_docs, render_reports

        render_reports(settings, outcome.months[-1])
        render_docs(settings)
    elif refresh is False:
        from lmkpi.refresh import stale_hint

        log.warning("%s", stale_hint(outcome.months[-1]))
    log.info("loaded %s in %.1f s; warehouse: %s", span, seconds, settings.warehouse_db)
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.month:
        start = end = args.month
    elif args.from_month:
        start, end = args.from_month, args.to_month or args.from_month
    else:
        raise UsageError("give --month YYYY-MM, or --from YYYY-MM [--to YYYY-MM]")
    Month.range(start, end)  # a reversed range fails here, before anything starts
    settings.pseudonym_key()  # so does a missing or unusable key
    if args.landing and Path(args.landing).resolve() != settings.landing_dir.resolve():
        copied = _deliver(Path(args.landing), settings.landing_dir)
        log.info("delivered %d files from %s to %s", copied, args.landing, settings.landing_dir)
    return _load(
        settings,
        start,
        end,
        "cli",
        force=args.force,
        wait_s=args.wait,
        accept_drop=args.accept_drop,
        refresh=not args.no_refresh,
    )


def headline(settings, municipality: int = DEMO_FOCUS) -> str:
    from lmkpi.warehouse.publish import open_published

    con = open_published(settings.warehouse_db)
    try:
        rows = con.execute(
            """
            select strftime(month, '%Y-%m'), round(full_time_persons_plan),
                   round(full_time_persons_national), persons_plan_overlap_removed
            from marts.fct_public_benefits where municipality_code = ? order by month
            """,
            [municipality],
        ).fetchall()
        loads = con.execute(
            "select source, count(*), sum(rows_loaded), sum(rows_rejected) "
            "from audit.load_audit where outcome = 'loaded' group by source order by source"
        ).fetchall()
    finally:
        con.close()
    lines = [
        f"Full-time persons on public benefits, municipality {municipality} (age 16-66):",
        "  month     plan(12 groups)  national  persons",
    ]
    lines += [f"  {m}  {p:>15,.0f}  {n:>8,.0f}  {c:>7,}" for m, p, n, c in rows]
    lines.append(
        "Rows loaded (all loads): "
        + ", ".join(f"{s}: {n:,} rows in {f} files ({r:,} rejected)" for s, f, n, r in loads)
    )
    return "\n".join(lines)


def benchmark_headline(settings, month: str, municipality: int = DEMO_FOCUS) -> str:  # noqa: ANN001
    """173 among the others: the Jobloggen rank, the benefit rates beside its areas, and the
    reconciliation with Jobindsats (the figures the demo is for)."""
    from lmkpi.warehouse.publish import open_published

    first = Month.parse(month).first_day
    con = open_published(settings.warehouse_db)
    try:
        joblog = con.execute(
            "select max(month) from marts.fct_joblog_benchmark where municipality_code = ?",
            [municipality],
        ).fetchone()[0]
        rank = con.execute(
            "select rank_share_red, ranked_municipalities, share_red, source from "
            "marts.fct_joblog_benchmark where municipality_code = ? and month = ?",
            [municipality, joblog],
        ).fetchone()
        rates = con.execute(
            "select area_type, area_name, per_1000_residents, source, "
            "rank_among_municipalities, ranked_municipalities from marts.fct_benefit_benchmark "
            "where municipality_code = ? and month = ? and benefit_group = 'total' "
            "order by case area_type when 'municipality' then 0 when 'cluster' then 1 "
            "when 'rar' then 2 when 'region' then 3 when 'br' then 4 else 5 end",
            [municipality, first],
        ).fetchall()
        recon = con.execute(
            "select count(*), count(*) filter (where exceeds_tolerance), "
            "max(abs(relative_difference)) from marts.fct_reconciliation "
            "where municipality_code = ? and month = ?",
            [municipality, first],
        ).fetchone()
    finally:
        con.close()
    lines = [f"Benchmarks for {municipality}, {month}:"]
    if rank and rank[0] is not None:
        lines.append(
            f"  Jobloggen ({joblog:%Y-%m}): rank {rank[0]} of {rank[1]} on the share red "
            f"({rank[2]:.1%}; own data: {rank[3]})"
        )
    for area_type, name, rate, source, r, n in rates:
        extra = f", rank {r} of {n}" if r is not None else ""
        lines.append(
            f"  public benefits per 1,000 aged 16-66, {area_type:<12} {name:<26} "
            f"{rate:7.1f}  ({source}{extra})"
        )
    if recon and recon[0]:
        lines.append(
            f"  reconciliation with Jobindsats: {recon[0]} benefit groups, {recon[1]} beyond "
            f"the 2 % tolerance (largest gap {recon[2]:.1%})"
        )
    return "\n".join(lines)


def cmd_demo(args: argparse.Namespace) -> int:
    from lmkpi.synth import generate

    settings = get_settings(demo=True)
    settings.ensure_dirs()
    started = time.perf_counter()
    if args.national:  # the ministry's view: person-level extracts of every municipality
        summary = generate(
            settings.landing_dir,
            start=args.start.key,
            end=args.end.key,
            municipalities=args.municipalities,
            seed=args.seed,
            scale=args.scale,
            scale_by_municipality={DEMO_FOCUS: 1.0},
            mess=not args.clean,
        )
    else:  # a municipality: its own citizens' extracts, the rest from Jobindsats/Statbank
        retrieved = (args.end + 1).first_day.replace(day=20)
        summary = generate(
            settings.landing_dir,
            start=args.start.key,
            end=args.end.key,
            seed=args.seed,
            scale=1.0,
            mess=not args.clean,
            person_level=[DEMO_FOCUS],
            external_retrieved=retrieved.isoformat(),
            external_earlier=(args.end - 2).first_day.replace(day=20).isoformat(),
        )
    log.info("generated %d extract files in %.1f s", len(summary.files), summary.seconds)
    _demo_plans(settings)
    # History up to the year's end, then the new year's first month as it arrives.
    last = min(args.end, Month(2019, 12)) if args.start <= Month(2019, 12) else args.end
    rc = _load(settings, args.start, last, "demo", refresh=None)
    if rc:
        return rc
    if last < args.end:
        # January's Jobloggen registrations fall with the holidays (about a quarter in the
        # simulated world), more than month_volume_drop lets through unasked: an operator
        # who has checked that the fall is real loads it with --accept-drop, as here.
        log.info(
            "loading %s..%s with --accept-drop (a holiday dip in Jobloggen)", last + 1, args.end
        )
        rc = _load(settings, last + 1, args.end, "demo", refresh=None, accept_drop=True)
        if rc:
            return rc
    from lmkpi.ingest import deliver, scan_landing

    for restated in scan_landing(settings.landing_dir / "_restatements").deliveries:
        log.info("re-delivering a corrected %s for %s", restated.file_name, restated.month)
        deliver([restated], settings.landing_dir)
        rc = _load(settings, restated.month, restated.month, "demo-restatement", refresh=None)
        if rc:
            return rc
    from lmkpi.refresh import render_docs, render_reports
    from lmkpi.report import latest_month

    month = latest_month(settings.warehouse_db)
    focus = replace(settings, report_municipalities=(DEMO_FOCUS,))
    (report,) = render_reports(focus, Month.parse(month))
    december = Month.parse(month) - 1
    if december.month == 12:  # the year's last status report beside January's
        render_reports(focus, december)
    docs = render_docs(settings)
    log.info("demo finished in %.1f s", time.perf_counter() - started)
    sys.stdout.write(headline(settings) + "\n")
    sys.stdout.write(benchmark_headline(settings, month) + "\n")
    sys.stdout.write(
        f"Report for {DEMO_FOCUS}, {month}: {report.html}\n                       {report.pdf}\n"
    )
    sys.stdout.write(f"Warehouse for analysts: {settings.warehouse_db}  (lmkpi sql)\n")
    sys.stdout.write(f"dbt docs (offline):     {docs}\n")
    return 0


def _demo_plans(settings: Settings) -> None:
    """The demo's plans (the shipped 2019 plan and the example 2020 plan) and housing
    scenarios (the committee's three options), unless the home has its own."""
    import shutil

    from lmkpi.employment_plan import plan_files, shipped_plans_dir

    if not plan_files(settings.plans_dir):
        settings.plans_dir.mkdir(parents=True, exist_ok=True)
        for name in DEMO_PLANS:
            shutil.copy(shipped_plans_dir() / name, settings.plans_dir / name)
        log.info("plans: %s (the 2020 plan is an example)", ", ".join(DEMO_PLANS))
    shipped = Path(__file__).with_name("scenarios")
    if not settings.scenarios_dir.exists():  # the committee's three options, as examples
        shutil.copytree(shipped, settings.scenarios_dir)
        names = ", ".join(p.stem for p in sorted(settings.scenarios_dir.glob("*.yaml")))
        log.info("housing scenarios: %s (examples)", names)


STATUS_QUERY = """
    select source, strftime(month, '%Y-%m'), file_name, outcome,
           strftime(finished_at, '%Y-%m-%d %H:%M'), rows_loaded, rows_rejected,
           coalesce(checks_blocking, 0), coalesce(checks_warning, 0), triggered_by,
           validation_summary, message
    from audit.load_audit
    where (? is null or source = ?) and (? is null or month = ?)
    -- one row per source, month and table (the file name's first part: ydelser, ptva02)
    qualify row_number() over (
        partition by source, month, split_part(file_name, '_', 1)
        order by started_at desc
    ) = 1
    order by source, month, file_name
"""


def _status_rows(settings: Settings, source: str | None, month: Month | None):  # noqa: ANN202
    """The last attempt per source and month, and where it was read: the working database
    (every attempt: loaded, unchanged, blocked, refused), or, while a load holds it, the
    audit copy of the last publication."""
    import duckdb

    from lmkpi.warehouse.publish import open_published

    params = [source, source, month and month.first_day, month and month.first_day]
    if settings.work_db.exists():
        try:
            con = duckdb.connect(str(settings.work_db), read_only=True)
        except duckdb.IOException:  # a load is writing: fall back to the publication
            pass
        else:
            try:
                return con.execute(STATUS_QUERY, params).fetchall(), None
            except duckdb.CatalogException:
                return [], None
            finally:
                con.close()
    if not settings.warehouse_db.exists():
        raise LmkpiError(f"nothing loaded yet under {settings.home}; run lmkpi load or lmkpi demo")
    con = open_published(settings.warehouse_db)
    try:
        rows = con.execute(STATUS_QUERY, params).fetchall()
    finally:
        con.close()
    return rows, (
        "a load is running: these are the attempts as of the last publication; "
        "failed and blocked attempts since then are not shown until it ends"
    )


def cmd_status(args: argparse.Namespace) -> int:
    """Per source and month: the last attempt, whether it loaded, was unchanged, blocked or
    refused; its file, rows, checks and (with --summaries) the quality summary.

    Reads the working database read-only, so failed and blocked attempts are shown, not only
    what was published; while a load holds that database, the audit copy in the published
    warehouse (and says so).
    """
    settings = get_settings()
    rows, note = _status_rows(settings, args.source, args.month)
    out = sys.stdout
    if note:
        log.warning("%s", note)
    if not rows:
        out.write("no load attempts match\n")
        return 0
    out.write(
        f"{'source':<14}{'month':<9}{'file':<28}{'outcome':<14}{'finished':<18}"
        f"{'loaded':>9}{'rejected':>9}{'blocking':>9}{'warnings':>9}  by\n"
    )
    failed = []
    for s, m, f, o, t, n, r, b, w, by, summary, message in rows:
        out.write(
            f"{s:<14}{m:<9}{f:<28}{o:<14}{t or '':<18}{n or 0:>9,}{r or 0:>9,}{b:>9}{w:>9}  {by}"
            f"{'  ' + summary if args.summaries and summary else ''}\n"
        )
        if o in ("blocked", "rejected_file"):
            failed.append((s, m, o, message, summary))
    for s, m, o, message, summary in failed:
        out.write(f"\n{s} {m} {o}: {message}\n")
        if summary:
            out.write(f"  quality summary: {summary}\n")
    return 1 if failed and args.fail_on_blocked else 0


def _bounded(con, timeout_s: float, memory_limit: str, run):  # noqa: ANN001, ANN202
    """Run ``run()`` (one query) and stop it after ``timeout_s``; say which bound was hit."""
    import threading

    import duckdb

    timer = threading.Timer(timeout_s, con.interrupt)
    timer.start()
    try:
        return run()
    except duckdb.InterruptException:
        raise QueryStopped(
            f"the query was stopped after {timeout_s:g} s (LMKPI_SQL_TIMEOUT_SECONDS, or "
            "lmkpi sql --timeout SECONDS); narrow it (a where on month or municipality_code)"
        ) from None
    except duckdb.OutOfMemoryException:
        raise QueryStopped(
            f"the query needs more memory than {memory_limit} (LMKPI_SQL_MEMORY_LIMIT); narrow "
            "it, or aggregate before joining"
        ) from None
    finally:
        timer.cancel()


class QueryStopped(LmkpiError):
    """An analyst's query hit the time or memory bound of lmkpi sql."""


def cmd_sql(args: argparse.Namespace) -> int:
    from lmkpi.export import write_csv
    from lmkpi.warehouse.publish import open_published

    settings = get_settings()
    timeout = args.timeout or settings.sql_timeout_s
    con = open_published(
        settings.warehouse_db, memory_limit=settings.sql_memory_limit, threads=settings.sql_threads
    )
    try:
        queries = [args.query] if args.query else iter(lambda: input("lmkpi> "), "")
        # every column, however wide (a table cut to the terminal hides columns)
        show = {"max_rows": args.max_rows, "max_width": args.width or 100_000}
        for query in queries:
            try:
                rel = con.sql(query)
                if rel is None:
                    continue
                if args.csv or args.plain:
                    frame = _bounded(con, timeout, settings.sql_memory_limit, rel.pl)
                    write_csv(frame, sys.stdout.buffer, plain=args.plain)
                    sys.stdout.buffer.flush()
                else:
                    _bounded(con, timeout, settings.sql_memory_limit,
                             lambda r=rel: r.show(**show))  # fmt: skip
            except QueryStopped as exc:
                sys.stderr.write(f"error: {exc}\n")
                if args.query:
                    return 2
            except Exception as exc:  # the analyst sees DuckDB's own message
                sys.stderr.write(f"error: {exc}\n")
                if args.query:
                    return 1
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        con.close()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from lmkpi.report import build_report, latest_month

    settings = get_settings()
    with contextlib.ExitStack() as stack:
        warehouse, folder = settings.warehouse_db, None
        if args.as_of:  # the tables of that publication, rebuilt from the history
            from lmkpi.warehouse.history import as_of

            # aggregates only (what was published), in a private temporary folder
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lmkpi-as-of-")))
            warehouse = scratch / "as_of.duckdb"
            publication = as_of(settings.warehouse_db, args.as_of, warehouse)
            folder = f"as_of_publication_{publication}"
            log.info("rendering as of publication %d", publication)
        month = args.month.key if args.month else latest_month(warehouse)
        if month is None:
            log.error("nothing published yet under %s; run lmkpi load first", settings.home)
            return 1
        out = Path(args.out) if args.out else settings.reports_dir / month
        if folder and not args.out:
            out = out / folder  # never over the current report
        files = build_report(
            warehouse,
            args.municipality,
            month,
            out,
            min_count=args.min_count,
            min_ranked=args.min_ranked,
            group=settings.publish_group,
        )
    log.info("report in %.1f s: %s, %s", files.seconds, files.html, files.pdf)
    return 0


def cmd_plan_check(args: argparse.Namespace) -> int:
    from lmkpi.employment_plan import validate

    plan = validate(Path(args.file))
    goals = sum(1 for g in plan.goals if g["kind"] == "goal")
    log.info(
        "%s: %s is valid: %d goals and %d follow-ups (load it by putting it in %s)",
        plan.path.name,
        plan.label,
        goals,
        len(plan.goals) - goals,
        get_settings().plans_dir,
    )
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from lmkpi.warehouse import history
    from lmkpi.warehouse.publish import open_published

    with open_published(get_settings().warehouse_db) as con:
        if args.list:
            for number, at, tables in history.publications(con):
                sys.stdout.write(f"{number:>5}  {at:%Y-%m-%d %H:%M:%S}  {tables} tables" + "\n")
            return 0
        after = history.resolve(con, args.to_pub) if args.to_pub else history.current(con)
        if after is None:
            raise history.PublicationNotFound("nothing published with a publication id yet")
        before = history.resolve(con, args.from_pub) if args.from_pub else None
        before = history.previous_of(con, after) if before is None else before
        if before is None:
            log.info("publication %d is the first kept: nothing to compare it with", after)
            return 0
        found = history.changes(
            con,
            before,
            after,
            municipality=args.municipality,
            tables=tuple(args.table) if args.table else None,
        )
    log.info("publication %d -> %d: %d changed cells", before, after, len(found))
    if found:
        sys.stdout.write("table\tkey\tcolumn\tbefore\tafter\tdifference" + "\n")
    for c in found:
        key = ", ".join(f"{k}={v}" for k, v in c.key.items())
        diff = "" if c.difference is None else f"{c.difference:+.6g}"
        sys.stdout.write(
            f"{c.table}\t{key}\t{c.column}\t{_cell(c.before)}\t{_cell(c.after)}\t{diff}" + "\n"
        )
    return 0


def _cell(value: object) -> str:
    if value is None:
        return "(none)"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def cmd_export(args: argparse.Namespace) -> int:
    from lmkpi.export import Filters, read_mart, write_export

    filters = Filters(
        month=args.month and args.month.first_day,
        start=args.from_month and args.from_month.first_day,
        end=args.to_month and args.to_month.first_day,
        municipality=args.municipality,
    )
    frame = read_mart(get_settings().warehouse_db, args.table, filters)
    out = write_export(frame, Path(args.out), plain=args.plain)
    dialect = "plain CSV" if args.plain else "CSV for Danish Excel"
    kind = dialect if out.suffix == ".csv" else out.suffix[1:]
    log.info("wrote %d rows of %s to %s (%s)", frame.height, args.table, out, kind)
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from lmkpi.warehouse.db import writer_lock
    from lmkpi.warehouse.publish import NothingToRollBackTo, rollback

    settings = get_settings()
    try:
        with writer_lock(settings.work_dir):
            restored = rollback(settings.warehouse_db)
    except NothingToRollBackTo as exc:
        log.error("%s", exc)
        return 1
    log.info("the published warehouse is now %s", restored.name)
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from lmkpi.dbt_docs import build_docs, serve_docs

    settings = get_settings()
    try:
        page = build_docs(
            settings.warehouse_db, settings.warehouse_dir / "docs", settings.publish_group
        )
    except FileNotFoundError as exc:
        log.error("%s", exc)
        return 1
    sys.stdout.write(f"dbt docs for analysts: {page}\n")
    if args.serve:
        serve_docs(page.parent, args.port)
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch a table from Jobindsats or Statbank into the landing folder, then load it."""
    from datetime import date

    from lmkpi.external.fetch import jobindsats_request, save_answer, send, statbank_request
    from lmkpi.external.specs import spec_for
    from lmkpi.ingest import scan_landing

    settings = get_settings()
    spec = spec_for(args.source, args.table.lower())
    if spec is None:
        from lmkpi.external.specs import specs

        known = ", ".join(t for s, t in specs() if s == args.source)
        raise UsageError(f"no spec for {args.source} table {args.table!r}; known: {known}")
    if args.source == "jobindsats":
        token = settings.jobindsats_api_token(Path(args.token_file) if args.token_file else None)
        base = args.base_url or settings.jobindsats_url
        request = jobindsats_request(spec, base, token, args.from_month)
    else:
        base = args.base_url or settings.statbank_url
        request = statbank_request(spec, base, args.from_month)
    log.info("fetching %s %s from %s", args.source, spec.table, base.split("?")[0])
    body = send(request, attempts=args.attempts, timeout_s=args.timeout)
    settings.ensure_dirs()
    delivery = save_answer(spec, body, request.fmt, settings.landing_dir, date.today())
    log.info("wrote %s (%d bytes)", delivery.path, delivery.size)
    if args.no_load:
        return 0
    months = [d.month for d in scan_landing(settings.landing_dir, ("ydelser",)).deliveries]
    if not months:
        log.info("no extract to load it with yet: the next lmkpi load loads it")
        return 0
    settings.pseudonym_key()
    return _load(settings, max(months), max(months), "fetch")


def cmd_key_new(args: argparse.Namespace) -> int:
    from lmkpi.settings import write_new_key

    path = write_new_key(Path(args.out))
    sys.stdout.write(
        f"new pseudonym key in {path} (mode 600). Keep it outside the repository and the "
        f"warehouse, back it up safely, and set LMKPI_PSEUDONYM_KEY_FILE={path}\n"
    )
    return 0


def _after_rebuild(settings: Settings, reloaded, what: str) -> int:  # noqa: ANN001
    from lmkpi.orchestration import run_models_and_publish

    if reloaded.lost:
        lost = ", ".join(f"{i.source} {i.month}" for i in reloaded.lost)
        log.warning("not in the archive any more (retention), so left out: %s", lost)
    log.info("%s: %d deliveries read again from the archive", what, len(reloaded.outcomes))
    outcome = run_models_and_publish(settings, what)
    if not outcome.success:
        for err in outcome.errors:
            log.error("  %s", err)
        return 1
    log.info("rebuilt and published %s", settings.warehouse_db)
    return 0


def cmd_key_rotate(args: argparse.Namespace) -> int:
    from lmkpi.rebuild import rotate_key
    from lmkpi.settings import read_key_file

    settings = get_settings()
    new_key = read_key_file(Path(args.new_key_file))
    reloaded = rotate_key(settings, new_key, fresh=args.fresh)
    log.info(
        "the working database now uses the key in %s; point LMKPI_PSEUDONYM_KEY_FILE at it",
        args.new_key_file,
    )
    if args.fresh:
        log.info("a new history starts: load the months again (lmkpi load --from ...)")
        return 0
    return _after_rebuild(replace(settings, key_file=Path(args.new_key_file)), reloaded,
                          "key-rotation")  # fmt: skip


def cmd_rebuild(args: argparse.Namespace) -> int:
    from lmkpi.rebuild import rebuild_working_database

    settings = get_settings()
    damaged, reloaded = rebuild_working_database(settings, settings.pseudonym_key())
    if damaged:
        log.info("the damaged working database is kept as %s", damaged)
    return _after_rebuild(settings, reloaded, "rebuild")


def cmd_archive_prune(args: argparse.Namespace) -> int:
    from lmkpi.warehouse.archive import prune_archive
    from lmkpi.warehouse.db import writer_lock

    settings = get_settings()
    retention = args.retention_months or settings.archive_retention_months
    with writer_lock(settings.work_dir):
        pruned = prune_archive(settings.archive_dir, settings.work_db, retention)
    log.info(
        "removed %d archived deliveries (%.1f MB) of months before the last %d; recorded in "
        "audit.archive_prunes",
        len(pruned),
        sum(p.size_bytes for p in pruned) / 1e6,
        retention,
    )
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from lmkpi.orchestration import ensure_dbt_manifest

    ensure_dbt_manifest(force=args.force)  # only when a project file is newer, unless forced
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from lmkpi.orchestration import dagster_env, ensure_dbt_manifest

    env = dagster_env(get_settings())
    ensure_dbt_manifest()
    dagster = Path(sys.executable).with_name("dagster")
    os.chdir(REPO_ROOT)
    os.execve(str(dagster), [str(dagster), "dev", "-w", "workspace.yaml", *args.extra], env)


class UsageError(LmkpiError):
    """The command line is not one lmkpi understands."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong, where to read more), status 2."""

    def error(self, message: str):  # noqa: ANN201 (argparse's hook never returns)
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lmkpi", description=__doc__)
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="detail: debug lines, library logs, Dagster's console and stack traces",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("synth", help="write synthetic extracts")
    p.add_argument("--out", required=True)
    p.add_argument("--start", type=_month, default=DEMO_START)
    p.add_argument("--end", type=_month, default=DEMO_END)
    p.add_argument("--municipalities", type=_municipalities, default=None, help="173,101 or all")
    p.add_argument("--seed", type=int, default=2019)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--mess", action="store_true", help="realistic file mess (encodings, ...)")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("load", help="load months through Dagster")
    p.add_argument("--landing", help="folder with <source>/<source>_<YYYY-MM>.<ext> files")
    p.add_argument("--month", type=_month)
    p.add_argument("--from", dest="from_month", type=_month)
    p.add_argument("--to", dest="to_month", type=_month)
    p.add_argument("--force", action="store_true", help="reload files even if unchanged")
    p.add_argument(
        "--no-refresh",
        action="store_true",
        help="do not render the last month's reports and the dbt docs after publishing",
    )
    p.add_argument(
        "--accept-drop",
        action="store_true",
        help="load a month whose rows or full-time persons fell by more than "
        "LMKPI_QUALITY_MAX_DROP (default 25 %%) from the month before: you know why",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="how long to wait for another running load (default 600)",
    )
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("demo", help="synthetic extracts 2017-2019, loaded end to end")
    p.add_argument("--start", type=_month, default=DEMO_START)
    p.add_argument("--end", type=_month, default=DEMO_END)
    p.add_argument("--seed", type=int, default=2019)
    p.add_argument(
        "--scale",
        type=float,
        default=DEMO_OTHERS_SCALE,
        help="--national: scale of the municipalities other than 173",
    )
    p.add_argument(
        "--municipalities",
        type=_municipalities,
        default=None,
        help="--national: 173,101 or all (default: all 98, 173 at full size)",
    )
    p.add_argument("--clean", action="store_true", help="no file mess")
    p.add_argument(
        "--national",
        action="store_true",
        help="person-level extracts of all 98 municipalities (the ministry's view), instead "
        "of 173's own plus Jobindsats and Statbank files for everyone",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "status", help="the last load attempt per source and month (incl. blocked, refused)"
    )
    p.add_argument("--summaries", action="store_true", help="show validation summary paths")
    p.add_argument(
        "--source",
        choices=["ydelser", "joblog", "indkvartering", "jobindsats", "statbank"],
        help="only this source",
    )
    p.add_argument("--month", type=_month, help="only this month (YYYY-MM)")
    p.add_argument(
        "--fail-on-blocked",
        action="store_true",
        help="exit 1 when a last attempt was blocked or refused (for scripts)",
    )
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("sql", help="query the published warehouse (read-only)")
    p.add_argument("query", nargs="?")
    p.add_argument(
        "--csv", action="store_true", help="CSV for Danish Excel (BOM, ';', decimal comma)"
    )
    p.add_argument("--plain", action="store_true", help="plain CSV (',' and '.')")
    p.add_argument("--max-rows", type=int, default=40)
    p.add_argument(
        "--width",
        type=int,
        help="cut the table to this many characters (default: every column is shown)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop a query after this long (default LMKPI_SQL_TIMEOUT_SECONDS, 120)",
    )
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("report", help="the benchmarking report (HTML + PDF) for a municipality")
    p.add_argument("--municipality", type=int, default=DEMO_FOCUS)
    p.add_argument("--month", type=_month, help="default: the latest published month")
    p.add_argument("--out", help="folder (default $LMKPI_HOME/reports/<month>)")
    p.add_argument("--min-count", type=int, default=5, help="suppress counts below this")
    p.add_argument(
        "--min-ranked",
        type=int,
        default=10,
        help="show a rank only among at least this many ranked municipalities",
    )
    p.add_argument(
        "--as-of",
        metavar="PUBLICATION",
        help="render it as it was at a publication: its id (lmkpi diff --list) or a date "
        "YYYY-MM-DD (the last publication that day); written to <out>/as_of_publication_<id>",
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("plan", help="employment plans: check a plan file before loading it")
    plans = p.add_subparsers(dest="plan_command", required=True, parser_class=_Parser)
    c = plans.add_parser("check", help="validate a beskaeftigelsesplan_<YYYY>.csv|yaml file")
    c.add_argument("file")
    c.set_defaults(func=cmd_plan_check)

    p = sub.add_parser(
        "diff", help="the headline values that changed between two publications (restatements)"
    )
    p.add_argument(
        "--from", dest="from_pub", help="publication id or date (default: the one before --to)"
    )
    p.add_argument("--to", dest="to_pub", help="publication id or date (default: the current)")
    p.add_argument("--municipality", type=int, help="only this municipality code")
    p.add_argument(
        "--table",
        action="append",
        choices=["fct_public_benefits", "fct_goal_indicators", "fct_kpi_measures", "fct_benchmark"],
        help="only this mart (repeatable)",
    )
    p.add_argument("--list", action="store_true", help="list the kept publications")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser(
        "export", help="a mart, filtered, as .csv (Danish Excel), .xlsx or .parquet (Power BI)"
    )
    p.add_argument("table", help="marts.<name>")
    p.add_argument("--month", type=_month, help="one month (YYYY-MM)")
    p.add_argument("--from", dest="from_month", type=_month, help="first month (YYYY-MM)")
    p.add_argument("--to", dest="to_month", type=_month, help="last month (YYYY-MM)")
    p.add_argument("--municipality", type=int, help="one municipality code, e.g. 173")
    p.add_argument(
        "--out",
        required=True,
        help="file ending in .csv (Danish Excel: BOM, ';', decimal comma), .xlsx or .parquet",
    )
    p.add_argument("--plain", action="store_true", help="CSV with ',' and '.' (scripts)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("rollback", help="restore the previous published warehouse")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("docs", help="dbt docs of the published warehouse, offline, one HTML file")
    p.add_argument("--serve", action="store_true", help="serve them on 127.0.0.1")
    p.add_argument("--port", type=int, default=8580)
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("fetch", help="fetch a Jobindsats / Statbank table as a dated vintage")
    p.add_argument("source", choices=["jobindsats", "statbank"])
    p.add_argument("--table", required=True, help="the table id of its spec, e.g. ptva02")
    p.add_argument("--from", dest="from_month", type=_month, help="the first period wanted")
    p.add_argument("--token-file", help="Jobindsats: the API token (else LMKPI_JOBINDSATS_*)")
    p.add_argument("--base-url", help="the API's address (default: the public one)")
    p.add_argument("--attempts", type=int, default=4, help="tries in all (default 4)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per try (default 30)")
    p.add_argument("--no-load", action="store_true", help="only write it to the landing folder")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("key", help="the pseudonym key: make one, or change it deliberately")
    keys = p.add_subparsers(dest="key_command", required=True, parser_class=_Parser)
    k = keys.add_parser("new", help="write a new random key to a new file (mode 600)")
    k.add_argument("--out", required=True, help="the key file to create (never overwritten)")
    k.set_defaults(func=cmd_key_new)
    k = keys.add_parser(
        "rotate", help="change the key: re-pseudonymise the history from the archive"
    )
    k.add_argument("--new-key-file", required=True)
    k.add_argument("--fresh", action="store_true", help="start a new history instead")
    k.set_defaults(func=cmd_key_rotate)

    p = sub.add_parser(
        "rebuild", help="make a damaged working database again from the archive and the audit"
    )
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("archive", help="the archive of raw deliveries")
    archive = p.add_subparsers(dest="archive_command", required=True, parser_class=_Parser)
    a = archive.add_parser(
        "prune", help="delete deliveries older than LMKPI_ARCHIVE_RETENTION_MONTHS (default 36)"
    )
    a.add_argument("--retention-months", type=int)
    a.set_defaults(func=cmd_archive_prune)

    p = sub.add_parser("prepare", help="build the dbt manifest (install step; when stale)")
    p.add_argument("--force", action="store_true", help="parse even if the manifest is current")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser(
        "dev",
        help="dagster dev -w workspace.yaml with LMKPI_HOME's instance; every further "
        "argument goes to dagster dev (-h HOST -p PORT; lmkpi dev --help shows them)",
        add_help=False,  # -h is dagster dev's --host
    )
    p.add_argument("extra", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    private_umask()  # person-level files are the owner's only (lmkpi.permissions)
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if args.func is cmd_dev:  # everything after dev is dagster dev's, --help included
        args.extra = [*unknown, *args.extra]
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    configure_logging(args.verbose)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    try:
        return args.func(args)
    except LmkpiError as exc:
        log.error("%s", exc)
        return exc.exit_status
    except BrokenPipeError:  # lmkpi status | head: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
