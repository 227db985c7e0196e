"""What ``logship init`` finds out with your credentials: one function per source, each returning plain facts.

A source that cannot be read (a permission you lack) is told, not fatal: the function returns ``None`` or says
why, and init decides without it. Only the cluster itself, when asked, can stop init (it refuses the answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from logship_cli.context import Aws
from logship_cli.errors import USAGE, CliError

# An Amazon OpenSearch Service endpoint: search-<name>-<id> (public) or vpc-<name>-<id> (VPC), in a region, on the
# IPv4 (es.amazonaws.com) or dual-stack (aos.<region>.on.aws) name. Domain names: [a-z][a-z0-9-]{2,27}.
_DOMAIN_HOST = re.compile(r"^(?:search|vpc)-(?P<name>[a-z][a-z0-9-]{2,27})-[a-z0-9]+\."
                          r"(?:(?P<region>[a-z0-9-]+)\.es\.amazonaws\.com|aos\.(?P<dual>[a-z0-9-]+)\.on\.aws)$")
_DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9-]{2,27}$")
_COLLECTION_HOST = re.compile(r"^(?P<id>[a-z0-9]{3,40})\.(?P<region>[a-z0-9-]+)\.aoss\.amazonaws\.com$")
# Names per DescribeDomains call: the most its users report it takes (fewer is never refused).
DESCRIBE_DOMAINS_AT_ONCE = 5
_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError")


def _code(exc: Exception) -> str:
    from logship.core.aws_calls import error_code

    return error_code(exc)[0]


def _why(exc: Exception) -> str:
    from logship.core.aws_calls import error_code

    code, message = error_code(exc)
    return f"{code}: {message[:200]}"


@dataclass(frozen=True)
class Where:
    """Where the user says the cluster is: a URL (``https://...``), a domain's name, or an Elastic Cloud id."""

    url: str = ""
    domain_name: str = ""
    cloud_id: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @classmethod
    def read(cls, given: str) -> Where:
        """``https://search-logs-abc.eu-west-1.es.amazonaws.com``, ``search-logs-abc...`` (https assumed), ``logs``
        (a domain's name) or ``deployment:ZXUt...`` (a cloud id: ``<name>:<base64>``, no ``://``)."""
        given = given.strip().rstrip("/")
        if "://" in given:
            return cls(url=given)
        if ":" in given and not given.split(":", 1)[1].isdigit():
            return cls(cloud_id=given)
        if _DOMAIN_NAME.match(given):
            return cls(domain_name=given)
        if "." in given or ":" in given:
            return cls(url=f"https://{given}")
        raise CliError(f"{given!r} is neither an https:// endpoint, a domain's name (3 to 28 of a-z, 0-9, '-', "
                       "starting with a letter) nor an Elastic Cloud id (<name>:<base64>)", USAGE)


# ------------------------------------------------------------------------------------------ Amazon OpenSearch Service
@dataclass(frozen=True)
class Domain:
    """An Amazon OpenSearch Service domain, as DescribeDomain tells it."""

    name: str
    arn: str
    region: str
    engine: str  # "OpenSearch" or "Elasticsearch"
    version: str
    endpoint: str  # https://..., its own (VPC or public)
    vpc_id: str = ""
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    fine_grained: bool = False  # fine-grained access control (AdvancedSecurityOptions)
    internal_users: bool = False  # fine-grained access control's internal user database
    hosts: frozenset[str] = frozenset()  # every name it answers to

    @property
    def in_vpc(self) -> bool:
        return bool(self.subnets)

    @property
    def described(self) -> str:
        return f"{self.engine} {self.version}".strip()

    @classmethod
    def from_status(cls, status: dict[str, Any], region: str) -> Domain:
        engine, _, version = str(status.get("EngineVersion") or "").partition("_")
        vpc = status.get("VPCOptions") or {}
        security = status.get("AdvancedSecurityOptions") or {}
        endpoints = status.get("Endpoints") or {}
        own = status.get("Endpoint") or endpoints.get("vpc") or next(iter(endpoints.values()), "")
        options = status.get("DomainEndpointOptions") or {}
        hosts = {status.get("Endpoint"), status.get("EndpointV2"), *endpoints.values(),
                 options.get("CustomEndpoint") if options.get("CustomEndpointEnabled") else None}
        return cls(str(status["DomainName"]), str(status["ARN"]), region, engine or "OpenSearch", version,
                   f"https://{own}" if own else "", str(vpc.get("VPCId") or ""), tuple(vpc.get("SubnetIds") or ()),
                   tuple(vpc.get("SecurityGroupIds") or ()), bool(security.get("Enabled")),
                   bool(security.get("InternalUserDatabaseEnabled")), frozenset(h.lower() for h in hosts if h))


def domain_region(host: str) -> str:
    """The region an Amazon OpenSearch Service endpoint names, or ""."""
    match = _DOMAIN_HOST.match(host)
    return (match["region"] or match["dual"]) if match else ""


def is_domain_host(host: str) -> bool:
    return bool(_DOMAIN_HOST.match(host))


def domain(aws: Aws, where: Where) -> Domain | None:
    """The domain ``where`` names, by name or by any endpoint it answers to (its own, dual-stack, VPC, custom), in
    the endpoint's region (else ``aws``'s); None when no domain of the account answers to it."""
    host = where.host.lower()
    region = domain_region(host) or aws.region
    client = aws.in_region(region).client("opensearch")
    if where.domain_name:
        names = [where.domain_name]
    else:
        match = _DOMAIN_HOST.match(host)
        names = list(dict.fromkeys(([match["name"]] if match else []) + _domain_names(client)))
    for start in range(0, len(names), DESCRIBE_DOMAINS_AT_ONCE):
        for status in _describe(client, names[start:start + DESCRIBE_DOMAINS_AT_ONCE]):
            found = Domain.from_status(status, region)
            if where.domain_name or host in found.hosts:
                return found
    return None


def _domain_names(client: Any) -> list[str]:
    from botocore.exceptions import ClientError

    try:
        return [d["DomainName"] for d in client.list_domain_names().get("DomainNames", [])]
    except ClientError as exc:
        if _code(exc) in _DENIED:
            return []  # the endpoint's own name is still tried
        raise


def _describe(client: Any, names: list[str]) -> list[dict[str, Any]]:
    from botocore.exceptions import ClientError

    try:
        return list(client.describe_domains(DomainNames=names).get("DomainStatusList", []))
    except ClientError as exc:
        if _code(exc) in ("ResourceNotFoundException", "ValidationException"):
            return []
        raise


def domains_here(aws: Aws) -> list[str]:
    """The names of the region's domains, to offer when init asks where the cluster is (empty if not allowed)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _domain_names(aws.client("opensearch"))
    except (ClientError, BotoCoreError):
        return []


# --------------------------------------------------------------------------------------------- OpenSearch Serverless
@dataclass(frozen=True)
class Collection:
    """An OpenSearch Serverless collection, as BatchGetCollection tells it."""

    id: str
    name: str
    arn: str
    type: str  # SEARCH, TIMESERIES or VECTORSEARCH
    region: str


def is_collection_host(host: str) -> bool:
    return bool(_COLLECTION_HOST.match(host))


def collection(aws: Aws, where: Where) -> Collection:
    """The collection whose endpoint is ``where`` (``https://<id>.<region>.aoss.amazonaws.com``)."""
    match = _COLLECTION_HOST.match(where.host.lower())
    if not match:
        raise CliError(f"{where.url} is not a Serverless collection endpoint (https://<id>.<region>.aoss."
                       "amazonaws.com)", USAGE)
    region = match["region"]
    found = aws.in_region(region).client("opensearchserverless").batch_get_collection(ids=[match["id"]])
    details = found.get("collectionDetails") or []
    if not details:
        raise CliError(f"no collection {match['id']} in {region} for these credentials: check the endpoint (the "
                       "collection's page in the console shows it) and the account you are logged in to", USAGE)
    c = details[0]
    return Collection(str(c["id"]), str(c.get("name", "")), str(c["arn"]), str(c.get("type", "")), region)


# ------------------------------------------------------------------------------------------------- Secrets Manager
@dataclass(frozen=True)
class Secret:
    """The secret basic or apikey auth reads, and the customer managed key it is encrypted with (if any)."""

    arn: str
    region: str
    kms_key_arn: str = ""  # "" for Secrets Manager's AWS managed key
    kms_unknown: str = ""  # why the key could not be told


def secret(aws: Aws, given: str) -> Secret:
    """The secret ``given`` (an ARN or a name) names, with its KMS key (DescribeSecret, then DescribeKey)."""
    from botocore.exceptions import ClientError

    region = given.split(":")[3] if given.startswith("arn:") and given.count(":") >= 6 else aws.region
    try:
        found = aws.in_region(region).client("secretsmanager").describe_secret(SecretId=given)
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            raise CliError(f"no secret {given} in {region}: create it (aws secretsmanager create-secret --name "
                           "logship/cluster --secret-string '{\"username\": ..., \"password\": ...}', or "
                           "'{\"id\": ..., \"api_key\": ...}' for an API key) and give its ARN", USAGE) from None
        raise
    key = str(found.get("KmsKeyId") or "")
    if not key:
        return Secret(str(found["ARN"]), region)
    try:
        metadata = aws.in_region(region).client("kms").describe_key(KeyId=key)["KeyMetadata"]
    except ClientError as exc:
        arn = key if ":key/" in key else ""
        return Secret(str(found["ARN"]), region, arn, "" if arn else f"its key {key} ({_why(exc)})")
    customer = metadata.get("KeyManager") == "CUSTOMER"
    return Secret(str(found["ARN"]), region, str(metadata["Arn"]) if customer else "")


# --------------------------------------------------------------------------------------------------------- the cluster
@dataclass(frozen=True)
class Reply:
    """What the cluster answered init, with the stack's own authentication: what it is, or why it did not."""

    flavor: Any = None  # logship.cluster.engine.Flavor
    refused: str = ""  # it answered, and refused the credentials (or the secret could not be read)
    unreachable: str = ""  # no answer from this machine


def cluster(settings: dict[str, str], serverless: bool, timeout_s: float = 10.0) -> Reply:
    """Ask the cluster what it is (the installer's own detection), with the auth the stack will use.

    ``settings`` are the functions' environment (``OPENSEARCH_ENDPOINT`` or ``ELASTIC_CLOUD_ID``,
    ``OPENSEARCH_AUTH``, ``OPENSEARCH_SECRET_ARN``, ``AWS_REGION``). A Serverless collection has no ``GET /``: it
    is asked ``GET _cat/indices`` instead, which Serverless supports under ``aoss:DescribeIndex`` ("Supported
    operations and plugins in Amazon OpenSearch Serverless").
    """
    from opensearchpy.exceptions import ConnectionError as Unreachable
    from opensearchpy.exceptions import TransportError

    from logship.cluster.client import PLAIN_HEADERS
    from logship.cluster.engine import detect
    from logship.cluster.index_template import failure_reason
    from logship.cluster.secrets import SecretError, secret_error_in
    from logship.core.config import ShipperConfig

    config = ShipperConfig.from_env(settings)
    try:
        client = connect(config, timeout_s=timeout_s)
        flavor = detect(client, serverless)
        if serverless:
            client.transport.perform_request("GET", "/_cat/indices", params={"format": "json"},
                                             headers=PLAIN_HEADERS)
        return Reply(flavor)
    except SecretError as exc:
        return Reply(refused=str(exc))
    except Unreachable as exc:
        secret_problem = secret_error_in(exc)
        if secret_problem is not None:
            return Reply(refused=str(secret_problem))
        return Reply(unreachable=failure_reason(exc, config.endpoint, None))
    except TransportError as exc:
        if exc.status_code in (401, 403):
            return Reply(refused=f"{exc.status_code}: {str(exc.error)[:300]} {str(exc.info)[:300]}".strip())
        raise


def connect(config: Any, timeout_s: float) -> Any:
    """The layer's client, as every command builds it (a seam: the tests point an AWS name at a stand-in)."""
    from logship_cli.context import connect as layer_client

    return layer_client(config, timeout_s)


# ----------------------------------------------------------------------------------------------------------- CloudTrail
@dataclass(frozen=True)
class Trail:
    """A trail covering the region (its own or multi-region), and whether it delivers management write events."""

    name: str
    arn: str
    home_region: str
    logging: bool | None = None  # None: its status could not be read
    management_writes: bool | None = None
    why: str = ""

    @property
    def delivers(self) -> bool:
        return bool(self.logging and self.management_writes)


def trails(aws: Aws) -> list[Trail] | str:
    """The trails that cover ``aws``'s region, each with its status and event selectors (asked in its home
    region, where a trail answers; shadow trails of other regions included), or why they could not be listed."""
    from botocore.exceptions import ClientError

    try:
        found = aws.client("cloudtrail").describe_trails(includeShadowTrails=True).get("trailList", [])
    except ClientError as exc:
        return _why(exc)
    return [_trail(aws, t) for t in found if t.get("IsMultiRegionTrail") or t.get("HomeRegion") == aws.region]


def _trail(aws: Aws, described: dict[str, Any]) -> Trail:
    from botocore.exceptions import ClientError

    arn, home = str(described["TrailARN"]), str(described.get("HomeRegion") or aws.region)
    name = str(described.get("Name", arn))
    client = aws.in_region(home).client("cloudtrail")
    try:
        logging = bool(client.get_trail_status(Name=arn).get("IsLogging"))
        selectors = client.get_event_selectors(TrailName=arn)
    except ClientError as exc:  # an organization's trail, say, seen from a member account
        return Trail(name, arn, home, why=_why(exc))
    return Trail(name, arn, home, logging, logs_management_writes(selectors))


def logs_management_writes(selectors: dict[str, Any]) -> bool:
    """Whether GetEventSelectors' answer logs CloudWatch Logs' and Lambda's write management events.

    A trail created without selectors logs all management events, read and write (CloudTrail's default,
    "Logging management events"); AWS answers that default as one basic selector.
    """
    basic = selectors.get("EventSelectors") or []
    advanced = selectors.get("AdvancedEventSelectors") or []
    if not basic and not advanced:
        return True
    if any(s.get("IncludeManagementEvents", True) and s.get("ReadWriteType", "All") in ("All", "WriteOnly")
           for s in basic):
        return True
    return any(_advanced_writes(s.get("FieldSelectors") or []) for s in advanced)


def _advanced_writes(field_selectors: list[dict[str, Any]]) -> bool:
    fields = {f.get("Field"): f for f in field_selectors}
    category = fields.get("eventCategory", {})
    if "Management" not in category.get("Equals", []):
        return False
    read_only = fields.get("readOnly", {})
    if "true" in read_only.get("Equals", []) or "false" in read_only.get("NotEquals", []):
        return False
    source = fields.get("eventSource")
    return source is None or ("logs.amazonaws.com" in source.get("Equals", ["logs.amazonaws.com"])
                              and "logs.amazonaws.com" not in source.get("NotEquals", []))


# ------------------------------------------------------------------------------------------ CloudWatch Logs, stacks
def account_policies(aws: Aws) -> list[Any] | str:
    """The account's subscription filter policies in the region (the layer's reading), or why not read."""
    from botocore.exceptions import ClientError

    from logship.subscribe.account_policy import subscription_policies

    logs = aws.client("logs")
    try:
        return subscription_policies(lambda _operation, **params: logs.describe_account_policies(**params))
    except ClientError as exc:
        return _why(exc)


@dataclass(frozen=True)
class Stack:
    """A logship stack of the region (its outputs name logship's functions, or it carries a logship tag)."""

    name: str
    status: str
    parameters: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return self.parameters.get("OpenSearchEndpoint") or self.parameters.get("ElasticCloudId", "")


def logship_stacks(aws: Aws) -> list[Stack] | str:
    """Every logship stack in the region (CloudFormation DescribeStacks), or why they could not be listed."""
    from botocore.exceptions import ClientError

    found = []
    try:
        for page in aws.client("cloudformation").get_paginator("describe_stacks").paginate():
            for stack in page.get("Stacks", []):
                outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}
                tagged = any(str(t.get("Key", "")).startswith("logship") for t in stack.get("Tags") or [])
                if "ReconcileSubscriptionsFunctionArn" in outputs or tagged:
                    found.append(Stack(stack["StackName"], str(stack.get("StackStatus", "")), {
                        p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in stack.get("Parameters") or []},
                        outputs))
    except ClientError as exc:
        return _why(exc)
    return found


# --------------------------------------------------------------------------------------------------------- the VPC
@dataclass(frozen=True)
class Route:
    """One active route of a route table: where to (an IPv4 range) and through what (local, pcx-, tgw-, nat-...)."""

    table: str
    destination: str
    target: str


@dataclass(frozen=True)
class Network:
    """Whether functions in ``subnets`` with ``security_groups`` can reach the domain and the AWS APIs they call."""

    vpc_id: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    admitted: bool | None = None  # the domain's security groups admit HTTPS from the functions' groups
    egress: bool | None = None  # the functions' groups let HTTPS out
    nat: bool | None = None  # the subnets route 0.0.0.0/0 through a NAT gateway
    endpoints: frozenset[str] = frozenset()  # the VPC's endpoints: "s3", "secretsmanager", "sqs", ...
    route_tables: tuple[str, ...] = ()  # the subnets' route tables
    cidrs: tuple[str, ...] = ()  # the subnets' IPv4 ranges
    routes: tuple[Route, ...] = ()  # every route of those tables
    why: str = ""  # what could not be read

    def routes_to(self, cidr: str) -> list[Route | None]:
        """For each of the subnets' tables, the route traffic to ``cidr`` takes (the most specific one holding it, as
        VPC routing picks), or None where the table has none."""
        import ipaddress

        wanted = ipaddress.ip_network(cidr, strict=False)
        chosen: list[Route | None] = []
        for table in self.route_tables:
            holding = [(network, r) for r in self.routes if r.table == table
                       for network in [ipaddress.ip_network(r.destination, strict=False)]
                       if network.version == wanted.version and wanted.subnet_of(network)]  # type: ignore[arg-type]
            chosen.append(max(holding, key=lambda pair: pair[0].prefixlen)[1] if holding else None)
        return chosen


def network(aws: Aws, subnets: tuple[str, ...], groups: tuple[str, ...],
            domain_groups: tuple[str, ...] = ()) -> Network:
    """The VPC of ``subnets``, its routes and endpoints, and the security groups' HTTPS rules (EC2 Describe*)."""
    from botocore.exceptions import ClientError

    ec2 = aws.client("ec2")
    try:
        described = ec2.describe_subnets(SubnetIds=list(subnets))["Subnets"]
        vpc_id = str(described[0]["VpcId"]) if described else ""
        cidrs = [s["CidrBlock"] for s in described if s.get("CidrBlock")]
        rules = {g["GroupId"]: g for g in ec2.describe_security_groups(
            GroupIds=sorted({*groups, *domain_groups}))["SecurityGroups"]}
        tables = _route_tables(ec2, vpc_id, subnets)
        endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
    except ClientError as exc:
        return Network("", subnets, groups, why=_why(exc))
    return Network(
        vpc_id, subnets, groups,
        admitted=None if not domain_groups else any(
            _allows(rules[g].get("IpPermissions", []), groups, cidrs) for g in domain_groups if g in rules),
        egress=all(_allows(rules[g].get("IpPermissionsEgress", []), domain_groups, [], anywhere=True)
                   for g in groups if g in rules),
        nat=all(any(r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("NatGatewayId")
                    for r in t.get("Routes", [])) for t in tables) if tables else None,
        endpoints=frozenset(_endpoint_kinds(endpoints, {t["RouteTableId"] for t in tables})),
        route_tables=tuple(sorted({t["RouteTableId"] for t in tables})), cidrs=tuple(cidrs),
        routes=tuple(_routes(tables)))


def _route_tables(ec2: Any, vpc_id: str, subnets: tuple[str, ...]) -> list[dict[str, Any]]:
    """The route table of each subnet: its own association, else the VPC's main table."""
    own = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": list(subnets)}])
    tables = own["RouteTables"]
    associated = {a.get("SubnetId") for t in tables for a in t.get("Associations", [])}
    if set(subnets) - associated:
        tables += ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                     {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    return tables


_TARGETS = ("GatewayId", "NatGatewayId", "VpcPeeringConnectionId", "TransitGatewayId", "NetworkInterfaceId",
            "LocalGatewayId", "CarrierGatewayId", "CoreNetworkArn", "InstanceId")


def _routes(tables: list[dict[str, Any]]) -> list[Route]:
    """The tables' active IPv4 routes (a ``blackhole`` one leads nowhere)."""
    return [Route(str(t["RouteTableId"]), str(r["DestinationCidrBlock"]),
                  next((str(r[k]) for k in _TARGETS if r.get(k)), "?"))
            for t in tables for r in t.get("Routes", [])
            if r.get("DestinationCidrBlock") and r.get("State", "active") == "active"]


def _allows(permissions: list[dict[str, Any]], groups: tuple[str, ...], cidrs: list[str],
            anywhere: bool = False) -> bool:
    """Whether a rule lets HTTPS (TCP 443) from (or to) one of ``groups``, or a range holding all of ``cidrs``."""
    import ipaddress

    for rule in permissions:
        protocol = str(rule.get("IpProtocol"))
        if protocol not in ("-1", "tcp", "6"):
            continue
        if protocol != "-1" and not int(rule.get("FromPort", 0)) <= 443 <= int(rule.get("ToPort", 65535)):
            continue
        if any(pair.get("GroupId") in groups for pair in rule.get("UserIdGroupPairs", [])):
            return True
        for block in rule.get("IpRanges", []):
            network = ipaddress.ip_network(block["CidrIp"], strict=False)
            if (anywhere and network.prefixlen == 0) or (
                    cidrs and all(ipaddress.ip_network(c).subnet_of(network) for c in cidrs)):
                return True
    return False


def _endpoint_kinds(endpoints: list[dict[str, Any]], tables: set[str]) -> set[str]:
    """``s3``, ``secretsmanager``, ``sqs``...: a gateway endpoint counts if it serves the subnets' route tables, an
    interface endpoint if it answers to the service's own name (private DNS)."""
    kinds = set()
    for endpoint in endpoints:
        if endpoint.get("State", "available").lower() not in ("available", "pending"):
            continue
        kind = str(endpoint.get("ServiceName", "")).rsplit(".", 1)[-1]
        if endpoint.get("VpcEndpointType") == "Gateway":
            if tables & set(endpoint.get("RouteTableIds") or []):
                kinds.add(kind)
        elif endpoint.get("PrivateDnsEnabled"):
            kinds.add(kind)
    return kinds
