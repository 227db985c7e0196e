"""What ``logship init`` chooses: template parameters from the answers and the facts, each with its reason.

Pure: no AWS call, no cluster, no prompt. ``decide(answers, facts)`` gives the parameters to write, what init
found worth saying, what must be done before the deploy can succeed, and what to do after the first one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from logship_cli.init.facts import Collection, Domain, Network, Reply, Secret, Stack, Trail

# The parameters init decides. Those with an empty default are written empty when unused and the stack (or the
# config environment) had them: sam deploy keeps an existing stack's previous value of a parameter not given.
CLUSTER_KEYS = ("OpenSearchEndpoint", "ElasticCloudId", "OpenSearchDomainArn", "OpenSearchCollectionArn",
                "OpenSearchSecretArn", "OpenSearchSecretKmsKeyArn", "VpcSubnetIds", "VpcSecurityGroupIds")
# What CloudTrail and the account policy cost, in the words of docs/log-groups.md (CloudTrail, Account policy).
TRAIL_COST = ("CreateCloudTrail=true: the stack creates a single-region trail of write management events (the "
              "first copy of management events is free of CloudTrail charges) and a private S3 bucket for it "
              "(objects expire after 90 days: you pay their storage); new groups are subscribed within seconds")
POLICY_COST = ("SubscriptionMode=account-policy: one account subscription filter policy delivers every log group "
               "of the account and region, no trail and no lag; every group costs a ship-logs invocation, so if "
               "most of your groups are not Lambda's, per-group is cheaper")
NO_TRAIL_COST = ("neither: nothing fails, but a new group waits for the next sweep (ReconcileSchedule, 6 hours) "
                 "and its earlier lines are backfilled then")


@dataclass(frozen=True)
class Answers:
    """What the user said (flags, prompts, or the config environment's earlier values); None: not said."""

    endpoint: str = ""  # the stack's OpenSearchEndpoint ("" with a cloud id)
    cloud_id: str = ""
    auth: str = "sigv4"
    secret_arn: str = ""
    secret_kms_key_arn: str = ""
    domain_arn: str = ""
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    prefix: str = "cwl"
    subscription_mode: str | None = None
    create_trail: bool | None = None
    install_index_template: bool | None = None


@dataclass(frozen=True)
class Facts:
    """What init found (None, or a str saying why, where a source could not be read or was not asked)."""

    stack: str
    region: str
    config_env: str = "default"
    domain: Domain | None = None
    collection: Collection | None = None
    secret: Secret | None = None
    reply: Reply | None = None  # None: not asked (--no-check)
    network: Network | None = None
    trails: list[Trail] | str | None = None
    policies: list[Any] | str | None = None
    stacks: list[Stack] | str | None = None

    @property
    def own_stack(self) -> Stack | None:
        """This stack, if it is deployed already."""
        return next((s for s in self.stacks if s.name == self.stack), None) if isinstance(self.stacks, list) \
            else None


@dataclass(frozen=True)
class Choice:
    parameter: str
    value: str
    why: str


@dataclass
class Plan:
    choices: list[Choice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # found, worth knowing
    before: list[str] = field(default_factory=list)  # to do before the deploy can succeed
    after: list[str] = field(default_factory=list)  # to do after the first deploy

    def choose(self, parameter: str, value: str, why: str) -> None:
        self.choices.append(Choice(parameter, value, why))

    @property
    def parameters(self) -> dict[str, str]:
        return {c.parameter: c.value for c in self.choices}


def decide(answers: Answers, facts: Facts) -> Plan:
    """The parameters for ``answers`` and ``facts``, e.g. ``decide(Answers(endpoint=...), Facts("logship", ...))``."""
    plan = Plan()
    _cluster(plan, answers, facts)
    _auth(plan, answers, facts)
    _network(plan, answers, facts)
    _documents(plan, answers, facts)
    _installer(plan, answers, facts)
    _subscriptions(plan, answers, facts)
    _other_stacks(plan, facts)
    return plan


def _cluster(plan: Plan, answers: Answers, facts: Facts) -> None:
    flavor = facts.reply.flavor if facts.reply else None
    if answers.cloud_id:
        plan.choose("ElasticCloudId", answers.cloud_id, "an Elastic Cloud deployment")
        plan.choose("ClusterFlavor", "elasticsearch", "Elastic Cloud runs Elasticsearch 8 or 9: requests carry its "
                    "REST compatibility headers")
        return
    if facts.domain:
        where = f"Amazon OpenSearch Service domain {facts.domain.name}"
    elif facts.collection:
        where = f"OpenSearch Serverless collection {facts.collection.name} ({facts.collection.type.lower()})"
    else:
        where = "the cluster you gave"
    plan.choose("OpenSearchEndpoint", answers.endpoint, where)
    if flavor is not None and flavor_parameter(flavor) == "elasticsearch":
        plan.choose("ClusterFlavor", "elasticsearch", f"it answered as {flavor.described}: requests carry its REST "
                    "compatibility headers")
    elif flavor is not None:
        plan.choose("ClusterFlavor", "opensearch", f"it answered as {flavor.described}: plain JSON")
    elif facts.domain:
        plan.choose("ClusterFlavor", "opensearch", f"an Amazon OpenSearch Service domain ({facts.domain.described}) "
                    "takes plain JSON")
    else:
        plan.choose("ClusterFlavor", "opensearch", "not asked: plain JSON, which every engine takes (Elasticsearch 8 "
                    "and 9 too)")


def flavor_parameter(flavor: Any) -> str:
    """ClusterFlavor for what the cluster answered (a :class:`logship.cluster.engine.Flavor`): ``elasticsearch``
    for Elasticsearch 8 and 9, the only ones that take its compatibility headers; else ``opensearch``."""
    return "elasticsearch" if flavor.distribution == "elasticsearch" and flavor.version[:1] in ((8,), (9,)) \
        else "opensearch"


def _auth(plan: Plan, answers: Answers, facts: Facts) -> None:
    auth = answers.auth
    plan.choose("OpenSearchAuth", auth, {
        "sigv4": "the functions sign their requests with their own IAM roles",
        "basic": "a username and password, read from the secret at runtime",
        "apikey": "an API key, read from the secret at runtime",
        "none": "the cluster takes requests without credentials"}[auth])
    if auth == "sigv4" and facts.domain:
        plan.choose("OpenSearchDomainArn", facts.domain.arn, "the roles get es:ESHttp* on this domain only")
        _fine_grained(plan, facts)
    elif auth == "sigv4" and facts.collection:
        plan.choose("OpenSearchCollectionArn", facts.collection.arn, "the roles get aoss:APIAccessAll on this "
                    "collection only")
        plan.after.append("add the stack's ShipLogsRoleArn and InstallIndexTemplateRoleArn outputs to the "
                          f"collection's data access policy ({facts.collection.name}): the shipper may write its "
                          "indices, the installer may create index templates")
    elif auth == "sigv4" and answers.domain_arn:
        plan.choose("OpenSearchDomainArn", answers.domain_arn, "given (--domain-arn)")
    if auth in ("basic", "apikey") and facts.secret:
        plan.choose("OpenSearchSecretArn", facts.secret.arn, "read by ship-logs and the installer at runtime, cached "
                    "5 minutes")
        key = answers.secret_kms_key_arn or facts.secret.kms_key_arn
        if key:
            plan.choose("OpenSearchSecretKmsKeyArn", key, "the secret is encrypted with this customer managed key: "
                        "both functions may decrypt with it, through Secrets Manager only")
        elif facts.secret.kms_unknown:
            plan.before.append(f"could not tell the secret's KMS key ({facts.secret.kms_unknown}): if it is a "
                               "customer managed key, run init again with --secret-kms-key-arn")
        if facts.secret.region != facts.region:
            plan.before.append(f"the secret is in {facts.secret.region}, and the functions read it in "
                               f"{facts.region}: replicate it to {facts.region} (Secrets Manager replication) and "
                               "give that ARN")


def _fine_grained(plan: Plan, facts: Facts) -> None:
    domain = facts.domain
    assert domain is not None
    if not domain.fine_grained:
        plan.notes.append(f"domain {domain.name}: fine-grained access control is off; IAM alone lets the roles in")
        return
    stack = facts.own_stack
    roles = (f"{stack.outputs.get('ShipLogsRoleArn', 'ShipLogsRoleArn')} and "
             f"{stack.outputs.get('InstallIndexTemplateRoleArn', 'InstallIndexTemplateRoleArn')}") if stack else \
        "the stack's ShipLogsRoleArn and InstallIndexTemplateRoleArn outputs"
    plan.notes.append(f"domain {domain.name}: fine-grained access control is on: the roles need role mappings "
                      "(backend roles) in OpenSearch")
    plan.after.append(mapping_fix(roles))


def mapping_fix(roles: str) -> str:
    """What to do in OpenSearch's security plugin so that the stack's roles (``roles``, named) are let in."""
    return (f"in OpenSearch Dashboards (Security, Roles), map {roles} as backend roles: the shipper's to a role that "
            "may write <prefix>-2* and <prefix>-failed-* (create_index and crud), the installer's to one that may "
            "install index templates and ISM policies (docs/security.md, Least privilege)")


def _network(plan: Plan, answers: Answers, facts: Facts) -> None:
    if facts.domain and facts.domain.in_vpc and facts.domain.region != facts.region:
        plan.before.append(f"domain {facts.domain.name} is in a VPC of {facts.domain.region}, and a function runs in "
                           f"subnets of its own region: deploy the stack in {facts.domain.region} (--region)")
    if not answers.subnets:
        if facts.domain and facts.domain.in_vpc:
            plan.before.append(f"domain {facts.domain.name} is VPC-only: without VpcSubnetIds the functions cannot "
                               "reach it")
        return
    domain = facts.domain
    why = (f"domain {domain.name} is VPC-only ({domain.vpc_id or 'its VPC'}): ship-logs and install-index-template "
           "run in these subnets" if domain and domain.in_vpc else "given: ship-logs and install-index-template run "
           "in these subnets")
    plan.choose("VpcSubnetIds", ",".join(answers.subnets), why)
    plan.choose("VpcSecurityGroupIds", ",".join(answers.security_groups), "the functions' security groups")
    net = facts.network
    if net is None:
        return
    if net.why:
        plan.notes.append(f"could not check the network ({net.why}): see docs/deploy.md, Private domains (VPC)")
        return
    groups = ",".join(answers.security_groups)
    if net.admitted is False and domain:
        plan.before.append("{}: {}".format(*ingress_fix(domain.security_groups, answers.security_groups)))
    if net.egress is False:
        plan.before.append(f"the security groups {groups} let no HTTPS (TCP 443) out: allow it to the domain")
    reads_secret = answers.auth in ("basic", "apikey")
    _endpoint_needs(plan, net, facts.region, reads_secret)


def ingress_fix(domain_groups: tuple[str, ...], groups: tuple[str, ...]) -> tuple[str, str]:
    """What the network lacks, and the command that adds it (here and in the three below)."""
    return (f"the domain's security groups ({','.join(domain_groups)}) admit no HTTPS from {','.join(groups)}",
            f"aws ec2 authorize-security-group-ingress --group-id {domain_groups[0]} --protocol tcp --port 443 "
            f"--source-group {groups[0]}")


def s3_endpoint_fix(net: Network, region: str) -> tuple[str, str]:
    return ("the subnets have no NAT gateway and the VPC no S3 gateway endpoint: the installer could not answer "
            "CloudFormation (the stack would wait an hour, then fail)", f"aws ec2 create-vpc-endpoint --vpc-id "
            f"{net.vpc_id} --service-name com.amazonaws.{region}.s3 --route-table-ids "
            f"{' '.join(net.route_tables) or '<the subnets route tables>'}")


def secret_endpoint_fix(net: Network, region: str) -> tuple[str, str]:
    return ("the functions read the secret, and the VPC has no Secrets Manager endpoint", "aws ec2 create-vpc-endpoint "
            f"--vpc-id {net.vpc_id} --vpc-endpoint-type Interface --service-name com.amazonaws.{region}.secretsmanager "
            "--private-dns-enabled --subnet-ids ... --security-group-ids ...")


SQS_ENDPOINT_NOTE = ("no SQS endpoint in the VPC (optional): a batch the cluster refuses for a setting takes Lambda's "
                     "retries before the dead-letter queue keeps it")


def _endpoint_needs(plan: Plan, net: Network, region: str, reads_secret: bool) -> None:
    """Without a NAT gateway the functions reach AWS only through VPC endpoints (docs/deploy.md, Private domains)."""
    if net.nat:
        plan.notes.append("the subnets route to the internet through a NAT gateway: the functions reach AWS's APIs")
        return
    if "s3" not in net.endpoints:
        plan.before.append("{}. {}".format(*s3_endpoint_fix(net, region)))
    if reads_secret and "secretsmanager" not in net.endpoints:
        plan.before.append("{}: {}".format(*secret_endpoint_fix(net, region)))
    if "sqs" not in net.endpoints:
        plan.notes.append(SQS_ENDPOINT_NOTE)


def _documents(plan: Plan, answers: Answers, facts: Facts) -> None:
    plan.choose("IndexPrefix", answers.prefix, "documents go to <prefix>-YYYY.MM.DD, refused ones to "
                "<prefix>-failed-YYYY.MM.DD")
    kind = facts.collection.type if facts.collection else ""
    if kind == "TIMESERIES":
        plan.choose("DocumentIds", "false", "a time series collection takes no custom document ids: the collection "
                    "picks them, so a retried batch may index an event twice (aws.cloudwatch.event_id tells copies "
                    "apart; docs/indices.md)")
    elif kind == "VECTORSEARCH":
        plan.choose("DocumentIds", "false", "a vector search collection assigns its own document ids (a search "
                    "collection suits logs better)")
    elif kind:
        plan.choose("DocumentIds", "true", "a search collection takes document ids: a retry is never a copy")


def _installer(plan: Plan, answers: Answers, facts: Facts) -> None:
    needs_mapping = answers.auth == "sigv4" and (
        (facts.domain is not None and facts.domain.fine_grained) or facts.collection is not None)
    if answers.install_index_template is not None:
        value, why = answers.install_index_template, "given"
    elif needs_mapping and facts.own_stack is None:
        value, why = False, ("the installer's role exists only once the stack does, and must be let in first: "
                             "deploy, map it, then deploy again with true")
        plan.after.append(f"then let the installer run: logship init --config-env {facts.config_env} "
                          f"--install-index-template --yes && sam deploy --config-env {facts.config_env}")
    else:
        value, why = True, "the installer checks the cluster and installs the template and retention at deploy"
    plan.choose("InstallIndexTemplate", "true" if value else "false", why)


def _subscriptions(plan: Plan, answers: Answers, facts: Facts) -> None:
    policies = facts.policies if isinstance(facts.policies, list) else []
    ours = f"logship-{facts.stack}"
    others = [p for p in policies if p.name != ours]
    mode = answers.subscription_mode or ("account-policy" if any(p.name == ours for p in policies) else "per-group")
    if mode == "account-policy":
        from logship.subscribe.account_policy import PolicyError, check_vacancy

        try:
            check_vacancy(policies, ours, facts.region)
        except PolicyError as exc:
            plan.before.append(str(exc))
        plan.choose("SubscriptionMode", mode, "one account subscription filter policy delivers every group")
        plan.choose("CreateCloudTrail", "false", "an account policy needs no trail")
        return
    plan.choose("SubscriptionMode", mode, "a subscription filter on each selected group")
    if others:
        plan.notes.append(other_policy_note(others[0].name))
    _trail(plan, answers, facts, can_policy=not others)


def other_policy_note(name: str) -> str:
    return (f"account policy {name} delivers this account's groups: each has room for one filter of its own besides "
            "it (a group with another filter is reported limit_blocked)")


def _trail(plan: Plan, answers: Answers, facts: Facts, can_policy: bool) -> None:
    found = facts.trails
    own = facts.own_stack.outputs.get("CloudTrailName", "") if facts.own_stack else ""
    delivering = [t for t in found if t.delivers and t.name != own] if isinstance(found, list) else []
    unknown = [t for t in found if t.logging is None] if isinstance(found, list) else []
    if answers.create_trail is not None:
        value, why = answers.create_trail, "given"
        if value and delivering:
            plan.notes.append(f"trail {delivering[0].name} already delivers management events: a second trail's "
                              "copy is charged by CloudTrail (only the first copy is free)")
    elif own and isinstance(found, list) and any(t.name == own and t.delivers for t in found):
        value, why = True, f"this stack's own trail {own} delivers them: kept"
    elif delivering:
        value, why = False, (f"trail {delivering[0].name} logs management events in {facts.region}: CreateLogGroup "
                             "reaches EventBridge through it")
    elif isinstance(found, str):
        value, why = False, f"could not read CloudTrail ({found}): give --create-trail if the account has no trail"
    elif unknown:
        value, why = False, (f"trail {unknown[0].name} covers {facts.region}, but its status could not be read "
                             f"({unknown[0].why}); give --create-trail if it does not log management events")
    else:
        value, why = True, f"no trail logs management events in {facts.region}"
        plan.notes.append("without a trail CreateLogGroup never reaches EventBridge. Chosen: " + TRAIL_COST + ". "
                          + ("Or " + POLICY_COST + " (--subscription-mode account-policy). " if can_policy else "")
                          + "Or " + NO_TRAIL_COST + " (--no-create-trail)")
    plan.choose("CreateCloudTrail", "true" if value else "false", why)


def _other_stacks(plan: Plan, facts: Facts) -> None:
    if isinstance(facts.stacks, str):
        plan.notes.append(f"could not list the region's stacks ({facts.stacks})")
        return
    for stack in facts.stacks or []:
        if stack.name == facts.stack:
            plan.notes.append(f"stack {stack.name} exists ({stack.status}): sam deploy updates it; parameters not "
                              "written here keep their current values")
        else:
            plan.notes.append(f"another logship stack in {facts.region}: {stack.name} ({stack.status}"
                              + (f", IndexPrefix {stack.parameters['IndexPrefix']}" if "IndexPrefix" in
                                 stack.parameters else "") + "): each keeps its own filter on a group both select")
