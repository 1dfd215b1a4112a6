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


def floor(file: Path, month) -> None:  # noqa: ANN001 (lmkpi.months.Month)
    """DuckDB alone: scan the month's file and compute full-time persons per municipality x
    benefit in one query: the physical limit for this work on this machine."""
    import duckdb

    rows = duckdb.execute(FLOOR_SQL, [str(file), month.first_day]).fetchall()
    log.info("floor: %d groups", len(rows))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("stage")
    parser.add_argument("--file")
    parser.add_argument("--month")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from lmkpi.months import Month
    from lmkpi.settings import get_settings

    settings = get_settings()
    month = Month.parse(args.month) if args.month else None
    if args.stage == "floor":
        floor(Path(args.file), month)
    elif args.stage in ("read", "validate"):
        from lmkpi.ingest import Delivery, read_extract

        delivery = Delivery.at(Path(args.file), "ydelser")
        result = read_extract(delivery, key=settings.pseudonym_key())
        log.info("read %d rows", result.rows_read)
        if args.stage == "validate":
            from lmkpi.quality import validate

            report = validate("ydelser", result.frame, month=month, file_name=delivery.file_name)
            log.info("validated in %.2f s", report.seconds)
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
        from lmkpi.dbt_child import dbt_child_flags
        from lmkpi.settings import DBT_PROJECT_DIR
        from pipelines.assets.dbt import prepare_dbt_window

        dbt = Path(sys.executable).with_name("lmkpi-dbt")
        window = prepare_dbt_window(settings.work_db, month.first_day, month.end)
        subprocess.run(
            [str(dbt), *dbt_child_flags(settings), *window, "--quiet"]
            + ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
            + ["--target-path", str(settings.dbt_target_dir)],
            check=True,
        )
    elif args.stage == "publish":
        from lmkpi.warehouse.publish import publish

        publish(settings.work_db, settings.warehouse_db)
    else:
        parser.error(f"unknown stage {args.stage}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
