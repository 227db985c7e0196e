"""ship-logs: CloudWatch Logs subscription batches (directly, or as Kinesis records) -> OpenSearch documents."""

from __future__ import annotations

from typing import Any

from logship.cluster.client import connect
from logship.core.config import ShipperConfig
from logship.ship.kinesis import is_kinesis_event, queue_keeper, ship_records
from logship.ship.shipper import LambdaDeadline, Shipper

_shipper: Shipper | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _shipper
    if _shipper is None:  # once per cold start
        config = ShipperConfig.from_env()
        _shipper = Shipper(config, *connect(config))
    shipper, deadline = _shipper, LambdaDeadline(context)
    if is_kinesis_event(event):  # Transport=kinesis: the event source mapping's batch of records
        return ship_records(event, lambda payload: shipper.ship(payload, deadline),
                            queue_keeper(shipper.config.dead_letter_queue_url, shipper.config.region),
                            function_arn=getattr(context, "invoked_function_arn", ""))
    return shipper.ship(event, deadline)
