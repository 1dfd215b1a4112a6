"""Which pseudonym key the working database was built with (a fingerprint, never the key).

Pseudonyms only link a person across months when every month was made with the same key: a
load with another key would "pass" while spells and durations silently broke. So the working
database keeps ``HMAC-SHA256(key, FINGERPRINT_LABEL)`` (``audit.key_fingerprint``), a load
with a key of another fingerprint is refused, and changing the key is a deliberate command
(``lmkpi key rotate``), which re-pseudonymises the history from the archive.
"""

import hashlib
import hmac
import logging

import duckdb

from lmkpi.errors import ConfigurationError
from lmkpi.warehouse.audit import now

log = logging.getLogger(__name__)

FINGERPRINT_LABEL = b"lmkpi pseudonym key fingerprint v1"
DDL = (
    "create table if not exists audit.key_fingerprint "
    "(fingerprint varchar not null, since timestamp)"
)


def fingerprint(key: bytes) -> str:
    """16 hex characters of an HMAC of a fixed label: identifies a key, reveals nothing of it."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


def stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    con.execute("create schema if not exists audit")
    con.execute(DDL)
    row = con.execute("select fingerprint from audit.key_fingerprint").fetchone()
    return row[0] if row else None


def set_fingerprint(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    stored_fingerprint(con)
    con.execute("delete from audit.key_fingerprint")
    con.execute("insert into audit.key_fingerprint values (?, ?)", [fingerprint(key), now()])


def check_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Refuse a key other than the one the working database was built with; remember the
    key of a new (or older, unfingerprinted) working database."""
    stored = stored_fingerprint(con)
    current = fingerprint(key)
    if stored is None:
        set_fingerprint(con, key)
        log.info("the working database's pseudonym key is now fingerprint %s", current)
    elif stored != current:
        raise ConfigurationError(
            f"the pseudonym key (fingerprint {current}) is not the one the working database "
            f"was built with (fingerprint {stored}): people would no longer link across "
            "months. Use the original key file, or change the key deliberately with "
            "lmkpi key rotate --new-key-file FILE (it re-pseudonymises the history)"
        )
