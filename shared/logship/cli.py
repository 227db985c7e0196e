"""What logship's commands share: the OpenSearch connection options, read into a ShipperConfig."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from logship.config import AUTH_MODES, ConfigError, ShipperConfig


def add_opensearch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", help="OpenSearch/Elasticsearch URL, e.g. https://search-logs-abc.eu-west-1.es.amazonaws.com")
    parser.add_argument("--auth", choices=AUTH_MODES, help="sigv4 (your AWS credentials), basic or none; default sigv4")
    parser.add_argument("--secret-arn", help="Secrets Manager secret {username, password} for --auth basic")
    parser.add_argument("--prefix", help="index prefix (default: cwl)")


def config_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace,
                     base: Mapping[str, str] | None = None) -> ShipperConfig:
    """Options given on the command line over ``base`` (e.g. a deployed function's environment)."""
    env = dict(base or {})
    for option, variable in (("endpoint", "OPENSEARCH_ENDPOINT"), ("auth", "OPENSEARCH_AUTH"),
                             ("secret_arn", "OPENSEARCH_SECRET_ARN"), ("prefix", "INDEX_PREFIX")):
        if getattr(args, option, None):
            env[variable] = getattr(args, option)
    if not env.get("OPENSEARCH_ENDPOINT"):
        parser.error("--endpoint is required")
    try:
        return ShipperConfig.from_env(env)
    except ConfigError as exc:
        parser.error(str(exc))
        raise  # parser.error exits; this keeps type checkers content
