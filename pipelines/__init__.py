"""The Dagster code location of lmkpi: thin wiring around the pure functions in ``lmkpi``."""
