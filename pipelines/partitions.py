import dagster as dg

from lmkpi.settings import PARTITIONS_START

# One partition per reporting month. A month's partition exists once the month has ended.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=PARTITIONS_START)


def month_of(partition_key: str) -> str:
    """Partition key ``2019-10-01`` -> reporting month ``2019-10``."""
    return partition_key[:7]
