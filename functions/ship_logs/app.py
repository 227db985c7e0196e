"""ship-logs: CloudWatch Logs subscription batches -> OpenSearch documents."""

from __future__ import annotations

from typing import Any

from logship.cluster.client import connect
from logship.core.config import ShipperConfig
from logship.ship.shipper import LambdaDeadline, Shipper

_shipper: Shipper | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _shipper
    if _shipper is None:  # once per cold start
        config = ShipperConfig.from_env()
        _shipper = Shipper(config, *connect(config))
    return _shipper.ship(event, LambdaDeadline(context))
