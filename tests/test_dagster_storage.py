"""lmkpi's Dagster instance: the SQLite event log with engines kept for the process."""

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from lmkpi.dagster_storage import LmkpiSqliteEventLogStorage
from lmkpi.orchestration import WRITTEN_BY_LMKPI, prepare_dagster_home
from lmkpi.settings import get_settings

OLD_LMKPI_YAML = """\
# Written by lmkpi. Telemetry off; one run at a time (one writer of the working database).
telemetry:
  enabled: false
"""


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="numbers")])
def numbers() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"rows": 3}, check_results=[dg.AssetCheckResult(passed=True)]
    )


def test_runs_are_stored_as_dagster_stores_them_and_read_by_any_process(lmkpi_home):
    settings = get_settings()
    home = prepare_dagster_home(settings)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, LmkpiSqliteEventLogStorage)
        first = dg.materialize([numbers], instance=instance)
        second = dg.materialize([numbers], instance=instance)
        assert first.success and second.success
        mine = instance.event_log_storage.get_logs_for_run(second.run_id)
        latest = instance.get_latest_materialization_event(dg.AssetKey("numbers"))
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("numbers"), "positive")]
        )

    # What the webserver (another process, Dagster's own storage class) reads from the files.
    plain = SqliteEventLogStorage(str(home / "history" / "runs"))
    theirs = plain.get_logs_for_run(second.run_id)
    assert [e.dagster_event_type for e in theirs] == [e.dagster_event_type for e in mine]
    assert len(mine) > 10
    assert latest is not None and latest.run_id == second.run_id
    assert latest.asset_materialization.metadata["rows"].value == 3
    (execution,) = check.values()
    assert execution.run_id == second.run_id


def test_an_earlier_lmkpi_dagster_yaml_is_rewritten_and_a_users_own_is_kept(lmkpi_home):
    settings = get_settings()
    config = settings.dagster_home / "dagster.yaml"
    config.write_text(OLD_LMKPI_YAML)
    prepare_dagster_home(settings)
    text = config.read_text()
    assert text.startswith(WRITTEN_BY_LMKPI) and "LmkpiSqliteEventLogStorage" in text

    own = "telemetry:\n  enabled: false\n"
    config.write_text(own)
    prepare_dagster_home(settings)
    assert config.read_text() == own
