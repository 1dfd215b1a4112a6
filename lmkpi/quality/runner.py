"""Run a suite scope on a frame through great-expectations 1.x (ephemeral context, pandas).

great_expectations is imported here, lazily, on the first validation (it costs seconds and
hundreds of MB: never at code-location load). One ephemeral context per process is built
once and reused. What leaves this module is only counts, line numbers and keys: GE's result
objects (which hold failing *values*) are dropped here, never logged or returned.

Cost (measured on a national month, ~0.9M ydelser rows, 31 row expectations): GE's
per-expectation overhead is ~20-40 ms whatever the size, and asking for the failing rows'
index (result format COMPLETE) filters the whole frame once per expectation. So a scope runs
in two passes: BASIC for every expectation (success and counts), then COMPLETE only for the
expectations that found failing rows, to get their line numbers. Code columns go to pandas
as categoricals and the violation flags as nullable booleans (object columns are slow).
"""

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

import polars as pl

log = logging.getLogger(__name__)

_LOCK = threading.RLock()
_RUNTIME: dict[str, Any] = {}
_MAX_CACHED_SUITES = 200
INDEX_COLUMN = "line_number"
_MAP_KWARGS = ("column", "column_A", "column_list")


@dataclass(frozen=True)
class RawOutcome:
    """What one expectation found: counts and every failing line number (or key)."""

    rule: str
    success: bool
    checked: int  # rows (or keys) the expectation judged: GE skips nulls in column rules
    unexpected_count: int
    unexpected_share: float  # unexpected_count / checked
    lines: list[int]  # failing line numbers (row scope), all of them, sorted
    keys: list[Any]  # failing keys (municipality / code scope)
    observed: Any  # table-level observed value (row count, columns), never row values
    error: str | None  # first words of the exception if it could not be evaluated


def _runtime() -> dict[str, Any]:
    with _LOCK:
        if not _RUNTIME:
            os.environ["GX_ANALYTICS_ENABLED"] = "false"  # no usage statistics, ever
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig
            from great_expectations.execution_engine import pandas_execution_engine

            # GE fingerprints every pandas batch by hashing the whole frame (~1.5 s per 1M
            # rows, twice per validation) unless it is larger than this threshold; the
            # fingerprint is unused here (ephemeral context, no stores), so turn it off.
            pandas_execution_engine.HASH_THRESHOLD = 0
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(
                globally=False, metric_calculations=False
            )
            asset = context.data_sources.add_pandas("lmkpi").add_dataframe_asset("frame")
            _RUNTIME.update(
                gx=gx,
                context=context,
                batch=asset.add_batch_definition_whole_dataframe("whole"),
                suites={},
            )
            log.debug("great-expectations %s ready (ephemeral context)", gx.__version__)
        return _RUNTIME


def _suite(runtime: dict[str, Any], name: str, expectations: list[dict]) -> Any:
    suites = runtime["suites"]
    if name not in suites:
        if len(suites) >= _MAX_CACHED_SUITES:
            for old in list(suites):
                runtime["context"].suites.delete(old)
            suites.clear()
        # GE re-serialises each expectation (meta included) dozens of times per validation;
        # it needs only the rule id to hand results back, so the long meta stays out (the
        # suite runs about twice as fast).
        slim = [dict(e, meta={"rule": e["meta"]["rule"]}) for e in expectations]
        suite = runtime["gx"].ExpectationSuite(name=name, expectations=slim)
        suites[name] = runtime["context"].suites.add(suite)
    return suites[name]


def to_pandas(frame: pl.DataFrame, categorical: list[str]) -> Any:
    """`frame` as pandas for GE: `categorical` columns as categories, booleans nullable."""
    import pandas as pd
    import pyarrow as pa

    cast = [c for c in categorical if c in frame.columns and frame.schema[c] == pl.Utf8]
    if cast:
        frame = frame.with_columns(pl.col(cast).cast(pl.Categorical))
    return frame.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _observed(value: Any) -> Any:
    """Table-level observations only (a row count or a list of column names)."""
    if isinstance(value, int | float) or hasattr(value, "item"):
        return _plain(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _validate(runtime: dict[str, Any], suite: Any, frame: Any, result_format: dict, params: dict):
    batch = runtime["batch"].get_batch(batch_parameters={"dataframe": frame})
    return batch.validate(suite, result_format=result_format, expectation_parameters=params)


def _error(res: Any) -> str | None:
    info = res.exception_info or {}
    if not info.get("raised_exception"):
        return None
    # first words only (e.g. "Error: The column 'x' in BatchData does not exist"): column
    # names, never values
    message = str(info.get("exception_message") or "exception").splitlines()[0]
    return message[:120]


def is_flag_rule(expectation: dict, flags: pl.DataFrame | None) -> bool:
    """A derived violation flag checked with value_set [false] (see lmkpi.quality.derived)."""
    kwargs = expectation["kwargs"]
    return (
        flags is not None
        and expectation["type"] == "expect_column_values_to_be_in_set"
        and kwargs.get("value_set") == [False]
        and kwargs.get("column") in flags.columns
    )


def warm_up() -> None:
    """Import great-expectations and build the context now (the validation worker does this
    as it starts: lmkpi.quality.worker)."""
    _runtime()


def run_suite(
    suite_kwargs: dict,
    frame: pl.DataFrame,
    categorical: list[str],
    parameters: dict[str, Any],
    key_column: str,
    flags: pl.DataFrame | None = None,
) -> list[RawOutcome]:
    """``run_suite_here``, in the validation worker when this process started one
    (lmkpi.quality.worker), else here."""
    from lmkpi.quality import worker

    args = (suite_kwargs, frame, categorical, parameters, key_column, flags)
    if worker.running():
        outcomes = worker.run(*args)
        if outcomes is not None:
            return outcomes
    return run_suite_here(*args)


def run_suite_here(
    suite_kwargs: dict,
    frame: pl.DataFrame,
    categorical: list[str],
    parameters: dict[str, Any],
    key_column: str,
    flags: pl.DataFrame | None = None,
) -> list[RawOutcome]:
    """Validate `frame` against the suite; one RawOutcome per expectation, in order. The
    frame goes to great-expectations as pandas, `categorical` columns as categories.

    `key_column` identifies failing rows: `line_number` for the month's rows, else the
    comparison frame's key (kommunekode, code). `flags` (polars: `key_column` and the derived
    flag columns) gives the failing rows of flag rules directly: the rows where the flag GE
    counted is true. Asking GE for them would build a dict per failing row (a minute for a
    broken national month); the second GE pass is left for GE's own column rules.
    """
    name, expectations = suite_kwargs["name"], suite_kwargs["expectations"]
    frame = to_pandas(frame, categorical)
    with _LOCK:  # one validation at a time per process (shared context)
        runtime = _runtime()
        basic = _validate(
            runtime,
            _suite(runtime, name, expectations),
            frame,
            {"result_format": "BASIC", "partial_unexpected_count": 0},
            parameters,
        )
        first = {res.expectation_config.meta["rule"]: res for res in basic.results}
        del basic
        failing = [
            e
            for e in expectations
            if any(k in e["kwargs"] for k in _MAP_KWARGS)
            and _error(first[e["meta"]["rule"]]) is None
            and (first[e["meta"]["rule"]].result or {}).get("unexpected_count")
        ]
        where: dict[str, list[Any]] = {}
        for e in [e for e in failing if is_flag_rule(e, flags)]:
            assert flags is not None
            column = e["kwargs"]["column"]
            where[e["meta"]["rule"]] = flags.filter(pl.col(column)).get_column(key_column).to_list()
        failing = [e for e in failing if e["meta"]["rule"] not in where]
        if failing:
            rules = sorted(e["meta"]["rule"] for e in failing)
            complete = _validate(
                runtime,
                _suite(runtime, f"{name}:{','.join(rules)}", failing),
                frame,
                {
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": [key_column],
                    "partial_unexpected_count": 0,
                    "return_unexpected_index_query": False,
                },
                parameters,
            )
            for res in complete.results:
                index = (res.result or {}).get("unexpected_index_list") or []
                where[res.expectation_config.meta["rule"]] = [
                    _plain(row[key_column]) for row in index if isinstance(row, dict)
                ]
            del complete

    outcomes = []
    for e in expectations:
        rule = e["meta"]["rule"]
        res = first[rule]
        error = _error(res)
        if error is not None:
            log.warning("expectation %s could not be evaluated: %s", rule, error)
        body = res.result or {}
        percent = body.get("unexpected_percent")
        keys = where.get(rule, [])
        outcomes.append(
            RawOutcome(
                rule=rule,
                success=bool(res.success) and error is None,
                checked=int(_plain(body.get("element_count") or 0))
                - int(_plain(body.get("missing_count") or 0)),
                unexpected_count=int(_plain(body.get("unexpected_count") or 0)),
                unexpected_share=float(percent) / 100 if percent is not None else 0.0,
                lines=sorted(int(k) for k in keys) if key_column == INDEX_COLUMN else [],
                keys=[] if key_column == INDEX_COLUMN else keys,
                observed=_observed(body.get("observed_value")),
                error=error,
            )
        )
    return outcomes
