"""Strict patterns for month keys and delivery file names (checked before any file access)."""

import re

from lmkpi.contracts import CONTRACTS
from lmkpi.ingest.errors import FileRejected, safe_text

_MONTH = r"(?:19|20)\d{2}-(?:0[1-9]|1[0-2])"
MONTH_PATTERN = re.compile(_MONTH, re.ASCII)


def validate_month(month: str) -> str:
    """Return `month` if it is a `YYYY-MM` key (1900-2099), else raise ValueError."""
    if not isinstance(month, str) or not MONTH_PATTERN.fullmatch(month):
        raise ValueError(f"month must look like 2019-10, got {safe_text(month)}")
    return month


def _contract(source: str):
    try:
        return CONTRACTS[source]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown source {safe_text(source)}; expected one of {', '.join(CONTRACTS)}"
        ) from None


def month_from_file_name(source: str, file_name: str) -> str:
    """The `YYYY-MM` in `<source>_<YYYY-MM>.<ext>`; raise FileRejected for any other name.

    Only a bare file name in exactly that form, lower-case, with an extension the source's
    contract allows, is accepted: no directories, `..`, spaces or other characters, so the
    name is safe to use in paths, partition keys and SQL parameters.
    """
    contract = _contract(source)
    extensions = "|".join(re.escape(e) for e in contract.extensions)
    pattern = re.compile(rf"{re.escape(source)}_(?P<month>{_MONTH})\.(?:{extensions})", re.ASCII)
    match = pattern.fullmatch(file_name) if isinstance(file_name, str) else None
    if match is None:
        examples = " or ".join(f"{source}_2019-10.{e}" for e in contract.extensions)
        raise FileRejected(
            safe_text(file_name, 80, quote=False),
            "bad_file_name",
            f"the file name must be <source>_<YYYY-MM>.<ext>, e.g. {examples}; rename the file",
        )
    return match.group("month")
