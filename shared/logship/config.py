"""The one typed place where environment variables become settings, read once per cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

AUTH_MODES = ("sigv4", "basic", "none")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and how to fix it."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


@dataclass(frozen=True, slots=True)
class ShipperConfig:
    """Settings of the ship-logs function."""

    endpoint: str
    auth: str
    secret_arn: str
    index_prefix: str
    region: str
    bulk_max_bytes: int = 5 * 1024 * 1024
    bulk_max_docs: int = 5000
    secret_ttl_seconds: int = 300
    metrics_namespace: str = "logship"
    function_name: str = "ship-logs"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ShipperConfig:
        """Read and validate the shipper's environment, e.g. ``ShipperConfig.from_env(os.environ)``."""
        env = os.environ if env is None else env
        endpoint = env.get("OPENSEARCH_ENDPOINT", "").strip().rstrip("/")
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"OPENSEARCH_ENDPOINT={endpoint!r} is not an http(s) URL; set it to the domain or "
                "collection endpoint, e.g. https://search-logs-abc123.eu-west-1.es.amazonaws.com"
            )
        auth = env.get("OPENSEARCH_AUTH", "sigv4").strip().lower() or "sigv4"
        if auth not in AUTH_MODES:
            raise ConfigError(f"OPENSEARCH_AUTH={auth!r} must be one of {', '.join(AUTH_MODES)}")
        secret_arn = env.get("OPENSEARCH_SECRET_ARN", "").strip()
        if auth == "basic" and not secret_arn:
            raise ConfigError(
                "OPENSEARCH_AUTH=basic needs OPENSEARCH_SECRET_ARN: the ARN of a Secrets Manager secret "
                'holding {"username": ..., "password": ...}'
            )
        prefix = env.get("INDEX_PREFIX", "cwl").strip() or "cwl"
        if prefix != prefix.lower() or any(c in prefix for c in ' "*\\<|,>/?#:'):
            raise ConfigError(f"INDEX_PREFIX={prefix!r} must be lowercase without spaces or any of "
                              '" * \\ < | , > / ? # :')
        return cls(
            endpoint=endpoint,
            auth=auth,
            secret_arn=secret_arn,
            index_prefix=prefix,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            bulk_max_bytes=_int(env, "BULK_MAX_BYTES", 5 * 1024 * 1024, minimum=1024),
            bulk_max_docs=_int(env, "BULK_MAX_DOCS", 5000),
            secret_ttl_seconds=_int(env, "SECRET_TTL_SECONDS", 300, minimum=0),
            metrics_namespace=env.get("METRICS_NAMESPACE", "logship").strip() or "logship",
            function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", "ship-logs"),
        )
