"""Every error lmkpi raises on purpose: one base class, kinds beneath it.

An ``LmkpiError`` is for a person: ``str(error)`` says what is wrong, where (file, row, rule,
setting) and what to do, in one line, and never holds a CPR number or a delivered value. The
CLI prints it and exits with status 2; the Dagster assets fail the step at once with it
(``dg.Failure(allow_retries=False)``). Only transient I/O (``OSError`` that is not one of
these) is retried.

    LmkpiError
    ├── ConfigurationError      a setting, key, plan, suite or spec is missing or wrong
    ├── MonthError              not a YYYY-MM month, or a range that ends before it starts
    ├── DeliveryError           a delivered file cannot be used
    │   ├── MissingDelivery     no file for the source and month
    │   └── FileRejected        refused whole by a contract rule (lmkpi.ingest.errors)
    ├── AccountingError         rows read != rows loaded + rows rejected
    ├── WriterBusy              another lmkpi process holds the writer lock
    ├── WarehouseError          the working or published database cannot be used
    └── FetchError              an external source's API answered with an error
"""


class LmkpiError(Exception):
    """A problem a person can act on; the message says what, where and what to do."""

    exit_status = 2


class ConfigurationError(LmkpiError, ValueError):
    """A setting is missing or wrong; the message says which and how to fix it."""


class MonthError(LmkpiError, ValueError):
    """Not a reporting month (``YYYY-MM``), or a month range that ends before it starts."""


class DeliveryError(LmkpiError):
    """A delivered file cannot be used as it is."""


class MissingDelivery(DeliveryError):
    """No file for the source and month in the landing folder."""


class AccountingError(LmkpiError):
    """rows read != rows loaded + rows rejected: the reader lost or invented rows."""


class WriterBusy(LmkpiError):
    """Another lmkpi process is writing the working database."""


class WarehouseError(LmkpiError):
    """The working database or the published warehouse cannot be used as it is."""


class FetchError(LmkpiError):
    """An external source's API refused the request or answered with something unusable."""
