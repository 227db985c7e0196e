"""The index template for ``<prefix>-*`` and the retention policy, installed idempotently.

Explicit mappings for every field logship writes, ``dynamic: false`` at the root so nothing unexpected
can create a conflicting mapping, and ``json`` as one ``flat_object`` (OpenSearch 2.7+) or ``flattened``
(Elasticsearch 7.3+) field, so two functions logging the same key with different types never clash.
Where neither exists, ``json`` is stored but not searchable (``enabled: false``): documents still index.

Installed at deploy by the install-index-template function; by hand with ``logship setup-index``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opensearchpy.exceptions import NotFoundError, RequestError, TransportError

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
            "log": _props(level=KEYWORD),
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


def detect(client: Any, serverless: bool = False) -> Flavor:
    """OpenSearch Serverless has no ``GET /``; domains and Elasticsearch say what they are there."""
    if serverless:
        return Flavor("serverless")
    version = client.info()["version"]
    number = tuple(int(part) for part in version["number"].split("-")[0].split(".")[:2] if part.isdigit())
    return Flavor(version.get("distribution", "elasticsearch"), number)


def template_body(index_prefix: str, flavor: Flavor, policy_name: str | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {"index.mapping.total_fields.limit": 2000}
    if flavor.distribution == "elasticsearch" and policy_name:
        settings["index.lifecycle.name"] = policy_name
    if flavor.distribution == "serverless":
        settings = {}
    return {"index_patterns": [f"{index_prefix}-*"], "priority": 100,
            "template": {"settings": settings, "mappings": mappings(flavor.json_type)},
            "_meta": {"managed_by": "logship"}}


def ism_policy(index_prefix: str, retention_days: int) -> dict[str, Any]:
    return {"policy": {
        "description": f"logship: delete {index_prefix}-* indices {retention_days} days after creation",
        "default_state": "hot",
        "states": [
            {"name": "hot", "actions": [],
             "transitions": [{"state_name": "delete", "conditions": {"min_index_age": f"{retention_days}d"}}]},
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
        ],
        "ism_template": [{"index_patterns": [f"{index_prefix}-*"], "priority": 100}],
    }}


def ilm_policy(retention_days: int) -> dict[str, Any]:
    return {"policy": {"phases": {"hot": {"actions": {}},
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


def install(client: Any, *, index_prefix: str, retention_days: int = 30, serverless: bool = False) -> InstallReport:
    """Install (or update) the retention policy and the index template; safe to run any number of times."""
    flavor = detect(client, serverless)
    report = InstallReport(flavor)
    policy = f"logship-{index_prefix}"
    if flavor.distribution == "serverless":
        report.skipped.append("retention: OpenSearch Serverless has no ISM; set a data lifecycle policy "
                              "on the collection instead")
    else:
        try:
            if flavor.distribution == "opensearch":
                _put_ism(client, policy, ism_policy(index_prefix, retention_days))
                report.done.append(f"ISM policy {policy}: delete after {retention_days} days")
            else:
                client.transport.perform_request("PUT", f"/_ilm/policy/{policy}", body=ilm_policy(retention_days))
                report.done.append(f"ILM policy {policy}: delete after {retention_days} days")
        except (NotFoundError, RequestError) as exc:
            report.skipped.append(f"retention: this cluster has no lifecycle API ({exc.status_code}: "
                                  f"{str(exc.error)[:120]}); delete old {index_prefix}-* indices yourself")
            policy = ""
    client.indices.put_index_template(name=f"logship-{index_prefix}",
                                      body=template_body(index_prefix, flavor, policy or None))
    report.done.append(f"index template logship-{index_prefix} for {index_prefix}-* (json as "
                       f"{flavor.json_type['type']})")
    return report


def handle_install_request(request: Any, env: Mapping[str, str]) -> tuple[str, str, str]:
    """A CloudFormation request -> (status, reason, physical id); never raises, so CloudFormation is answered.

    Delete keeps the template and the indices: they hold the user's logs, which outlive the stack.
    """
    from logship.client import build_client
    from logship.config import ShipperConfig

    request = request if isinstance(request, dict) else {}
    prefix = env.get("INDEX_PREFIX", "cwl") or "cwl"
    physical_id = f"logship-index-template-{prefix}"
    if request.get("RequestType") == "Delete":  # before reading settings: a bad one must not block a delete
        return ("SUCCESS", f"kept index template logship-{prefix} and the {prefix}-* indices: they hold your logs",
                physical_id)
    try:
        config = ShipperConfig.from_env(env)
    except ValueError as exc:
        return "FAILED", f"bad configuration: {exc}", physical_id
    properties = request.get("ResourceProperties")
    if isinstance(properties, dict) and str(properties.get("Install", "true")).lower() == "false":
        return "SUCCESS", "skipped (InstallIndexTemplate=false)", physical_id
    try:
        report = install(build_client(config), index_prefix=config.index_prefix,
                         retention_days=config.index_retention_days, serverless=config.serverless)
    except Exception as exc:  # any failure must reach CloudFormation as a readable reason
        vpc = Vpc(env.get("VPC_SUBNET_IDS", ""), env.get("VPC_SECURITY_GROUP_IDS", ""))
        return ("FAILED", f"{failure_reason(exc, config.endpoint, vpc)}. Or deploy with InstallIndexTemplate=false "
                "and run `make index-template` yourself", physical_id)
    return "SUCCESS", "; ".join(report.done + report.skipped), physical_id


@dataclass(frozen=True)
class Vpc:
    """Where the installer runs: the template's VpcSubnetIds and VpcSecurityGroupIds (empty: not in a VPC)."""

    subnets: str = ""
    security_groups: str = ""


def failure_reason(exc: Exception, endpoint: str, vpc: Vpc | None) -> str:
    """What went wrong and what to check first. ``vpc`` is None on a laptop (the CLI)."""
    from opensearchpy.exceptions import ConnectionError as Unreachable

    from logship.bounded_connection import CredentialsTimeoutError
    from logship.secrets import SecretError, secret_error_in

    secret = exc if isinstance(exc, SecretError) else secret_error_in(exc)
    if secret is not None:
        return str(secret)
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
