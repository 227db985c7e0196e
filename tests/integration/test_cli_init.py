"""logship init: the answers a deploy needs, found with the user's credentials in a moto account (served over HTTP,
as on a laptop) and asked of osmem-server (or Elasticsearch's stand-in), then written to samconfig.toml.

Where moto answers otherwise than AWS, the account is taught AWS's answer first (``aws_shaped_domains``,
``trail``), each with its source.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import tomlkit
from samcli.cli.types import CfnParameterOverridesType

from logship_cli.init import facts
from tests.cli import logship
from tests.integration.elastic_stand_in import ElasticStandIn
from tests.integration.fault_proxy import FaultProxy
from tests.template_stack import ACCOUNT, REGION, Stack

TEMPLATE = str(Path(__file__).parents[2] / "template.yaml")
CLOSED = "http://127.0.0.1:9"  # nothing listens: what a laptop meets outside a domain's VPC (here, at once)


# ------------------------------------------------------------------------------------------------ AWS's answers
def _domain_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:26]


@pytest.fixture(autouse=True)
def aws_shaped_domains(monkeypatch):
    """moto 5.2.5 names a domain's endpoint ``<name>.<region>.es.amazonaws.com`` and answers VPCOptions as it was
    given. AWS answers ``search-<name>-<id>.<region>.es.amazonaws.com`` (DescribeDomain's API reference: "For
    example, search-imdb-movies-oopcnjfn6ugo.eu-west-1.es.amazonaws.com"), a VPC domain's endpoint only under
    ``Endpoints["vpc"]``, as ``vpc-<name>-<id>...`` (Developer Guide, "Launching your Amazon OpenSearch Service
    domains within a VPC": "https://search-domain-name vs. https://vpc-domain-name"), and VPCOptions as
    VPCDerivedInfo: VPCId, SubnetIds, AvailabilityZones, SecurityGroupIds (the API reference's shape, and
    botocore's model of it)."""
    from moto.ec2.models import ec2_backends
    from moto.opensearch.models import OpenSearchDomain

    created = OpenSearchDomain.__init__

    def init(self: Any, account_id: str, region: str, domain_name: str, *args: Any, **kwargs: Any) -> None:
        created(self, account_id, region, domain_name, *args, **kwargs)
        host = f"{domain_name}-{_domain_id(domain_name)}.{region}.es.amazonaws.com"
        if self.vpc_options:
            subnets = [ec2_backends[account_id][region].get_subnet(s) for s in self.vpc_options["SubnetIds"]]
            self.vpc_options = {"VPCId": subnets[0].vpc_id, "SubnetIds": [s.id for s in subnets],
                                "AvailabilityZones": [s.availability_zone for s in subnets],
                                "SecurityGroupIds": list(self.vpc_options.get("SecurityGroupIds", []))}
            self.endpoint, self.endpoints = None, {"vpc": f"vpc-{host}"}
        else:
            self.endpoint, self.endpoints = f"search-{host}", None

    monkeypatch.setattr(OpenSearchDomain, "__init__", init)


def aws(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def trail(name: str = "management", region: str = REGION, *, multi_region: bool = False, logging: bool = True,
          selectors: list[dict[str, Any]] | None = None) -> None:
    """A trail as the console or the CLI makes it: without selectors of its own it logs every management event, and
    GetEventSelectors answers so (CloudTrail User Guide, "Logging management events": "By default, trails ... log
    all management events"); moto keeps no default selector, so the test puts AWS's."""
    s3 = boto3.client("s3", region_name=region)
    bucket = f"trail-{name}-{region}"
    s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}))
    client = boto3.client("cloudtrail", region_name=region)
    client.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi_region)
    client.put_event_selectors(TrailName=name, EventSelectors=selectors or [
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}])
    if logging:
        client.start_logging(Name=name)


def domain(name: str = "logs", version: str = "OpenSearch_2.13", **options: Any) -> dict[str, Any]:
    aws("opensearch").create_domain(DomainName=name, EngineVersion=version, **options)
    return aws("opensearch").describe_domain(DomainName=name)["DomainStatus"]


def endpoint_of(status: dict[str, Any]) -> str:
    return "https://" + (status.get("Endpoint") or status["Endpoints"]["vpc"])


@pytest.fixture
def resolve(monkeypatch):
    """``resolve[host] = url``: the cluster init asks at ``host`` answers at ``url`` (osmem-server, a stand-in), as a
    DNS entry would send it there: the request, its authentication and the engine's detection are the real ones."""
    names: dict[str, str] = {}
    connect = facts.connect

    def routed(config: Any, timeout_s: float) -> Any:
        host = urlsplit(config.endpoint).hostname or ""
        return connect(replace(config, endpoint=names[host]) if host in names else config, timeout_s)

    monkeypatch.setattr(facts, "connect", routed)
    return names


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A folder of one's own for samconfig.toml; the command reads the repository's template.yaml."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def init(*args: str, **invoke: Any) -> Any:
    return logship("init", "--template", TEMPLATE, *args, **invoke)


def said(result: Any) -> str:
    """Everything the command printed (stdout, then stderr: its errors), as one line of words."""
    return " ".join((result.stdout + result.stderr).split())


def written(path: Path, env: str = "default") -> dict[str, Any]:
    """``[<env>.deploy.parameters]``, with parameter_overrides read by SAM CLI's own parser as sam deploy reads it."""
    section = dict(tomlkit.parse(path.read_text()).unwrap()[env]["deploy"]["parameters"])
    section["parameter_overrides"] = CfnParameterOverridesType().convert(section.get("parameter_overrides", ""),
                                                                       None, None)
    return section


def accepted(parameters: dict[str, str], stack: str = "logship") -> None:
    """CloudFormation would take them: every AllowedValues, AllowedPattern and Rule of template.yaml."""
    assert Stack(stack, **parameters).refused() == []


# ------------------------------------------------------------------------------------------------------ the tests
def test_a_public_domain_is_found_by_its_endpoint_asked_and_written_unattended(cloud, here, osmem_clone, resolve):
    status = domain()
    endpoint = endpoint_of(status)
    resolve[urlsplit(endpoint).hostname] = osmem_clone.url
    trail(multi_region=True)

    result = init("--endpoint", endpoint, "--yes")

    assert result.exit_code == 0, result.output
    assert "Amazon OpenSearch Service domain logs: OpenSearch 2.13" in result.output
    assert "public endpoint; fine-grained access control off" in result.output
    assert re.search(r"it answers with sigv4 \(your credentials.*\): OpenSearch \d", result.output)
    section = written(here / "samconfig.toml")
    assert section["parameter_overrides"] == {
        "OpenSearchEndpoint": endpoint, "ClusterFlavor": "opensearch", "OpenSearchAuth": "sigv4",
        "OpenSearchDomainArn": f"arn:aws:es:{REGION}:{ACCOUNT}:domain/logs", "IndexPrefix": "cwl",
        "InstallIndexTemplate": "true", "SubscriptionMode": "per-group", "CreateCloudTrail": "false"}
    assert {k: section[k] for k in ("stack_name", "region", "resolve_s3")} == {
        "stack_name": "logship", "region": REGION, "resolve_s3": True}
    assert "CAPABILITY_IAM" in section["capabilities"]
    accepted(section["parameter_overrides"])
    assert "trail management logs management events in eu-west-1" in result.output
    assert "next: make build && sam deploy --config-env default" in result.output


def test_a_newcomer_names_a_domain_and_answers_one_question(cloud, here, osmem_clone, resolve):
    status = domain("orders-logs")
    resolve[urlsplit(endpoint_of(status)).hostname] = osmem_clone.url
    trail()

    result = init(input="orders-logs\n")

    assert result.exit_code == 0, result.output
    assert result.output.count("?") == 1  # where is the cluster: the only question
    assert "domains in eu-west-1: orders-logs" in result.output
    assert written(here / "samconfig.toml")["parameter_overrides"]["OpenSearchEndpoint"] == endpoint_of(status)


@pytest.fixture
def vpc():
    """A VPC with two private subnets (no NAT, no endpoint) and the domain's security group, which admits nothing."""
    ec2 = aws("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")[
        "Subnet"]["SubnetId"] for i, zone in ((1, "a"), (2, "b"))]
    group = ec2.create_security_group(GroupName="search", Description="the domain's", VpcId=vpc_id)["GroupId"]
    return {"id": vpc_id, "subnets": subnets, "group": group, "ec2": ec2}


def test_a_domain_in_a_vpc_proposes_its_subnets_and_security_groups_and_says_what_the_network_lacks(
        cloud, here, vpc, resolve):
    status = domain("private-logs", VPCOptions={"SubnetIds": vpc["subnets"], "SecurityGroupIds": [vpc["group"]]},
                    AdvancedSecurityOptions={"Enabled": True, "InternalUserDatabaseEnabled": False,
                                             "MasterUserOptions": {"MasterUserARN": f"arn:aws:iam::{ACCOUNT}:role/admin"}})
    endpoint = endpoint_of(status)
    assert urlsplit(endpoint).hostname.startswith("vpc-private-logs-")
    resolve[urlsplit(endpoint).hostname] = CLOSED
    trail()

    # A newcomer: where the cluster is, then yes to the network init proposes.
    result = init(input=f"{endpoint}\ny\n")

    assert result.exit_code == 0, result.output
    assert result.output.count("?") == 2
    out = result.output
    assert f"VPC-only ({vpc['id']}, subnets {','.join(vpc['subnets'])}, security groups {vpc['group']})" in out
    assert "not reachable from here, as a VPC-only domain is: the installer checks it at deploy" in out
    overrides = written(here / "samconfig.toml")["parameter_overrides"]
    assert overrides["VpcSubnetIds"] == ",".join(vpc["subnets"])
    assert overrides["VpcSecurityGroupIds"] == vpc["group"]
    assert overrides["InstallIndexTemplate"] == "false"  # its roles are mapped after the first deploy
    accepted(overrides)
    flat = said(result)
    assert (f"aws ec2 authorize-security-group-ingress --group-id {vpc['group']} --protocol tcp --port 443 "
            f"--source-group {vpc['group']}") in flat
    assert "no S3 gateway endpoint" in flat
    assert "fine-grained access control is on" in flat
    assert "map the stack's ShipLogsRoleArn and InstallIndexTemplateRoleArn outputs as backend roles" in flat
    assert "logship init --config-env default --install-index-template --yes" in flat


def test_a_vpc_whose_network_is_ready_has_nothing_before_the_deploy(cloud, here, vpc, resolve):
    ec2 = vpc["ec2"]
    ec2.authorize_security_group_ingress(GroupId=vpc["group"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": vpc["group"]}]}])
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["id"]]}])["RouteTables"][0]
    ec2.create_vpc_endpoint(VpcId=vpc["id"], ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway",
                            RouteTableIds=[table["RouteTableId"]])
    status = domain("private-logs", VPCOptions={"SubnetIds": vpc["subnets"], "SecurityGroupIds": [vpc["group"]]})
    resolve[urlsplit(endpoint_of(status)).hostname] = CLOSED
    trail()

    result = init("--endpoint", "private-logs", "--yes")

    assert result.exit_code == 0, result.output
    assert "before you deploy" not in result.output
    assert written(here / "samconfig.toml")["parameter_overrides"]["InstallIndexTemplate"] == "true"


def collection(name: str, kind: str) -> dict[str, Any]:
    aoss = aws("opensearchserverless")
    # moto 5.2.5 reads the key from "KmsARN" only (AWS also takes "AWSOwnedKey": true)
    aoss.create_security_policy(name=f"{name}-enc", type="encryption", policy=json.dumps({
        "Rules": [{"ResourceType": "collection", "Resource": [f"collection/{name}"]}],
        "KmsARN": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c"}))
    return aoss.create_collection(name=name, type=kind)["createCollectionDetail"]


def test_a_serverless_time_series_collection_turns_document_ids_off_and_says_why(cloud, here, osmem_clone, resolve):
    found = collection("applogs", "TIMESERIES")
    endpoint = f"https://{found['id']}.{REGION}.aoss.amazonaws.com"  # as BatchGetCollection's collectionEndpoint
    resolve[urlsplit(endpoint).hostname] = osmem_clone.url
    trail()

    result = init("--endpoint", endpoint, "--yes")

    assert result.exit_code == 0, result.output
    assert f"OpenSearch Serverless collection applogs (TIMESERIES): {found['arn']}" in result.output
    assert "it answers with sigv4" in result.output
    overrides = written(here / "samconfig.toml")["parameter_overrides"]
    assert {k: overrides[k] for k in ("OpenSearchCollectionArn", "DocumentIds", "InstallIndexTemplate")} == {
        "OpenSearchCollectionArn": found["arn"], "DocumentIds": "false", "InstallIndexTemplate": "false"}
    accepted(overrides)
    flat = said(result)
    assert "a time series collection takes no custom document ids" in flat
    assert "a retried batch may index an event twice" in flat
    assert "data access policy" in flat


class Refusing:
    """A domain that refuses a SigV4 signature, in Amazon OpenSearch Service's words for an identity without access."""

    def __enter__(self) -> Refusing:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps({"Message": f"User: arn:aws:iam::{ACCOUNT}:user/dev is not authorized to perform: "
                                              "es:ESHttpGet because no identity-based policy allows the es:ESHttpGet "
                                              "action"}).encode()
                self.send_response(403)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_domain_that_refuses_your_signature_writes_nothing_and_says_what_to_do(cloud, here, resolve):
    status = domain()
    (here / "samconfig.toml").write_text("version = 0.1\n")
    trail()
    with Refusing() as refusing:
        resolve[urlsplit(endpoint_of(status)).hostname] = refusing.url
        result = init("--endpoint", endpoint_of(status), "--yes")

    assert result.exit_code == 1
    flat = said(result)
    assert "refused sigv4 (your credentials: the functions sign with their own roles): 403" in flat
    assert "es:ESHttpGet" in flat
    assert "Nothing written" in flat
    assert "--no-check" in flat
    assert "Traceback" not in result.output
    assert (here / "samconfig.toml").read_text() == "version = 0.1\n"


def test_a_cluster_that_refuses_the_password_writes_nothing(cloud, here, osmem_clone, resolve):
    aws("secretsmanager").create_secret(Name="logship/es", SecretString=json.dumps(
        {"username": "logship", "password": "hunter2-old"}))
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.authorization = "Basic bG9nc2hpcDpuZXc="  # logship:new
        resolve["search.example.com"] = proxy.url
        result = init("--endpoint", "https://search.example.com", "--auth", "basic", "--secret-arn", "logship/es",
                      "--yes")

    assert result.exit_code == 1
    flat = said(result)
    assert "https://search.example.com refused basic: 401" in flat
    assert "check the secret's username and password" in flat
    assert not (here / "samconfig.toml").exists()
    assert "hunter2" not in said(result)  # a password is never shown


def test_a_cluster_of_your_own_takes_three_answers(cloud, here, osmem_clone, resolve):
    aws("secretsmanager").create_secret(Name="logship/es", SecretString=json.dumps(
        {"username": "logship", "password": "new"}))
    trail()
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.authorization = "Basic bG9nc2hpcDpuZXc="  # logship:new
        resolve["search.example.com"] = proxy.url
        unattended = init("--endpoint", "https://search.example.com", "--yes")
        result = init(input="https://search.example.com\nbasic\nlogship/es\n")

    assert unattended.exit_code == 2
    assert "How do the functions authenticate to it?: give --auth" in said(unattended)
    assert result.exit_code == 0, result.output
    assert result.output.count("?") == 3  # where, how, and the secret
    assert "not a domain of this account in eu-west-1 (a cluster of your own)" in result.output
    assert re.search(r"it answers with basic: OpenSearch \d", result.output)
    overrides = written(here / "samconfig.toml")["parameter_overrides"]
    assert overrides["OpenSearchAuth"] == "basic"
    assert re.fullmatch(rf"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:logship/es-\w+",
                        overrides["OpenSearchSecretArn"])
    assert "OpenSearchDomainArn" not in overrides
    accepted(overrides)


@pytest.mark.parametrize(("setup", "proposed"), [
    (lambda: None, True),
    (lambda: trail(logging=False), True),
    (lambda: trail(selectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]), True),
    (lambda: trail(selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": False}]), True),
    (lambda: trail(region="us-east-1"), True),  # a single-region trail of another region
    (lambda: trail(region="us-east-1", multi_region=True), False),
    (lambda: trail(selectors=None), False),
], ids=["none", "stopped", "read-only", "data-only", "other-region", "multi-region-elsewhere", "logging"])
def test_a_region_without_a_trail_logging_management_events_gets_a_proposal_with_its_costs(
        cloud, here, osmem_clone, resolve, setup, proposed):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = osmem_clone.url
    setup()

    result = init("--endpoint", "logs", "--yes")

    assert result.exit_code == 0, result.output
    overrides = written(here / "samconfig.toml")["parameter_overrides"]
    assert overrides["CreateCloudTrail"] == ("true" if proposed else "false")
    flat = said(result)
    if proposed:
        assert "no trail logs management events in eu-west-1" in flat
        assert "the first copy of management events is free of CloudTrail charges" in flat
        assert "SubscriptionMode=account-policy: one account subscription filter policy" in flat
        assert "every group costs a ship-logs invocation" in flat
        assert "--no-create-trail" in flat


def test_an_account_policy_instead_of_a_trail_when_asked(cloud, here, osmem_clone, resolve):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = osmem_clone.url

    result = init("--endpoint", "logs", "--subscription-mode", "account-policy", "--yes")

    assert result.exit_code == 0, result.output
    overrides = written(here / "samconfig.toml")["parameter_overrides"]
    assert (overrides["SubscriptionMode"], overrides["CreateCloudTrail"]) == ("account-policy", "false")


def test_another_policy_holding_the_accounts_place_is_said_before_the_deploy(cloud, here, osmem_clone, resolve):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = osmem_clone.url
    aws("logs").put_account_policy(policyName="datadog", policyType="SUBSCRIPTION_FILTER_POLICY", policyDocument=
                                   json.dumps({"DestinationArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:dd"}))

    result = init("--endpoint", "logs", "--subscription-mode", "account-policy", "--yes", "--deploy")

    assert result.exit_code == 1
    flat = said(result)
    assert "account policy 'datadog'" in flat
    assert "Deploy this stack with SubscriptionMode=per-group, or delete that policy first" in flat
    assert "not deploying: fix what is listed under 'before you deploy' first" in flat


def logship_stack(name: str, **parameters: str) -> None:
    """A deployed logship stack as DescribeStacks shows it: its parameters and its outputs."""
    template = {"Parameters": {key: {"Type": "String"} for key in parameters},
                "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"ReconcileSubscriptionsFunctionArn": {
                    "Value": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}-reconcile-subscriptions"}}}
    aws("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template), Parameters=[
        {"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()])


def test_another_stack_on_the_same_cluster_and_prefix_needs_another_prefix(cloud, here, osmem_clone, resolve):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = osmem_clone.url
    trail()
    logship_stack("logship-dev", OpenSearchEndpoint=endpoint_of(status), IndexPrefix="cwl")

    unattended = init("--endpoint", "logs", "--yes")
    asked = init("--endpoint", "logs", input="\n")

    assert unattended.exit_code == 2
    assert "stack logship-dev ships to this cluster with IndexPrefix cwl too: give another --prefix" in said(unattended)
    assert asked.exit_code == 0, asked.output
    assert written(here / "samconfig.toml")["parameter_overrides"]["IndexPrefix"] == "cwl-logship"
    assert "another logship stack in eu-west-1: logship-dev" in said(asked)


GUIDED = '''version = 0.1

# the team's stages
[default.global.parameters]
stack_name = "logship"

[default.build.parameters]
cached = true
parallel = true

[default.deploy.parameters]
capabilities = "CAPABILITY_IAM"
confirm_changeset = true
resolve_s3 = true
region = "eu-west-1"
parameter_overrides = "OpenSearchEndpoint=\\"https://es.example.com\\" OpenSearchAuth=\\"none\\" RedactPatterns=\\"[\\\\\\"sku=\\\\\\\\w+\\\\\\"]\\" AlarmTopicArn=\\"arn:aws:sns:eu-west-1:123456789012:ops\\""
'''


def test_an_existing_samconfig_keeps_its_other_environments_and_keys(cloud, here, osmem_clone, resolve):
    (here / "samconfig.toml").write_text(GUIDED)
    before = written(here / "samconfig.toml")
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = osmem_clone.url
    trail()

    result = init("--endpoint", "logs", "--config-env", "prod", "--stack", "logship-prod", "--yes")

    assert result.exit_code == 0, result.output
    text = (here / "samconfig.toml").read_text()
    assert text.startswith(GUIDED)  # the default environment, its comment and its quoting, byte for byte
    assert written(here / "samconfig.toml") == before
    prod = written(here / "samconfig.toml", "prod")
    assert prod["stack_name"] == "logship-prod"
    assert prod["parameter_overrides"]["OpenSearchEndpoint"] == endpoint_of(status)
    assert "sam deploy --config-env prod" in result.output


def test_init_again_on_an_environment_keeps_the_parameters_it_does_not_decide(cloud, here, osmem_clone, resolve):
    (here / "samconfig.toml").write_text(GUIDED)
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = osmem_clone.url
    trail()

    result = init("--endpoint", "logs", "--yes")

    assert result.exit_code == 0, result.output
    section = written(here / "samconfig.toml")
    assert section["parameter_overrides"]["RedactPatterns"] == '["sku=\\\\w+"]'  # as SAM read it before
    assert section["parameter_overrides"]["AlarmTopicArn"] == "arn:aws:sns:eu-west-1:123456789012:ops"
    assert section["parameter_overrides"]["OpenSearchAuth"] == "sigv4"  # the new cluster's, not the old one's
    assert section["confirm_changeset"] is True
    assert section["capabilities"] == "CAPABILITY_IAM"  # kept as the file had it


def test_elastic_cloud_by_its_cloud_id_with_an_api_key_secret(cloud, here, resolve):
    cloud_id = "logs:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmMxMjMkZGVm"  # eu-west-1.aws.found.io$abc123$def
    key = aws("kms").create_key()["KeyMetadata"]["Arn"]
    arn = aws("secretsmanager").create_secret(Name="logship/es", KmsKeyId=key, SecretString=json.dumps(
        {"id": "kid", "api_key": "s3cr3t"}))["ARN"]
    trail()
    with ElasticStandIn("8.15.0", authorization="ApiKey a2lkOnMzY3IzdA==") as elastic:  # base64 of kid:s3cr3t
        resolve["abc123.eu-west-1.aws.found.io"] = elastic.url
        result = init("--cloud-id", cloud_id, "--secret-arn", arn, "--yes")

    assert result.exit_code == 0, result.output
    assert "Elastic Cloud deployment logs: https://abc123.eu-west-1.aws.found.io" in result.output
    assert "it answers with apikey: Elasticsearch 8.15.0" in result.output
    overrides = written(here / "samconfig.toml")["parameter_overrides"]
    assert {k: overrides.get(k) for k in ("ElasticCloudId", "OpenSearchEndpoint", "OpenSearchAuth", "ClusterFlavor",
                                          "OpenSearchSecretArn", "OpenSearchSecretKmsKeyArn")} == {
        "ElasticCloudId": cloud_id, "OpenSearchEndpoint": None, "OpenSearchAuth": "apikey",
        "ClusterFlavor": "elasticsearch", "OpenSearchSecretArn": arn, "OpenSearchSecretKmsKeyArn": key}
    accepted(overrides)


def test_unattended_without_the_cluster_names_the_flag(cloud, here):
    result = init("--yes")

    assert result.exit_code == 2
    assert "give --endpoint (or --cloud-id)" in said(result)
    assert not (here / "samconfig.toml").exists()


def test_a_domain_that_is_not_there_is_a_usage_error(cloud, here):
    result = init("--endpoint", "https://search-gone-abc123.eu-west-1.es.amazonaws.com", "--yes")

    assert result.exit_code == 2
    assert "no domain search-gone-abc123.eu-west-1.es.amazonaws.com in eu-west-1 for these credentials" in \
        said(result)


@pytest.fixture
def fake_sam(tmp_path, monkeypatch):
    """``sam`` on PATH that records its arguments, one run a line."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "sam-runs"
    sam = folder / "sam"
    sam.write_text(f"#!/bin/sh\necho \"$@\" >> {record}\necho sam ran\n")
    sam.chmod(sam.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return record


def test_deploy_runs_sam_build_and_deploy_with_the_environment(cloud, here, osmem_clone, resolve, fake_sam):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = osmem_clone.url
    trail()

    result = init("--endpoint", "logs", "--config-env", "staging", "--yes", "--deploy")

    assert result.exit_code == 0, result.output
    assert fake_sam.read_text().splitlines() == ["build --config-env staging",
                                                 "deploy --config-env staging --no-confirm-changeset"]


def test_dry_run_writes_nothing(cloud, here, osmem_clone, resolve):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = osmem_clone.url

    result = init("--endpoint", "logs", "--yes", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "OpenSearchDomainArn" in result.output
    assert not (here / "samconfig.toml").exists()
