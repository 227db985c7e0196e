"""ship-logs: CloudWatch Logs subscription batches (directly, or as Kinesis records) -> OpenSearch documents."""

from __future__ import annotations

from typing import Any

from logship.cluster.client import connect
from logship.core.config import ShipperConfig
from logship.ship.dead_letters import Keep, queue_keeper
from logship.ship.kinesis import is_kinesis_event, ship_records
from logship.ship.shipper import LambdaDeadline, Shipper, ship_or_keep

_built: tuple[Shipper, Keep] | None = None  # the shipper and the dead-letter keeper, once per cold start


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _built
    if _built is None:
        config = ShipperConfig.from_env()
        _built = Shipper(config, *connect(config)), queue_keeper(config.dead_letter_queue_url, config.region)
    shipper, keep = _built
    deadline = LambdaDeadline(context)
    function_arn = getattr(context, "invoked_function_arn", "")
    if is_kinesis_event(event):  # Transport=kinesis: the event source mapping's batch of records
        return ship_records(event, lambda deliveries: shipper.ship_deliveries(deliveries, deadline), keep,
                            function_arn=function_arn, max_events=shipper.config.bulk_max_docs,
                            max_bytes=shipper.config.bulk_max_bytes)
    return ship_or_keep(shipper, event, deadline, keep, function_arn)
