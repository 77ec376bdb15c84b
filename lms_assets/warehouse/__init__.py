"""The SQL warehouse: schema (``schema``) and the resource with the one write path."""

from lms_assets.warehouse.bulk import ArrowStream
from lms_assets.warehouse.resource import (
    RejectedRecord,
    WarehouseError,
    WarehouseResource,
    WriteSummary,
    partition_filter,
    rows_from_frame,
)

__all__ = [
    "ArrowStream",
    "RejectedRecord",
    "WarehouseError",
    "WarehouseResource",
    "WriteSummary",
    "partition_filter",
    "rows_from_frame",
]
