"""The one typed place where environment variables become settings, read once per cold start."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from logship.core.indices import IndexNaming, prefix_problem
from logship.core.members import named_region
from logship.core.selection import Selection

AUTH_MODES = ("sigv4", "basic", "apikey", "none")
SECRET_AUTH_MODES = ("basic", "apikey")  # credentials read from OPENSEARCH_SECRET_ARN at runtime
INDEX_MODES = ("daily", "datastream")
ELASTICSEARCH_INDEX_MODES = ("standard", "logsdb")
CLUSTER_FLAVORS = ("opensearch", "elasticsearch")
# The redaction built-ins REDACT_BUILTINS may name (logship.ship.redaction holds their rules, in this order).
REDACT_BUILTINS = ("keys", "aws_secret", "basic_auth", "bearer", "jwt", "aws_key_id", "email", "card")
# Values of JSON keys and key=value pairs whose name contains one of these (any case) are redacted.
DEFAULT_REDACT_KEYS = ("password", "passwd", "passphrase", "secret", "token", "authorization", "api_key", "apikey",
                       "api-key", "access_key", "accesskey", "private_key", "privatekey", "client_secret",
                       "credential", "cookie")
_KEY_NAME = re.compile(r"^[\w.-]+$")
_SECRET_SHAPES = {"basic": '{"username": ..., "password": ...}',
                  "apikey": '{"id": ..., "api_key": ...} or {"encoded": ...}'}
_SECRET_WORDS = {"basic": "the password", "apikey": "the API key"}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and how to fix it."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1, maximum: int | None = None,
         meaning: str = "") -> int:
    """A whole number in [minimum, maximum]; the error names the variable, what it means and what it takes."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    why = f" ({meaning})" if meaning else ""
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number{why}") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}{why}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={value} must be at most {maximum}{why}")
    return value


def _region(env: Mapping[str, str]) -> str:
    """Lambda sets AWS_REGION; AWS_DEFAULT_REGION is what tools and laptops have."""
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def _list(env: Mapping[str, str], name: str, default: str = "") -> tuple[str, ...]:
    """A comma-separated setting, blanks dropped."""
    return tuple(item.strip() for item in env.get(name, default).split(",") if item.strip())


def _patterns(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Regular expressions: a JSON array (commas are common in regexes), or one per line."""
    raw = env.get(name, "").strip()
    if not raw:
        return ()
    if raw.startswith("["):
        try:
            items = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} looks like a JSON array but is not valid JSON: {exc}") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f'{name} must be a JSON array of strings, e.g. ["sku=\\\\w+"]')
    else:
        items = [line.strip() for line in raw.splitlines() if line.strip()]
    for pattern in items:  # fail at deploy (the installer reads these too), not on every batch
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{name}: {pattern!r} is not a valid regular expression: {exc}") from None
    return tuple(items)


def _regex(env: Mapping[str, str], name: str) -> re.Pattern[str] | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return re.compile(raw)
    except re.error as exc:
        raise ConfigError(f"{name}={raw!r} is not a valid regular expression: {exc}") from None


def _redact_builtins(env: Mapping[str, str]) -> tuple[str, ...]:
    names = _list(env, "REDACT_BUILTINS")
    if names == ("all",):
        return tuple(REDACT_BUILTINS)
    unknown = [name for name in names if name not in REDACT_BUILTINS]
    if unknown:
        raise ConfigError(f"REDACT_BUILTINS: unknown {', '.join(unknown)}; "
                          f"use 'all' or any of {', '.join(REDACT_BUILTINS)}")
    return names


def _redact_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    """Key names whose values the ``keys`` built-in redacts; empty: :data:`DEFAULT_REDACT_KEYS`."""
    names = _list(env, "REDACT_KEYS")
    bad = [name for name in names if not _KEY_NAME.match(name)]
    if bad:
        raise ConfigError(f"REDACT_KEYS: {', '.join(map(repr, bad))} is not a key name (letters, digits, '_', '-', "
                          "'.'); give comma-separated names, e.g. password,api_key,token")
    return names or DEFAULT_REDACT_KEYS


def _endpoint(env: Mapping[str, str]) -> str:
    """OPENSEARCH_ENDPOINT, or the endpoint ELASTIC_CLOUD_ID names: exactly one of them.

    Errors never repeat what precedes an ``@``: it may be a password.
    """
    endpoint = env.get("OPENSEARCH_ENDPOINT", "").strip().rstrip("/")
    cloud_id = env.get("ELASTIC_CLOUD_ID", "").strip()
    if endpoint and cloud_id:
        raise ConfigError("OPENSEARCH_ENDPOINT and ELASTIC_CLOUD_ID are both set: give exactly one, the endpoint "
                          "or the Elastic Cloud id (template: OpenSearchEndpoint or ElasticCloudId)")
    if cloud_id:
        return cloud_endpoint(cloud_id)
    if not endpoint:
        raise ConfigError("OPENSEARCH_ENDPOINT='' is not an http(s) URL, and ELASTIC_CLOUD_ID is not set either: "
                          "give exactly one, the endpoint or the Elastic Cloud id (template: OpenSearchEndpoint "
                          "or ElasticCloudId)")
    authority = endpoint.split("://", 1)[-1].split("/", 1)[0]
    if "@" in authority:
        raise ConfigError(
            "OPENSEARCH_ENDPOINT must not carry credentials (user:password@host): they would never be sent, "
            "and the URL is logged. Give the endpoint alone, and the credentials as a Secrets Manager secret "
            "with OPENSEARCH_AUTH=basic and OPENSEARCH_SECRET_ARN (template: OpenSearchAuth, OpenSearchSecretArn)")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"OPENSEARCH_ENDPOINT={endpoint!r} is not an http(s) URL; set it to the domain or "
            "collection endpoint, e.g. https://search-logs-abc123.eu-west-1.es.amazonaws.com"
        )
    return endpoint


def cloud_endpoint(cloud_id: str) -> str:
    """An Elastic Cloud id ``<name>:<base64 of host$es_id$kibana_id>`` -> ``https://<es_id>.<host>``.

    The host may carry a port (``eu-west-1.aws.found.io:9243``), kept after the Elasticsearch id's host name.
    """
    why = ("ELASTIC_CLOUD_ID is not an Elastic Cloud id (<deployment name>:<base64>, as the deployment's page "
           "in the Elastic Cloud console shows it)")
    _, colon, encoded = cloud_id.rpartition(":")  # base64 has no ':'; a deployment name might
    if not colon or not encoded:
        raise ConfigError(why)
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ConfigError(f"{why}: the part after the last ':' is not base64") from None
    host, _, rest = decoded.partition("$")
    es_id = rest.split("$", 1)[0]
    hostname, _, port = host.partition(":")
    if not hostname or not es_id or (port and not port.isdigit()) or any(c in decoded for c in "/@ "):
        raise ConfigError(f"{why}: it decodes to no host$elasticsearch-id$kibana-id")
    return f"https://{es_id}.{hostname}" + (f":{port}" if port else "")


def _is_loopback(endpoint: str) -> bool:
    host = urlsplit(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_serverless_host(host: str) -> bool:
    """OpenSearch Serverless collections: SigV4 service ``aoss``, no ``GET /``, no ISM."""
    return host.endswith(".aoss.amazonaws.com")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise ConfigError(f"{name}={raw!r} must be true or false")
    return raw == "true"


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = _text(env, name, default).lower()
    if value not in choices:
        raise ConfigError(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


# Elastic's data stream naming scheme: lowercase, no '-' (it separates type, dataset and namespace), at most 100.
_STREAM_PART = re.compile(r"^[a-z0-9_.]{1,100}$")


def _stream_part(env: Mapping[str, str], name: str, default: str) -> str:
    value = _text(env, name, default)
    if not _STREAM_PART.match(value) or value.startswith((".", "_")):
        raise ConfigError(f"{name}={value!r} must be 1 to 100 lowercase letters, digits, '_' or '.' (no '-': it "
                          "separates the parts of logs-<dataset>-<namespace>), not starting with '.' or '_'")
    if name == "DATA_STREAM_DATASET" and (value == "failed" or value.endswith(".failed")):
        raise ConfigError(f"{name}={value!r} must not end in '.failed': logs-<dataset>.failed-<namespace> is "
                          "another stack's stream of refused documents")
    return value


def _pipeline(env: Mapping[str, str]) -> str:
    value = env.get("INGEST_PIPELINE", "").strip()
    if any(c in value for c in ' "*\\<|,>/?#'):
        raise ConfigError(f"INGEST_PIPELINE={value!r} is not a pipeline name: no spaces or any of "
                          '" * \\ < | , > / ? #')
    return value


def _secret_settings(env: Mapping[str, str], auth: str, endpoint: str) -> str:
    """OPENSEARCH_SECRET_ARN, checked against the auth mode: a secret is never sent over the network in clear."""
    secret_arn = env.get("OPENSEARCH_SECRET_ARN", "").strip()
    if auth not in SECRET_AUTH_MODES:
        return secret_arn
    if urlsplit(endpoint).scheme == "http" and not _is_loopback(endpoint):
        raise ConfigError(f"OPENSEARCH_AUTH={auth} over http:// would send {_SECRET_WORDS[auth]} in clear text; use "
                          "the domain's https:// endpoint (http is accepted only on loopback, for tests and the demo)")
    if not secret_arn:
        raise ConfigError(f"OPENSEARCH_AUTH={auth} needs OPENSEARCH_SECRET_ARN: the ARN of a Secrets Manager secret "
                          f"holding {_SECRET_SHAPES[auth]}")
    return secret_arn


@dataclass(frozen=True, slots=True)
class ShipperConfig:
    """Settings of the ship-logs function (and of every tool that talks to the cluster)."""

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
    function_metrics_namespace: str = "logship/functions"
    correlation_keys: tuple[str, ...] = ("correlation_id", "correlationId")
    function_name_pattern: re.Pattern[str] | None = None
    redact_builtins: tuple[str, ...] = ()
    redact_patterns: tuple[str, ...] = ()
    redact_keys: tuple[str, ...] = DEFAULT_REDACT_KEYS
    index_retention_days: int = 30
    compress: bool = True  # gzip request bodies (Content-Encoding: gzip), signed after compression
    cluster_flavor: str = "opensearch"  # "elasticsearch": Elasticsearch 8/9, REST compatibility headers sent
    index_mode: str = "daily"
    # Elasticsearch's index.mode, set by the template where the version knows it (logsdb: synthetic _source)
    elasticsearch_index_mode: str = "standard"
    data_stream_dataset: str = "aws.lambda"
    data_stream_namespace: str = "default"
    ingest_pipeline: str = ""  # passed as ?pipeline= on every bulk request
    document_ids: bool = True  # False for Serverless time series collections, which refuse custom ids
    # SubscriptionMode=account-policy: the policy delivers every group, so ship-logs applies the selection itself
    selection: Selection | None = None
    # Transport=kinesis: where a record no retry can read is kept (Lambda's own on-failure record is the
    # event source mapping's, which holds no data)
    dead_letter_queue_url: str = ""
    # TransformedOriginalKey: the key a CloudWatch Logs transformer keeps the line as logged in ("" for none)
    transformed_original_key: str = ""

    @property
    def serverless(self) -> bool:
        return is_serverless_host(urlsplit(self.endpoint).hostname or "")

    @property
    def elasticsearch(self) -> bool:
        return self.cluster_flavor == "elasticsearch"

    @property
    def naming(self) -> IndexNaming:
        if self.index_mode == "datastream":
            return IndexNaming.stream(self.data_stream_dataset, self.data_stream_namespace, self.index_prefix)
        return IndexNaming(self.index_prefix)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ShipperConfig:
        """Read and validate the shipper's environment, e.g. ``ShipperConfig.from_env(os.environ)``."""
        env = os.environ if env is None else env
        endpoint = _endpoint(env)
        auth = _choice(env, "OPENSEARCH_AUTH", AUTH_MODES, "sigv4")
        if auth == "sigv4" and env.get("ELASTIC_CLOUD_ID", "").strip():
            raise ConfigError("ELASTIC_CLOUD_ID with OPENSEARCH_AUTH=sigv4: Elastic Cloud does not take AWS "
                              "signatures; use OPENSEARCH_AUTH=apikey (or basic) with OPENSEARCH_SECRET_ARN")
        prefix = _text(env, "INDEX_PREFIX", "cwl")
        problem = prefix_problem(prefix)
        if problem:
            raise ConfigError(f"INDEX_PREFIX={prefix!r} {problem}")
        # An Elastic Cloud deployment is Elasticsearch whatever CLUSTER_FLAVOR says.
        flavor = "elasticsearch" if env.get("ELASTIC_CLOUD_ID", "").strip() else _choice(
            env, "CLUSTER_FLAVOR", CLUSTER_FLAVORS, "opensearch")
        return cls(
            endpoint=endpoint,
            auth=auth,
            secret_arn=_secret_settings(env, auth, endpoint),
            index_prefix=prefix,
            region=_region(env),
            bulk_max_bytes=_int(env, "BULK_MAX_BYTES", 5 * 1024 * 1024, minimum=1024),
            bulk_max_docs=_int(env, "BULK_MAX_DOCS", 5000),
            secret_ttl_seconds=_int(env, "SECRET_TTL_SECONDS", 300, minimum=0),
            metrics_namespace=_text(env, "METRICS_NAMESPACE", "logship"),
            function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", "ship-logs"),
            function_metrics_namespace=_text(env, "FUNCTION_METRICS_NAMESPACE", "logship/functions"),
            correlation_keys=_list(env, "CORRELATION_KEYS", "correlation_id,correlationId"),
            function_name_pattern=_regex(env, "FUNCTION_NAME_PATTERN"),
            redact_builtins=_redact_builtins(env),
            redact_patterns=_patterns(env, "REDACT_PATTERNS"),
            redact_keys=_redact_keys(env),
            index_retention_days=_int(env, "INDEX_RETENTION_DAYS", 30, minimum=0,
                                      meaning="0: no retention policy"),
            compress=_flag(env, "COMPRESS_REQUESTS", True),
            cluster_flavor=flavor,
            index_mode=_choice(env, "INDEX_MODE", INDEX_MODES, "daily"),
            elasticsearch_index_mode=_choice(env, "ELASTICSEARCH_INDEX_MODE", ELASTICSEARCH_INDEX_MODES, "standard"),
            data_stream_dataset=_stream_part(env, "DATA_STREAM_DATASET", "aws.lambda"),
            data_stream_namespace=_stream_part(env, "DATA_STREAM_NAMESPACE", "default"),
            ingest_pipeline=_pipeline(env),
            document_ids=_flag(env, "DOCUMENT_IDS", True),
            selection=_policy_selection(env),
            dead_letter_queue_url=_queue_url(env, "DEAD_LETTER_QUEUE_URL", "DeadLetterQueueUrl"),
            transformed_original_key=_original_key(env),
        )


_ORIGINAL_KEY = re.compile(r"^[A-Za-z0-9_@-]{1,128}$")


def _original_key(env: Mapping[str, str]) -> str:
    """A top-level key of the transformed event (a grok capture's name): no dots, which processors read as a path."""
    key = env.get("TRANSFORMED_ORIGINAL_KEY", "").strip()
    if key and not _ORIGINAL_KEY.match(key):
        raise ConfigError(f"TRANSFORMED_ORIGINAL_KEY={key!r} must be a top-level key of the transformed event: 1 to "
                          "128 letters, digits, '_', '-' or '@' (the name your grok pattern gives the line, e.g. raw "
                          "for %{GREEDYDATA:raw}), or empty")
    return key


def _queue_url(env: Mapping[str, str], name: str, output: str) -> str:
    queue_url = env.get(name, "").strip()
    if queue_url and not _SQS_URL.match(queue_url):
        raise ConfigError(f"{name}={queue_url!r} is not an SQS queue URL; set it to the stack's {output} output, "
                          "or leave it empty")
    return queue_url


SUBSCRIPTION_MODES = ("per-group", "account-policy")


def _policy_selection(env: Mapping[str, str]) -> Selection | None:
    """What ship-logs keeps of an account policy's deliveries; None in per-group mode (the filters select)."""
    if _choice(env, "SUBSCRIPTION_MODE", SUBSCRIPTION_MODES, "per-group") != "account-policy":
        return None
    return Selection(_list(env, "INCLUDE_PREFIXES") or ("/aws/lambda/",), _list(env, "EXCLUDE"),
                     frozenset(_list(env, "STACK_LOG_GROUPS")), _flag(env, "FUNCTION_LOG_GROUPS", True))


_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[A-Za-z0-9_.-]{1,128}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


def _stream(env: Mapping[str, str]) -> dict[str, str]:
    """Transport=kinesis: the stream (STREAM_ARN) and the role CloudWatch Logs assumes to write to it."""
    stream, role = env.get("STREAM_ARN", "").strip(), env.get("STREAM_ROLE_ARN", "").strip()
    if not stream and not role:
        return {}
    if not _STREAM_ARN.match(stream) or not _ROLE_ARN.match(role):
        raise ConfigError(f"STREAM_ARN={stream!r} and STREAM_ROLE_ARN={role!r} must be a Kinesis stream's ARN and an "
                          "IAM role's ARN (template.yaml sets both with Transport=kinesis), or both empty")
    return {"stream_arn": stream, "stream_role_arn": role}


def _account_policy(env: Mapping[str, str]) -> str:
    if _choice(env, "SUBSCRIPTION_MODE", SUBSCRIPTION_MODES, "per-group") != "account-policy":
        return ""
    name = env.get("ACCOUNT_POLICY_NAME", "").strip()
    if not name or name.startswith("aws/"):
        raise ConfigError(f"ACCOUNT_POLICY_NAME={name!r}: SubscriptionMode=account-policy needs the policy's name "
                          "(template.yaml sets logship-<stack name>), not starting with aws/")
    return name


# The system fields EmitSystemFields asks of each filter: where a centralized event was logged (PutSubscriptionFilter
# takes @aws.account, @aws.region and @source.log; ship-logs reads the first two into cloud.account.id, cloud.region).
SOURCE_FIELDS = ("@aws.account", "@aws.region")


def _per_group_only(policy: str, **options: bool) -> None:
    """A filter option an account policy cannot carry is refused rather than ignored: PutAccountPolicy's
    policyDocument takes DestinationArn, RoleArn, FilterPattern and Distribution only (as AWS::Logs::AccountPolicy)."""
    asked = [name for name, value in options.items() if value]
    if policy and asked:
        raise ConfigError(f"{', '.join(f'{name}=true' for name in asked)} with SUBSCRIPTION_MODE=account-policy: an "
                          "account policy has no such setting, so its deliveries would not be what you asked for; "
                          "deploy with SubscriptionMode=per-group, or turn the option off")


_DESTINATION_ARN = re.compile(r"^arn:(aws[a-z-]*):logs:([a-z0-9-]+):(\d{12}):destination:[^:*]{1,512}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _member(env: Mapping[str, str], region: str) -> dict[str, str]:
    """Role=member: the central destination (CENTRAL_DESTINATION_ARN), this account (ACCOUNT_ID), and for
    backfill the central stream and the role to write to it (CENTRAL_STREAM_ARN, CENTRAL_DELIVERY_ROLE_ARN)."""
    destination = env.get("CENTRAL_DESTINATION_ARN", "").strip()
    if not destination:
        return {}
    found = _DESTINATION_ARN.match(destination)
    if not found:
        raise ConfigError(f"CENTRAL_DESTINATION_ARN={destination!r} is not a CloudWatch Logs destination's ARN "
                          "(arn:aws:logs:REGION:ACCOUNT:destination:NAME, the central stack's DestinationArn output)")
    if found.group(2) != region:
        raise ConfigError(f"CENTRAL_DESTINATION_ARN is in {found.group(2)}, this stack in {region}: a log group "
                          f"can only send to a destination of its own region; deploy the central stack in {region} "
                          "too and give its DestinationArn")
    account = env.get("ACCOUNT_ID", "").strip()
    if not _ACCOUNT_ID.match(account):
        raise ConfigError(f"ACCOUNT_ID={account!r} must be this account's 12-digit id (template.yaml sets it)")
    stream, role = env.get("CENTRAL_STREAM_ARN", "").strip(), env.get("CENTRAL_DELIVERY_ROLE_ARN", "").strip()
    if (stream or role) and not (_STREAM_ARN.match(stream) and _ROLE_ARN.match(role)):
        raise ConfigError(f"CENTRAL_STREAM_ARN={stream!r} and CENTRAL_DELIVERY_ROLE_ARN={role!r} must be the central "
                          "stack's LogStreamArn and MemberDeliveryRoleArn outputs, or both empty (no backfill)")
    return {"central_destination_arn": destination, "central_stream_arn": stream, "central_delivery_role_arn": role,
            "account_id": account, "partition": found.group(1)}


# Values PutRetentionPolicy accepts (days).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)
_LAMBDA_ARN = re.compile(r"^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:[A-Za-z0-9_-]{1,64}$")
_SQS_URL = re.compile(r"^https://[A-Za-z0-9.-]+/\d{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$")


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of calls per second (fractions allowed: 0.5 is one call every two seconds)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; give calls per second, e.g. 5") from None
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name}={raw} must be a positive number of calls per second, e.g. 5")
    return value


@dataclass(frozen=True, slots=True)
class SubscriberConfig:
    """Settings of subscribe-log-group and reconcile-subscriptions: what to subscribe, and to where."""

    destination_arn: str
    region: str
    filter_name: str = "logship"
    filter_pattern: str = ""
    include_prefixes: tuple[str, ...] = ("/aws/lambda/",)
    exclude: tuple[str, ...] = ()
    shipper_log_group: str = ""
    stack_log_groups: tuple[str, ...] = ()
    retention_days: int | None = None
    metrics_namespace: str = "logship"
    function_name: str = "subscribe-log-group"
    calls_per_second: float = 5.0  # every paced API, each on its own; CloudWatch Logs documents about 5 TPS
    dead_letter_queue_url: str = ""  # subscribe-log-group's on-failure queue, cleared by a complete sweep
    function_log_groups: bool = True  # also the custom groups (LoggingConfig.LogGroup) Lambda functions log to
    account_policy: str = ""  # SubscriptionMode=account-policy: the policy's name; empty in per-group mode
    # Transport=kinesis: filters send to the stack's stream, through the role CloudWatch Logs assumes
    stream_arn: str = ""
    stream_role_arn: str = ""
    # Role=member: filters send to the central account's CloudWatch Logs destination (no role: its own), and a
    # backfill writes to the central stream through the role the central account grants its members
    central_destination_arn: str = ""
    central_stream_arn: str = ""
    central_delivery_role_arn: str = ""
    account_id: str = ""  # a member's own account and partition (elsewhere the shipper's ARN says them)
    partition: str = "aws"
    # ApplyOnTransformedLogs: filters match and send what a group's log transformer made of each line
    apply_on_transformed_logs: bool = False
    # EmitSystemFields: each event a filter sends names the account and region it was logged in (centralization)
    emit_system_fields: tuple[str, ...] = ()

    @property
    def member(self) -> bool:
        """A member stack: logs go to a central account's destination; there is no shipper in this account."""
        return bool(self.central_destination_arn)

    @property
    def filter_destination(self) -> str:
        """Where logship's filters send: the central destination in a member, the stream with Transport=kinesis,
        else ship-logs itself."""
        return self.central_destination_arn or self.stream_arn or self.destination_arn

    @property
    def filter_role_arn(self) -> str:
        """The role a filter names: the stream's; none for ship-logs or a destination (which has its own)."""
        return "" if self.member else self.stream_role_arn

    @property
    def filter_destinations(self) -> frozenset[str]:
        """Every destination a filter of this stack's may have (one from before a change of Transport)."""
        return frozenset((self.destination_arn, self.stream_arn, self.central_destination_arn)) - {""}

    @property
    def own_log_groups(self) -> frozenset[str]:
        """The stack's own groups: subscribing any of them would make the shipper feed on its own logs.

        The shipper's default group is derived from its ARN too, so a missing setting cannot open a loop.
        """
        default_group = "/aws/lambda/" + self.destination_arn.rsplit(":", 1)[-1] if self.destination_arn else ""
        return frozenset((default_group, self.shipper_log_group, *self.stack_log_groups)) - {""}

    @property
    def _home(self) -> tuple[str, str, str]:
        """This account's partition, region and id: the shipper's (from its ARN), or a member's own."""
        found = _LAMBDA_ARN.match(self.destination_arn)
        return found.groups() if found else (self.partition, self.region, self.account_id)  # type: ignore[return-value]

    @property
    def account(self) -> str:
        """This account's id: the one a backfill's payloads name as their owner."""
        return self._home[2]

    @property
    def function_arn_prefix(self) -> str:
        """``arn:aws:lambda:REGION:ACCOUNT:function:``: functions of this account and region."""
        return "arn:{}:lambda:{}:{}:function:".format(*self._home)

    def log_group_arn(self, name: str) -> str:
        """A group's ARN as ListTagsForResource takes it (no ``:*``): this partition, region and account."""
        return "arn:{}:logs:{}:{}:log-group:".format(*self._home) + name

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SubscriberConfig:
        """Read and validate the subscriber's environment, e.g. ``SubscriberConfig.from_env(os.environ)``."""
        env = os.environ if env is None else env
        region = _region(env)
        member = _member(env, region)
        destination = env.get("DESTINATION_ARN", "").strip()
        if not member and not _LAMBDA_ARN.match(destination):
            raise ConfigError(
                f"DESTINATION_ARN={destination!r} is not a Lambda function ARN; set it to the stack's "
                "ShipLogsFunctionArn output (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
            )
        filter_name = _text(env, "FILTER_NAME", "logship")
        if len(filter_name) > 512 or any(c in filter_name for c in ":*"):
            raise ConfigError(f"FILTER_NAME={filter_name!r} must be at most 512 characters without ':' or '*'")
        policy = _account_policy(env)
        for name, value in (("FILTER_NAME", filter_name), ("ACCOUNT_POLICY_NAME", policy)):
            if member and value and named_region(value) != region:
                raise ConfigError(f"{name}={value!r}: a member's filters and policy end with @{region} (the region "
                                  "the central shipper gives their documents); template.yaml names them so")
        pattern = env.get("FILTER_PATTERN", "")
        if len(pattern) > 1024:
            raise ConfigError(f"FILTER_PATTERN is {len(pattern)} characters; CloudWatch Logs accepts at most 1024")
        retention = _int(env, "RETENTION_DAYS", 0, minimum=0) or None
        if retention is not None and retention not in RETENTION_DAYS:
            raise ConfigError(f"RETENTION_DAYS={retention} is not a retention CloudWatch Logs accepts; use one of "
                              f"{', '.join(map(str, RETENTION_DAYS))}, or leave it empty to keep groups as created")
        queue_url = _queue_url(env, "SUBSCRIPTION_DLQ_URL", "SubscriptionDeadLetterQueueUrl")
        transformed = _flag(env, "APPLY_ON_TRANSFORMED_LOGS", False)
        sources = _flag(env, "EMIT_SYSTEM_FIELDS", False)
        _per_group_only(policy, APPLY_ON_TRANSFORMED_LOGS=transformed, EMIT_SYSTEM_FIELDS=sources)
        return cls(
            destination_arn="" if member else destination,
            region=region,
            filter_name=filter_name,
            filter_pattern=pattern,
            include_prefixes=_list(env, "INCLUDE_PREFIXES") or ("/aws/lambda/",),
            exclude=_list(env, "EXCLUDE"),
            shipper_log_group=env.get("SHIPPER_LOG_GROUP", "").strip(),
            stack_log_groups=_list(env, "STACK_LOG_GROUPS"),
            retention_days=retention,
            metrics_namespace=_text(env, "METRICS_NAMESPACE", "logship"),
            function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", "subscribe-log-group"),
            calls_per_second=_rate(env, "SUBSCRIPTION_CALLS_PER_SECOND", 5.0),
            dead_letter_queue_url=queue_url,
            function_log_groups=_flag(env, "FUNCTION_LOG_GROUPS", True),
            account_policy=policy,
            apply_on_transformed_logs=transformed,
            emit_system_fields=SOURCE_FIELDS if sources else (),
            **(member or _stream(env)),
        )


@dataclass(frozen=True, slots=True)
class BackfillConfig:
    """Settings of the pre-subscription backfill, run by both subscription functions after subscribing a group."""

    hours: int = 24  # how far back: a group's whole life up to this; 0 turns backfill off
    max_events: int = 10_000  # per group; the oldest are kept, the rest reported as left out
    batch_bytes: int = 1024 * 1024  # of message text per payload to start from; a 413 splits it further
    # Lines ingested this soon after the filter's creationTime are shipped too: AWS does not say a new filter
    # delivers from that very millisecond, and a line sent twice is one document (its id), a line missed is lost.
    overlap_ms: int = 60_000

    @property
    def enabled(self) -> bool:
        return self.hours > 0

    @property
    def lookback_ms(self) -> int:
        return self.hours * 3_600_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BackfillConfig:
        """Read ``BACKFILL_HOURS`` and ``BACKFILL_MAX_EVENTS``, e.g. ``BackfillConfig.from_env(os.environ)``."""
        env = os.environ if env is None else env
        return cls(
            hours=_int(env, "BACKFILL_HOURS", 24, minimum=0, maximum=24 * 14,
                       meaning="hours of a log group's lines from before its subscription to ship; 0 turns "
                               "backfill off"),
            max_events=_int(env, "BACKFILL_MAX_EVENTS", 10_000,
                            meaning="lines shipped per log group at most; to ship none, set BACKFILL_HOURS=0"),
        )
