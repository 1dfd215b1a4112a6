"""Ingest: read the monthly extracts as the contracts say (lmkpi.contracts), pseudonymise CPR.

Pure functions over files and polars frames; the Dagster assets only call them.
"""

from lmkpi.contracts import SOURCES
from lmkpi.ingest.cpr import parse_cpr, pseudonymise
from lmkpi.ingest.delivery import (
    Delivery,
    deliver,
    find_delivery,
    parse_file_name,
    scan_landing,
)
from lmkpi.ingest.errors import FileRejected
from lmkpi.ingest.housing import split_wide_housing, write_monthly_housing
from lmkpi.ingest.readers import ReadResult, read_extract

__all__ = [
    "SOURCES",
    "Delivery",
    "FileRejected",
    "ReadResult",
    "deliver",
    "find_delivery",
    "parse_file_name",
    "parse_cpr",
    "pseudonymise",
    "read_extract",
    "scan_landing",
    "split_wide_housing",
    "write_monthly_housing",
]
