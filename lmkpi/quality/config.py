"""Quality thresholds, read from the environment at call time (defaults make the demo work).

- `max_change_share` (LMKPI_QUALITY_MAX_CHANGE, default 0.25): a municipality's rows or
  full-time persons may change by at most this share from the previous month (else warning).
- `min_rows_for_change` (LMKPI_QUALITY_MIN_ROWS, 50): rows a municipality must have had last
  month before its change is judged, and before its disappearance blocks the month (a smaller
  municipality that disappears is a warning).
- `min_full_time_for_change` (LMKPI_QUALITY_MIN_FULL_TIME, 20): full-time persons a
  municipality must have had last month before their change is judged.
- `min_code_rows` (LMKPI_QUALITY_MIN_CODE_ROWS, 5): rows a status code must have had last month
  before its disappearance is reported.
- `max_reject_share` (LMKPI_QUALITY_MAX_REJECT_SHARE, 0.01): share of a file's rows that may be
  rejected, per row rule (GE `mostly` = 1 - share) and in all (`rows_rejected_share`), before
  the month is blocked.
"""

import os
from dataclasses import dataclass, fields


class QualityConfigError(ValueError):
    """A quality setting in the environment is not a valid number."""


_ENV = {
    "max_change_share": "LMKPI_QUALITY_MAX_CHANGE",
    "min_rows_for_change": "LMKPI_QUALITY_MIN_ROWS",
    "min_full_time_for_change": "LMKPI_QUALITY_MIN_FULL_TIME",
    "min_code_rows": "LMKPI_QUALITY_MIN_CODE_ROWS",
    "max_reject_share": "LMKPI_QUALITY_MAX_REJECT_SHARE",
}


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the quality checks (see the module docstring for the env variables)."""

    max_change_share: float = 0.25
    min_rows_for_change: int = 50
    min_full_time_for_change: float = 20.0
    min_code_rows: int = 5
    max_reject_share: float = 0.01

    def __post_init__(self) -> None:
        if not 0 < self.max_change_share:
            raise QualityConfigError("max_change_share must be greater than 0")
        if not 0 <= self.max_reject_share < 1:
            raise QualityConfigError("max_reject_share must be in [0, 1)")
        for name in ("min_rows_for_change", "min_full_time_for_change", "min_code_rows"):
            if getattr(self, name) < 0:
                raise QualityConfigError(f"{name} must not be negative")

    @property
    def reject_mostly(self) -> float:
        """GE `mostly` of the row rules that reject rows: the share of rows that must pass."""
        return 1.0 - self.max_reject_share

    @classmethod
    def from_env(cls) -> "QualityConfig":
        """The thresholds in force now: each env variable if set, else the default."""
        values: dict[str, float | int] = {}
        for f in fields(cls):
            raw = os.environ.get(_ENV[f.name], "").strip()
            if not raw:
                continue
            kind = int if f.type in (int, "int") else float
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise QualityConfigError(
                    f"{_ENV[f.name]}={raw!r} is not a valid {kind.__name__}; "
                    f"unset it to use the default {f.default}"
                ) from None
        return cls(**values)
