"""One stage of a national month, run as its own process so it can be timed whole.

python -m benchmarks.stages floor    --file F
python -m benchmarks.stages read     --file F --month M
python -m benchmarks.stages validate --file F --month M
python -m benchmarks.stages ingest   --month M          (all sources, into $LMKPI_HOME)
python -m benchmarks.stages dbt      --month M
python -m benchmarks.stages publish
"""

import argparse
import logging
import os
import subprocess
import sys
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


def floor(file: Path, month: str) -> None:
    """DuckDB alone: scan the month's file and compute full-time persons per municipality x
    benefit in one query: the physical limit for this work on this machine."""
    import duckdb

    rows = duckdb.execute(FLOOR_SQL, [str(file), f"{month}-01"]).fetchall()
    log.info("floor: %d groups", len(rows))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("stage")
    parser.add_argument("--file")
    parser.add_argument("--month")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from lmkpi.settings import get_settings, pseudonym_key

    settings = get_settings()
    if args.stage == "floor":
        floor(Path(args.file), args.month)
    elif args.stage in ("read", "validate"):
        from lmkpi.ingest import read_extract

        result = read_extract("ydelser", Path(args.file), month=args.month, key=pseudonym_key())
        log.info("read %d rows", result.rows_read)
        if args.stage == "validate":
            from lmkpi.quality import validate

            report = validate(
                "ydelser", result.frame, month=args.month, file_name=Path(args.file).name
            )
            log.info("validated in %.2f s", report.seconds)
    elif args.stage == "ingest":
        from lmkpi.warehouse.load import MissingDelivery, load_month
        from lmkpi.warehouse.raw import load_population

        for source in ("ydelser", "joblog", "indkvartering"):
            try:
                load_month(
                    source=source,
                    month=args.month,
                    landing_dir=settings.landing_dir,
                    archive_dir=settings.archive_dir,
                    work_db=settings.work_db,
                    key=pseudonym_key(),
                    triggered_by="benchmark",
                    force=True,
                )
            except MissingDelivery:
                pass
        load_population(settings.landing_dir, settings.work_db, args.month)
    elif args.stage == "dbt":
        from lmkpi.months import next_month, parse_month
        from lmkpi.settings import DBT_PROJECT_DIR
        from pipelines.assets.dbt import dbt_target_path, prepare_dbt_window

        start = parse_month(args.month)
        dbt = Path(sys.executable).with_name("dbt")
        cmd = [str(dbt), *prepare_dbt_window(settings.work_db, start, next_month(start))]
        subprocess.run(
            [*cmd, "--quiet", "--project-dir", str(DBT_PROJECT_DIR)]
            + ["--profiles-dir", str(DBT_PROJECT_DIR)]
            + ["--target-path", str(dbt_target_path(settings))],
            check=True,
            env=os.environ | {"LMKPI_WORK_DB": str(settings.work_db)},
        )
    elif args.stage == "publish":
        from lmkpi.warehouse.publish import publish

        publish(settings.work_db, settings.warehouse_db)
    else:
        parser.error(f"unknown stage {args.stage}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
