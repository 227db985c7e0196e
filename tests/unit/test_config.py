"""Configuration: defaults that work, and errors that name the variable and the fix."""

from __future__ import annotations

import pytest

from logship.config import ConfigError, ShipperConfig


def test_defaults():
    config = ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": "https://search-x.eu-west-1.es.amazonaws.com/",
                                     "AWS_REGION": "eu-west-1"})
    assert config.auth == "sigv4"
    assert config.index_prefix == "cwl"
    assert config.endpoint == "https://search-x.eu-west-1.es.amazonaws.com"
    assert config.bulk_max_bytes == 5 * 1024 * 1024


@pytest.mark.parametrize(("env", "says"), [
    ({}, "OPENSEARCH_ENDPOINT='' is not an http(s) URL"),
    ({"OPENSEARCH_ENDPOINT": "search-x.es.amazonaws.com"}, "is not an http(s) URL"),
    ({"OPENSEARCH_AUTH": "iam"}, "must be one of sigv4, basic, none"),
    ({"OPENSEARCH_AUTH": "basic"}, "needs OPENSEARCH_SECRET_ARN"),
    ({"INDEX_PREFIX": "Logs"}, "must be lowercase"),
    ({"BULK_MAX_DOCS": "many"}, "BULK_MAX_DOCS='many' is not a whole number"),
    ({"BULK_MAX_BYTES": "10"}, "must be at least 1024"),
    ({"FUNCTION_NAME_PATTERN": "(?P<x"}, "FUNCTION_NAME_PATTERN='(?P<x' is not a valid regular expression"),
    ({"REDACT_BUILTINS": "email,phone"}, "REDACT_BUILTINS: unknown phone"),
    ({"REDACT_PATTERNS": "[broken"}, "REDACT_PATTERNS looks like a JSON array but is not valid JSON"),
    ({"REDACT_PATTERNS": '["(unclosed"]'}, "REDACT_PATTERNS: '(unclosed' is not a valid regular expression"),
    ({"REDACT_PATTERNS": "ok=\\d+\n[a-"}, "REDACT_PATTERNS: '[a-' is not a valid regular expression"),
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


@pytest.mark.parametrize(("endpoint", "refused"), [
    ("http://search-x.eu-west-1.es.amazonaws.com", True),
    ("http://10.0.1.7:9200", True),
    ("https://search-x.eu-west-1.es.amazonaws.com", False),
    ("http://127.0.0.1:9200", False),
    ("http://localhost:9200", False),
    ("http://[::1]:9200", False),
])
def test_basic_auth_over_plain_http_only_on_loopback(endpoint, refused):
    env = {"OPENSEARCH_ENDPOINT": endpoint, "OPENSEARCH_AUTH": "basic",
           "OPENSEARCH_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:logship-AbCdEf"}
    if refused:
        with pytest.raises(ConfigError, match="password in clear text"):
            ShipperConfig.from_env(env)
    else:
        assert ShipperConfig.from_env(env).auth == "basic"


def test_issue_four_settings():
    config = ShipperConfig.from_env({
        "OPENSEARCH_ENDPOINT": "http://127.0.0.1:9200", "CORRELATION_KEYS": "tenant, trace_ref",
        "FUNCTION_NAME_PATTERN": "(?P<service>[^-]+)-.+", "REDACT_BUILTINS": "all",
        "REDACT_PATTERNS": '["sku=\\\\w{2,4}", "id=\\\\d+"]'})
    assert config.correlation_keys == ("tenant", "trace_ref")
    assert config.function_name_pattern.match("orders-api")["service"] == "orders"
    assert config.redact_builtins == ("email", "card", "aws_secret", "bearer")
    assert config.redact_patterns == (r"sku=\w{2,4}", r"id=\d+")


@pytest.mark.parametrize(("endpoint", "serverless"), [
    ("https://0a1b2c3d4e5f.us-west-2.aoss.amazonaws.com", True),
    ("https://search-logs-abc.eu-west-1.es.amazonaws.com", False),
    ("http://127.0.0.1:9200", False),
])
def test_serverless_is_told_by_the_endpoint(endpoint, serverless):
    assert ShipperConfig.from_env({"OPENSEARCH_ENDPOINT": endpoint}).serverless is serverless
