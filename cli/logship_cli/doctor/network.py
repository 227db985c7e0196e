"""Whether the functions can reach the cluster and AWS's APIs from where they run, as far as the network's
configuration tells (EC2's answers through init's ``facts.network``): no connection is made from their subnets.

ship-logs and install-index-template run in ``VpcSubnetIds`` with ``VpcSecurityGroupIds``, or outside any VPC. In a
VPC they need a route to the cluster, security group rules for HTTPS both ways, and a way to S3 (the installer's
answer to CloudFormation) and, for a secret, to Secrets Manager: a NAT gateway, or VPC endpoints.
"""

from __future__ import annotations

from typing import Any

from logship_cli.doctor.run import Run
from logship_cli.init import facts
from logship_cli.init.plan import SQS_ENDPOINT_NOTE, ingress_fix, s3_endpoint_fix, secret_endpoint_fix

# Targets that carry traffic to another VPC's private addresses; an internet or NAT gateway does not.
_PRIVATE_PATHS = ("local", "pcx-", "tgw-", "vgw-", "eni-", "arn:aws:networkmanager")


def check(run: Run) -> None:
    setup, report, domain = run.setup, run.report, run.domain
    if not setup.ships:
        return
    subnets, groups = setup.subnets, setup.security_groups
    if run.vpc_only and domain.region != setup.region:
        report.fail("network", f"domain {domain.name} is in a VPC of {domain.region}; the functions would run in "
                    f"{setup.region}", f"deploy the stack in {domain.region} (--region)")
        return
    if not subnets:
        if run.vpc_only:
            report.fail("network", f"domain {domain.name} is VPC-only, and the functions run outside any VPC: they "
                        "cannot reach it", "deploy with VpcSubnetIds and VpcSecurityGroupIds (logship init proposes "
                        "the domain's own)")
        else:
            report.ok("network", "the functions run outside any VPC: they reach the cluster and AWS's APIs over the "
                      "internet, as this machine does")
        return
    if not groups:
        report.fail("network", "VpcSubnetIds without VpcSecurityGroupIds: the template refuses it",
                    "give both (logship init --subnets ... --security-groups ...)")
        return
    net = facts.network(run.aws, subnets, groups, domain.security_groups if run.vpc_only else ())
    if net.why:
        report.warn("network", f"could not read the VPC ({net.why})", "your credentials need ec2:DescribeSubnets, "
                    "DescribeSecurityGroups, DescribeRouteTables, DescribeVpcEndpoints; docs/deploy.md, Private "
                    "domains (VPC)")
        return
    if run.vpc_only:
        _route_to_domain(run, net, domain)
        _admitted(run, net, domain)
    else:
        _route_out(run, net)
    if net.egress is False:
        report.fail("security groups", f"{','.join(groups)} let no HTTPS (TCP 443) out", "allow outbound TCP 443 to "
                    "the cluster (a new security group allows all outbound)")
    _endpoints(run, net)


def _route_to_domain(run: Run, net: Any, domain: Any) -> None:
    if net.vpc_id == domain.vpc_id:
        run.report.ok("route", f"the subnets are in the domain's VPC {domain.vpc_id}: its local route reaches it")
        return
    theirs = facts.network(run.aws, domain.subnets, ())
    if theirs.why or not theirs.cidrs:
        run.report.warn("route", f"the subnets are in {net.vpc_id}, the domain in {domain.vpc_id}; its subnets' ranges "
                        f"could not be read ({theirs.why or 'none'})", "check that the subnets' route tables reach "
                        "them (a peering, a transit gateway) and that the way back is routed too")
        return
    routes = [(table, route) for cidr in theirs.cidrs for table, route in zip(net.route_tables, net.routes_to(cidr),
                                                                              strict=True)]
    missing = sorted({table for table, route in routes if route is None or not route.target.startswith(_PRIVATE_PATHS)})
    if missing:
        run.report.fail("route", f"route tables {', '.join(missing)} of the subnets ({net.vpc_id}) have no route to "
                        f"the domain's VPC {domain.vpc_id} ({', '.join(theirs.cidrs)})", "run the functions in "
                        f"subnets of {domain.vpc_id} (VpcSubnetIds), or peer the VPCs and route both ways (aws ec2 "
                        f"create-route --route-table-id {missing[0]} --destination-cidr-block {theirs.cidrs[0]} "
                        "--vpc-peering-connection-id pcx-...)")
        return
    through = sorted({route.target for _, route in routes if route is not None})
    run.report.ok("route", f"the subnets ({net.vpc_id}) route to the domain's VPC {domain.vpc_id} through "
                  f"{', '.join(through)} (its route tables must route back, which is not checked)")


def _admitted(run: Run, net: Any, domain: Any) -> None:
    groups = run.setup.security_groups
    if net.admitted is False:
        run.report.fail("security groups", *ingress_fix(domain.security_groups, groups))
    elif net.admitted:
        run.report.ok("security groups", f"the domain's ({','.join(domain.security_groups)}) admit HTTPS from "
                      f"{','.join(groups)}")


def _route_out(run: Run, net: Any) -> None:
    """A cluster outside the VPC (a public domain or collection, Elastic Cloud, any URL) is reached through a NAT
    gateway; for a cluster of your own the VPC's routes to it cannot be told from its name."""
    if net.nat:
        run.report.ok("route", "the subnets reach the internet through a NAT gateway, and the cluster through it")
    elif run.domain is not None or run.collection is not None or run.setup.cloud_id:
        run.report.fail("route", "the subnets have no NAT gateway, and the cluster's endpoint is public: the functions "
                        "cannot reach it", "route the subnets' 0.0.0.0/0 through a NAT gateway, or deploy without "
                        "VpcSubnetIds")
    else:
        run.report.warn("route", "the subnets have no NAT gateway: the functions reach only what the VPC routes to, "
                        "and the route to a cluster of your own is not told by its name", "make sure the subnets' "
                        f"route tables ({', '.join(net.route_tables)}) reach {run.setup.endpoint}")


def _endpoints(run: Run, net: Any) -> None:
    report, region = run.report, run.setup.region
    if net.nat:
        report.ok("AWS APIs", "through the NAT gateway: S3 (the installer's answer to CloudFormation), Secrets Manager "
                  "and SQS")
        return
    if "s3" in net.endpoints:
        report.ok("AWS APIs", "an S3 gateway endpoint serves the subnets: the installer can answer CloudFormation")
    else:
        report.fail("AWS APIs", *s3_endpoint_fix(net, region))
    if run.setup.auth in ("basic", "apikey"):
        if "secretsmanager" in net.endpoints:
            report.ok("AWS APIs", "a Secrets Manager endpoint (private DNS): the functions read the secret")
        else:
            report.fail("AWS APIs", *secret_endpoint_fix(net, region))
    if "sqs" not in net.endpoints:
        found, _, why = SQS_ENDPOINT_NOTE.partition(": ")
        report.warn("AWS APIs", found, f"optional: {why}; add com.amazonaws.{region}.sqs (interface, private DNS) to "
                    "keep it at once")
