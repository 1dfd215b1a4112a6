"""One stage of a national month, run as its own process so it can be timed whole.

python -m benchmarks.stages floor    --file F --month M
python -m benchmarks.stages read     --file F
python -m benchmarks.stages validate --file F [--file F2 ...]   (logs a TIMING line)
python -m benchmarks.stages ingest   --month M          (all sources, into $LMKPI_HOME)
python -m benchmarks.stages dbt      --month M
python -m benchmarks.stages publish
python -m benchmarks.stages peer     --month M --landing L  (plain COPY + plain dbt build)
"""

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger("benchmarks.stages")

FLOOR_SQL = """
select kommunekode, ydelse,
       sum(greatest(least(coalesce(slutdato, last_day(m)), last_day(m))
                    - greatest(startdato, m) + 1, 0) / day(last_day(m))) as ftp
from read_csv(?, delim = ';', header = true,
              types = {'cpr': 'VARCHAR', 'startdato': 'DATE', 'slutdato': 'DATE'}),
     (select ?::date as m)
group by all
"""


def floor(file: Path, month) -> None:  # noqa: ANN001 (lmkpi.months.Month)
    """DuckDB alone: scan the month's file and compute full-time persons per municipality x
    benefit in one query: the physical limit for this work on this machine."""
    import duckdb

    rows = duckdb.execute(FLOOR_SQL, [str(file), month.first_day]).fetchall()
    log.info("floor: %d groups", len(rows))


def read_and_validate(files: list[Path], key: bytes, validate: bool) -> None:
    """Read (+ pseudonymise) each file as the load does; with ``validate`` also run its
    great-expectations suite (validate_read, as load_delivery). Logs one line the benchmark
    parses: ``TIMING read=<s> validate=<s> gx_start=<s> rows=<n>``, in-process seconds summed
    over the files. great-expectations' import and context (paid once per process, like the
    other imports) are warmed up first and reported apart as ``gx_start``, so ``validate`` is
    the validation work itself."""
    from lmkpi.ingest import Delivery, read_extract

    gx_start = 0.0
    if validate:
        from lmkpi.quality import validate_read
        from lmkpi.quality.runner import warm_up  # the lazy GE import + ephemeral context

        t0 = time.perf_counter()
        warm_up()
        gx_start = time.perf_counter() - t0
    read_s = validate_s = 0.0
    rows = 0
    for file in files:
        delivery = Delivery.at(file)
        t0 = time.perf_counter()
        result = read_extract(delivery, key=key)
        t1 = time.perf_counter()
        if validate:
            validate_read(result)
        t2 = time.perf_counter()
        read_s, validate_s, rows = read_s + t1 - t0, validate_s + t2 - t1, rows + result.rows_read
        log.info(
            "%s: %d rows, read %.2f s, validate %.2f s",
            delivery.file_name,
            result.rows_read,
            t1 - t0,
            t2 - t1,
        )
    log.info(
        "TIMING read=%.4f validate=%.4f gx_start=%.4f rows=%d", read_s, validate_s, gx_start, rows
    )


# The peer: the same dbt models after a plain DuckDB ingest. Each source is one
# `insert ... select ... from read_csv(...)` producing exactly raw_schema(source): typed
# columns, the person columns derived from the CPR in SQL, month, load_id, line_number. It
# rejects nothing and checks nothing (the generated data is clean): it is the cost of the
# same result without lmkpi's reader, great-expectations, Dagster and the audit.
PEER_CPR = """
    translate(md5(cpr10), '0123456789abcdef', 'abcdefghijklmnop') as person_key,
    ('0x' || md5(cpr10))::uhugeint as person_id,  -- the same 128 bits as a number
    -- century from digit 7 and the year, as lmkpi.ingest.cpr (cpr.dk's rules)
    make_date(
        case when d7 <= 3 then 1900
             when d7 in (4, 9) then case when yy <= 36 then 2000 else 1900 end
             else case when yy <= 57 then 2000 else 1800 end end + yy,
        substr(cpr10, 3, 2)::int,
        substr(cpr10, 1, 2)::int
    ) as birth_date,
    case when substr(cpr10, 10, 1)::int % 2 = 1 then 'M' else 'K' end as sex"""

PEER_CPR_PARTS = """
    select *, substr(cpr10, 5, 2)::int as yy, substr(cpr10, 7, 1)::int as d7
    from (select *, replace(trim(cpr), '-', '') as cpr10,
                 row_number() over () + 1 as line_number  -- header is line 1, as the reader
          from read_csv($file, delim = ';', header = true, types = {types}))"""

PEER_SQL = {
    "ydelser": f"""
insert into raw.ydelser by name
select line_number, {PEER_CPR},
    kommunekode, ydelse, startdato, slutdato,
    coalesce(omfang, 1.0) as omfang,  -- the contract's defaults
    visitation, tilbud, tilbud_cvr,
    delvis_raskmeldt = 1 as delvis_raskmeldt,
    herkomst, flygtningestatus, opholdsdato,
    coalesce(ordinaere_timer, 0.0) as ordinaere_timer,
    coalesce(samtaler, 0) as samtaler,
    $month as month, $load_id as load_id
from ({
        PEER_CPR_PARTS.format(
            types="{'cpr': 'VARCHAR', 'kommunekode': 'SMALLINT', 'ydelse': 'VARCHAR', "
            "'startdato': 'DATE', 'slutdato': 'DATE', 'omfang': 'DOUBLE', 'visitation': 'VARCHAR', "
            "'tilbud': 'VARCHAR', 'tilbud_cvr': 'VARCHAR', 'delvis_raskmeldt': 'INTEGER', "
            "'herkomst': 'VARCHAR', 'flygtningestatus': 'VARCHAR', 'opholdsdato': 'DATE', "
            "'ordinaere_timer': 'DOUBLE', 'samtaler': 'BIGINT'}"
        )
    })
""",
    # stilling and arbejdsgiver are free text: they never leave lmkpi's reader, so they are
    # not raw columns (not read here either).
    "joblog": f"""
insert into raw.joblog by name
select line_number, {PEER_CPR},
    kommunekode, soegning_id, registreret_dato, status,
    $month as month, $load_id as load_id
from ({
        PEER_CPR_PARTS.format(
            types="{'cpr': 'VARCHAR', 'kommunekode': 'SMALLINT', 'soegning_id': 'VARCHAR', "
            "'registreret_dato': 'DATE', 'status': 'VARCHAR', 'stilling': 'VARCHAR', "
            "'arbejdsgiver': 'VARCHAR'}"
        )
    })
""",
    # adresse is kept as delivered: lmkpi masks CPR-like numbers in it, the generated
    # addresses hold none.
    "indkvartering": """
insert into raw.indkvartering by name
select row_number() over () + 1 as line_number,
    kommunekode, adresse, vaerelser, ledige_vaerelser, indkvarterede, husstande,
    coalesce(flyttet_permanent, 0) as flyttet_permanent, restance_personer, restance_kr,
    $month as month, $load_id as load_id
from read_csv($file, delim = ';', header = true, types = {
    'kommunekode': 'SMALLINT', 'adresse': 'VARCHAR', 'vaerelser': 'BIGINT',
    'ledige_vaerelser': 'BIGINT', 'indkvarterede': 'BIGINT', 'husstande': 'BIGINT',
    'flyttet_permanent': 'BIGINT', 'restance_personer': 'BIGINT', 'restance_kr': 'DOUBLE'})
""",
}


def production_build_args() -> list[str]:
    """``pipelines.assets.dbt.DBT_BUILD_ARGS``, the dbt command of a load, read from the
    module's source: importing that module imports Dagster, which the peer must not pay for."""
    import ast

    source = Path(__file__).resolve().parents[1] / "pipelines" / "assets" / "dbt.py"
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "DBT_BUILD_ARGS" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise RuntimeError(f"no DBT_BUILD_ARGS = [...] in {source}")


def peer(settings, month, landing: Path) -> None:  # noqa: ANN001 (Settings, Month)
    """The same dbt models run by plain `dbt build` after a plain DuckDB ingest (no Dagster,
    no great-expectations) into a fresh working database of $LMKPI_HOME."""
    from lmkpi.employment_plan import plans_in_force, store_plans
    from lmkpi.housing_scenarios import scenarios_in_force, store_scenarios
    from lmkpi.settings import DBT_PROJECT_DIR
    from lmkpi.warehouse.db import connect
    from lmkpi.warehouse.raw import ensure_raw_tables, load_population, set_run_window

    t0 = time.perf_counter()
    with connect(settings.work_db) as con:
        # The production DDL, plans and scenarios (as the dbt step stores them before dbt).
        ensure_raw_tables(con)
        store_plans(con, plans_in_force(settings.plans_dir))
        store_scenarios(con, scenarios_in_force(settings.scenarios_dir))
        for source, sql in PEER_SQL.items():
            file = landing / source / f"{source}_{month.key}.csv"
            if not file.exists():
                continue
            params = {"file": str(file), "month": month.first_day, "load_id": f"peer-{source}"}
            con.execute(sql, params)
            (rows,) = con.execute(
                f"select count(*) from raw.{source} where month = ?", [month.first_day]
            ).fetchone()
            log.info("peer: %s %d rows", source, rows)
    load_population(landing, settings.work_db, month)
    # What prepare_dbt_window does, without importing pipelines (Dagster): the window as data.
    with connect(settings.work_db) as con:
        set_run_window(con, month.first_day, month.end)
    t1 = time.perf_counter()
    dbt = Path(sys.executable).with_name("dbt")
    env = os.environ | {
        "LMKPI_WORK_DB": str(settings.work_db),
        "LMKPI_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    subprocess.run(
        [str(dbt), *production_build_args(), "--quiet"]
        + ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
        + ["--target-path", str(settings.dbt_target_dir)]
        + ["--log-path", str(settings.work_dir / "dbt-logs")],
        check=True,
        env=env,
    )
    log.info("TIMING ingest=%.4f dbt=%.4f", t1 - t0, time.perf_counter() - t1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("stage")
    parser.add_argument("--file", action="append", default=[])
    parser.add_argument("--month")
    parser.add_argument("--landing")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from lmkpi.months import Month
    from lmkpi.settings import get_settings

    settings = get_settings()
    month = Month.parse(args.month) if args.month else None
    files = [Path(f) for f in args.file]
    if args.stage == "floor":
        floor(files[0], month)
    elif args.stage in ("read", "validate"):
        read_and_validate(files, settings.pseudonym_key(), validate=args.stage == "validate")
    elif args.stage == "ingest":
        from lmkpi.errors import MissingDelivery
        from lmkpi.ingest import find_delivery
        from lmkpi.load import load_delivery
        from lmkpi.warehouse.raw import load_population

        for source in ("ydelser", "joblog", "indkvartering"):
            try:
                delivery = find_delivery(settings.landing_dir, source, month)
            except MissingDelivery:
                continue
            key = settings.pseudonym_key()
            load_delivery(delivery, settings, key=key, triggered_by="benchmark", force=True)
        load_population(settings.landing_dir, settings.work_db, month)
    elif args.stage == "dbt":
        from lmkpi.dbt_inprocess import DbtInvocation
        from pipelines.assets.dbt import prepare_dbt_window

        window = prepare_dbt_window(settings, month.first_day, month.end)
        invocation = DbtInvocation(window, settings).wait()  # as the dbt step runs it
        if not invocation.success:
            raise SystemExit("\n".join(invocation.failures()) or str(invocation.error))
    elif args.stage == "publish":
        from lmkpi.warehouse.publish import publish

        publish(settings.work_db, settings.warehouse_db)
    elif args.stage == "peer":
        peer(settings, month, Path(args.landing))
    else:
        parser.error(f"unknown stage {args.stage}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
