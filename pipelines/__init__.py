"""The Dagster code location of lmkpi: thin wiring around the pure functions in ``lmkpi``."""

import warnings

# backfill_policy on @asset is marked beta in Dagster 1.13; we rely on it knowingly
# (single-run backfills, see docs/stack_notes.md) and test a multi-month backfill.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=Warning)
