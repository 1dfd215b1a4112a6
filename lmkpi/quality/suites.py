"""The expectation suites in `expectations/<source>.json`: loading, checking, parameters.

A suite is a great-expectations 1.x ExpectationSuite as JSON (loadable with
`gx.ExpectationSuite(**json.load(f))`). Every expectation carries
`meta = {rule, severity, reject_rows, scope, message}`:

- `rule`: stable id, unique in the suite (used in reports, asset checks, rejects);
- `severity`: `critical` (a failure blocks the month), `warning` (loads, stays visible) or
  `info`; equal to the expectation's own GE `severity`;
- `reject_rows`: the failing rows go to the rejects table (row rules only); such rules take
  `mostly = {"$PARAMETER": "reject_mostly"}` (1 - max_reject_share), so a few bad rows are
  rejected and the check still passes, while more than the share fails it (and blocks);
- `scope`: the frame the expectation runs on: `rows` (the month's rows plus the derived
  violation flags of `lmkpi.quality.derived`), `municipalities` (one row per municipality:
  this month against the previous) or `codes` (one row per status code);
- `message`: what is wrong and what to do (no values).

Values that are reference data or settings are suite parameters (`{"$PARAMETER": name}`),
filled at validation time by `parameters()` from the seeds, the contracts and QualityConfig.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import polars as pl

from lmkpi import contracts
from lmkpi.contracts import CONTRACTS, output_schema
from lmkpi.errors import ConfigurationError
from lmkpi.settings import EXPECTATIONS_DIR, SEEDS_DIR, QualityConfig

Severity = Literal["critical", "warning", "info"]
Scope = Literal["rows", "municipalities", "codes"]
SEVERITIES: tuple[str, ...] = ("critical", "warning", "info")
SCOPES: tuple[str, ...] = ("rows", "municipalities", "codes")
_META_KEYS = {"rule", "severity", "reject_rows", "scope", "message"}


class SuiteError(ConfigurationError):
    """A suite file breaks the conventions above (a repository problem, not a delivery one)."""


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, as the runner and the reports need it."""

    rule: str
    expectation_type: str
    column: str | None
    severity: Severity
    reject_rows: bool
    scope: Scope
    message: str
    config: dict  # the expectation as in the JSON (type, kwargs, severity, meta)


def suite_path(source: str, directory: Path = EXPECTATIONS_DIR) -> Path:
    if source not in CONTRACTS:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(CONTRACTS)}")
    return directory / f"{source}.json"


def _column_of(kwargs: dict) -> str | None:
    if "column" in kwargs:
        return kwargs["column"]
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    return None


def _check(source: str, raw: dict) -> list[Rule]:
    if raw.get("name") != source:
        raise SuiteError(f"suite {source}: its name is {raw.get('name')!r}, not {source!r}")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, exp in enumerate(raw.get("expectations", [])):
        meta = exp.get("meta") or {}
        where = f"suite {source}, expectation {i + 1} ({exp.get('type')})"
        missing = _META_KEYS - set(meta)
        if missing:
            raise SuiteError(f"{where}: meta lacks {', '.join(sorted(missing))}")
        rule, severity, scope = meta["rule"], meta["severity"], meta["scope"]
        if rule in seen:
            raise SuiteError(f"{where}: rule {rule!r} appears twice")
        seen.add(rule)
        if severity not in SEVERITIES or exp.get("severity", "critical") != severity:
            raise SuiteError(f"{where}: severity must be one of {SEVERITIES} in meta and GE")
        if scope not in SCOPES:
            raise SuiteError(f"{where}: scope must be one of {SCOPES}")
        if not isinstance(meta["reject_rows"], bool):
            raise SuiteError(f"{where}: reject_rows must be true or false")
        if meta["reject_rows"] and scope != "rows":
            raise SuiteError(f"{where}: only row rules can reject rows")
        kwargs = exp.get("kwargs", {})
        rules.append(
            Rule(
                rule=rule,
                expectation_type=exp["type"],
                column=_column_of(kwargs),
                severity=severity,
                reject_rows=meta["reject_rows"],
                scope=scope,
                message=meta["message"],
                config=exp,
            )
        )
    if not rules:
        raise SuiteError(f"suite {source} has no expectations")
    return rules


@cache
def load_rules(source: str, directory: Path = EXPECTATIONS_DIR) -> tuple[Rule, ...]:
    """The checked rules of `source`'s suite, in file order."""
    path = suite_path(source, directory)
    with path.open(encoding="utf-8") as f:
        raw = json.load(f)
    return tuple(_check(source, raw))


def suite_json(source: str, scope: Scope, directory: Path = EXPECTATIONS_DIR) -> dict:
    """The part of `source`'s suite that runs on `scope`, as ExpectationSuite kwargs."""
    exps = [r.config for r in load_rules(source, directory) if r.scope == scope]
    return {"name": f"{source}.{scope}", "expectations": exps}


def referenced_columns(rules: tuple[Rule, ...] | list[Rule]) -> list[str]:
    """Columns the expectations read, in first-use order (what GE needs of the frame)."""
    names: list[str] = []
    for r in rules:
        kwargs = r.config.get("kwargs", {})
        for key in ("column", "column_A", "column_B"):
            if isinstance(kwargs.get(key), str):
                names.append(kwargs[key])
        names += kwargs.get("column_list", [])
    return list(dict.fromkeys(names))


@cache
def _seed_values(seed: str, column: str) -> tuple:
    frame = pl.read_csv(SEEDS_DIR / f"{seed}.csv", columns=[column])
    return tuple(sorted(frame.get_column(column).drop_nulls().unique().to_list()))


def parameters(source: str, config: QualityConfig) -> dict[str, object]:
    """Values of the suite parameters (`$PARAMETER`) for `source`."""
    return {
        "contract_columns": list(output_schema(source)),
        "municipality_codes": [int(c) for c in _seed_values("municipalities", "kommunekode")],
        "benefit_codes": list(_seed_values("benefit_catalogue", "benefit_code")),
        "visitation_codes": list(contracts.VISITATION),
        "tilbud_codes": list(contracts.TILBUD),
        "herkomst_codes": list(contracts.HERKOMST),
        "flygtningestatus_codes": list(contracts.FLYGTNINGESTATUS),
        "joblog_status_codes": list(contracts.JOBLOG_STATUS),
        "reject_mostly": config.reject_mostly,
        "max_change_share": config.max_change_share,
    }


@cache
def plan_benefit_codes() -> frozenset[str]:
    """Codes counted in "offentlig forsørgelse" for plan goal 1 (benefit catalogue seed)."""
    frame = pl.read_csv(
        SEEDS_DIR / "benefit_catalogue.csv",
        columns=["benefit_code", "is_public_benefit_plan"],
        schema_overrides={"is_public_benefit_plan": pl.Utf8},
    )
    chosen = frame.filter(pl.col("is_public_benefit_plan").str.to_lowercase() == "true")
    return frozenset(chosen.get_column("benefit_code").to_list())
