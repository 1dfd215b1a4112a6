import dagster as dg

from lmkpi.months import Month
from lmkpi.settings import HISTORY_START

# One partition per reporting month, from the first month of history. A month's partition
# exists once the month has ended.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=HISTORY_START.partition_key)


def partition_months(context: dg.AssetExecutionContext) -> list[Month]:
    """The reporting months of the run's partitions, oldest first."""
    return [Month.from_partition_key(k) for k in context.partition_keys]
