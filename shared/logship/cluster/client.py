"""Build the opensearch-py client the shipper and installers use, from :class:`ShipperConfig`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from opensearchpy import JSONSerializer, OpenSearch, Urllib3AWSV4SignerAuth

from logship.cluster.bounded_connection import BoundedHttpConnection
from logship.cluster.secrets import ApiKeyHeader, BasicAuthHeader, CachedSecret, api_key_token
from logship.core.config import ShipperConfig, is_serverless_host

# Elasticsearch's REST API compatibility mode, as Elastic's own clients send it: requests and answers in the
# 8.x format. Elasticsearch 8 treats it as its own version, 9 honours it (one major back); both also accept
# plain JSON, but with these an upgrade of the cluster to 9 cannot change what logship's requests mean.
COMPATIBLE_JSON = "application/vnd.elasticsearch+json; compatible-with=8"
COMPATIBLE_NDJSON = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"
ELASTICSEARCH_HEADERS = {"accept": COMPATIBLE_JSON, "content-type": COMPATIBLE_JSON}
PLAIN_HEADERS = {"accept": "application/json", "content-type": "application/json"}


def sigv4_service(host: str) -> str:
    """``aoss`` for OpenSearch Serverless collections, ``es`` for domains (and custom domain names)."""
    return "aoss" if is_serverless_host(host) else "es"


def sigv4_region(host: str, default: str) -> str:
    """The region named in an AWS endpoint (``search-x.eu-west-1.es.amazonaws.com``), else ``default``."""
    labels = host.split(".")
    if host.endswith(".amazonaws.com") and len(labels) >= 5:
        return labels[-4]
    return default


def _secrets_client(session: Any, region: str) -> Any:
    from botocore.config import Config

    # Bounded: in a VPC without a Secrets Manager endpoint the call hangs, and the function (or
    # CloudFormation waiting on the installer) must still get an answer within its timeout.
    return session.client("secretsmanager", region_name=region, config=Config(
        connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 3}))


def _auth(config: ShipperConfig, host: str) -> Any:
    if config.auth == "none":
        return None
    import boto3  # in the Lambda runtime; imported here so `none` never pays for it

    session = boto3.session.Session()
    if config.auth == "basic":
        return BasicAuthHeader(CachedSecret(_secrets_client(session, config.region), config.secret_arn,
                                            config.secret_ttl_seconds))
    if config.auth == "apikey":
        return ApiKeyHeader(CachedSecret(_secrets_client(session, config.region), config.secret_arn,
                                         config.secret_ttl_seconds, parse=api_key_token))
    credentials = session.get_credentials()
    if credentials is None:
        raise RuntimeError("OPENSEARCH_AUTH=sigv4 but no AWS credentials were found for the function")
    return Urllib3AWSV4SignerAuth(credentials, sigv4_region(host, config.region), sigv4_service(host))


def bulk_options(config: ShipperConfig) -> dict[str, Any]:
    """What every bulk request carries besides its body: the ingest pipeline, Elasticsearch's media type."""
    options: dict[str, Any] = {}
    if config.ingest_pipeline:
        options["pipeline"] = config.ingest_pipeline
    if config.elasticsearch:
        options["headers"] = {"content-type": COMPATIBLE_NDJSON}
    return options


def build_client(config: ShipperConfig, *, timeout_s: float = 30.0) -> OpenSearch:
    """One client per cold start. Retries are the sink's job (it knows the time budget), so none here."""
    return connect(config, timeout_s=timeout_s)[0]


def connect(config: ShipperConfig, *, timeout_s: float = 30.0) -> tuple[OpenSearch, Callable[[], None] | None]:
    """The client, and how to re-read credentials after a 401 (basic auth, API key: rotated), if any.

    Every tool that talks to the cluster (ship-logs, the installer, redrive, the CLI) builds its client
    here, so each auth mode, compression and Elasticsearch's headers reach all of them alike.
    """
    parts = urlsplit(config.endpoint)
    host = parts.hostname or ""
    use_ssl = parts.scheme == "https"
    auth = _auth(config, host)
    client = OpenSearch(
        hosts=[{"host": host, "port": parts.port or (443 if use_ssl else 80), "url_prefix": parts.path}],
        http_auth=auth,
        use_ssl=use_ssl,
        verify_certs=use_ssl,
        connection_class=BoundedHttpConnection,  # request_timeout bounds the whole request, not each read
        timeout=timeout_s,
        max_retries=0,
        retry_on_timeout=False,
        pool_maxsize=4,
        # gzip before the auth callable runs: a SigV4 signature covers the compressed bytes actually sent.
        http_compress=config.compress,
        headers=ELASTICSEARCH_HEADERS if config.elasticsearch else None,
        # Elasticsearch answers in the media type asked for ("...+json;compatible-with=8"); opensearch-py
        # recognises that type only without its parameter, so it is registered as JSON here.
        serializers={"application/vnd.elasticsearch+json": JSONSerializer()},
    )
    return client, getattr(auth, "refresh", None)
