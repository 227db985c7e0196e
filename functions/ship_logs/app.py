"""ship-logs: CloudWatch Logs subscription batches -> OpenSearch documents."""

from __future__ import annotations

from typing import Any

from logship.client import build_client
from logship.config import ShipperConfig
from logship.shipper import LambdaDeadline, make_sink, ship

_config: ShipperConfig | None = None
_sink: Any = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _config, _sink
    if _sink is None:  # once per cold start
        _config = ShipperConfig.from_env()
        _sink = make_sink(build_client(_config), _config)
    return ship(event, _sink, _config, LambdaDeadline(context))
