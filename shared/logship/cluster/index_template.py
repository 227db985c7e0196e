"""The index template for a stack's daily indices (or data streams) and the retention policy, installed idempotently.

Explicit mappings for every field logship writes, ``dynamic: false`` at the root so nothing unexpected
can create a conflicting mapping, and ``json`` as one ``flat_object`` (OpenSearch 2.14+) or ``flattened``
(Elasticsearch 7.3+) field, so two functions logging the same key with different types never clash.
Where neither exists, ``json`` is stored but not searchable (``enabled: false``): documents still index.

Before writing anything the installer checks that the cluster fits the settings (the ingest pipeline
exists, Elasticsearch takes the compatibility headers, a Serverless collection takes document ids), so a
misfit fails the deploy with its reason instead of every batch later.

Installed at deploy by the install-index-template function; by hand with ``logship setup-index``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opensearchpy.exceptions import ConnectionError as Unreachable
from opensearchpy.exceptions import NotFoundError, TransportError

from logship.cluster.answers import ClusterAnswer, InstallError
from logship.cluster.engine import Flavor, detect
from logship.cluster.retention import install_retention, left_in_place
from logship.core.indices import IndexNaming

KEYWORD = {"type": "keyword", "ignore_above": 1024}
FLOAT = {"type": "float"}
TEXT = {"type": "text"}


def _props(**fields: Any) -> dict[str, Any]:
    return {"properties": fields}


def mappings(json_type: dict[str, Any]) -> dict[str, Any]:
    """Every field of the README's field reference, typed.

    ``correlation`` is one ``flat_object``/``flattened`` field like ``json`` where the cluster has one:
    any number of keys across lines, no field per key (``correlation.x-correlation-id:"req-5e1f"`` still
    finds them). Elsewhere its keys are dynamic keywords; the shipper adds at most 16 per line.
    """
    searchable_object = json_type.get("type") in ("flat_object", "flattened")
    correlation = json_type if searchable_object else {"type": "object", "dynamic": True}
    dynamic_templates = [{"labels": {"path_match": "labels.*", "mapping": KEYWORD}}]
    if not searchable_object:
        dynamic_templates.insert(0, {"correlation_ids": {"path_match": "correlation.*", "mapping": KEYWORD}})
    return {
        "dynamic": False,
        "dynamic_templates": dynamic_templates,
        "properties": {
            "@timestamp": {"type": "date"},
            "message": TEXT,
            "event": _props(action=KEYWORD, outcome=KEYWORD,
                            original={"type": "keyword", "index": False, "doc_values": False}),
            "log": _props(level=KEYWORD, logger=KEYWORD, origin=_props(file=_props(line={"type": "integer"}))),
            "aws": _props(cloudwatch=_props(log_group=KEYWORD, log_stream=KEYWORD, event_id=KEYWORD)),
            "cloud": _props(provider=KEYWORD, region=KEYWORD, account=_props(id=KEYWORD)),
            "faas": _props(name=KEYWORD, version=KEYWORD, execution=KEYWORD, coldstart={"type": "boolean"},
                           runtime=_props(version=KEYWORD)),
            "lambda": _props(duration_ms=FLOAT, billed_duration_ms=FLOAT, memory_size_mb={"type": "integer"},
                             max_memory_used_mb={"type": "integer"}, memory_used_ratio=FLOAT,
                             init_duration_ms=FLOAT, restore_duration_ms=FLOAT, billed_restore_duration_ms=FLOAT,
                             initialization_type=KEYWORD, capacity_provider=KEYWORD,
                             durable=_props(execution_arn=KEYWORD, operation_id=KEYWORD, operation_name=KEYWORD,
                                            parent_id=KEYWORD, attempt={"type": "integer"})),
            "trace": _props(id=KEYWORD),
            "error": _props(type=KEYWORD, message=TEXT, stack_trace=TEXT, code=KEYWORD),
            "service": _props(name=KEYWORD, environment=KEYWORD),
            "correlation": correlation,
            "labels": {"type": "object", "dynamic": True},
            "metric": _props(name=KEYWORD, value={"type": "double"}, unit=KEYWORD,
                             timestamp_ms={"type": "date", "format": "epoch_millis"}),
            "json": json_type,
            "logship": _props(degraded={"type": "boolean"}, reason=TEXT, failed_index=KEYWORD,
                              position={"type": "integer"}, invalid_utf8={"type": "boolean"}),
        },
    }


def _naming(naming: IndexNaming | str) -> IndexNaming:
    return naming if isinstance(naming, IndexNaming) else IndexNaming(naming)


# Above Elasticsearch's built-in templates (100) and Fleet's integration templates (200): Elastic's docs ask
# custom templates over overlapping patterns for a priority above 500. Two templates of one priority whose
# patterns overlap are refused, so logship's patterns never overlap another stack's (IndexNaming.patterns).
TEMPLATE_PRIORITY = 501


def template_body(naming: IndexNaming | str, flavor: Flavor, policy_name: str | None = None,
                  index_mode: str = "standard") -> dict[str, Any]:
    """The index template for daily indices (``naming`` a prefix, or an :class:`IndexNaming`) or the data streams.

    On Elasticsearch versions that know ``index.mode``, it is set (``standard`` unless the stack asks for
    ``logsdb``): Elasticsearch 9 would otherwise make a ``logs-*-*`` data stream ``logsdb`` by its name alone.
    Where Elasticsearch has ``allow_auto_create``, the indices are created on a write even with
    ``action.auto_create_index: false`` (as Elasticsearch's own ``logs`` template does).
    """
    naming = _naming(naming)
    settings: dict[str, Any] = {"index.mapping.total_fields.limit": 2000}
    if flavor.distribution == "elasticsearch" and policy_name:
        settings["index.lifecycle.name"] = policy_name
    if flavor.sets_index_mode:
        settings["index.mode"] = index_mode
    if flavor.distribution == "serverless":
        settings = {}
    body: dict[str, Any] = {"index_patterns": naming.patterns, "priority": TEMPLATE_PRIORITY,
                            "template": {"settings": settings, "mappings": mappings(flavor.json_type)},
                            "_meta": {"managed_by": "logship"}}
    if naming.is_stream:
        body["data_stream"] = {}  # @timestamp is the stream's time field: every document has one
    if flavor.template_allows_auto_create:  # the stack's own indices, wherever auto-creation is off
        body["allow_auto_create"] = True
    return body


@dataclass
class InstallReport:
    """What was installed and what was skipped, with the reason (printed by the CLI, logged by the resource)."""

    flavor: Flavor
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _check_flavor(flavor: Flavor, elasticsearch: bool, report: InstallReport) -> None:
    """CLUSTER_FLAVOR=elasticsearch sends ``compatible-with=8``, which only Elasticsearch 8 and 9 take."""
    name = flavor.described
    if elasticsearch and (flavor.distribution != "elasticsearch" or flavor.version[:1] not in ((8,), (9,))):
        raise InstallError(
            f"the cluster is {name}, but ClusterFlavor=elasticsearch (CLUSTER_FLAVOR; an Elastic Cloud id implies "
            "it) sends Elasticsearch 8's compatibility headers, which only Elasticsearch 8 and 9 accept. Deploy "
            "with ClusterFlavor=opensearch: plain JSON, as OpenSearch and Elasticsearch 7 expect")
    if not elasticsearch and flavor.distribution == "elasticsearch" and flavor.version >= (8,):
        report.skipped.append(f"the cluster is {name}: ClusterFlavor=elasticsearch would send its REST "
                              "compatibility headers (plain JSON works too)")


def _check_pipeline(client: Any, pipeline: str) -> str:
    """The ingest pipeline must exist now: a missing one would refuse every document later."""
    from urllib.parse import quote

    try:
        client.transport.perform_request("GET", f"/_ingest/pipeline/{quote(pipeline, safe='')}")
    except NotFoundError:
        raise InstallError(f"the ingest pipeline {pipeline!r} does not exist on the cluster: create it first (PUT "
                           f"_ingest/pipeline/{pipeline}), or deploy with IngestPipeline empty") from None
    except TransportError as exc:
        if exc.status_code in (401, 403) or isinstance(exc, Unreachable):
            raise
        raise InstallError(f"could not check the ingest pipeline {pipeline!r} ({exc.status_code}: "
                           f"{str(exc.error)[:200]}): does this cluster have ingest pipelines? Deploy with "
                           "IngestPipeline empty if not") from None
    return f"ingest pipeline {pipeline} exists: every bulk request names it"


def _check_document_ids(collection_type: str | None, document_ids: bool, report: InstallReport) -> None:
    if collection_type == "TIMESERIES" and document_ids:
        raise InstallError(
            "the collection is an OpenSearch Serverless time series collection, which refuses document ids: "
            "every batch would fail. Deploy with DocumentIds=false (documents then get ids of the cluster's "
            "own, and a retried batch may index an event twice), or use a search collection")
    if not document_ids:
        report.skipped.append("document ids: off (DocumentIds=false); a retried or replayed batch may index an "
                              "event twice (aws.cloudwatch.event_id tells copies apart)")


def install(client: Any, *, index_prefix: str = "cwl", retention_days: int = 30, serverless: bool = False,
            naming: IndexNaming | None = None, pipeline: str = "", elasticsearch: bool = False,
            collection_type: str | None = None, document_ids: bool = True,
            index_mode: str = "standard") -> InstallReport:
    """Check the cluster fits, then install (or update) the retention policy, attached to the existing indices,
    and the index template.

    Safe to run any number of times. ``naming`` (default: daily ``<index_prefix>`` indices) says where
    documents go; :func:`install_for` passes everything from a :class:`ShipperConfig`. Raises
    :class:`InstallError` when the cluster does not fit the settings or refuses what is sent, with its reason.
    ``retention_days`` 0 installs no retention policy.
    """
    naming = naming or IndexNaming(index_prefix)
    flavor = detect(client, serverless)
    report = InstallReport(flavor)
    if flavor.distribution == "opensearch" and not flavor.version:
        report.skipped.append("the cluster's version is unknown: in compatibility mode only GET _nodes/_local says "
                              "it, and the cluster refused it (with fine-grained access control, grant the installer "
                              "cluster:monitor/nodes/info); json is kept but not searchable until it can tell")
    _check_flavor(flavor, elasticsearch, report)
    if serverless:
        _check_document_ids(collection_type, document_ids, report)
    elif not document_ids:
        _check_document_ids(None, document_ids, report)
    if pipeline:
        report.done.append(_check_pipeline(client, pipeline))
    policy = _retention(client, flavor, naming, retention_days, report)
    body = template_body(naming, flavor, policy or None, index_mode)
    try:
        client.indices.put_index_template(name=naming.name, body=body)
    except TransportError as exc:
        answer = ClusterAnswer.refusal(exc)  # the cluster did not answer: raised as it is
        if answer.status in (401, 403):
            raise
        raise InstallError(f"the cluster ({flavor.described}) refused the index template {naming.name} "
                           f"({answer}). {_template_fix(answer)}") from exc
    what = f"data streams {naming.described}" if naming.is_stream else naming.described
    mode = f", index.mode {index_mode}" if flavor.sets_index_mode else ""
    if index_mode != "standard" and not flavor.sets_index_mode:
        report.skipped.append(f"index.mode {index_mode}: only Elasticsearch 8.17 and later take it; the indices "
                              "are standard")
    report.done.insert(0, f"cluster: {flavor.described}")
    report.done.append(f"index template {naming.name} for {what} (json as {flavor.json_type['type']}{mode})")
    return report


def _retention(client: Any, flavor: Flavor, naming: IndexNaming, retention_days: int, report: InstallReport) -> str:
    """The retention policy's name, or "" when none is installed (the report says why)."""
    if not flavor.lifecycle:
        report.skipped.append("retention: OpenSearch Serverless has no ISM; set a data lifecycle policy "
                              "on the collection instead")
        return ""
    if not retention_days:
        report.skipped.append(f"retention: none (IndexRetentionDays=0): delete old {naming.described} indices "
                              "yourself")
        report.skipped.extend(filter(None, [left_in_place(client, flavor.lifecycle, naming)]))
        return ""
    outcome = install_retention(client, flavor.lifecycle, naming, retention_days, flavor.version)
    report.done.extend(outcome.done)
    report.skipped.extend(outcome.skipped)
    return outcome.policy


def _template_fix(answer: ClusterAnswer) -> str:
    if "that have the same priority" in answer.reason:
        return (f"Another index template claims some of the same indices at priority {TEMPLATE_PRIORITY}: give "
                "it another priority or narrower index_patterns (two logship stacks never overlap: their "
                "IndexPrefix or data stream names differ)")
    return "Tell us the cluster's version and this reason; meanwhile deploy with InstallIndexTemplate=false"


def install_for(client: Any, config: Any, collection_type: str | None = None) -> InstallReport:
    """:func:`install` with everything a :class:`~logship.core.config.ShipperConfig` says (the handler's and the
    CLI's way)."""
    return install(client, retention_days=config.index_retention_days, serverless=config.serverless,
                   naming=config.naming, pipeline=config.ingest_pipeline, elasticsearch=config.elasticsearch,
                   collection_type=collection_type, document_ids=config.document_ids,
                   index_mode=config.elasticsearch_index_mode)


def serverless_collection_type(config: Any) -> tuple[str | None, str]:
    """A Serverless collection's type (``SEARCH``, ``TIMESERIES``, ``VECTORSEARCH``), or None and why not.

    Asked of the control plane (``aoss:BatchGetCollection``): the collection's own API does not say.
    """
    from urllib.parse import urlsplit

    import boto3
    from botocore.config import Config

    collection_id = (urlsplit(config.endpoint).hostname or "").split(".", 1)[0]
    try:
        client = boto3.client("opensearchserverless", region_name=config.region,
                              config=Config(connect_timeout=5, read_timeout=10, retries={"total_max_attempts": 3}))
        found = client.batch_get_collection(ids=[collection_id]).get("collectionDetails", [])
    except Exception as exc:  # a check that cannot be made is reported, not fatal
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
    if not found:
        return None, f"collection {collection_id} not found in {config.region}"
    return str(found[0].get("type", "")) or None, ""


def handle_install_request(request: Any, env: Mapping[str, str]) -> tuple[str, str, str]:
    """A CloudFormation request -> (status, reason, physical id); never raises, so CloudFormation is answered.

    Delete keeps the template and the indices: they hold the user's logs, which outlive the stack.
    """
    from logship.cluster.client import build_client
    from logship.core.config import ShipperConfig

    request = request if isinstance(request, dict) else {}
    prefix = env.get("INDEX_PREFIX", "cwl") or "cwl"
    physical_id = f"logship-index-template-{prefix}"
    if request.get("RequestType") == "Delete":  # before reading settings: a bad one must not block a delete
        return ("SUCCESS", f"kept index template logship-{prefix} (or the data streams') and the indices: they hold "
                "your logs", request.get("PhysicalResourceId") or physical_id)
    try:
        config = ShipperConfig.from_env(env)
    except ValueError as exc:
        return "FAILED", f"bad configuration: {exc}", physical_id
    physical_id = f"logship-index-template-{config.naming.data_stream or config.index_prefix}"
    properties = request.get("ResourceProperties")
    if isinstance(properties, dict) and str(properties.get("Install", "true")).lower() == "false":
        return "SUCCESS", "skipped (InstallIndexTemplate=false)", physical_id
    try:
        report = install_configured(build_client(config), config)
    except Exception as exc:  # any failure must reach CloudFormation as a readable reason
        vpc = Vpc(env.get("VPC_SUBNET_IDS", ""), env.get("VPC_SECURITY_GROUP_IDS", ""))
        return ("FAILED", f"{failure_reason(exc, config.endpoint, vpc)}. Or deploy with InstallIndexTemplate=false "
                "and run `make index-template` yourself", physical_id)
    return "SUCCESS", "; ".join(report.done + report.skipped), physical_id


def install_configured(client: Any, config: Any) -> InstallReport:
    """What the installer function and ``logship setup-index`` run: a Serverless collection's type asked of
    its control plane (a time series one refuses document ids), then :func:`install_for`."""
    collection_type, why_not = serverless_collection_type(config) if config.serverless else (None, "")
    report = install_for(client, config, collection_type)
    if why_not:
        report.skipped.append(f"could not check the collection's type ({why_not}): a time series collection "
                              "needs DocumentIds=false")
    return report


@dataclass(frozen=True)
class Vpc:
    """Where the installer runs: the template's VpcSubnetIds and VpcSecurityGroupIds (empty: not in a VPC)."""

    subnets: str = ""
    security_groups: str = ""


def failure_reason(exc: Exception, endpoint: str, vpc: Vpc | None) -> str:
    """What went wrong and what to check first. ``vpc`` is None on a laptop (the CLI)."""
    from logship.cluster.bounded_connection import CredentialsTimeoutError
    from logship.cluster.secrets import SecretError, secret_error_in

    secret = exc if isinstance(exc, SecretError) else secret_error_in(exc)
    if secret is not None:
        return str(secret)
    if isinstance(exc, InstallError):
        return f"{endpoint}: {exc}"
    if isinstance(getattr(exc, "info", None), CredentialsTimeoutError):
        return (f"could not read the credentials for {endpoint} in time: Secrets Manager did not answer. "
                + ("In a VPC without a NAT gateway, add an interface endpoint for Secrets Manager "
                   "(README, Private domains)" if vpc is not None and vpc.subnets else
                   "Check that Secrets Manager is reachable from where this runs"))
    if isinstance(exc, Unreachable):
        return f"could not reach {endpoint} ({exc.error or type(exc).__name__}). {_where_to_look(vpc)}"
    if isinstance(exc, TransportError) and exc.status_code in (401, 403):
        return (f"{endpoint} refused the installer ({exc.status_code}: {str(exc.error)[:200]}). Check that its "
                "role may write index templates and retention policies: the domain's access policy, or with "
                "fine-grained access control a role mapping for the InstallIndexTemplate function's role")
    return f"could not install the index template on {endpoint}: {type(exc).__name__}: {str(exc)[:500]}"


def _where_to_look(vpc: Vpc | None) -> str:
    if vpc is None:
        return ("Check first that this machine can reach it: a VPC-only domain (https://vpc-...) answers only "
                "inside its VPC (a VPN, a bastion, or run it from the deployed function); then the endpoint itself")
    if not vpc.subnets:
        return ("Check first the VPC settings: the functions run outside any VPC, and a VPC-only domain "
                "(https://vpc-...) answers only inside its VPC: deploy with VpcSubnetIds and VpcSecurityGroupIds. "
                "Then the endpoint itself (OpenSearchEndpoint)")
    return (f"Check first the VPC settings: the functions run in subnets {vpc.subnets} with security groups "
            f"{vpc.security_groups}: the domain's security group must allow inbound HTTPS (TCP 443) from them, "
            "and those subnets must route to the domain (same VPC, or peered). Then the endpoint itself "
            "(OpenSearchEndpoint)")
