"""The code location loads, with the shape the BI team relies on."""

from datetime import datetime

import dagster as dg


def test_definitions_load(dbt_manifest):
    from pipelines.definitions import defs

    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {
        "raw/ydelser",
        "raw/joblog",
        "raw/indkvartering",
        "raw/population",
        "marts/fct_full_time_persons",
        "marts/fct_public_benefits",
        "marts/fct_goal_indicators",
        "warehouse/lmkpi",
        "reports/benchmarking_report",
    } <= keys
    job = defs.resolve_job_def("monthly_load")
    partitions = job.partitions_def
    assert partitions is not None
    assert partitions.get_first_partition_key() == "2017-01-01"
    # Every asset of the monthly job shares the monthly partitions.
    for key in keys:
        assert repo.asset_graph.get(dg.AssetKey.from_user_string(key)).partitions_def == partitions


def test_schedule_loads_previous_month_when_files_are_there(lmkpi_home, dbt_manifest):
    from lmkpi.settings import get_settings
    from pipelines.definitions import defs

    from extract_builders import MARCH_2019, write_ydelser

    schedule = defs.get_schedule_def("monthly_schedule")
    tick = datetime(2019, 4, 10, 6, 0)
    with dg.build_schedule_context(
        scheduled_execution_time=tick,
        repository_def=defs.get_repository_def(),
        resources={"lmkpi": defs.resources["lmkpi"]},
    ) as context:
        result = schedule.evaluate_tick(context)
    assert result.skip_message and "2019-03: waiting for ydelser" in result.skip_message

    write_ydelser(get_settings().landing_dir, "2019-03", MARCH_2019)
    with dg.build_schedule_context(
        scheduled_execution_time=tick,
        repository_def=defs.get_repository_def(),
        resources={"lmkpi": defs.resources["lmkpi"]},
    ) as context:
        result = schedule.evaluate_tick(context)
    [request] = result.run_requests
    assert request.partition_key == "2019-03-01"
    assert request.tags["lmkpi/triggered_by"] == "schedule"


def test_sensor_starts_a_run_for_new_and_changed_files(lmkpi_home, dbt_manifest):
    from lmkpi.settings import get_settings
    from pipelines.definitions import defs

    from extract_builders import APRIL_2019, MARCH_2019, write_ydelser

    landing = get_settings().landing_dir
    sensor = defs.get_sensor_def("landing_sensor")
    with dg.instance_for_test() as instance:
        resources = {"lmkpi": defs.resources["lmkpi"]}
        ctx = dg.build_sensor_context(
            instance=instance, repository_def=defs.get_repository_def(), resources=resources
        )
        assert sensor.evaluate_tick(ctx).skip_message.startswith("no new or changed files")

        write_ydelser(landing, "2019-03", MARCH_2019)
        (landing / "ydelser" / "notes.txt").write_text("not a delivery")
        result = sensor.evaluate_tick(ctx)
        assert [r.partition_key for r in result.run_requests] == ["2019-03-01"]
        ctx = dg.build_sensor_context(
            instance=instance,
            cursor=result.cursor,
            repository_def=defs.get_repository_def(),
            resources=resources,
        )
        assert not sensor.evaluate_tick(ctx).run_requests  # nothing new

        write_ydelser(landing, "2019-04", APRIL_2019)
        write_ydelser(landing, "2019-03", MARCH_2019[:2])  # a corrected March
        result = sensor.evaluate_tick(ctx)
        assert sorted(r.partition_key for r in result.run_requests) == ["2019-03-01", "2019-04-01"]


def test_dbt_runs_in_process_on_the_manifest_the_assets_were_built_from(lmkpi_home):
    """The in-process runner's manifest (partial_parse.msgpack) holds exactly the nodes of the
    manifest.json the Dagster assets come from, and each home gets a profile of its own with
    the run's settings, readable by its owner only."""
    import json
    import stat

    from lmkpi.dbt_inprocess import prepared_manifest, write_profile
    from lmkpi.settings import get_settings
    from pipelines.dbt_project import lmkpi_dbt_project

    manifest = prepared_manifest()
    assets_manifest = json.loads(lmkpi_dbt_project.manifest_path.read_text())
    assert set(manifest.nodes) == set(assets_manifest["nodes"])
    assert prepared_manifest() is manifest  # read once per process

    settings = get_settings(duckdb_memory_limit="1GB")
    folder = write_profile(settings)
    profile = (folder / "profiles.yml").read_text()
    assert f"path: '{settings.work_db}'" in profile
    assert "memory_limit: '1GB'" in profile
    assert stat.S_IMODE((folder / "profiles.yml").stat().st_mode) == 0o600


def test_each_source_has_four_grouped_checks_with_every_rule_in_them(dbt_manifest):
    """Issue 18: one check per suite severity (plus the reader's two), not one per rule: a
    check costs three stored Dagster events per run."""
    from lmkpi.quality import check_catalogue
    from pipelines.checks import check_results
    from pipelines.definitions import defs

    repo = defs.get_repository_def()
    graph = repo.asset_graph
    checks = {
        (k.asset_key.to_user_string(), k.name): graph.get_check_spec(k).blocking
        for k in graph.asset_check_keys
        if k.asset_key.path[0] == "raw"
    }
    for source in ("ydelser", "joblog", "indkvartering"):
        mine = {name: b for (asset, name), b in checks.items() if asset == f"raw/{source}"}
        assert mine == {
            "suite_critical": True,
            "file_accepted": True,
            "suite_warnings": False,
            "reader_row_rules": False,
        }, source
        # no rule falls outside the groups: every one is in exactly one check's results
        results = check_results(source, [])
        assert {r.check_name for r in results} == set(mine)
        assert all(r.passed for r in results)  # nothing checked, nothing failed
    assert len(check_catalogue("ydelser")) > 40
