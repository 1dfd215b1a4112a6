"""lmkpi: the labour-market KPI pipeline (README.md)."""

import os

# polars allocates through its own jemalloc, which it sets to give freed pages back after
# half a second, but only when polars allocates again: after reading a national month
# (1.4 M rows) a process kept ~1 GB it no longer used while dbt's DuckDB, in the same
# process, grew by up to 2 GB (1.26 GB at the start of dbt; 0.80 GB with this). A
# background thread of jemalloc's gives them back on time. Read when polars is first
# imported, so it is set here, before any lmkpi module imports polars; polars adds its own
# settings in front, and a value already in the environment wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true")
