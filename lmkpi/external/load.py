"""The load of one external file (a vintage of a Jobindsats or Statbank table).

The same steps as a person-level delivery (lmkpi.load): archive, the load in effect, read as
its spec says, validate with the suite made from the spec, then in one transaction replace the
vintage in ``raw.external_observations`` and record the audit, check results and rejected
rows. Every vintage is kept: the marts show the latest by default, earlier ones stay
queryable (``is_latest_vintage``).
"""

from lmkpi.external.read import read_external
from lmkpi.external.specs import spec_for
from lmkpi.external.validate import validate_external
from lmkpi.ingest import Delivery, FileRejected
from lmkpi.load import LoadOutcome, Rows, finish, refuse_read, start_record, unchanged
from lmkpi.settings import Settings
from lmkpi.warehouse.audit import ensure_audit_tables
from lmkpi.warehouse.db import connect
from lmkpi.warehouse.raw import ensure_raw_tables, replace_vintage


def _in_effect(con, delivery: Delivery) -> tuple[str, str] | None:  # noqa: ANN001
    row = con.execute(
        """
        select load_id, checksum_sha256 from audit.load_audit
        where source = ? and file_name = ? and outcome = 'loaded'
        order by finished_at desc limit 1
        """,
        [delivery.source, delivery.file_name],
    ).fetchone()
    return (row[0], row[1]) if row else None


def load_external(
    delivery: Delivery,
    settings: Settings,
    *,
    triggered_by: str,
    run_id: str | None = None,
    force: bool = False,
) -> LoadOutcome:
    """Load one vintage into ``raw.external_observations`` (module docstring)."""
    spec = spec_for(delivery.source, delivery.table)
    record = start_record(delivery, settings, triggered_by, run_id)
    with connect(settings.work_db) as con:
        ensure_audit_tables(con)
        ensure_raw_tables(con)
        previous = _in_effect(con, delivery)
    if previous and previous[1] == delivery.sha256 and not force:
        return unchanged(settings, record, previous[0])
    try:
        read = read_external(
            spec, delivery.path.read_bytes(), delivery.file_name, delivery.format, delivery.vintage
        )
    except FileRejected as exc:
        refuse_read(settings, record, delivery.month, exc)
        raise
    report = validate_external(read, settings.quality)
    frame, load_id = read.frame, record.load_id
    return finish(
        settings,
        record,
        report,
        Rows(read.encoding, read.rows_read, read.rows_loaded, read.rejects),
        superseded=previous[0] if previous else None,
        profile=None,
        write=lambda con: replace_vintage(con, delivery, frame, load_id),
    )
