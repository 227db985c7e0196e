"""Configuration: defaults that work, and errors that name the variable and the fix."""

from __future__ import annotations

import pytest

from logship.core.config import ConfigError, ShipperConfig


def test_defaults():
    config = ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": "https://search-x.eu-west-1.es.amazonaws.com/",
                                     "AWS_REGION": "eu-west-1"})
    assert config.auth == "sigv4"
    assert config.index_prefix == "cwl"
    assert config.endpoint == "https://search-x.eu-west-1.es.amazonaws.com"
    assert config.bulk_max_bytes == 5 * 1024 * 1024


@pytest.mark.parametrize(("env", "says"), [
    ({}, "OPENSEARCH_ENDPOINT='' is not an http(s) URL, and ELASTIC_CLOUD_ID is not set either"),
    ({"OPENSEARCH_ENDPOINT": "search-x.es.amazonaws.com"}, "is not an http(s) URL"),
    ({"OPENSEARCH_AUTH": "iam"}, "must be one of sigv4, basic, apikey, none"),
    ({"OPENSEARCH_AUTH": "apikey"}, 'needs OPENSEARCH_SECRET_ARN: the ARN of a Secrets Manager secret holding {"id"'),
    ({"INDEX_MODE": "weekly"}, "INDEX_MODE='weekly' must be one of daily, datastream"),
    ({"DATA_STREAM_DATASET": "aws-lambda"}, "DATA_STREAM_DATASET='aws-lambda' must be 1 to 100 lowercase"),
    ({"DATA_STREAM_NAMESPACE": "Prod"}, "DATA_STREAM_NAMESPACE='Prod' must be 1 to 100 lowercase"),
    ({"DATA_STREAM_NAMESPACE": "x" * 101}, "must be 1 to 100 lowercase"),
    ({"INGEST_PIPELINE": "my pipeline"}, "INGEST_PIPELINE='my pipeline' is not a pipeline name"),
    ({"COMPRESS_REQUESTS": "yes"}, "COMPRESS_REQUESTS='yes' must be true or false"),
    ({"DOCUMENT_IDS": "0"}, "DOCUMENT_IDS='0' must be true or false"),
    ({"CLUSTER_FLAVOR": "solr"}, "CLUSTER_FLAVOR='solr' must be one of opensearch, elasticsearch"),
    ({"OPENSEARCH_AUTH": "basic"}, "needs OPENSEARCH_SECRET_ARN"),
    ({"INDEX_PREFIX": "Logs"}, "must be lowercase"),
    ({"BULK_MAX_DOCS": "many"}, "BULK_MAX_DOCS='many' is not a whole number"),
    ({"BULK_MAX_BYTES": "10"}, "must be at least 1024"),
    ({"FUNCTION_NAME_PATTERN": "(?P<x"}, "FUNCTION_NAME_PATTERN='(?P<x' is not a valid regular expression"),
    ({"REDACT_BUILTINS": "email,phone"}, "REDACT_BUILTINS: unknown phone"),
    ({"REDACT_KEYS": "password,pass word"}, "REDACT_KEYS: 'pass word' is not a key name"),
    ({"REDACT_PATTERNS": "[broken"}, "REDACT_PATTERNS looks like a JSON array but is not valid JSON"),
    ({"REDACT_PATTERNS": '["(unclosed"]'}, "REDACT_PATTERNS: '(unclosed' is not a valid regular expression"),
    ({"REDACT_PATTERNS": "ok=\\d+\n[a-"}, "REDACT_PATTERNS: '[a-' is not a valid regular expression"),
    ({"TRANSFORMED_ORIGINAL_KEY": "line.raw"}, "TRANSFORMED_ORIGINAL_KEY='line.raw' must be a top-level key"),
])
def test_bad_settings_are_explained(env, says):
    base = {"OPENSEARCH_ENDPOINT": "http://127.0.0.1:9200"} if "OPENSEARCH_ENDPOINT" not in env and env else {}
    with pytest.raises(ConfigError) as error:
        ShipperConfig.from_env(base | env)
    assert says in str(error.value)


@pytest.mark.parametrize("endpoint", ["https://admin:hunter2@search-x.eu-west-1.es.amazonaws.com",
                                      "admin:hunter2@search-x.eu-west-1.es.amazonaws.com", "https://:hunter2@h:9200"])
def test_an_endpoint_with_credentials_is_refused_without_repeating_them(endpoint):
    with pytest.raises(ConfigError) as error:
        ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": endpoint})

    assert "must not carry credentials" in str(error.value)
    assert "OpenSearchSecretArn" in str(error.value)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(("auth", "secret"), [("basic", "the password"), ("apikey", "the API key")])
@pytest.mark.parametrize(("endpoint", "refused"), [
    ("http://search-x.eu-west-1.es.amazonaws.com", True),
    ("http://10.0.1.7:9200", True),
    ("https://search-x.eu-west-1.es.amazonaws.com", False),
    ("http://127.0.0.1:9200", False),
    ("http://localhost:9200", False),
    ("http://[::1]:9200", False),
])
def test_secrets_cross_plain_http_only_on_loopback(endpoint, refused, auth, secret):
    env = {"OPENSEARCH_ENDPOINT": endpoint, "OPENSEARCH_AUTH": auth,
           "OPENSEARCH_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:logship-AbCdEf"}
    if refused:
        with pytest.raises(ConfigError, match=f"OPENSEARCH_AUTH={auth} over http:// would send {secret} in clear"):
            ShipperConfig.from_env(env)
    else:
        assert ShipperConfig.from_env(env).auth == auth


def test_issue_four_settings():
    config = ShipperConfig.from_env({
        "OPENSEARCH_ENDPOINT": "http://127.0.0.1:9200", "CORRELATION_KEYS": "tenant, trace_ref",
        "FUNCTION_NAME_PATTERN": "(?P<service>[^-]+)-.+", "REDACT_BUILTINS": "all",
        "REDACT_PATTERNS": '["sku=\\\\w{2,4}", "id=\\\\d+"]'})
    assert config.correlation_keys == ("tenant", "trace_ref")
    assert config.function_name_pattern.match("orders-api")["service"] == "orders"
    assert config.redact_builtins == ("keys", "aws_secret", "basic_auth", "bearer", "jwt", "aws_key_id", "email", "card")
    assert config.redact_patterns == (r"sku=\w{2,4}", r"id=\d+")


@pytest.mark.parametrize(("endpoint", "serverless"), [
    ("https://0a1b2c3d4e5f.us-west-2.aoss.amazonaws.com", True),
    ("https://search-logs-abc.eu-west-1.es.amazonaws.com", False),
    ("http://127.0.0.1:9200", False),
])
def test_serverless_is_told_by_the_endpoint(endpoint, serverless):
    assert ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": endpoint}).serverless is serverless


# An Elastic Cloud id as the console shows it: "<deployment name>:" + base64("<host>$<es id>$<kibana id>").
def _cloud_id(decoded: str, name: str = "logs-prod") -> str:
    import base64

    return f"{name}:{base64.b64encode(decoded.encode()).decode()}"


@pytest.mark.parametrize(("decoded", "endpoint"), [
    ("eu-west-1.aws.found.io$4fa8821e75634032bed1cf22110e2f97$4fa8821e75634032bed1cf22110e2f96",
     "https://4fa8821e75634032bed1cf22110e2f97.eu-west-1.aws.found.io"),
    ("us-central1.gcp.cloud.es.io:443$abc123$def456", "https://abc123.us-central1.gcp.cloud.es.io:443"),
    ("westeurope.azure.elastic-cloud.com:9243$es1", "https://es1.westeurope.azure.elastic-cloud.com:9243"),
])
def test_an_elastic_cloud_id_names_the_https_endpoint(decoded, endpoint):
    config = ShipperConfig.from_env({"ELASTIC_CLOUD_ID": _cloud_id(decoded), "OPENSEARCH_AUTH": "apikey",
                                     "OPENSEARCH_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:k"})
    assert config.endpoint == endpoint
    assert config.elasticsearch  # Elastic Cloud is Elasticsearch whatever CLUSTER_FLAVOR says


def test_a_deployment_name_with_colons_and_unpadded_base64_still_decode():
    import base64

    encoded = base64.b64encode(b"eu-west-1.aws.found.io$es9$kb").decode().rstrip("=")
    config = ShipperConfig.from_env({"ELASTIC_CLOUD_ID": f"team:logs:prod:{encoded}", "OPENSEARCH_AUTH": "none"})
    assert config.endpoint == "https://es9.eu-west-1.aws.found.io"


@pytest.mark.parametrize(("env", "says"), [
    ({"ELASTIC_CLOUD_ID": _cloud_id("h.io$es$kb"), "OPENSEARCH_ENDPOINT": "https://x.es.io"},
     "OPENSEARCH_ENDPOINT and ELASTIC_CLOUD_ID are both set: give exactly one"),
    ({"ELASTIC_CLOUD_ID": "no-colon-at-all"}, "ELASTIC_CLOUD_ID is not an Elastic Cloud id"),
    ({"ELASTIC_CLOUD_ID": "name:not base64!"}, "is not base64"),
    ({"ELASTIC_CLOUD_ID": _cloud_id("only-a-host")}, "it decodes to no host$elasticsearch-id$kibana-id"),
    ({"ELASTIC_CLOUD_ID": _cloud_id("h.io:port$es$kb")}, "it decodes to no host$elasticsearch-id$kibana-id"),
    ({"ELASTIC_CLOUD_ID": _cloud_id("h.io$es$kb"), "OPENSEARCH_AUTH": "sigv4"},
     "Elastic Cloud does not take AWS signatures; use OPENSEARCH_AUTH=apikey"),
])
def test_a_bad_cloud_id_or_both_endpoints_are_explained(env, says):
    with pytest.raises(ConfigError) as error:
        ShipperConfig.from_env({"OPENSEARCH_AUTH": "none"} | env)
    assert says in str(error.value)


def test_index_mode_defaults_follow_elastics_data_stream_convention():
    daily = ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": "http://127.0.0.1:9200"})
    assert (daily.index_mode, daily.naming.index(1763805600000), daily.naming.failed(1763805600000)) == (
        "daily", "cwl-2025.11.22", "cwl-failed-2025.11.22")

    stream = ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": "http://127.0.0.1:9200", "INDEX_MODE": "datastream"})
    assert (stream.data_stream_dataset, stream.data_stream_namespace) == ("aws.lambda", "default")
    assert stream.naming.index(1763805600000) == "logs-aws.lambda-default"
    assert stream.naming.failed(1763805600000) == "logs-aws.lambda.failed-default"

    named = ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": "http://127.0.0.1:9200", "INDEX_MODE": "datastream",
                                    "DATA_STREAM_DATASET": "checkout.api", "DATA_STREAM_NAMESPACE": "prod_eu"})
    assert named.naming.patterns == ["logs-checkout.api-prod_eu", "logs-checkout.api.failed-prod_eu"]
    assert named.naming.name == "logship-logs-checkout.api-prod_eu"


def test_issue_twelve_settings_and_their_defaults():
    defaults = ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": "https://search-x.eu-west-1.es.amazonaws.com"})
    assert (defaults.compress, defaults.cluster_flavor, defaults.ingest_pipeline, defaults.document_ids) == (
        True, "opensearch", "", True)

    config = ShipperConfig.from_env({
        "OPENSEARCH_ENDPOINT": "https://logs.example.com", "COMPRESS_REQUESTS": "false",
        "CLUSTER_FLAVOR": "Elasticsearch", "INGEST_PIPELINE": "logs-aws.lambda@custom", "DOCUMENT_IDS": "false",
        "BULK_MAX_BYTES": "1048576", "BULK_MAX_DOCS": "500"})
    assert (config.compress, config.elasticsearch, config.ingest_pipeline, config.document_ids) == (
        False, True, "logs-aws.lambda@custom", False)
    assert (config.bulk_max_bytes, config.bulk_max_docs) == (1048576, 500)


def test_redact_keys_default_to_the_built_in_names_and_take_yours():
    from logship.ship.redaction import DEFAULT_KEYS

    base = {"OPENSEARCH_ENDPOINT": "https://x.eu-west-1.es.amazonaws.com"}
    assert ShipperConfig.from_env(base).redact_keys == DEFAULT_KEYS
    assert ShipperConfig.from_env({**base, "REDACT_KEYS": " pin, x-api-key "}).redact_keys == ("pin", "x-api-key")
