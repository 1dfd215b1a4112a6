"""What a month looked like (MonthProfile), and this month against the previous one.

Full-time persons (ydelser only): days of each segment inside the month / days in the month,
summed over the segments whose code counts in "offentlig forsørgelse" for plan goal 1
(`is_public_benefit_plan` in the benefit catalogue seed). No age filter, no overlap removal
and no `omfang` weighting: a rough, cheap control total, not the KPI itself (dbt computes
that).
"""

from dataclasses import dataclass, field

import polars as pl

from lmkpi.months import Month
from lmkpi.quality.suites import plan_benefit_codes
from lmkpi.settings import QualityConfig

CODE_COLUMN = {"ydelser": "ydelse", "joblog": "status"}


@dataclass(frozen=True)
class MonthProfile:
    """Per-municipality control totals of one delivered month, for distribution checks."""

    rows_by_municipality: dict[int, int]
    full_time_persons_by_municipality: dict[int, float] = field(default_factory=dict)
    codes: set[str] = field(default_factory=set)  # ydelser codes / joblog statuses present
    code_rows: dict[str, int] = field(default_factory=dict)  # rows per code

    def to_dict(self) -> dict:
        """JSON-ready (keys as strings), e.g. to keep with the load's audit record."""
        return {
            "rows_by_municipality": {str(k): v for k, v in self.rows_by_municipality.items()},
            "full_time_persons_by_municipality": {
                str(k): v for k, v in self.full_time_persons_by_municipality.items()
            },
            "codes": sorted(self.codes),
            "code_rows": dict(sorted(self.code_rows.items())),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "MonthProfile":
        return cls(
            rows_by_municipality={int(k): int(v) for k, v in data["rows_by_municipality"].items()},
            full_time_persons_by_municipality={
                int(k): float(v)
                for k, v in data.get("full_time_persons_by_municipality", {}).items()
            },
            codes=set(data.get("codes", [])),
            code_rows={str(k): int(v) for k, v in data.get("code_rows", {}).items()},
        )


def _full_time(frame: pl.DataFrame, month: Month) -> dict[int, float]:
    first, last = month.bounds
    days = month.days
    start = pl.max_horizontal(pl.col("startdato"), pl.lit(first))
    end = pl.min_horizontal(pl.col("slutdato").fill_null(last), pl.lit(last))
    in_month = ((end - start).dt.total_days() + 1).clip(lower_bound=0)
    totals = (
        frame.filter(
            pl.col("ydelse").is_in(sorted(plan_benefit_codes()))
            & pl.col("startdato").is_not_null()
            & pl.col("kommunekode").is_not_null()
        )
        .group_by("kommunekode")
        .agg((in_month.sum() / days).alias("fte"))
    )
    return {int(k): float(v) for k, v in totals.iter_rows()}


def profile(source: str, frame: pl.DataFrame, month: Month) -> MonthProfile:
    """The month's profile from the reader's frame (pure, polars)."""
    rows = frame.filter(pl.col("kommunekode").is_not_null()).group_by("kommunekode").len()
    code_column = CODE_COLUMN.get(source)
    code_rows: dict[str, int] = {}
    if code_column is not None and code_column in frame.columns:
        counts = frame.filter(pl.col(code_column).is_not_null()).group_by(code_column).len()
        code_rows = {str(k): int(v) for k, v in counts.iter_rows()}
    return MonthProfile(
        rows_by_municipality={int(k): int(v) for k, v in rows.iter_rows()},
        full_time_persons_by_municipality=_full_time(frame, month) if source == "ydelser" else {},
        codes=set(code_rows),
        code_rows=code_rows,
    )


def _change(now: pl.Expr, before: pl.Expr, floor: float) -> pl.Expr:
    """|now / before - 1| where `before` >= floor and the municipality is still there."""
    return pl.when((before >= floor) & (before > 0) & (now > 0)).then((now / before - 1).abs())


def municipality_frame(
    current: MonthProfile, previous: MonthProfile, config: QualityConfig
) -> pl.DataFrame:
    """One row per municipality in either month, with the columns the suites check."""
    codes = sorted(set(current.rows_by_municipality) | set(previous.rows_by_municipality))
    frame = pl.DataFrame(
        {
            "kommunekode": codes,
            "rows_previous": [previous.rows_by_municipality.get(c, 0) for c in codes],
            "rows_now": [current.rows_by_municipality.get(c, 0) for c in codes],
            "full_time_previous": [
                previous.full_time_persons_by_municipality.get(c, 0.0) for c in codes
            ],
            "full_time_now": [current.full_time_persons_by_municipality.get(c, 0.0) for c in codes],
        },
        schema={
            "kommunekode": pl.Int64,
            "rows_previous": pl.Int64,
            "rows_now": pl.Int64,
            "full_time_previous": pl.Float64,
            "full_time_now": pl.Float64,
        },
    )
    before, now = pl.col("rows_previous"), pl.col("rows_now")
    large = before >= config.min_rows_for_change
    gone = (before > 0) & (now == 0)
    return frame.with_columns(
        rows_change_share=_change(now, before, config.min_rows_for_change),
        full_time_change_share=_change(
            pl.col("full_time_now"), pl.col("full_time_previous"), config.min_full_time_for_change
        ),
        _municipality_missing=pl.when(large).then(gone),
        _small_municipality_missing=pl.when(~large).then(gone),
    )


def code_frame(
    current: MonthProfile, previous: MonthProfile, config: QualityConfig
) -> pl.DataFrame:
    """One row per status code in either month."""
    codes = sorted(
        set(current.code_rows) | set(previous.code_rows) | current.codes | previous.codes
    )
    # a profile that lists codes without counts: presence counts as enough rows
    enough = max(config.min_code_rows, 1)
    before = [previous.code_rows.get(c, enough if c in previous.codes else 0) for c in codes]
    frame = pl.DataFrame(
        {
            "code": codes,
            "rows_previous": before,
            "rows_now": [current.code_rows.get(c, 1 if c in current.codes else 0) for c in codes],
        },
        schema={"code": pl.Utf8, "rows_previous": pl.Int64, "rows_now": pl.Int64},
    )
    return frame.with_columns(
        _code_vanished=pl.when(pl.col("rows_previous") >= enough).then(pl.col("rows_now") == 0)
    )
