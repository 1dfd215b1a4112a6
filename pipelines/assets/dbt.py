"""dbt models as Dagster assets, run for the partition window [start, end).

dbt runs in the step's own process on the prepared manifest (``lmkpi.dbt_inprocess``); its
finished-node events become Dagster events through dagster-dbt's own translation, as when
it ran as a child process. The window reaches dbt as data (``raw.run_window``, read by
macros/month_window.sql), not as ``--vars``: one manifest serves every window.
"""

import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    dbt_assets,
)
from dagster_dbt.asset_utils import (
    extract_runtime_selection_from_args,
    get_updated_cli_invocation_params_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from lmkpi.dbt_inprocess import DbtInvocation
from lmkpi.employment_plan import PlanError, plans_in_force, store_plans
from lmkpi.housing_scenarios import ScenarioError, scenarios_in_force, store_scenarios
from lmkpi.logs import quiet_stdout
from lmkpi.months import Month
from lmkpi.permissions import private_tree
from lmkpi.settings import Settings, dbt_threads_for
from lmkpi.warehouse.db import connect, writer_lock
from lmkpi.warehouse.pending import latest_loaded_month, pending_months, rebuild_window
from lmkpi.warehouse.raw import ensure_raw_tables, set_run_window
from pipelines.dbt_project import lmkpi_dbt_project
from pipelines.partitions import monthly_partitions
from pipelines.resources import LmkpiSettings

log = logging.getLogger(__name__)


class LmkpiDbtTranslator(DagsterDbtTranslator):
    """Groups follow the dbt layers: reference (seeds), staging, intermediate, marts."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "models"


DBT_BUILD_ARGS = ["build", "--exclude", "test_type:unit"]
"""dbt's unit tests check SQL logic on fixed inputs, not the month's data: they run in the
test suite (tests/test_dbt_project.py), not in every load."""

DBT_WINDOW_ARGS = [
    *["build", "--select", "+tag:monthly", "--exclude", "test_type:unit"],
    *["--resource-type", "model", "--resource-type", "seed", "--resource-type", "test"],
    *["--indirect-selection", "cautious"],  # not the tests that also read an unbuilt model
]
"""An earlier window of a long rebuild: the month-by-month models (tag ``monthly``), what they
read, and their tests, which check the window's months (``meta: month_window``). The last
window runs the whole ``DBT_BUILD_ARGS`` build: every table, every test."""


def month_windows(start: date, end: date, size: int) -> list[tuple[date, date]]:
    """[start, end) cut into consecutive half-open windows of at most ``size`` months.

    A long rebuild (a backfill, a restatement of years) runs dbt once per window, oldest
    first: each window's person-level models read the month before it from their own table
    (the spells carried across windows, as across monthly loads), so memory and sort sizes
    follow the window, not the history. The last window may be shorter.
    """
    last = Month.of(end - timedelta(days=1))
    windows = []
    month = Month.of(start)
    while month <= last:
        if month.months_until(last) < size:
            windows.append((month.first_day, end))
            break
        windows.append((month.first_day, (month + size).first_day))
        month = month + size
    return windows


plan_goals = dg.AssetSpec(
    key=["raw", "plan_goals"],
    group_name="ingest",
    partitions_def=monthly_partitions,
    kinds={"duckdb"},
    description=(
        "The employment plans in force ($LMKPI_HOME/plans/beskaeftigelsesplan_<YYYY>.csv|yaml, "
        "validated; the shipped 2019 plan by default), written by the dbt step before each "
        "dbt run (docs/plans.md). A bad plan fails the step: nothing is published."
    ),
)

housing_scenarios = dg.AssetSpec(
    key=["raw", "housing_scenarios"],
    group_name="ingest",
    partitions_def=monthly_partitions,
    kinds={"duckdb"},
    description=(
        "The housing scenarios in force ($LMKPI_HOME/scenarios/housing_<name>.yaml, "
        "validated), written by the dbt step before each dbt run (docs/housing_scenarios.md)."
    ),
)

run_window = dg.AssetSpec(
    key=["raw", "run_window"],
    group_name="ingest",
    partitions_def=monthly_partitions,
    kinds={"duckdb"},
    description=(
        "The month window [start, end) dbt's incremental models rebuild, and the first month of "
        "history: a one-row table the dbt step writes itself before each dbt run "
        "(prepare_dbt_window), read by the models through the month_window macros. It is not "
        "materialized on its own."
    ),
)


def prepare_dbt_window(
    settings: Settings, start: date, end: date, *, final: bool = True
) -> list[str]:
    """Write the window [start, end) where the models read it; return the dbt command (the
    whole build, or ``final=False``: an earlier window of a long rebuild), with the threads
    for the window's size (``dbt_threads_for``)."""
    with connect(settings.work_db) as con:
        set_run_window(con, start, end)
        (rows,) = con.execute(
            "select count(*) from raw.ydelser where month >= ? and month < ?", [start, end]
        ).fetchone()
    threads = dbt_threads_for(settings, rows)
    return [*(DBT_BUILD_ARGS if final else DBT_WINDOW_ARGS), "--threads", str(threads)]


@dbt_assets(
    manifest=lmkpi_dbt_project.manifest_path,
    project=lmkpi_dbt_project,
    partitions_def=monthly_partitions,
    # One step per backfill; dbt runs over the window in LMKPI_DBT_WINDOW_MONTHS pieces.
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=LmkpiDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def lmkpi_dbt_models(context: dg.AssetExecutionContext, lmkpi: LmkpiSettings):
    window = context.partition_time_window
    settings = lmkpi.get()
    with writer_lock(settings.work_dir):
        # The plans in force, validated (a bad plan fails here: nothing is published); a
        # changed plan rebuilds the goals even when no month changed.
        try:
            plans = plans_in_force(settings.plans_dir)
            scenarios = scenarios_in_force(settings.scenarios_dir)
        except (PlanError, ScenarioError) as exc:  # the BI team's files: fail at once
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        with connect(settings.work_db) as con:
            ensure_raw_tables(con)
            plans_changed = store_plans(con, plans)
            scenarios_changed = store_scenarios(con, scenarios)
        if plans_changed:
            log.info("plans in force: %s", ", ".join(f"{p.label} ({p.path.name})" for p in plans))
        if scenarios_changed:
            names = ", ".join(s.name for s in scenarios) or "none (the baseline only)"
            log.info("housing scenarios in force: %s", names)
        plans_changed = plans_changed or scenarios_changed
        # What changed since the last publication, and every later month (pending.py).
        rebuild = rebuild_window(
            (window.start.date(), window.end.date()),
            pending_months(settings.work_db),
            latest_loaded_month(settings.work_db),
            force=context.run.tags.get("lmkpi/force") == "true" or plans_changed,
        )
        if rebuild is None:
            context.log.info(
                "no month changed since the last publication: dbt is not run and nothing is "
                "published (lmkpi load --force rebuilds anyway)"
            )
            return
        start, end = rebuild.start, rebuild.end
        context.log.info(f"dbt window {start}..{end} ({rebuild.reason})")
        log.info(
            "dbt build %s..%s (%s)",
            Month.of(start),
            Month.of(end - timedelta(days=1)),
            rebuild.reason,
        )
        t0 = time.perf_counter()
        earlier_tests = 0
        windows = month_windows(start, end, settings.dbt_window_months)
        for i, (w_start, w_end) in enumerate(windows[:-1], start=1):
            # Earlier windows: their events are not the step's (each model is materialized
            # once, by the last window); a failed model or test stops the run here.
            label = f"{Month.of(w_start)}..{Month.of(w_end - timedelta(days=1))}"
            context.log.info(f"dbt window {i}/{len(windows)}: {label}")
            log.info("dbt window %d/%d: %s", i, len(windows), label)
            args = prepare_dbt_window(settings, w_start, w_end, final=False)
            results = _window_results(DbtInvocation(args, settings).wait(), label)
            counts = Counter(r["unique_id"].split(".")[0] for r in results)
            test_s = sum(r["execution_time"] for r in results if r["unique_id"].startswith("test."))
            log.info(
                "dbt window %d/%d: %s: %d models and seeds built, %d tests passed (%.1f s)",
                i,
                len(windows),
                label,
                counts["model"] + counts["seed"],
                counts["test"],
                test_s,
            )
            earlier_tests += counts["test"]
        w_start, w_end = windows[-1]
        if len(windows) > 1:
            label = f"{Month.of(w_start)}..{Month.of(w_end - timedelta(days=1))}"
            context.log.info(f"dbt window {len(windows)}/{len(windows)}: {label}, all tests")
            log.info("dbt window %d/%d: %s, all tests", len(windows), len(windows), label)
        args = prepare_dbt_window(settings, w_start, w_end)
        built = checked = 0
        for event in _dagster_events(context, args, settings):
            built += isinstance(event, dg.Output | dg.AssetMaterialization)
            checked += isinstance(event, dg.AssetCheckResult)
            yield event
        log.info(
            "dbt built %d models and seeds and ran %d tests (%d more in earlier windows) in %.0f s",
            built,
            checked,
            earlier_tests,
            time.perf_counter() - t0,
        )


def _dagster_events(
    context: dg.AssetExecutionContext, args: list[str], settings: Settings
) -> Iterator[Any]:
    """Run ``args`` for the step's selected dbt assets and yield their Dagster events as the
    nodes finish (dagster-dbt's translation of dbt's result events); a failed model or test
    fails the step after its events, naming each failed node."""
    cleaned, selects, excludes = extract_runtime_selection_from_args(args)
    params = get_updated_cli_invocation_params_for_context(
        context=context,
        manifest=lmkpi_dbt_project.manifest_path,
        dagster_dbt_translator=LmkpiDbtTranslator(),
        runtime_selects=selects,
        runtime_excludes=excludes,
    )
    if params.indirect_selection:
        cleaned += ["--indirect-selection", params.indirect_selection]
    invocation = DbtInvocation([*cleaned, *params.selection_args], settings)
    if params.dbt_project:  # dagster-dbt's copy of the project for a very large selection
        invocation.project_dir = Path(params.dbt_project.project_dir)
    # dbt's line for each node goes to stdout, which Dagster keeps as the step's compute log
    # (as dbt prints it when it runs on its own); on the quiet CLI it is held, and its last
    # lines shown if dbt fails (lmkpi.logs.quiet_stdout).
    with quiet_stdout(log, "dbt"):
        for raw in invocation.events():
            sys.stdout.write(raw["info"]["msg"] + "\n")
            event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
            yield from event.to_default_asset_events(
                manifest=params.manifest,
                dagster_dbt_translator=params.dagster_dbt_translator,
                context=context,
                target_path=settings.dbt_target_dir,
                project=params.dbt_project,
            )
    private_tree(settings.dbt_target_dir)
    if not invocation.success:
        raise _dbt_failure(invocation, "dbt failed")


def _dbt_failure(invocation: DbtInvocation, what: str, **metadata: Any) -> dg.Failure:
    """A failed dbt run, naming every failed node (and dbt's own error, if it stopped)."""
    lines = invocation.failures()
    if invocation.error is not None:
        lines.append(f"{type(invocation.error).__name__}: {invocation.error}")
    return dg.Failure(
        description=f"{what}:\n" + "\n".join(lines or ["see dbt.log in the dbt target folder"]),
        metadata={"failed_nodes": len(invocation.failures()), **metadata},
    )


def _window_results(invocation: DbtInvocation, label: str) -> list[dict[str, Any]]:
    """The nodes an earlier window ran; a failed model or test stops the run with the
    window's months and each failure's node and message."""
    if not invocation.success or invocation.failures():
        raise _dbt_failure(invocation, f"dbt failed in the window {label}", window=label)
    return invocation.results


def mart_keys() -> list[dg.AssetKey]:
    return [k for k in lmkpi_dbt_models.keys if k.path[-1].startswith(("fct_", "dim_"))]
