"""logship doctor: every prerequisite of a deploy, checked before it (samconfig.toml as logship init writes it) and
after it (the stack), in a moto account served over HTTP (as on a laptop), asking osmem-server (behind OpenSearch's
stand-in, which serves ISM) for the cluster's answers.

Where moto answers otherwise than AWS, the account is taught AWS's answer first, each with its source: the domain's
endpoints and a trail's default selectors as in test_cli_init.py, and Lambda's account settings here.
"""
# ruff: noqa: F811  (test_cli_init's fixtures, imported here, are these tests' arguments)

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from opensearchpy import OpenSearch

from logship.cluster.index_template import install
from tests.cli import logship
from tests.integration.deployed import DeployedStack, LambdaService
from tests.integration.opensearch_stand_in import OpenSearchStandIn
from tests.integration.test_cli_init import (  # noqa: F401  (fixtures: the domains' shape, resolve, here, vpc)
    CLOSED,
    TEMPLATE,
    Refusing,
    aws,
    aws_shaped_domains,
    domain,
    endpoint_of,
    here,
    init,
    resolve,
    said,
    trail,
    vpc,
)
from tests.template_stack import ACCOUNT, REGION

ACCOUNT_SETTINGS = "/2016-08-19/account-settings"


@pytest.fixture
def concurrency(cloud, monkeypatch):
    """Lambda's GetAccountSettings, which moto 5.2.5 does not serve: ``GET /2016-08-19/account-settings`` answers
    ``AccountLimit.ConcurrentExecutions`` and ``UnreservedConcurrentExecutions``, "the maximum number of simultaneous
    function executions, minus the capacity that's reserved for individual functions with PutFunctionConcurrency"
    (Lambda API Reference, GetAccountSettings and AccountLimit). The account's figure is the test's (``limit``); the
    reserved part is moto's functions' own reservations."""
    from moto.awslambda.models import lambda_backends

    limit = {"concurrent": 1000}
    forward = LambdaService._forward

    def answer(request: BaseHTTPRequestHandler, moto_url: str, body: bytes) -> None:
        if urlsplit(request.path).path.rstrip("/") != ACCOUNT_SETTINGS:
            forward(request, moto_url, body)
            return
        functions = lambda_backends[ACCOUNT][REGION].list_functions()
        reserved = sum(int(f.reserved_concurrency or 0) for f in functions)
        payload = json.dumps({"AccountLimit": {
            "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": limit["concurrent"],
            "UnreservedConcurrentExecutions": limit["concurrent"] - reserved},
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(functions)}}).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    monkeypatch.setattr(LambdaService, "_forward", staticmethod(answer))
    return limit


def doctor(*args: str, **invoke: Any) -> Any:
    return logship("doctor", "--template", TEMPLATE, *args, **invoke)


def rows(result: Any) -> dict[str, list[str]]:
    """``{check name: [each line of it, state first]}``: the report as a script reads it."""
    found: dict[str, list[str]] = {}
    for text in result.stdout.splitlines():
        state, _, rest = text.partition("  ")
        if state.strip() in ("ok", "warn", "fail"):
            name = rest.strip().split("  ")[0]
            found.setdefault(name, []).append(f"{state.strip()} {' '.join(rest.split())}")
    return found


@pytest.fixture
def opensearch(osmem_clone):
    with OpenSearchStandIn(osmem_clone.url, version="2.13.0") as stand_in:
        yield stand_in


class Security:
    """The security plugin's REST API in front of a cluster: ``GET _plugins/_security/api/rolesmapping`` answers
    each role with its ``backend_roles`` and ``users`` (OpenSearch documentation, "Security plugin REST API: Get role
    mappings"); with ``refuse``, the 403 it gives an identity without REST API access ("No permission to access REST
    API", security's RestApiAdminPrivilegesEvaluator / AbstractApiAction). Everything else goes to ``upstream``."""

    def __init__(self, upstream: str, mappings: dict[str, list[str]], refuse: bool = False) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if urlsplit(self.path).path == "/_plugins/_security/api/rolesmapping":
                    status, payload = stand_in.rolesmapping()
                else:
                    request = urllib.request.Request(upstream + self.path, data=body or None, method=self.command,
                                                     headers={k: v for k, v in self.headers.items()
                                                              if k.lower() in ("content-type", "content-encoding")})
                    try:
                        with urllib.request.urlopen(request, timeout=30) as answer:
                            status, payload = answer.status, answer.read()
                    except urllib.error.HTTPError as exc:
                        status, payload = exc.code, exc.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_HEAD = _any

            def log_message(self, *_args: Any) -> None:
                pass

        self.mappings, self.refuse = mappings, refuse
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def rolesmapping(self) -> tuple[int, bytes]:
        if self.refuse:
            return 403, json.dumps({"status": "FORBIDDEN", "message": "No permission to access REST API: User "
                                    f"arn:aws:iam::{ACCOUNT}:user/dev with Security roles [readall] does not have any "
                                    "role privileged for admin access"}).encode()
        return 200, json.dumps({role: {"hosts": [], "users": [], "reserved": False, "hidden": False,
                                       "backend_roles": arns, "and_backend_roles": []}
                                for role, arns in self.mappings.items()}).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def flat(result: Any) -> str:
    """Everything printed, as one line of words."""
    return said(result)


# ------------------------------------------------------------------------------------------------ before the deploy
def test_before_the_first_deploy_a_public_domain_init_wrote_is_ready(cloud, here, opensearch, resolve, concurrency):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = opensearch.url
    trail()
    assert init("--endpoint", "logs", "--yes").exit_code == 0

    result = doctor()

    assert result.exit_code == 0, result.output
    assert "as samconfig.toml [default] says (not deployed yet)" in result.stdout
    found = rows(result)
    assert found["parameters"] == ["ok parameters 8 in samconfig.toml [default], each one the template takes"]
    assert found["cluster"] == ["ok cluster domain logs: OpenSearch 2.13, public endpoint, fine-grained access "
                                "control off"]
    assert found["answers"] == ["ok answers OpenSearch 2.13.0, with sigv4 (your credentials: the functions sign with "
                                "their own roles) [from this machine]"]
    assert found["index template"] == ["ok index template logship-cwl is not there yet: the deploy installs it "
                                       "[from this machine]"]
    assert found["retention"] == ["ok retention ISM is there; policy logship-cwl is not yet: the deploy installs it "
                                  "[from this machine]"]
    assert found["CloudTrail"] == ["ok CloudTrail trail management logs write management events in eu-west-1: new log "
                                   "groups reach EventBridge at once"]
    assert found["concurrency"][0].startswith("ok concurrency ship-logs shares the account's 1000 unreserved "
                                              "concurrent executions (of 1000)")
    assert {"network", "access", "account policy", "other stacks"} <= found.keys()
    assert all(lines[0].startswith("ok ") for lines in found.values())
    assert "subscription filters per log group: no API reads this CloudWatch Logs quota" in flat(result)
    assert "0 failed, 0 to look at" in result.stdout


def test_nothing_to_check_says_to_run_init(cloud, here):
    result = doctor()

    assert result.exit_code == 2
    assert "samconfig.toml has no [default.deploy.parameters] parameter_overrides and stack logship is not " \
           "deployed in eu-west-1. Run `logship init` first" in flat(result)
    assert "Traceback" not in result.output


def test_help_names_every_option():
    result = logship("doctor", "--help")

    assert result.exit_code == 0
    for option in ("--config-env", "--config-file", "--template", "--stack", "--region", "--before-deploy",
                   "--cluster / --no-cluster", "Examples:"):
        assert option in result.output


@pytest.fixture
def other_vpc(vpc):
    """The functions' own VPC (10.1.0.0/16, one subnet, one security group), apart from the domain's (``vpc``)."""
    ec2 = vpc["ec2"]
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.1.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]
    group = ec2.create_security_group(GroupName="functions", Description="logship's", VpcId=vpc_id)["GroupId"]
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"][0]
    return {"id": vpc_id, "subnet": subnet["SubnetId"], "group": group, "table": table["RouteTableId"]}


def test_a_vpc_only_domain_from_another_vpc_says_each_missing_piece_and_its_command(cloud, here, vpc, other_vpc, resolve,
                                                                                   concurrency):
    status = domain("private-logs", VPCOptions={"SubnetIds": vpc["subnets"], "SecurityGroupIds": [vpc["group"]]})
    resolve[urlsplit(endpoint_of(status)).hostname] = CLOSED
    trail()
    assert init("--endpoint", "private-logs", "--subnets", other_vpc["subnet"], "--security-groups",
                other_vpc["group"], "--yes").exit_code == 0

    result = doctor()

    assert result.exit_code == 1
    found = rows(result)
    assert found["answers"] == ["warn answers no answer from this machine, as from outside a VPC-only domain's VPC "
                                "[from this machine]"]
    assert found["route"] == [f"fail route route tables {other_vpc['table']} of the subnets ({other_vpc['id']}) have "
                              f"no route to the domain's VPC {vpc['id']} (10.0.1.0/24, 10.0.2.0/24)"]
    assert found["security groups"] == [f"fail security groups the domain's security groups ({vpc['group']}) admit no "
                                        f"HTTPS from {other_vpc['group']}"]
    assert found["AWS APIs"][0].startswith("fail AWS APIs the subnets have no NAT gateway and the VPC no S3 gateway "
                                           "endpoint")
    text = flat(result)
    assert (f"next: run the functions in subnets of {vpc['id']} (VpcSubnetIds), or peer the VPCs and route both ways "
            f"(aws ec2 create-route --route-table-id {other_vpc['table']} --destination-cidr-block 10.0.1.0/24 "
            "--vpc-peering-connection-id pcx-...)") in text
    assert (f"next: aws ec2 authorize-security-group-ingress --group-id {vpc['group']} --protocol tcp --port 443 "
            f"--source-group {other_vpc['group']}") in text
    assert f"next: aws ec2 create-vpc-endpoint --vpc-id {other_vpc['id']} --service-name com.amazonaws.{REGION}.s3" \
        in text
    assert "3 check(s) failed: route; security groups; AWS APIs" in text
    assert "Traceback" not in result.output


def test_a_peered_vpc_with_its_rules_and_endpoint_reaches_the_domain(cloud, here, vpc, other_vpc, resolve,
                                                                    concurrency):
    ec2 = vpc["ec2"]
    peering = ec2.create_vpc_peering_connection(VpcId=other_vpc["id"], PeerVpcId=vpc["id"])["VpcPeeringConnection"]
    for cidr in ("10.0.1.0/24", "10.0.2.0/24"):
        ec2.create_route(RouteTableId=other_vpc["table"], DestinationCidrBlock=cidr,
                         VpcPeeringConnectionId=peering["VpcPeeringConnectionId"])
    ec2.authorize_security_group_ingress(GroupId=vpc["group"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": other_vpc["group"]}]}])
    ec2.create_vpc_endpoint(VpcId=other_vpc["id"], ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway",
                            RouteTableIds=[other_vpc["table"]])
    status = domain("private-logs", VPCOptions={"SubnetIds": vpc["subnets"], "SecurityGroupIds": [vpc["group"]]})
    resolve[urlsplit(endpoint_of(status)).hostname] = CLOSED
    trail()
    assert init("--endpoint", "private-logs", "--subnets", other_vpc["subnet"], "--security-groups",
                other_vpc["group"], "--yes").exit_code == 0

    result = doctor()

    assert result.exit_code == 0, result.output
    found = rows(result)
    assert found["route"] == [f"ok route the subnets ({other_vpc['id']}) route to the domain's VPC {vpc['id']} through "
                              f"{peering['VpcPeeringConnectionId']} (its route tables must route back, which is not "
                              "checked)"]
    assert found["security groups"] == [f"ok security groups the domain's ({vpc['group']}) admit HTTPS from "
                                        f"{other_vpc['group']}"]
    assert found["AWS APIs"][0] == "ok AWS APIs an S3 gateway endpoint serves the subnets: the installer can answer " \
                                   "CloudFormation"
    assert found["AWS APIs"][1].startswith("warn AWS APIs no SQS endpoint in the VPC (optional)")


def test_a_vpc_only_domain_and_functions_outside_any_vpc_cannot_meet(cloud, here, vpc, resolve, concurrency):
    status = domain("private-logs", VPCOptions={"SubnetIds": vpc["subnets"], "SecurityGroupIds": [vpc["group"]]})
    resolve[urlsplit(endpoint_of(status)).hostname] = CLOSED
    trail()
    assert init("--endpoint", "private-logs", "--subnets", "", "--security-groups", "", "--yes").exit_code == 0

    result = doctor()

    assert result.exit_code == 1
    assert rows(result)["network"] == ["fail network domain private-logs is VPC-only, and the functions run outside "
                                       "any VPC: they cannot reach it"]
    assert "next: deploy with VpcSubnetIds and VpcSecurityGroupIds" in flat(result)


def test_the_first_deploy_on_fine_grained_access_control_must_wait_for_the_mappings(cloud, here, opensearch, resolve,
                                                                                   concurrency):
    status = domain(AdvancedSecurityOptions={"Enabled": True, "InternalUserDatabaseEnabled": False, "MasterUserOptions": {
        "MasterUserARN": f"arn:aws:iam::{ACCOUNT}:role/admin"}})
    resolve[urlsplit(endpoint_of(status)).hostname] = opensearch.url
    trail()
    assert init("--endpoint", "logs", "--install-index-template", "--yes").exit_code == 0
    forced = doctor()
    assert init("--endpoint", "logs", "--no-install-index-template", "--yes").exit_code == 0

    result = doctor()

    assert forced.exit_code == 1
    assert rows(forced)["access"] == ["fail access fine-grained access control is on: the installer's role must be "
                                      "mapped before it installs anything, and it exists only once the stack does"]
    assert "next: deploy first with InstallIndexTemplate=false (logship init --config-env default " \
           "--no-install-index-template --yes)" in flat(forced)
    assert result.exit_code == 0, result.output
    assert rows(result)["access"][0].startswith("warn access fine-grained access control is on: the roles need role "
                                                "mappings")
    assert rows(result)["index template"][0].startswith("warn index template logship-cwl is not there, and the deploy "
                                                        "will not install it (InstallIndexTemplate=false)")


@pytest.mark.parametrize(("setup", "state", "text"), [
    (lambda: None, "warn", "no trail logs write management events in eu-west-1: new groups wait for the next sweep"),
    (lambda: trail(logging=False), "warn", "no trail logs write management events"),
    (lambda: trail(region="us-east-1", multi_region=True), "ok", "trail management logs write management events"),
], ids=["none", "stopped", "multi-region"])
def test_cloudtrail_is_read_as_init_reads_it(cloud, here, opensearch, resolve, concurrency, setup, state, text):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = opensearch.url
    assert init("--endpoint", "logs", "--no-create-trail", "--yes").exit_code == 0
    setup()

    result = doctor()

    assert result.exit_code == 0, result.output
    assert rows(result)["CloudTrail"][0].startswith(f"{state} CloudTrail {text}")


def test_an_account_policy_held_by_another_and_a_prefix_another_stack_uses_fail(cloud, here, opensearch, resolve,
                                                                              concurrency):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = opensearch.url
    assert init("--endpoint", "logs", "--subscription-mode", "account-policy", "--yes").exit_code == 0
    aws("logs").put_account_policy(policyName="datadog", policyType="SUBSCRIPTION_FILTER_POLICY", policyDocument=
                                   json.dumps({"DestinationArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:dd"}))
    from tests.integration.test_cli_init import logship_stack

    logship_stack("logship-dev", OpenSearchEndpoint=endpoint_of(status), IndexPrefix="cwl")

    result = doctor()

    assert result.exit_code == 1
    found = rows(result)
    assert found["account policy"][0].startswith("fail account policy account policy 'datadog' (to arn:aws:lambda:")
    assert found["other stacks"] == ["fail other stacks stack logship-dev ships to this cluster into the same indices "
                                     "(cwl-*)"]
    assert found["CloudTrail"] == ["ok CloudTrail not needed: the account policy delivers new groups "
                                   "(SubscriptionMode=account-policy)"]
    text = flat(result)
    assert "next: deploy this stack with SubscriptionMode=per-group, or delete that policy first" in text
    assert "next: give this stack another IndexPrefix (logship init --prefix ...)" in text


def test_a_secret_under_a_customer_key_the_functions_may_not_use_fails(cloud, here, opensearch, resolve, concurrency):
    key = aws("kms").create_key()["KeyMetadata"]["Arn"]
    arn = aws("secretsmanager").create_secret(Name="logship/es", KmsKeyId=key, SecretString=json.dumps(
        {"username": "logship", "password": "s3cret"}))["ARN"]
    resolve["search.example.com"] = opensearch.url
    trail()
    (here / "samconfig.toml").write_text(
        'version = 0.1\n[default.deploy.parameters]\nstack_name = "logship"\nregion = "eu-west-1"\n'
        f'parameter_overrides = "OpenSearchEndpoint=\\"https://search.example.com\\" OpenSearchAuth=\\"basic\\" '
        f'OpenSearchSecretArn=\\"{arn}\\" IndexRetentionDays=\\"x\\""\n')

    result = doctor()

    assert result.exit_code == 1
    found = rows(result)
    assert found["parameters"][0].startswith("fail parameters IndexRetentionDays='x' is not a number")
    assert found["secret"] == [f"fail secret encrypted with the customer managed key {key}; the functions may decrypt "
                               "only with no key (OpenSearchSecretKmsKeyArn)"]
    assert f"next: deploy with OpenSearchSecretKmsKeyArn={key}" in flat(result)
    assert "s3cret" not in result.output


def test_reserved_concurrency_beyond_what_the_account_has_unreserved_fails(cloud, here, opensearch, resolve,
                                                                           concurrency):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = opensearch.url
    trail()
    (here / "samconfig.toml").write_text(GIVEN.format(endpoint=endpoint_of(status), extra="ShipperReservedConcurrency=20"))
    concurrency["concurrent"] = 10  # a new account's

    result = doctor()

    assert result.exit_code == 1
    assert rows(result)["concurrency"] == ["fail concurrency ShipperReservedConcurrency=20, and the account has 10 "
                                           "unreserved concurrent executions (of 10) to reserve from"]


def test_kinesis_shards_beyond_the_accounts_room_fail(cloud, here, opensearch, resolve, concurrency):
    """moto answers DescribeLimits with fixed figures; the test asks for one shard more than it says is free, whatever
    the figures (the command reads them, never a number of its own)."""
    import boto3

    limits = boto3.client("kinesis", region_name=REGION).describe_limits()
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = opensearch.url
    trail()
    wanted = limits["ShardLimit"] - limits["OpenShardCount"] + 1
    (here / "samconfig.toml").write_text(GIVEN.format(endpoint=endpoint_of(status), extra=(
        f"Transport=kinesis KinesisShardCount={wanted}")))

    result = doctor()

    assert result.exit_code == 1
    assert rows(result)["Kinesis"][0].startswith(f"fail Kinesis KinesisShardCount={wanted}, and the account has room "
                                                 f"for {wanted - 1} more shards")


GIVEN = ('version = 0.1\n[default.deploy.parameters]\nstack_name = "logship"\nregion = "eu-west-1"\n'
         'parameter_overrides = "OpenSearchEndpoint={endpoint} OpenSearchAuth=sigv4 '
         f'OpenSearchDomainArn=arn:aws:es:{REGION}:{ACCOUNT}:domain/logs {{extra}}"\n')


def test_an_unreachable_public_cluster_fails_and_a_refused_signature_is_only_yours(cloud, here, resolve, concurrency):
    status = domain()
    host = urlsplit(endpoint_of(status)).hostname
    trail()
    (here / "samconfig.toml").write_text(GIVEN.format(endpoint=endpoint_of(status), extra=""))
    resolve[host] = CLOSED
    unreachable = doctor()
    with Refusing() as refusing:
        resolve[host] = refusing.url
        refused = doctor()

    assert unreachable.exit_code == 1
    assert rows(unreachable)["answers"][0].startswith("fail answers could not reach")
    assert "the functions (outside any VPC) reach the cluster as this machine does" in flat(unreachable)
    assert refused.exit_code == 0, refused.output
    assert rows(refused)["answers"][0].startswith("warn answers refused your signature (your credentials: the "
                                                  "functions sign with their own roles): 403")
    assert "the stack's roles have their own grants" in flat(refused)


# ------------------------------------------------------------------------------------------------- after the deploy
def log_line(stack: DeployedStack, group: str, record: dict[str, Any]) -> None:
    from tests.integration.test_cli_status import log_line as status_log_line

    status_log_line(stack, group, record)


def test_a_deployed_stack_is_checked_as_deployed_and_the_install_is_asked_of_the_cluster(cloud, here, opensearch,
                                                                                         concurrency):
    stack = DeployedStack(cloud["moto"], "logship", opensearch.url)
    trail()
    log_line(stack, "/aws/lambda/logship-install-index-template", {
        "logship": "install-index-template", "level": "error", "request_type": "Create", "status": "FAILED",
        "reason": f"{opensearch.url}: the cluster refused the index template logship-cwl (403 security_exception)"})
    missing = doctor()
    assert logship("setup-index", "--stack", "logship").exit_code == 0

    result = doctor()

    assert "stack logship in eu-west-1, as deployed (CREATE_COMPLETE)" in missing.stdout
    assert missing.exit_code == 1
    assert rows(missing)["index template"] == [
        "fail index template logship-cwl is not there; the installer last logged: FAILED: "
        f"{opensearch.url}: the cluster refused the index template logship-cwl (403 security_exception) "
        "[from this machine]"]
    assert result.exit_code == 0, result.output
    found = rows(result)
    assert found["stack"] == ["ok stack logship: CREATE_COMPLETE"]
    assert found["index template"] == ["ok index template logship-cwl for cwl-YYYY.MM.DD and cwl-failed-YYYY.MM.DD "
                                       "[from this machine]"]
    assert found["retention"] == ["ok retention ISM policy logship-cwl: delete after 30 days [from this machine]"]
    assert found["answers"] == ["ok answers OpenSearch 2.13.0, with none [from this machine]"]


def test_a_deployed_vpc_only_domain_is_judged_by_the_installers_last_report(cloud, here, vpc, resolve, concurrency):
    status = domain("private-logs", VPCOptions={"SubnetIds": vpc["subnets"], "SecurityGroupIds": [vpc["group"]]})
    resolve[urlsplit(endpoint_of(status)).hostname] = CLOSED
    trail()
    stack = DeployedStack(cloud["moto"], "logship", endpoint_of(status), VpcSubnetIds=",".join(vpc["subnets"]),
                          VpcSecurityGroupIds=vpc["group"])
    log_line(stack, "/aws/lambda/logship-install-index-template", {
        "logship": "install-index-template", "level": "info", "request_type": "Create", "status": "SUCCESS",
        "reason": "cluster: OpenSearch 2.13.0; index template logship-cwl for cwl-YYYY.MM.DD and "
                  "cwl-failed-YYYY.MM.DD; retention: this cluster has no lifecycle API (ISM: 400: no handler found)"})

    result = doctor()

    found = rows(result)
    assert found["answers"][0].startswith("warn answers no answer from this machine")
    assert found["index template"][0].startswith("ok index template installed (Create, ")
    assert found["index template"][0].endswith("[as the installer logged it]")
    assert found["retention"] == ["warn retention the cluster has no lifecycle API: nothing deletes old indices "
                                  "[as the installer logged it]"]
    assert found["route"] == [f"ok route the subnets are in the domain's VPC {vpc['id']}: its local route reaches it"]
    assert result.exit_code == 1  # the domain's group admits nothing, and no S3 endpoint: said with their commands
    assert {name for name, lines in found.items() if any(c.startswith("fail") for c in lines)} == {
        "security groups", "AWS APIs"}


@pytest.mark.parametrize(("mapped", "refuse", "expected"), [
    (True, False, ["ok access ShipLogsRoleArn is mapped to logs_writer [from this machine]",
                   "ok access InstallIndexTemplateRoleArn is mapped to all_access [from this machine]"]),
    (False, False, ["ok access InstallIndexTemplateRoleArn is mapped to all_access [from this machine]",
                    "fail access not mapped: arn:aws:iam::123456789012:role/logship-ShipLogsFunctionRole-1A2B3C4D5E6F "
                    "[from this machine]"]),
    (True, True, ["warn access could not read the role mappings (403: No permission to access REST API: User "
                  "arn:aws:iam::123456789012:user/dev with Security roles [readall] does not have any role privileged "
                  "for admin access) [from this machine]"]),
], ids=["mapped", "not-mapped", "not-allowed-to-read"])
def test_fine_grained_access_control_role_mappings_are_read_after_the_deploy(cloud, here, opensearch, resolve,
                                                                            concurrency, mapped, refuse, expected):
    status = domain(AdvancedSecurityOptions={"Enabled": True, "InternalUserDatabaseEnabled": False, "MasterUserOptions": {
        "MasterUserARN": f"arn:aws:iam::{ACCOUNT}:role/admin"}})
    trail()
    stack = DeployedStack(cloud["moto"], "logship", endpoint_of(status), OpenSearchAuth="sigv4",
                          OpenSearchDomainArn=status["ARN"])
    install(OpenSearch(hosts=[opensearch.url]), index_prefix="cwl")  # as the installer did once let in
    outputs = stack.outputs()
    mappings = {"all_access": [outputs["InstallIndexTemplateRoleArn"]]}
    if mapped:
        mappings["logs_writer"] = [outputs["ShipLogsRoleArn"]]
    security = Security(opensearch.url, mappings, refuse)
    resolve[urlsplit(endpoint_of(status)).hostname] = security.url
    try:
        result = doctor()
    finally:
        security.close()

    assert rows(result)["access"] == expected
    assert result.exit_code == (0 if mapped else 1), result.output
    if not mapped:
        assert "next: in OpenSearch Dashboards (Security, Roles), map arn:aws:iam::" in flat(result)


def test_a_stack_whose_first_deploy_rolled_back_says_to_delete_it(cloud, here, opensearch, concurrency):
    DeployedStack(cloud["moto"], "logship", opensearch.url)
    from moto.cloudformation.models import cloudformation_backends

    cloudformation_backends[ACCOUNT][REGION].stacks[next(iter(cloudformation_backends[ACCOUNT][REGION].stacks))] \
        .status = "ROLLBACK_COMPLETE"

    result = doctor()

    assert result.exit_code == 1
    assert rows(result)["stack"] == ["fail stack logship: ROLLBACK_COMPLETE, its first deploy failed and nothing of it "
                                     "is left"]


def test_a_member_stack_reaches_no_cluster_and_is_checked_for_what_it_does(cloud, here, concurrency):
    trail()
    destination = f"arn:aws:logs:{REGION}:210987654321:destination:logship-central"
    DeployedStack(cloud["moto"], "logship", Role="member", CentralDestinationArn=destination)

    result = doctor()

    assert result.exit_code == 0, result.output
    found = rows(result)
    assert found["cluster"] == [f"ok cluster none to reach: Role=member sends to the central account's destination "
                                f"{destination}"]
    assert not {"answers", "network", "index template", "retention", "access", "concurrency"} & found.keys()
    assert found["CloudTrail"][0].startswith("ok CloudTrail trail management logs write management events")


def test_a_reserved_concurrency_that_is_no_number_is_said_once(cloud, here, opensearch, resolve, concurrency):
    status = domain()
    resolve[urlsplit(endpoint_of(status)).hostname] = opensearch.url
    trail()
    (here / "samconfig.toml").write_text(GIVEN.format(endpoint=endpoint_of(status), extra="ShipperReservedConcurrency=a"))

    result = doctor()

    assert result.exit_code == 1
    assert rows(result)["parameters"] == ["fail parameters ShipperReservedConcurrency='a' is not a number"]
    assert "concurrency" not in rows(result)
    assert "Traceback" not in result.output


def test_before_an_update_the_config_environment_is_checked_over_the_deployed_stack(cloud, here, opensearch,
                                                                                     concurrency):
    DeployedStack(cloud["moto"], "logship", opensearch.url)
    trail()
    (here / "samconfig.toml").write_text(
        'version = 0.1\n[default.deploy.parameters]\nstack_name = "logship"\nregion = "eu-west-1"\n'
        'parameter_overrides = "IndexRetentionDays=90 ShipperReservedConcurrency=5000"\n')

    deployed = doctor()
    result = doctor("--before-deploy")

    assert "as deployed (CREATE_COMPLETE)" in deployed.stdout
    assert "stack logship in eu-west-1 (CREATE_COMPLETE), as samconfig.toml [default] would update it" in result.stdout
    assert rows(result)["parameters"] == ["ok parameters 2 in samconfig.toml [default], each one the template takes"]
    assert rows(result)["answers"] == ["ok answers OpenSearch 2.13.0, with none [from this machine]"]  # the stack's
    assert rows(result)["concurrency"][0].startswith("fail concurrency ShipperReservedConcurrency=5000")
    assert result.exit_code == 1
