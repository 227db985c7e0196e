"""The index template for ``<prefix>-*`` (or the data streams) and the retention policy, installed idempotently.

Explicit mappings for every field logship writes, ``dynamic: false`` at the root so nothing unexpected
can create a conflicting mapping, and ``json`` as one ``flat_object`` (OpenSearch 2.7+) or ``flattened``
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
from opensearchpy.exceptions import NotFoundError, RequestError, TransportError

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
                             init_duration_ms=FLOAT, restore_duration_ms=FLOAT, billed_restore_duration_ms=FLOAT),
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


@dataclass(frozen=True)
class Flavor:
    """What the cluster is, as far as mappings and retention differ."""

    distribution: str  # "opensearch", "elasticsearch" or "serverless"
    version: tuple[int, ...] = ()

    @property
    def json_type(self) -> dict[str, Any]:
        if self.distribution == "elasticsearch" and self.version >= (7, 3):
            return {"type": "flattened"}
        if self.distribution == "serverless" or (self.distribution == "opensearch" and self.version >= (2, 7)):
            return {"type": "flat_object"}
        return {"type": "object", "enabled": False}


class InstallError(RuntimeError):
    """The cluster does not fit the settings (a missing pipeline, a flavor that refuses the headers); says why."""


def detect(client: Any, serverless: bool = False) -> Flavor:
    """OpenSearch Serverless has no ``GET /``; domains and Elasticsearch say what they are there.

    Asked in plain JSON whatever the client's defaults, so that an Elasticsearch 7 (which refuses the
    compatibility headers) still says what it is, and the installer can say what to change.
    """
    if serverless:
        return Flavor("serverless")
    from logship.cluster.client import PLAIN_HEADERS

    version = client.info(headers=PLAIN_HEADERS)["version"]
    number = tuple(int(part) for part in version["number"].split("-")[0].split(".")[:2] if part.isdigit())
    return Flavor(version.get("distribution", "elasticsearch"), number)


def _naming(naming: IndexNaming | str) -> IndexNaming:
    return naming if isinstance(naming, IndexNaming) else IndexNaming(naming)


def template_body(naming: IndexNaming | str, flavor: Flavor, policy_name: str | None = None) -> dict[str, Any]:
    """The index template for daily indices (``naming`` a prefix, or an :class:`IndexNaming`) or the data streams.

    Priority 200: Elasticsearch ships a ``logs`` template for ``logs-*-*`` at 100, and refuses a second
    template of the same priority whose patterns overlap it; ours must win for our names.
    """
    naming = _naming(naming)
    settings: dict[str, Any] = {"index.mapping.total_fields.limit": 2000}
    if flavor.distribution == "elasticsearch" and policy_name:
        settings["index.lifecycle.name"] = policy_name
    if flavor.distribution == "serverless":
        settings = {}
    body: dict[str, Any] = {"index_patterns": naming.patterns, "priority": 200,
                            "template": {"settings": settings, "mappings": mappings(flavor.json_type)},
                            "_meta": {"managed_by": "logship"}}
    if naming.is_stream:
        body["data_stream"] = {}  # @timestamp is the stream's time field: every document has one
    return body


# A data stream's write index rolls over daily (or at this size), so retention deletes whole days.
ROLLOVER_AGE = "1d"
ROLLOVER_SIZE = "50gb"


def ism_policy(naming: IndexNaming | str, retention_days: int) -> dict[str, Any]:
    """ISM (OpenSearch): delete indices ``retention_days`` after creation; a data stream's also roll over daily.

    ISM matches a backing index's template by its data stream's name (index-management's
    ``findIndexLookupName``), so the streams' own names are the patterns.
    """
    naming = _naming(naming)
    hot_actions: list[dict[str, Any]] = []
    if naming.is_stream:
        hot_actions.append({"rollover": {"min_index_age": ROLLOVER_AGE, "min_size": ROLLOVER_SIZE}})
    return {"policy": {
        "description": f"logship: delete {naming.described} indices {retention_days} days after creation",
        "default_state": "hot",
        "states": [
            {"name": "hot", "actions": hot_actions,
             "transitions": [{"state_name": "delete", "conditions": {"min_index_age": f"{retention_days}d"}}]},
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
        ],
        "ism_template": [{"index_patterns": naming.patterns, "priority": 100}],
    }}


def ilm_policy(retention_days: int, *, rollover: bool = False, version: tuple[int, ...] = ()) -> dict[str, Any]:
    """ILM (Elasticsearch): delete after ``retention_days``; with ``rollover`` (data streams) roll over daily first.

    In a rollover policy the delete phase's age counts from the rollover.
    """
    hot: dict[str, Any] = {}
    if rollover:
        size_key = "max_primary_shard_size" if version >= (7, 13) else "max_size"
        hot["rollover"] = {"max_age": ROLLOVER_AGE, size_key: ROLLOVER_SIZE}
    return {"policy": {"phases": {"hot": {"actions": hot},
                                  "delete": {"min_age": f"{retention_days}d", "actions": {"delete": {}}}}}}


@dataclass
class InstallReport:
    """What was installed and what was skipped, with the reason (printed by the CLI, logged by the resource)."""

    flavor: Flavor
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _put_ism(client: Any, name: str, body: dict[str, Any]) -> None:
    """ISM policies are versioned: updating one needs its current seq_no and primary_term."""
    path = f"/_plugins/_ism/policies/{name}"
    try:
        current = client.transport.perform_request("GET", path)
    except NotFoundError:
        client.transport.perform_request("PUT", path, body=body)
        return
    params = {"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]}
    client.transport.perform_request("PUT", path, params=params, body=body)


def _check_flavor(flavor: Flavor, elasticsearch: bool, report: InstallReport) -> None:
    """CLUSTER_FLAVOR=elasticsearch sends ``compatible-with=8``, which only Elasticsearch 8 and 9 take."""
    name = f"{flavor.distribution} {'.'.join(map(str, flavor.version))}".strip()
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


def _install_retention(client: Any, flavor: Flavor, naming: IndexNaming, retention_days: int,
                       report: InstallReport) -> str:
    """The ISM or ILM policy; its name, or "" when the cluster has no lifecycle API."""
    policy = naming.name
    if flavor.distribution == "serverless":
        report.skipped.append("retention: OpenSearch Serverless has no ISM; set a data lifecycle policy "
                              "on the collection instead")
        return ""
    rolls = " (rolled over daily)" if naming.is_stream else ""
    try:
        if flavor.distribution == "opensearch":
            _put_ism(client, policy, ism_policy(naming, retention_days))
            report.done.append(f"ISM policy {policy}: delete after {retention_days} days{rolls}")
        else:
            client.transport.perform_request("PUT", f"/_ilm/policy/{policy}", body=ilm_policy(
                retention_days, rollover=naming.is_stream, version=flavor.version))
            report.done.append(f"ILM policy {policy}: delete after {retention_days} days{rolls}")
    except (NotFoundError, RequestError) as exc:
        report.skipped.append(f"retention: this cluster has no lifecycle API ({exc.status_code}: "
                              f"{str(exc.error)[:120]}); delete old {naming.described} indices yourself")
        return ""
    return policy


def install(client: Any, *, index_prefix: str = "cwl", retention_days: int = 30, serverless: bool = False,
            naming: IndexNaming | None = None, pipeline: str = "", elasticsearch: bool = False,
            collection_type: str | None = None, document_ids: bool = True) -> InstallReport:
    """Check the cluster fits, then install (or update) the retention policy and the index template.

    Safe to run any number of times. ``naming`` (default: daily ``<index_prefix>-*``) says where documents
    go; :func:`install_for` passes everything from a :class:`ShipperConfig`. Raises :class:`InstallError`
    when the cluster does not fit the settings.
    """
    naming = naming or IndexNaming(index_prefix)
    flavor = detect(client, serverless)
    report = InstallReport(flavor)
    _check_flavor(flavor, elasticsearch, report)
    if serverless:
        _check_document_ids(collection_type, document_ids, report)
    elif not document_ids:
        _check_document_ids(None, document_ids, report)
    if pipeline:
        report.done.append(_check_pipeline(client, pipeline))
    policy = _install_retention(client, flavor, naming, retention_days, report)
    client.indices.put_index_template(name=naming.name, body=template_body(naming, flavor, policy or None))
    what = f"data streams {naming.described}" if naming.is_stream else naming.described
    report.done.append(f"index template {naming.name} for {what} (json as {flavor.json_type['type']})")
    return report


def install_for(client: Any, config: Any, collection_type: str | None = None) -> InstallReport:
    """:func:`install` with everything a :class:`~logship.core.config.ShipperConfig` says (the handler's and the
    CLI's way)."""
    return install(client, retention_days=config.index_retention_days, serverless=config.serverless,
                   naming=config.naming, pipeline=config.ingest_pipeline, elasticsearch=config.elasticsearch,
                   collection_type=collection_type, document_ids=config.document_ids)


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
